"""`ShardWriter` sizes shards by the media bytes it holds; a media entry given only by path (bytes None) counts 0."""

from mmreason.data.prepare import ShardWriter
from mmreason.data.schema import row_features


def test_a_path_only_image_counts_no_bytes(tmp_path):
    writer = ShardWriter(tmp_path, shard_rows=10, shard_bytes=5000, features=row_features(with_videos=False))
    row = {"id": "a", "source": "s", "category": "c", "quality_group": "", "messages": [],
           "images": [{"bytes": None, "path": "x.png"}, {"bytes": b"12345", "path": None}]}  # fmt: skip
    assert writer.add(row) is False
    assert writer.bytes == 5 + 1024
