import datasets
import pytest

from mmreason.data.builders import LlavaJson, MAmmoTHVLInstruct, VisualWebInstruct

NO_DECODE = datasets.List(datasets.Video(decode=False))


def test_mammoth_vl_builder_configs_and_arrow_cache(mammoth_vl, tmp_path):
    root, records = mammoth_vl
    assert [c.name for c in MAmmoTHVLInstruct.BUILDER_CONFIGS] == ["si", "ov"]
    builder = MAmmoTHVLInstruct(
        config_name="si", data_dir=str(root), cache_dir=str(tmp_path / "cache"), index_cache_dir=str(tmp_path)
    )
    builder.download_and_prepare()
    si = builder.as_dataset("train")
    assert si.num_rows == len(records["si"]) - 3  # missing/corrupt/mismatched rows are dropped (and logged)
    assert si[0]["images"][0].size == (40, 30) and si[0]["source"] == "M4-Instruct-Data"
    assert si.filter(lambda row: row["id"] == "text-1")[0]["source"] == "MAmmoTH-VL-Instruct-12M"


def test_mammoth_vl_builder_streaming_ov(mammoth_vl, tmp_path):
    root, _ = mammoth_vl
    builder = MAmmoTHVLInstruct(config_name="ov", data_dir=str(root), index_cache_dir=str(tmp_path))
    rows = list(builder.as_streaming_dataset("train").cast_column("videos", NO_DECODE))
    assert [row["category"] for row in rows] == ["single_image", "multi_image", "multi_image", "video"]
    assert rows[3]["videos"][0]["path"] == "LLaVA-Video-178K/academic/v_0001.mp4"


def test_visualwebinstruct_builder(visualwebinstruct, tmp_path):
    root, _ = visualwebinstruct
    assert {c.name for c in VisualWebInstruct.BUILDER_CONFIGS} >= {"conversation", "visualwebinstruct", "example"}
    builder = VisualWebInstruct(config_name="visualwebinstruct", data_dir=str(root), index_cache_dir=str(tmp_path))
    rows = list(builder.as_streaming_dataset("train"))
    assert len(rows) == 6 and rows[0]["messages"][1]["content"][0]["text"] == "x = 0. Answer: 0"


def test_llava_json_builder_on_own_data(mammoth_vl, tmp_path):
    root, records = mammoth_vl
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "data.json").write_text((root / "mammoth_ov_2M.json").read_text())
    builder = LlavaJson(data_dir=str(tmp_path / "mine"), media_dirs=(str(root),), index_cache_dir=str(tmp_path))
    rows = list(builder.as_streaming_dataset("train").cast_column("videos", NO_DECODE))
    assert [row["id"] for row in rows] == [r["id"] for r in records["ov"]]


def test_builder_without_data_dir_raises():
    with pytest.raises(ValueError, match="needs data_dir"):
        MAmmoTHVLInstruct(config_name="si").as_streaming_dataset("train")
