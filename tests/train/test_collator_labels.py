"""Labels: `label_mode="llava_next"` against LLaVA-NeXT's original `preprocess_qwen` (fixture numbers)."""

import json
from pathlib import Path

import pytest

from mmreason.model.chat_templates import PLAIN
from mmreason.testing import make_image
from mmreason.train import MultimodalSFTCollator, RationaleSFTConfig, RationaleSFTTrainer
from mmreason.train.collator import IGNORE_INDEX

from .helpers import mixed_dataset

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "preprocess_qwen_labels.json").read_text())
LLAVA_IMAGE_TOKEN_INDEX = -200  # llava/constants.py IMAGE_TOKEN_INDEX
ROLES = {"human": "user", "gpt": "assistant"}


def _row(case: dict) -> dict:
    """The fixture's LLaVA conversation as a canonical row (placeholders as parts, one image/video per `<image>`)."""
    kind = "video" if case["modality"] == "video" else "image"
    messages = [] if case["system_message"] is None else [{"role": "system", "content": case["system_message"]}]
    count = 0
    for turn in case["conversations"]:
        value, parts = turn["value"], []
        while value.startswith("<image>\n"):
            parts.append({"type": kind, "text": None})
            value, count = value[len("<image>\n") :], count + 1
        assert "<image>" not in value
        messages.append({"role": ROLES[turn["from"]], "content": [*parts, {"type": "text", "text": value}]})
    media = [make_image(40 + 9 * i, 30, seed=i) for i in range(count)]
    frames = [make_image(24, 24, seed=10 + i) for i in range(3)]
    return {"id": case["name"], "messages": messages, "images": [] if kind == "video" else media,
            "videos": [frames] * count if kind == "video" else []}  # fmt: skip


def _expected(case: dict, ids: list[int], media_tokens: set[int]) -> list[int]:
    """The original's labels on our expanded ids: each -200 stands for one run of image/video tokens, which the
    LLaVA model gives IGNORE_INDEX (its features' labels); every other token must be the original's."""
    labels, position = [], 0
    for token, label in zip(case["input_ids"], case["labels"]):
        if token == LLAVA_IMAGE_TOKEN_INDEX:
            assert label == IGNORE_INDEX  # the placeholder itself is never supervised by the original either
            run = position
            while run < len(ids) and ids[run] in media_tokens and (run == position or ids[run] == ids[position]):
                run += 1
            assert run > position, f"{case['name']}: no image/video run at position {position}"
            labels += [IGNORE_INDEX] * (run - position)
            position = run
        else:
            assert ids[position] == token, f"{case['name']}: token {position} differs from the original's"
            labels.append(label)
            position += 1
    assert position == len(ids)
    return labels


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=[c["name"] for c in FIXTURE["cases"]])
def test_llava_next_labels_equal_preprocess_qwen(tiny, case):
    _, processor = tiny
    assert FIXTURE["newline_id"] == processor.tokenizer("\n", add_special_tokens=False)["input_ids"][0]
    batch = MultimodalSFTCollator(processor, label_mode="llava_next", max_frames=3)([_row(case)])
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    media = {processor.image_token_id, processor.video_token_id}
    assert labels == _expected(case, ids, media)
    assert any(token in media for token in ids) == case["has_image"]


def test_llava_next_differs_from_assistant_only_by_headers_and_separators(tiny):
    """The two modes agree on assistant content; llava_next adds `<|im_start|>assistant\\n` and every separator."""
    _, processor = tiny
    row = _row(FIXTURE["cases"][6])  # newlines in the user text
    tokenizer = processor.tokenizer
    only = MultimodalSFTCollator(processor)([row])["labels"][0]
    llava = MultimodalSFTCollator(processor, label_mode="llava_next")([row])["labels"][0]
    assert ((only != IGNORE_INDEX) <= (llava != IGNORE_INDEX)).all()
    assert tokenizer.decode(only[only != IGNORE_INDEX]) == "Step 1: base.\nStep 2: height.\nAnswer: 12<|im_end|>\n"
    extra = tokenizer.decode(llava[(llava != IGNORE_INDEX) & (only == IGNORE_INDEX)])
    assert extra == "<|im_start|>\n<|im_end|>\n<|im_start|>\n\n\n\n\n<|im_end|>\n<|im_start|>assistant\n"


def test_label_mode_is_checked(tiny):
    _, processor = tiny
    with pytest.raises(ValueError, match="label_mode must be one of"):
        MultimodalSFTCollator(processor, label_mode="all")
    row = _row(FIXTURE["cases"][1])
    with pytest.raises(ValueError, match="ChatML"):  # plain pre-training has no assistant header to supervise
        MultimodalSFTCollator(processor, chat_template=PLAIN, label_mode="llava_next")([row])


def test_presets_train_with_llava_next_labels(tiny, tmp_path):
    """si/ov train as MAmmoTH-VL did (preprocess_qwen); pretrain's plain labels are preprocess_plain's."""
    model, processor = tiny
    common = {"output_dir": str(tmp_path), "use_cpu": True, "bf16": False, "report_to": "none"}
    modes = {stage: RationaleSFTConfig(stage=stage, **common).label_mode for stage in (None, "pretrain", "si", "ov")}
    assert modes == {None: "assistant_only", "pretrain": "assistant_only", "si": "llava_next", "ov": "llava_next"}
    assert RationaleSFTConfig(stage="si", label_mode="assistant_only", **common).label_mode == "assistant_only"
    args = RationaleSFTConfig(stage="si", max_length=None, **common)
    trainer = RationaleSFTTrainer(model=model, args=args, train_dataset=mixed_dataset(1), processing_class=processor)
    assert trainer.data_collator.label_mode == "llava_next"
