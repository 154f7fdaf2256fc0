"""The quickstart reads the data it just saved, never a previous run's cache, and draws hard questions for pairs."""

import datasets

from mmreason.data import procedural
from mmreason.quickstart.pairs import pair_questions
from mmreason.quickstart.pipeline import datasets_cache, load_fresh


def test_a_folder_saved_again_is_read_afresh(tmp_path):
    with datasets_cache(tmp_path / "cache"):
        first = load_fresh(procedural.save(tmp_path / "data", seed=0, n_train=3, n_test=2, families=["count"]))
        second = load_fresh(procedural.save(tmp_path / "data", seed=1, n_train=5, n_test=4, families=["count"]))
        test = datasets.load_dataset(str(tmp_path / "data"), "test")  # what the eval runner reads next
    assert len(first["sft_train"]) == 3 * 2 * 2 and len(second["sft_train"]) == 5 * 2 * 2
    assert len(second["pairs_train"]) == 10 and len(second["test_easy_vision"]) == 4
    assert {len(split) for split in test.values()} == {4}
    assert first["sft_train"]["id"] != second["sft_train"]["id"]


def test_datasets_cache_is_restored(tmp_path):
    before = datasets.config.HF_DATASETS_CACHE
    with datasets_cache(tmp_path):
        assert tmp_path == datasets.config.HF_DATASETS_CACHE
    assert before == datasets.config.HF_DATASETS_CACHE


def test_pair_questions_are_hard_vision_rows_with_their_gold_answer(tmp_path):
    problems = procedural.generate(6, seed=4, level="hard")
    rows = [procedural.sft_row(p, view) for p in procedural.generate(6, seed=4, level="easy") for view in ("vision",)]
    rows += [procedural.sft_row(p, view) for p in problems for view in ("vision", "text")]
    dataset = datasets.Dataset.from_list([{k: v for k, v in r.items() if k != "images"} for r in rows])
    chosen = pair_questions(dataset, 4, seed=0)
    gold = {f"{p.id}-vision": p.answer for p in problems}
    assert len(chosen) == 4 and all(row["id"] in gold for row in chosen)
    assert all(row["answer"] == gold[row["id"]] for row in chosen)
    assert [row["id"] for row in pair_questions(dataset, 4, seed=0)] == [row["id"] for row in chosen]
