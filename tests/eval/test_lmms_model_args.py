"""What lmms-eval passes to `--model mmreason` is honoured or refused clearly (issue #19 items 11 and 13).

lmms-eval 0.7.3's evaluator builds the model with `create_from_arg_string(model_args, {"batch_size": ...,
"max_batch_size": ..., "device": ...})` (its CLI's `--batch_size` is a string flag whose default is the integer 1)
and hands each request its task's `generation_kwargs`, which carry `until: ["\\n\\n"]` when the task sets none.
Without lmms-eval installed, its `lmms_eval.utils.simple_parse_args_string` is stood in for (`key=value` pairs,
numbers and booleans converted, as documented)."""

import sys
import types

import pytest
import torch
from transformers import LlavaOnevisionConfig

from mmreason.generation import ServedGeometryError
from mmreason.testing import build_tiny, make_image
from tests.generation.stand_in import StandInServer

from .test_lmms_plugin import HAVE_LMMS, lmms_api  # noqa: F401  (fixture)


def _value(text):
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return int(text) if text.isnumeric() else text


def _parse_args(text):
    return {key: _value(value) for key, value in (pair.split("=", 1) for pair in text.split(",") if pair)}


@pytest.fixture
def lmms_model(lmms_api, monkeypatch):  # noqa: F811
    if not HAVE_LMMS:
        utils = types.ModuleType("lmms_eval.utils")
        utils.simple_parse_args_string = _parse_args
        monkeypatch.setitem(sys.modules, "lmms_eval.utils", utils)
    from mmreason.eval.lmms_model import MMReasonLmms

    return MMReasonLmms


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny") / "tiny"
    model, processor = build_tiny(seed=5)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return str(folder)


#: what lmms-eval's evaluator passes when only `--model_args` is given (its CLI defaults)
CLI_DEFAULTS = {"batch_size": 1, "max_batch_size": None, "device": None}


def test_batch_size_in_model_args_and_flags_merge(lmms_model, checkpoint):
    lm = lmms_model.create_from_arg_string(f"pretrained={checkpoint},batch_size=4,dtype=float32", CLI_DEFAULTS)
    assert lm.backend.batch_size == 4
    lm = lmms_model.create_from_arg_string(f"pretrained={checkpoint}", {**CLI_DEFAULTS, "batch_size": "3"})
    assert lm.backend.batch_size == 3
    same = {**CLI_DEFAULTS, "batch_size": "4"}
    assert lmms_model.create_from_arg_string(f"pretrained={checkpoint},batch_size=4", same).backend.batch_size == 4
    with pytest.raises(ValueError, match=r"batch_size is given twice.*4.*'8'"):
        lmms_model.create_from_arg_string(f"pretrained={checkpoint},batch_size=4", {**CLI_DEFAULTS, "batch_size": "8"})


def test_batch_size_auto_and_device(lmms_model, checkpoint):
    auto = {**CLI_DEFAULTS, "batch_size": "auto:4", "max_batch_size": 16}
    lm = lmms_model.create_from_arg_string(f"pretrained={checkpoint}", auto)
    assert lm.backend.auto_batch and lm.backend.batch_size == 16
    lm = lmms_model.create_from_arg_string(f"pretrained={checkpoint}", {**CLI_DEFAULTS, "device": "meta"})
    assert lm.backend.model.device.type == "meta"  # --device is honoured (never "cuda if available")


def _requests(doc_to_messages, gen_kwargs, count, docs):
    requests = [types.SimpleNamespace(args=("", doc_to_messages, gen_kwargs, i, "toy", "test")) for i in range(count)]
    return requests, {"toy": {"test": docs}}


def _image_question(doc):
    parts = [{"type": "image", "url": make_image(30, 30, seed=doc)}, {"type": "text", "text": "What is it?"}]
    return [{"role": "user", "content": parts}]


@pytest.fixture
def server():
    s = StandInServer(failures=0)
    yield s
    s.httpd.shutdown()


def test_until_and_sampling_reach_the_server(lmms_model, server):
    lm = lmms_model(pretrained="served", base_url=server.url)
    lm.backend.client = lm.backend.client.with_options(max_retries=0)
    gen_kwargs = {"until": [" 4", "\n\n"], "temperature": 0.7, "top_p": 0.9, "do_sample": True, "max_new_tokens": 9}
    requests, lm.task_dict = _requests(_image_question, gen_kwargs, 2, [0, 1])
    assert lm.generate_until(requests) == ["Answer:", "Answer:"]  # cut at " 4", as lmms-eval's models do
    body = server.requests[-1]
    assert (body["stop"], body["temperature"], body["top_p"], body["max_tokens"]) == ([" 4"], 0.7, 0.9, 9)
    with pytest.raises(ValueError, match="--device cuda has no effect with base_url"):
        lmms_model(pretrained="served", base_url=server.url, device="cuda")


def test_sampled_tasks_get_different_answers(lmms_model, checkpoint):
    lm = lmms_model(pretrained=checkpoint, batch_size=4, dtype="float32", device="cpu")
    greedy, lm.task_dict = _requests(_image_question, {"max_new_tokens": 6, "until": ["\n\n"]}, 4, [0] * 4)
    assert len(set(lm.generate_until(greedy))) == 1
    sampled, _ = _requests(_image_question, {"max_new_tokens": 6, "temperature": 1.0, "do_sample": True}, 4, [0] * 4)
    torch.manual_seed(0)
    assert len(set(lm.generate_until(sampled))) > 1  # pass@k: k answers, not one repeated


def test_video_parts_reach_the_model(lmms_model, checkpoint):
    from mmreason.model import MMReasonForConditionalGeneration, MMReasonProcessor

    frames = [make_image(32, 32, seed=s) for s in range(2)]
    model = MMReasonForConditionalGeneration.from_pretrained(checkpoint, dtype=torch.float32)
    processor = MMReasonProcessor.from_pretrained(checkpoint)

    def stock(content):
        conversation = [{"role": "user", "content": content}]
        inputs = processor.apply_chat_template(
            conversation, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
        )
        out = model.generate(**inputs, max_new_tokens=6, do_sample=False)
        return processor.batch_decode(out[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)[0]

    with_video = stock([{"type": "video", "video": frames}, {"type": "text", "text": "What happens?"}])
    assert with_video != stock([{"type": "text", "text": "What happens?"}])  # the video changes the answer

    def video_question(doc):
        return [{"role": "user", "content": [{"type": "video", "url": frames}, {"type": "text", "text": doc}]}]

    lm = lmms_model(pretrained=checkpoint, dtype="float32", device="cpu")
    lm.backend.system_prompt = None
    requests, lm.task_dict = _requests(video_question, {"max_new_tokens": 6}, 1, ["What happens?"])
    assert lm.generate_until(requests) == [with_video]


def test_served_geometry_is_checked_for_lmms(lmms_model, tmp_path):
    LlavaOnevisionConfig(vision_aspect_ratio="anyres_max_4").save_pretrained(tmp_path / "export")
    server = StandInServer(failures=0, models=[{"id": "served", "root": str(tmp_path / "export")}])
    try:
        with pytest.raises(ServedGeometryError, match="anyres_max_4"):
            lmms_model.create_from_arg_string(f"pretrained=served,base_url={server.url}", CLI_DEFAULTS)
        lm = lmms_model.create_from_arg_string(
            f"pretrained=served,base_url={server.url},allow_geometry_mismatch=true", CLI_DEFAULTS
        )
        assert "anyres_max_4" in lm.backend.settings()["geometry_mismatch"]
    finally:
        server.httpd.shutdown()
