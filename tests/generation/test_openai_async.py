"""The async OpenAI-compatible backend (issue #13 item 1) against a loopback stand-in that injects latency, 429
with Retry-After, 500s, timeouts, malformed JSON, truncated bodies, non-JSON pages and empty choices
(`fault_server.FaultServer`). References: what the server saw (bodies, arrival times, requests in flight)."""

import asyncio
import base64
import io
import time

import pytest
from PIL import Image

from mmreason.generation import GenerationError, OpenAIBackend, Sampling
from mmreason.model.image_io import load_rgb
from mmreason.testing import make_image

from .fault_server import FaultServer


@pytest.fixture
def serve():
    servers = []

    def start(**options):
        servers.append(FaultServer(**options))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _ask(text, image=None):
    parts = [{"type": "text", "text": text}]
    if image is not None:
        parts.insert(0, {"type": "image", "image": image})
    return [{"role": "user", "content": parts}]


def _backend(server, **options):
    options = {"max_retries": 3, "timeout": 5.0, "system_prompt": None, **options}
    return OpenAIBackend(server.url, "served", **options)


def test_concurrency_limit_bounds_requests_in_flight(serve):
    server = serve(latency=0.2)
    backend = _backend(server, concurrency=4)
    start = time.monotonic()
    outputs = backend.generate([_ask(f"q{i}") for i in range(16)])
    elapsed = time.monotonic() - start
    assert outputs == ["Answer: 42"] * 16
    assert server.max_inflight == 4  # four at once, never more ...
    assert elapsed >= 0.8  # ... so 16 requests of 0.2 s take at least 4 rounds


def test_rate_limit_waits_for_retry_after(serve):
    server = serve(plan=lambda body, attempt: "429" if attempt == 0 else None, retry_after=1.2)
    assert _backend(server).generate([_ask("limited")]) == ["Answer: 42"]
    first, second = server.arrived["limited"]
    assert 1.2 <= second - first < 3.0  # the header's delay, not the client's first backoff (<= 0.5 s)


def test_5xx_and_timeouts_are_retried_then_reported(serve):
    plans = {"flaky": ("500", "500"), "slow": ("timeout",)}
    server = serve(plan=lambda body, attempt: dict(enumerate(plans.get(body["messages"][-1]["content"][0]["text"],
                                                                      ()))).get(attempt), hang=2.0)  # fmt: skip
    assert _backend(server, timeout=0.5).generate([_ask("flaky"), _ask("slow")]) == ["Answer: 42"] * 2
    assert len(server.arrived["flaky"]) == 3 and len(server.arrived["slow"]) == 2
    server.arrivals.clear()
    flaky, slow = _backend(server, timeout=0.5, max_retries=0).generate([_ask("flaky"), _ask("slow")])
    assert isinstance(flaky, GenerationError) and "InternalServerError" in flaky.message and "500" in flaky.message
    assert isinstance(slow, GenerationError) and "Timeout" in slow.message


@pytest.mark.parametrize(
    ("fault", "reason"),
    [("malformed", "not valid JSON"), ("html", "not a chat completion"), ("empty", "0 choices for n=1"),
     ("truncated", "Connection")],
)  # fmt: skip
def test_broken_responses_are_errors_with_a_reason(serve, fault, reason):
    server = serve(plan=lambda body, attempt: fault)
    texts = ["broken", "fine"]
    server.plan = lambda body, attempt: fault if body["messages"][-1]["content"][0]["text"] == "broken" else None
    broken, fine = _backend(server, max_retries=1).generate([_ask(t) for t in texts])
    assert isinstance(broken, GenerationError) and reason in broken.message, broken
    assert fine == "Answer: 42"


def test_truncated_body_is_retried(serve):
    server = serve(plan=lambda body, attempt: "truncated" if attempt == 0 else None)
    assert _backend(server).generate([_ask("cut")]) == ["Answer: 42"]
    assert [fault for _, fault in server.events] == ["truncated", "ok"]


def test_n_samples_seed_top_k_and_continuation_in_the_request(serve):
    server = serve()
    backend = _backend(server)
    sampled = Sampling(temperature=1.0, top_k=50, n=3, seed=5, max_new_tokens=9)
    prefix = [*_ask("continue me"), {"role": "assistant", "content": [{"type": "text", "text": "The first half"}]}]
    three, greedy, continued = backend.generate(
        [_ask("sample me"), _ask("greedy"), prefix],
        [sampled, Sampling(n=2), Sampling(temperature=1.0, continue_final_message=True)],
    )
    assert three == ["Answer: 42", "Answer: 42 (1)", "Answer: 42 (2)"]
    assert greedy == ["Answer: 42"] * 2 and continued == "Answer: 42"
    bodies = {b["messages"][-1]["content"][-1]["text"]: b for b in server.requests}
    body = bodies["sample me"]
    assert (body["n"], body["top_k"], body["max_tokens"], body["temperature"]) == (3, 50, 9, 1.0)
    assert "n" not in bodies["greedy"] and "seed" not in bodies["greedy"] and "top_k" not in bodies["greedy"]
    tail = bodies["The first half"]
    assert tail["continue_final_message"] is True and tail["add_generation_prompt"] is False
    assert tail["messages"][-1]["role"] == "assistant"
    # the seed is the request's own: the same request elsewhere in another call gets the same one, others another
    backend.generate([_ask("other"), _ask("sample me")], sampled)
    seeds = [b["seed"] for b in server.requests if b["messages"][-1]["content"][-1]["text"] == "sample me"]
    other = [b["seed"] for b in server.requests if b["messages"][-1]["content"][-1]["text"] == "other"]
    assert len(seeds) == 2 and seeds[0] == seeds[1] and other[0] != seeds[0]
    assert backend.generate_samples([_ask("x")]) == [["Answer: 42"]]


def test_a_server_that_ignores_n_is_asked_for_the_rest(serve):
    server = serve(ignore_n=True, reply=lambda body, k: f"seed {body.get('seed')}")
    (answers,) = _backend(server).generate([_ask("many")], Sampling(temperature=1.0, n=3, seed=1))
    assert [b.get("n") for b in server.requests] == [3, None, None]
    seeds = [b["seed"] for b in server.requests]
    assert len(set(seeds)) == 3 and sorted(answers) == sorted(f"seed {s}" for s in seeds)
    server.plan = lambda body, attempt: "500" if body.get("n") is None else None
    (failed,) = _backend(server, max_retries=0).generate([_ask("fails later")], Sampling(temperature=1.0, n=2))
    assert isinstance(failed, GenerationError) and "500" in failed.message


def test_sync_wrapper_inside_a_running_loop_and_async_api(serve):
    server = serve()
    backend = _backend(server)

    async def caller():
        return backend.generate([_ask("from a loop")]), await backend.agenerate([_ask("awaited")])

    assert asyncio.run(caller()) == (["Answer: 42"], ["Answer: 42"])


def _sent_image(server):
    url = server.requests[-1]["messages"][-1]["content"][0]["image_url"]["url"]
    header, data = url.split(",", 1)
    return header, base64.b64decode(data)


def _encoded(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def test_encoded_images_go_as_they_are(serve, tmp_path):
    server = serve()
    backend = _backend(server)
    picture = make_image(30, 20, seed=2)
    png, jpeg = _encoded(picture, "PNG"), _encoded(picture, "JPEG", quality=80)
    (tmp_path / "photo.jpg").write_bytes(jpeg)
    for given, mime, raw in [(png, "image/png", png), ({"bytes": jpeg, "path": None}, "image/jpeg", jpeg),
                             (str(tmp_path / "photo.jpg"), "image/jpeg", jpeg)]:  # fmt: skip
        backend.generate([_ask("q", given)])
        assert _sent_image(server) == (f"data:{mime};base64", raw)


def test_images_that_need_decoding_are_sent_as_png(serve):
    server = serve()
    backend = _backend(server)
    rgba = Image.new("RGBA", (8, 6), (255, 0, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees: the server would not apply it
    rotated = _encoded(make_image(12, 8, seed=1), "JPEG", exif=exif.tobytes())
    for given in [make_image(10, 10, seed=3), _encoded(rgba, "PNG"), rotated]:
        backend.generate([_ask("q", given)])
        header, raw = _sent_image(server)
        sent = Image.open(io.BytesIO(raw))
        assert header == "data:image/png;base64" and sent.format == "PNG"
        assert sent.convert("RGB").tobytes() == load_rgb(given).tobytes()
    assert Image.open(io.BytesIO(raw)).size == (8, 12)  # the rotation applied


def test_aiohttp_stack_behaves_the_same(serve):
    pytest.importorskip("aiohttp")
    server = serve(plan=lambda body, attempt: "500" if attempt == 0 else ("malformed" if "bad" in str(body) else None))
    outputs = _backend(server, http="aiohttp").generate([_ask("fine"), _ask("bad")])
    assert outputs[0] == "Answer: 42" and isinstance(outputs[1], GenerationError)
    assert "not valid JSON" in outputs[1].message and len(server.arrived["fine"]) == 2
    with pytest.raises(ValueError, match="http must be"):
        _backend(server, http="curl")


def test_base64_strings_are_images_not_file_names(serve):
    server = serve()
    png = _encoded(make_image(300, 300, seed=4), "PNG")  # its base64 is far longer than a file name may be
    for given in [base64.b64encode(png).decode(), "data:image/png;base64," + base64.b64encode(png).decode()]:
        _backend(server).generate([_ask("q", given)])
        header, raw = _sent_image(server)
        assert header == "data:image/png;base64" and Image.open(io.BytesIO(raw)).tobytes() == load_rgb(png).tobytes()


def test_assigned_client_options_apply_to_the_requests(serve):
    server = serve(plan=lambda body, attempt: "500")
    backend = _backend(server, max_retries=4)
    backend.client = backend.client.with_options(max_retries=0, timeout=2.0)
    (failed,) = backend.generate([_ask("once")])
    assert isinstance(failed, GenerationError) and len(server.arrived["once"]) == 1
    assert (backend.max_retries, backend.timeout) == (0, 2.0)
