"""Per-request decoding in both backends (issue #19 item 11): stop sequences, sampling settings, batch_size auto.

References are stock `model.generate` calls on the processor's own chat template (no backend code) and the
request bodies a stand-in OpenAI server receives."""

import pytest
import torch

from mmreason.generation import OpenAIBackend, Sampling, TransformersBackend
from mmreason.testing import build_tiny, make_image

from .stand_in import StandInServer


def _conversation(text, seed=0):
    image = make_image(40, 30, seed=seed)
    return [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": text}]}]


def _stock_greedy(model, processor, conversation, max_new_tokens):
    inputs = processor.apply_chat_template(
        conversation, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
    )
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return processor.batch_decode(out[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)[0]


@pytest.fixture(scope="module")
def tiny_model():
    return build_tiny(seed=3)


def test_transformers_stop_strings_cut_the_answer(tiny_model):
    model, processor = tiny_model
    conversation = _conversation("What is shown?")
    reference = _stock_greedy(model, processor, conversation, 12)
    stop = reference[len(reference) // 2 : len(reference) // 2 + 3]
    assert stop and reference.index(stop) > 0
    backend = TransformersBackend(tiny_model, batch_size=2, max_new_tokens=12, system_prompt=None, device="cpu")
    (greedy,) = backend.generate([conversation])
    assert greedy == reference
    (cut,) = backend.generate([conversation], Sampling(stop=(stop,)))
    assert cut == reference.split(stop)[0]


def test_transformers_samples_when_asked(tiny_model):
    backend = TransformersBackend(tiny_model, batch_size=4, max_new_tokens=8, system_prompt=None, device="cpu")
    conversations = [_conversation("Describe it.")] * 4
    greedy = backend.generate(conversations)
    assert len(set(greedy)) == 1
    torch.manual_seed(0)
    sampled = backend.generate(conversations, Sampling(temperature=1.0))
    assert len(set(sampled)) > 1  # pass@k gets k different answers
    # do_sample=False overrides a temperature; per-request settings mixed in one call keep their order
    mixed = backend.generate(conversations[:2], [Sampling(temperature=0.7, do_sample=False), Sampling()])
    assert mixed == greedy[:2]


def test_transformers_settings_record_the_decoding(tiny_model):
    backend = TransformersBackend(tiny_model, max_new_tokens=5, device="cpu", sampling=Sampling(temperature=0.6))
    settings = backend.settings()
    assert settings["do_sample"] is True and settings["temperature"] == 0.6 and settings["max_new_tokens"] == 5
    assert TransformersBackend(tiny_model, device="cpu").settings()["do_sample"] is False


def test_batch_size_auto_halves_on_out_of_memory(monkeypatch):
    model, processor = build_tiny(seed=4)
    conversations = [_conversation(f"question {i}", seed=i) for i in range(5)]
    references = [_stock_greedy(model, processor, c, 4) for c in conversations]
    stock_generate, sizes = model.generate, []

    def generate_within_memory(**inputs):  # a device that holds at most 2 sequences
        sizes.append(inputs["input_ids"].shape[0])
        if inputs["input_ids"].shape[0] > 2:
            raise torch.OutOfMemoryError("CUDA out of memory (injected)")
        return stock_generate(**inputs)

    monkeypatch.setattr(model, "generate", generate_within_memory)
    backend = TransformersBackend(
        (model, processor), batch_size="auto", max_batch_size=8, max_new_tokens=4, system_prompt=None, device="cpu"
    )
    assert backend.generate(conversations) == references
    assert sizes[:3] == [5, 4, 2] and backend.batch_size == 2
    with pytest.raises(ValueError, match="batch_size"):
        TransformersBackend((model, processor), batch_size="many", device="cpu")


@pytest.fixture
def server():
    s = StandInServer(failures=0)
    yield s
    s.httpd.shutdown()


def test_openai_backend_sends_stop_and_sampling_and_cuts(server):
    backend = OpenAIBackend(server.url, "served", max_retries=0, timeout=10, max_new_tokens=7)
    greedy, sampled = backend.generate(
        [_conversation("a"), _conversation("b")],
        [Sampling(), Sampling(temperature=0.8, top_p=0.9, stop=(" 4",), max_new_tokens=3)],
    )
    assert greedy == "Answer: 42" and sampled == "Answer:"
    bodies = {b["messages"][-1]["content"][-1]["text"]: b for b in server.requests}
    assert bodies["a"]["temperature"] == 0.0 and "stop" not in bodies["a"] and bodies["a"]["max_tokens"] == 7
    assert (bodies["b"]["temperature"], bodies["b"]["top_p"], bodies["b"]["stop"]) == (0.8, 0.9, [" 4"])
    assert bodies["b"]["max_tokens"] == 3
    assert backend.settings()["temperature"] == 0.0 and backend.settings()["stop"] == []


def test_openai_backend_sends_video_files(server, tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42 not a real video")
    backend = OpenAIBackend(server.url, "served", max_retries=0, timeout=10)
    parts = [{"type": "video", "video": str(video)}, {"type": "text", "text": "Q"}]
    conversation = [{"role": "user", "content": parts}]
    assert backend.generate([conversation]) == ["Answer: 42"]
    part = server.requests[-1]["messages"][-1]["content"][0]
    assert part["type"] == "video_url" and part["video_url"]["url"].startswith("data:video/mp4;base64,")
    frames = [{"role": "user", "content": [{"type": "video", "video": [make_image(8, 8)]}]}]
    with pytest.raises(ValueError, match="videos as files"):
        backend.generate([frames])
