"""Rows: the text-rich twin and the vision-rich problem agree on the answer (also by the independent solver over
the twin's own prompt); splits share no problem; the saved folder loads config by config and its card parses."""

import datasets
import pytest
import yaml

from mmreason.data import procedural
from mmreason.data.preference import puma_features
from mmreason.data.schema import message_text, row_features

from .solver import solve_prompt


def _user_text(messages):
    return message_text(messages[0])


@pytest.fixture(scope="module")
def problems():
    return procedural.generate(20, 0, "easy") + procedural.generate(20, 0, "hard")


def test_twins_ask_the_same_problem_and_agree_on_the_answer(problems):
    for p in problems:
        vision, text = procedural.sft_row(p, "vision"), procedural.sft_row(p, "text")
        assert vision["messages"][1] == text["messages"][1]  # the same rationale
        assert vision["images"] == text["images"] == [p.image]
        assert _user_text(vision["messages"]) == "<image>\n" + procedural.prompt_of(p, "vision")
        assert p.description not in _user_text(vision["messages"]) and p.question in _user_text(vision["messages"])
        assert _user_text(text["messages"]).startswith(f"<image>\n{p.description}\n{p.question}\n")
        # the text-rich twin alone is enough: the independent solver answers it from its prompt text
        assert solve_prompt(procedural.prompt_of(p, "text")) == p.answer
        assert solve_prompt(procedural.prompt_of(p, "vision")) is None
        pair = procedural.puma_row(p)
        assert pair["text_rich"][-1] == pair["vision_rich"][-1] == text["messages"][1]
        assert pair["answer"] == p.rationale and pair["text_rich"][0] == text["messages"][0]
        assert pair["vision_rich"][0] == vision["messages"][0]
        rows = [procedural.eval_row(p, view) for view in ("vision", "text")]
        assert {r["answer"] for r in rows} == {p.answer} and [r["view"] for r in rows] == ["vision", "text"]
    with pytest.raises(ValueError, match="view"):
        procedural.sft_row(problems[0], "audio")


def test_splits_are_disjoint_and_follow_the_row_formats():
    splits = procedural.build_splits(seed=5, n_train=30, n_test=10)
    assert set(splits) == set(procedural.CONFIGS)
    assert splits["sft_train"].features == row_features(with_videos=False)
    assert splits["pairs_train"].features == puma_features()
    assert splits["sft_train"].num_rows == 2 * 2 * 30 and splits["pairs_train"].num_rows == 2 * 30
    train_ids = {row["id"] for row in splits["pairs_train"]}
    train_prompts = {_user_text(row["text_rich"]) for row in splits["pairs_train"]}
    for subset in procedural.TEST_SUBSETS:
        test = splits[f"test_{subset}"]
        level, view = subset.split("_")
        assert test.num_rows == 10 and set(test["level"]) == {level} and set(test["view"]) == {view}
        assert not train_ids & set(test["id"])
        if view == "text":  # the text view's question holds the whole scene
            asked = {"<image>\n" + procedural.user_prompt(q, c or None) for q, c in zip(test["question"],
                                                                                      test["choices"])}  # fmt: skip
            assert not train_prompts & asked
    assert splits["test_easy_text"]["id"] == splits["test_easy_vision"]["id"]  # twins


def test_a_small_scene_space_still_gives_disjoint_splits():
    """Clock `easy` has 72 scenes: train skips the ones the test set holds."""
    problems = procedural.splits.split_problems(0, n_train=60, n_test=30, families=["clock"])
    test = {procedural.splits.problem_key(p) for p in problems["test"]["easy"]}
    train = [procedural.splits.problem_key(p) for p in problems["train"]["easy"]]
    assert len(train) == 60 and not test & set(train)
    with pytest.raises(ValueError, match="outside the test set"):
        procedural.splits.split_problems(0, n_train=10, n_test=400, families=["clock"])


def test_the_saved_folder_loads_by_config_and_its_card_parses(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    out = procedural.save(tmp_path / "set", seed=1, n_train=10, n_test=4, families=["bars", "count"])
    card = (out / "README.md").read_text()
    header = yaml.safe_load(card.split("---\n")[1])
    names = [c["config_name"] for c in header["configs"]]
    assert names == [*procedural.CONFIGS, "test"]
    built = procedural.build_splits(seed=1, n_train=10, n_test=4, families=["bars", "count"])
    cache = str(tmp_path / "cache")
    for name in procedural.CONFIGS:
        split = "test" if name.startswith("test_") else "train"
        loaded = datasets.load_dataset(str(out), name, split=split, cache_dir=cache)
        assert loaded["id"] == built[name]["id"], name
    for subset in procedural.TEST_SUBSETS:
        loaded = datasets.load_dataset(str(out), "test", split=subset, cache_dir=cache)
        assert loaded["question"] == built[f"test_{subset}"]["question"]
        assert loaded[0]["image"].tobytes() == built[f"test_{subset}"][0]["image"].tobytes()
    assert "| `sft_train` | 40 |" in card
