"""`TransformersBackend.stream`: the streamed chunks join to the batched `generate` answer (greedy, and seeded
sampling), closing early stops the worker, an error in `generate` is raised to the consumer instead of hanging."""

import time

import pytest

from mmreason.data import procedural
from mmreason.generation import Sampling, TransformersBackend
from mmreason.quickstart.model import build_model
from mmreason.quickstart.presets import get_preset
from mmreason.quickstart.tokenizer import tokenizer_for
from mmreason.testing import make_image


@pytest.fixture(scope="module")
def backend():
    """A random model with a word-level (BPE) vocabulary: its tokens decode to whole words, so the streamer
    flushes often (random byte-level tokens rarely form valid UTF-8 words and arrive in one chunk)."""
    tokenizer = tokenizer_for(procedural.build_splits(seed=0, n_train=20, n_test=2)["sft_train"]["messages"])
    model = build_model(get_preset("tiny"), seed=0, tokenizer=tokenizer)
    return TransformersBackend(model, batch_size=1, max_new_tokens=24, device="cpu")


def _conversation(text="What is shown?"):
    return [{"role": "user", "content": [{"type": "image", "image": make_image(40, 30)},
                                         {"type": "text", "text": text}]}]  # fmt: skip


def test_chunks_join_to_the_batched_greedy_answer(backend):
    conversation = _conversation()
    chunks = list(backend.stream(conversation))
    assert len(chunks) > 1
    assert "".join(chunks) == backend.generate([conversation])[0]


def test_seeded_sampling_streams_the_same_answer_as_generate(backend):
    conversation, sampling = _conversation("Describe it."), Sampling(temperature=1.0, seed=7, max_new_tokens=16)
    assert "".join(backend.stream(conversation, sampling)) == backend.generate([conversation], sampling)[0]


def test_closing_early_stops_the_generation(backend):
    stream = backend.stream(_conversation(), Sampling(max_new_tokens=2000))
    first = next(stream)
    began = time.perf_counter()
    stream.close()  # what a chat UI's stop button does to the turn's generator
    assert first and time.perf_counter() - began < 10


def test_an_error_in_generate_reaches_the_consumer(backend, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("device lost")

    monkeypatch.setattr(backend.model, "generate", broken)
    with pytest.raises(RuntimeError, match="device lost"):
        list(backend.stream(_conversation()))
