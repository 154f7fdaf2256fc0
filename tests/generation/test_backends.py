"""The OpenAI-compatible backend against a local stand-in server: retries on 5xx, data-URI images, errors kept."""

import pytest

from mmreason.generation import GenerationError, OpenAIBackend, TransformersBackend
from mmreason.testing import build_tiny, make_image

from .stand_in import StandInServer as _Server


@pytest.fixture
def server():
    s = _Server(failures=2)
    yield s
    s.httpd.shutdown()


def _conversation(text):
    return [
        {"role": "user", "content": [{"type": "image", "image": make_image(30, 20)}, {"type": "text", "text": text}]}
    ]


def test_openai_backend_retries_and_sends_images(server):
    backend = OpenAIBackend(server.url, "served-model", max_retries=3, concurrency=2, timeout=10)
    outputs = backend.generate([_conversation("q1"), _conversation("q2")])
    assert outputs == ["Answer: 42", "Answer: 42"]
    assert len(server.requests) == 4  # two 500s retried by the client
    content = server.requests[-1]["messages"][-1]["content"]
    assert content[0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert server.requests[-1]["messages"][0]["role"] == "system" and server.requests[-1]["temperature"] == 0.0


def test_openai_backend_returns_errors_instead_of_crashing(server):
    server.failures = 0
    backend = OpenAIBackend(server.url, "served-model", max_retries=1, timeout=10)
    outputs = backend.generate([_conversation("fail-always"), _conversation("fine")])
    assert isinstance(outputs[0], GenerationError) and "500" in outputs[0].message
    assert outputs[1] == "Answer: 42"


def test_transformers_backend_batches(tiny):
    backend = TransformersBackend(tiny, batch_size=2, max_new_tokens=3, device="cpu")
    outputs = backend.generate([_conversation(f"question {i}") for i in range(3)])
    assert len(outputs) == 3 and all(isinstance(o, str) for o in outputs)
    single = TransformersBackend(build_tiny(), batch_size=1, max_new_tokens=3, device="cpu")
    assert (
        single.generate([_conversation("question 0")])[0]
        == TransformersBackend(build_tiny(), batch_size=3, max_new_tokens=3, device="cpu").generate(
            [_conversation("question 0"), _conversation("a longer question here"), _conversation("x")]
        )[0]
    )
