"""The judge's reply cache: persistent JSONL, keyed by judge host + model + prompt, robust to a cut last line."""

from mmreason.eval.judge import JudgeCache, cache_key


def test_replies_persist_and_a_cut_last_line_is_ignored(tmp_path):
    path = tmp_path / "judge_cache.jsonl"
    cache = JudgeCache(path)
    cache.put(cache_key("h:1", "m", "p1"), "mathvista_extract", "12")
    cache.put(cache_key("h:1", "m", "p2"), "mathvista_extract", "B")
    with open(path, "a") as handle:
        handle.write('{"key": "abc", "prompt_name": "x", "re')  # a crash mid-write
    reloaded = JudgeCache(path)
    assert len(reloaded) == 2 and reloaded.get(cache_key("h:1", "m", "p2")) == "B"
    reloaded.put(cache_key("h:1", "m", "p3"), "mathverse_score", "1")  # appending after the cut line still works
    assert JudgeCache(path).get(cache_key("h:1", "m", "p3")) == "1"


def test_keys_differ_by_host_model_and_prompt():
    keys = {cache_key("h:1", "m", "p"), cache_key("h:2", "m", "p"), cache_key("h:1", "n", "p"),
            cache_key("h:1", "m", "q")}  # fmt: skip
    assert len(keys) == 4
