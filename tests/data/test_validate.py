import io
import json

import pytest

from mmreason.data.media import MediaStore
from mmreason.data.validate import RowValidator, llava_rows, role_problem, validate_rows
from mmreason.testing import build_tiny, make_image


def _png(width, height, seed=0):
    buffer = io.BytesIO()
    make_image(width, height, seed=seed).save(buffer, format="PNG")
    return buffer.getvalue()


def _row(user, images=(), assistant="Answer: 4", row_id="r", videos=()):
    messages = [
        {"role": "user", "content": user},
        {"role": "assistant", "content": [{"type": "text", "text": assistant}]},
    ]
    return {
        "id": row_id,
        "source": "src",
        "category": "cat",
        "messages": messages,
        "images": list(images),
        "videos": list(videos),
    }


IMAGE_Q = [{"type": "image"}, {"type": "text", "text": "How many squares?"}]


@pytest.fixture(scope="module")
def processor():
    return build_tiny(real_geometry=True)[1]


@pytest.mark.parametrize(
    "sizes",
    [[(60, 150)], [(1200, 300)], [(2000, 3000)], [(14, 20)], [(60, 150), (30, 30)], [(500, 500), (20, 20), (90, 300)]],
)
def test_token_count_equals_the_processor_output(processor, sizes):
    """The budget check counts exactly the tokens the processor produces (anyres, anyres_max, multi-image)."""
    images = [make_image(w, h, seed=i) for i, (h, w) in enumerate(sizes)]
    content = [{"type": "image", "image": image} for image in images] + [{"type": "text", "text": "Compare."}]
    messages = [
        {"role": "user", "content": content},
        {"role": "assistant", "content": [{"type": "text", "text": "They differ in size."}]},
    ]
    real = processor.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"]
    counted = RowValidator(processor).count_tokens(messages, sizes, 0)
    assert counted == len(real[0])


def test_over_length_rows_are_reported_not_truncated(processor):
    validator = RowValidator(processor, max_length=1000)
    row = _row(IMAGE_Q, [{"bytes": _png(150, 60), "path": "a.png"}])
    check = validator.check(row)
    assert [reason for reason, _ in check.issues] == ["over_length"] and check.num_tokens > 1000
    assert row["messages"][0]["content"] == IMAGE_Q  # nothing modified
    assert RowValidator(processor, max_length=None).check(row).issues == []


@pytest.mark.parametrize(
    ("roles", "problem"),
    [
        (["user", "assistant"], None),
        (["system", "user", "assistant", "user", "assistant"], None),
        (["assistant", "user"], "alternation"),
        (["user", "user", "assistant"], "alternation"),
        (["user"], "alternation"),
        (["user", "assistant", "system"], "system turn after"),
        (["user", "bot"], "unknown role"),
        ([], "no turns"),
    ],
)
def test_role_order(roles, problem):
    result = role_problem([{"role": role, "content": "x"} for role in roles])
    assert result is None if problem is None else problem in result


def test_every_row_issue(processor, tmp_path):
    validator = RowValidator(processor, max_length=None)
    good = {"bytes": _png(40, 30), "path": "ok.png"}
    truncated = {"bytes": _png(64, 64)[:-200], "path": "truncated.png"}  # header fine, pixels cut
    cases = {
        "empty_turn": _row([{"type": "text", "text": "  "}]),
        "image_count_mismatch": _row([{"type": "image"}, {"type": "image"}, {"type": "text", "text": "Q"}], [good]),
        "video_count_mismatch": _row([{"type": "video"}, {"type": "text", "text": "Q"}]),
        "missing_image": _row(IMAGE_Q, [{"bytes": None, "path": str(tmp_path / "nope.png")}]),
        "corrupt_image": _row(IMAGE_Q, [{"bytes": b"definitely not an image", "path": "x.png"}]),
        "missing_video": _row(
            [{"type": "video"}, {"type": "text", "text": "Q"}], videos=[{"bytes": None, "path": "v.mp4"}]
        ),
        "bad_role_order": {**_row(IMAGE_Q, [good]), "messages": [{"role": "user", "content": IMAGE_Q}]},
    }
    for reason, row in cases.items():
        assert reason in [r for r, _ in validator.check(row).issues], reason
    assert validator.check(_row(IMAGE_Q, [good])).issues == []
    assert "corrupt_image" in [r for r, _ in validator.check(_row(IMAGE_Q, [truncated])).issues]
    assert (
        RowValidator(processor, max_length=None, image_check="header").check(_row(IMAGE_Q, [truncated])).issues == []
    )
    video_row = _row([{"type": "video"}, {"type": "text", "text": "Q"}], videos=[{"bytes": b"mp4", "path": "v.mp4"}])
    with_video = validator.check(video_row).num_tokens
    without = validator.check(_row([{"type": "text", "text": "Q"}])).num_tokens
    assert with_video - without == processor.count_video_tokens(32) + 1  # `<video>` -> 32 frames; + the "\n"


def test_report_files(processor, tmp_path):
    rows = [
        _row(IMAGE_Q, [{"bytes": _png(40, 30), "path": "a.png"}], row_id="ok"),
        _row(IMAGE_Q, [{"bytes": _png(1200, 400), "path": "b.png"}], row_id="long"),  # 2943 image tokens
        {**_row([{"type": "text", "text": ""}], row_id="empty"), "source": "other"},
    ]
    report = validate_rows(rows, RowValidator(processor, max_length=2000), progress=False)
    out = report.write(tmp_path / "report", 2000)
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["rows"], summary["kept"], summary["dropped"]) == (3, 1, 2)
    assert summary["issues"] == {"over_length": 1, "empty_turn": 1}
    assert summary["by_source"]["src"] == {"rows": 2, "dropped": 1, "over_length": 1}
    dropped = [json.loads(line) for line in (out / "dropped.jsonl").read_text().splitlines()]
    assert [(d["id"], d["reasons"]) for d in dropped] == [("long", ["over_length"]), ("empty", ["empty_turn"])]
    assert (out / "token_lengths.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_raw_llava_json_is_validated_through_the_archives(processor, mammoth_vl, tmp_path):
    root, records = mammoth_vl
    store = MediaStore([root / "single_image_data"], cache_dir=tmp_path)
    report = validate_rows(llava_rows(root / "mammoth_si_10M.json", store), RowValidator(processor), progress=False)
    assert report.rows == len(records["si"])
    assert {d["id"]: d["reasons"] for d in report.dropped} == {
        "bad-missing": ["missing_image"],
        "bad-corrupt": ["corrupt_image"],
        "bad-count": ["image_count_mismatch"],
    }
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "a", "conversations": [{"from": "robot", "value": "x"}]}\n{nope\n')
    report = validate_rows(llava_rows(broken, store), RowValidator(processor), progress=False)
    assert [d["reasons"] for d in report.dropped] == [["bad_role"], ["malformed_json"]]
