"""One malformed record never kills `data prepare`: it is dropped with a reason and the run goes on (issue #10,
item 9). Each record below used to stop the job (TypeError in the converter, UnicodeEncodeError in pyarrow)."""

import json

import pyarrow.parquet as pq

from mmreason.data.builders import llava_json_spec
from mmreason.data.prepare import prepare_corpus

TURNS = [{"from": "human", "value": "Q?"}, {"from": "gpt", "value": "A."}]
BAD = {
    "role-list": ({"conversations": [{"from": ["human"], "value": "Q?"}, TURNS[1]]}, "bad_role"),
    "role-dict": ({"conversations": [{"from": {"r": "human"}, "value": "Q?"}, TURNS[1]]}, "bad_role"),
    "cut-emoji": ({"conversations": [{"from": "human", "value": "smile \ud83d"}, TURNS[1]]}, "invalid_unicode"),
    "source-list": ({"source": ["a"], "conversations": TURNS}, "malformed"),
}


def test_prepare_drops_bad_records_and_keeps_the_rest(tmp_path):
    records = [{"id": "ok-1", "conversations": TURNS}]
    records += [{"id": key, **record} for key, (record, _) in BAD.items()]
    records.append({"id": "ok-2", "conversations": TURNS})
    source = tmp_path / "raw" / "data.json"
    source.parent.mkdir()
    source.write_text(json.dumps(records))  # ensure_ascii: the lone surrogate is written as the escape "\ud83d"
    spec, folder = llava_json_spec(source)
    out = tmp_path / "out"
    states = prepare_corpus(spec, folder, out, progress=False, index_cache_dir=tmp_path / "index")
    rows = [r["id"] for p in sorted((out / "default").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    assert rows == ["ok-1", "ok-2"] and states["default"].rows == 2
    lines = (out / "prepare_logs" / "default.drops.jsonl").read_text(encoding="utf-8").splitlines()
    drops = [json.loads(line) for line in lines]
    assert {d["id"]: d["reason"] for d in drops} == {key: reason for key, (_, reason) in BAD.items()}
    assert [d["record"] for d in drops] == records[1:-1]  # the raw record is kept, the cut emoji included
