import io
import pickle
import tarfile
import zipfile

import pytest

from mmreason.data.media import MediaNotFoundError, MediaStore

MEMBERS = {f"M4-Instruct-Data/HQ-Edit/images/{83425 + i}.jpg": bytes([i]) * (1000 + 7919 * i) for i in range(40)}


def _tar(path, mode):
    with tarfile.open(path, mode) as archive:
        for name, data in MEMBERS.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize(("name", "mode"), [("shard_1.tar.gz", "w:gz"), ("shard_1.tar", "w")])
def test_tar_members_read_lazily_from_a_cached_index(tmp_path, name, mode):
    (tmp_path / "single_image_data").mkdir()
    _tar(tmp_path / "single_image_data" / name, mode)
    cache = tmp_path / "cache"
    with MediaStore([tmp_path], cache_dir=cache, spacing=1 << 16) as store:
        for member in reversed(list(MEMBERS)):  # random order: backwards seeks
            assert store.read(member) == MEMBERS[member]
    index_files = sorted(cache.iterdir())
    assert any(p.name.endswith(".members.json") for p in index_files)
    stamps = {p: p.stat().st_mtime_ns for p in index_files}
    store = MediaStore([tmp_path / "single_image_data" / name], cache_dir=cache)
    assert (
        store.read("./M4-Instruct-Data/HQ-Edit/images/83430.jpg")
        == MEMBERS["M4-Instruct-Data/HQ-Edit/images/83430.jpg"]
    )
    assert {p: p.stat().st_mtime_ns for p in cache.iterdir()} == stamps  # index reused, not rebuilt
    clone = pickle.loads(pickle.dumps(store))  # datasets' multiprocessing pickles builders
    assert (
        clone.read("M4-Instruct-Data/HQ-Edit/images/83425.jpg") == MEMBERS["M4-Instruct-Data/HQ-Edit/images/83425.jpg"]
    )


def test_zip_with_single_top_folder_and_loose_files(tmp_path):
    with zipfile.ZipFile(tmp_path / "images.zip", "w") as archive:
        archive.writestr("imgs/visualwebinstruct/1.png", b"one")
        archive.writestr("imgs/ai2d/2.png", b"two")
    (tmp_path / "loose").mkdir()
    (tmp_path / "loose" / "3.png").write_bytes(b"three")
    store = MediaStore([tmp_path / "images.zip", tmp_path], cache_dir=tmp_path / "cache")
    assert store.read("visualwebinstruct/1.png") == b"one"  # under the zip's imgs/ folder
    assert store.read("imgs/ai2d/2.png") == b"two"  # or with it
    assert store.read("loose/3.png") == b"three"
    assert "visualwebinstruct/9.png" not in store
    with pytest.raises(MediaNotFoundError, match=r"visualwebinstruct/9\.png"):
        store.read("visualwebinstruct/9.png")


def test_bad_root_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither a folder"):
        MediaStore([tmp_path / "nope"])
