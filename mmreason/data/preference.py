"""Preference rows and PUMA pair rows: their `datasets.Features`, conversion from the released formats, checks.

A **preference row** is TRL 1.16's conversational vision-preference form (`DPOTrainer` and
`DataCollatorForVisionPreference` take it as is):

    {"id": "mmpr-geoqa-17", "source": "geoqa",
     "prompt": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Find x."}]}],
     "chosen": [{"role": "assistant", "content": [{"type": "text", "text": "... Final answer: 3"}]}],
     "rejected": [{"role": "assistant", "content": [{"type": "text", "text": "... Final answer: 5"}]}],
     "images": [<image>],          # fills the prompt's {"type": "image"} parts in order
     "answer_gt": "3"}             # "" when the pair has no ground truth

A **PUMA pair row** holds one problem in two modal forms with the same answer (Math-PUMA's Stage-2 pairs):

    {"id": ..., "source": ..., "answer": "...",
     "text_rich": [user turn, {"role": "assistant", ... answer}],   "text_rich_images": [] or [<image>],
     "vision_rich": [user turn, {"role": "assistant", ... answer}], "vision_rich_images": [<image>]}

`text_rich` is the teacher side (Math-PUMA's `image_url`/`instruction`/`output`), `vision_rich` the student side
(`image_url_2`/`instruction_2`/`output_2`).

The converters raise [`RecordError`] with a reason of `mmreason.data.reasons.DROP_REASONS`; the corpus reader then
checks each side's placeholders against its images (`image_count_mismatch`) and reads the images.
"""

from __future__ import annotations

from typing import Any

from .builders.canonical_rows import _message
from .llava import RecordError, _as_list, _check_unicode, _scalar, split_placeholders
from .schema import count_parts
from .validate import role_problem

PREFERENCE_MEDIA = (("prompt", "images", "image"),)
"""`(messages column, media column, part type)`: the prompt's image parts take `images`."""
PUMA_MEDIA = (("text_rich", "text_rich_images", "image"), ("vision_rich", "vision_rich_images", "image"))
"""Each PUMA side's image parts take that side's images."""
PLACEHOLDERS = ("<image>", "<video>")


def _messages_feature() -> Any:
    import datasets

    part = {"type": datasets.Value("string"), "text": datasets.Value("string")}
    return datasets.List({"role": datasets.Value("string"), "content": datasets.List(part)})


def preference_features() -> Any:
    """The `datasets.Features` of a preference row."""
    import datasets

    string = datasets.Value("string")
    return datasets.Features(
        {
            "id": string,
            "source": string,
            "prompt": _messages_feature(),
            "chosen": _messages_feature(),
            "rejected": _messages_feature(),
            "images": datasets.List(datasets.Image()),
            "answer_gt": string,
        }
    )


def puma_features() -> Any:
    """The `datasets.Features` of a PUMA pair row."""
    import datasets

    string = datasets.Value("string")
    return datasets.Features(
        {
            "id": string,
            "source": string,
            "answer": string,
            "text_rich": _messages_feature(),
            "text_rich_images": datasets.List(datasets.Image()),
            "vision_rich": _messages_feature(),
            "vision_rich_images": datasets.List(datasets.Image()),
        }
    )


def text_message(role: str, text: str) -> dict[str, Any]:
    """`{"role": role, "content": [{"type": "text", "text": text}]}`."""
    return {"role": role, "content": [{"type": "text", "text": text}]}


def _text(messages: list[dict[str, Any]]) -> str:
    return "".join(part["text"] for message in messages for part in message["content"] if part["type"] == "text")


def _check_messages(messages: list[dict[str, Any]], record_id: str) -> None:
    """Roles, no video parts and no placeholder written inside a text part (the processor would expand it into
    image tokens that no image fills)."""
    problem = role_problem(messages)
    if problem:
        raise RecordError("bad_role" if problem.startswith("unknown role") else "bad_role_order", problem, record_id)
    if count_parts(messages, "video"):
        raise RecordError("malformed", "video parts are not supported in preference or pair rows", record_id)
    for message in messages:
        for part in message["content"]:
            if part["type"] == "text" and any(mark in part["text"] for mark in PLACEHOLDERS):
                raise RecordError(
                    "image_count_mismatch", f"a {message['role']} text holds an inline image/video placeholder",
                    record_id,
                )  # fmt: skip
        if not message["content"] or not any(
            part["type"] != "text" or part["text"].strip() for part in message["content"]
        ):
            raise RecordError("empty_turn", f"a {message['role']} turn has neither text nor media", record_id)


def _check_unicode_of(row: dict[str, Any], message_columns: tuple[str, ...], media: list[str], extra: str) -> None:
    """Raise `invalid_unicode` for any string of the row that UTF-8 cannot encode (lone surrogates)."""
    messages = [message for column in message_columns for message in row[column]]
    _check_unicode(
        {"id": row["id"], "source": row["source"], "category": "", "quality_group": extra, "images": media,
         "videos": [], "messages": messages}
    )  # fmt: skip


def check_preference_row(row: dict[str, Any]) -> dict[str, Any]:
    """Check a preference row (media still paths) and return it.

    Raises:
        RecordError: `bad_role`/`bad_role_order` (prompt not `[system] user (assistant user)*`, or chosen/rejected
            not exactly one assistant turn), `empty_turn`, `empty_completion` (a response without text),
            `identical_completions`, `image_count_mismatch` (image parts in a response or a placeholder inside a
            text), `malformed` (video parts), `invalid_unicode`.
    """
    record_id = row["id"]
    for side in ("chosen", "rejected"):
        completion = row[side]
        if not completion or not _text(completion).strip():
            raise RecordError("empty_completion", f"`{side}` has no text", record_id)
        if count_parts(completion, "image"):
            raise RecordError("image_count_mismatch", f"`{side}` has image parts (images go in the prompt)", record_id)
        _check_messages(row["prompt"] + completion, record_id)
    if _text(row["chosen"]) == _text(row["rejected"]):
        raise RecordError("identical_completions", "`chosen` and `rejected` are the same text", record_id)
    paths = [item if isinstance(item, str) else item.get("path") or "" for item in row["images"]]
    _check_unicode_of(row, ("prompt", "chosen", "rejected"), paths, row["answer_gt"])
    return row


def check_puma_row(row: dict[str, Any]) -> dict[str, Any]:
    """Check a PUMA pair row (media still paths) and return it.

    Raises:
        RecordError: `empty_answer`, `answer_mismatch` (a side's final assistant turn is not `answer`), the role,
            turn and placeholder reasons of [`check_preference_row`], `invalid_unicode`.
    """
    record_id = row["id"]
    if not row["answer"].strip():
        raise RecordError("empty_answer", "the answer has no text", record_id)
    for side in ("text_rich", "vision_rich"):
        _check_messages(row[side], record_id)
        if _text(row[side][-1:]) != row["answer"]:
            raise RecordError("answer_mismatch", f"`{side}` does not end with the pair's answer", record_id)
    _check_unicode_of(row, ("text_rich", "vision_rich"), row["text_rich_images"] + row["vision_rich_images"], "")
    return row


def _string(record: dict[str, Any], key: str, record_id: str, *, required: bool = True) -> str:
    value = record.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        got = "missing" if key not in record else f"a {type(value).__name__}"
        raise RecordError("malformed", f"`{key}` must be a string, got {got}", record_id)
    return value


def _paths(value: Any, key: str, record_id: str) -> list[str]:
    """A path, a list of paths, or nothing (`None`, `""`, `[]`)."""
    paths = [path for path in _as_list(value) if path != ""]
    if not all(isinstance(path, str) for path in paths):
        raise RecordError("malformed", f"`{key}` must be a path or a list of paths", record_id)
    return paths


def _media(value: Any, key: str, record_id: str) -> list[str | dict[str, Any]]:
    """Canonical `images`: paths, or embedded `{"bytes", "path"}` items (Parquet exports), or nothing."""
    items = [item for item in _as_list(value) if item != ""]
    for item in items:
        embedded = isinstance(item, dict) and (
            isinstance(item.get("bytes"), bytes) or (not item.get("bytes") and isinstance(item.get("path"), str))
        )
        if not (isinstance(item, str) or embedded):
            raise RecordError("malformed", f"`{key}` must be paths or {{bytes, path}} items", record_id)
    return items


def _completion(value: Any, side: str, record_id: str) -> list[dict[str, Any]]:
    """A response: a string, or canonical messages (a list of `{role, content}`)."""
    if isinstance(value, str):
        return [text_message("assistant", value)]
    if not isinstance(value, list):
        raise RecordError("malformed", f"`{side}` must be a string or a list of messages", record_id)
    return [_message(message, record_id) for message in value]


def preference_record_to_row(
    record: Any, default_id: str | None = None, *, default_source: str = ""
) -> dict[str, Any]:
    """One preference record → a checked preference row whose `images` are the record's relative paths.

    Two record forms are read:

    * MMPR / InternVL JSONL: `image` (a path, a list of paths, or absent / `""` for text-only), `question`,
      `chosen`, `rejected` (strings), optional `answer_gt`. As InternVL's `multi_modal_get_item` does, a question
      with one image (a string `image`) and no `<image>` gets `"<image>\\n"` prepended; a list of images needs one
      `<image>` per image.
    * canonical preference rows: `prompt` (messages, string or part contents), `chosen`/`rejected` (a string or
      assistant messages), `images` (paths, or `{"bytes", "path"}` items as in a Parquet export), optional
      `answer_gt`.

    `id`, `source`/`data_source` are taken from the record when present (else `default_id`, `default_source`).

    Raises:
        RecordError: not an object, missing or non-string fields (`malformed`), and the reasons of
            [`check_preference_row`].
    """
    if not isinstance(record, dict):
        raise RecordError("malformed", f"expected a JSON object, got {type(record).__name__}", default_id)
    record_id = _scalar(record, "id", default_id) or default_id or ""
    if record.get("video"):
        raise RecordError("malformed", "video preference pairs are not supported", record_id)
    if "prompt" in record:
        prompt = record["prompt"]
        if isinstance(prompt, str):
            prompt = [{"role": "user", "content": prompt}]
        if not isinstance(prompt, list):
            raise RecordError("malformed", "`prompt` must be a string or a list of messages", record_id)
        prompt = [_message(message, record_id) for message in prompt]
        images = _media(record.get("images", record.get("image")), "images", record_id)
    else:
        question = _string(record, "question", record_id)
        image = record.get("image")
        images = _paths(image, "image", record_id)
        if isinstance(image, str) and images and "<image>" not in question:
            question = "<image>\n" + question  # InternVL: single-image questions without a placeholder
        prompt = [{"role": "user", "content": split_placeholders(question)}]
    source = _scalar(record, "source", record_id) or _scalar(record, "data_source", record_id) or default_source
    row = {
        "id": record_id,
        "source": source,
        "prompt": prompt,
        "chosen": _completion(record.get("chosen"), "chosen", record_id),
        "rejected": _completion(record.get("rejected"), "rejected", record_id),
        "images": images,
        "answer_gt": _scalar(record, "answer_gt", record_id) or "",
    }
    return check_preference_row(row)


def _puma_side(instruction: str, image: str, answer: str) -> list[dict[str, Any]]:
    """Math-PUMA's Qwen2-VL turn: the instruction text, then the image (text before image), then the answer."""
    content = [{"type": "text", "text": instruction}] if instruction else []
    content += [{"type": "image"}] if image else []
    return [{"role": "user", "content": content}, text_message("assistant", answer)]


def puma_record_to_row(record: Any, default_id: str | None = None, *, default_source: str = "") -> dict[str, Any]:
    """One Math-PUMA Stage-2 record → a checked PUMA pair row whose images are the record's paths.

    The record has `image_url`, `instruction`, `output` (text-rich side; an empty `image_url` is a text-only
    side) and `image_url_2`, `instruction_2`, `output_2` (vision-rich side, which must have an image); `output`
    and `output_2` must be the same text (the KL aligns the two sides' answer tokens).

    Raises:
        RecordError: not an object, a missing or non-string field, no `image_url_2` (`malformed`), `empty_answer`,
            `answer_mismatch`, and the turn/placeholder reasons of [`check_puma_row`].
    """
    if not isinstance(record, dict):
        raise RecordError("malformed", f"expected a JSON object, got {type(record).__name__}", default_id)
    record_id = _scalar(record, "id", default_id) or default_id or ""
    fields = {key: _string(record, key, record_id) for key in ("instruction", "output", "instruction_2", "output_2")}
    image = _string(record, "image_url", record_id, required=False)
    image_2 = _string(record, "image_url_2", record_id, required=False)
    if not image_2:
        raise RecordError("malformed", "the vision-rich side has no image (`image_url_2` is empty)", record_id)
    answer = fields["output"]
    if not answer.strip():
        raise RecordError("empty_answer", "`output` has no text", record_id)
    if fields["output_2"] != answer:
        raise RecordError("answer_mismatch", "`output` and `output_2` differ", record_id)
    source = _scalar(record, "source", record_id) or _scalar(record, "data_source", record_id) or default_source
    row = {
        "id": record_id,
        "source": source,
        "answer": answer,
        "text_rich": _puma_side(fields["instruction"], image, answer),
        "text_rich_images": [image] if image else [],
        "vision_rich": _puma_side(fields["instruction_2"], image_2, answer),
        "vision_rich_images": [image_2],
    }
    return check_puma_row(row)


__all__ = [
    "PREFERENCE_MEDIA",
    "PUMA_MEDIA",
    "check_preference_row",
    "check_puma_row",
    "preference_features",
    "preference_record_to_row",
    "puma_features",
    "puma_record_to_row",
    "text_message",
]
