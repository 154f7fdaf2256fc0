"""The Gradio demo launched on localhost and driven with `gradio_client`, serving the model the (reduced) README
quickstart trained: a streamed answer arrives in several chunks, the reasoning and the final answer are separate
messages, an oversized image and a corrupt file each get a message, and the app keeps serving after them."""

import os

import pytest

gradio_client = pytest.importorskip("gradio_client")
pytest.importorskip("gradio")

from mmreason.data import procedural  # noqa: E402
from mmreason.generation import TransformersBackend  # noqa: E402
from mmreason.serve.app import build_demo  # noqa: E402
from mmreason.serve.chat import REASONING_TITLE  # noqa: E402
from mmreason.serve.models import ServedModel  # noqa: E402
from mmreason.serve.uploads import UploadLimits  # noqa: E402

pytestmark = pytest.mark.slow  # it needs the reduced quickstart's model (shared with the README tests)


@pytest.fixture(scope="module")
def client(quickstart_run):
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    folder, _ = quickstart_run
    model = folder / "mmreason-quickstart" / "models" / "sft"
    served = ServedModel(TransformersBackend(str(model), batch_size=1, system_prompt=None, device="cpu"), "test")
    demo = build_demo(served, limits=UploadLimits(max_bytes=200_000))
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True, ssr_mode=False)
    try:
        yield gradio_client.Client(demo.local_url, verbose=False)
    finally:
        demo.close()


def _clock(tmp_path):
    problem = procedural.generate(1, seed=4321, level="easy", families=["clock"])[0]
    path = tmp_path / "clock.png"
    problem.image.save(path)
    return problem, {"text": procedural.prompt_of(problem, "text"), "files": [gradio_client.handle_file(str(path))]}


def test_answer_streams_in_chunks_with_reasoning_and_final_answer_apart(client, tmp_path):
    _, message = _clock(tmp_path)
    job = client.submit(message, 96, 0.0, api_name="/respond")
    final = job.result()
    streamed = job.outputs()
    assert len(streamed) >= 3  # several partial answers before the finished one
    assert streamed[0][0]["metadata"]["status"] == "pending"
    reasoning, answer = final
    assert reasoning["metadata"]["title"] == REASONING_TITLE and reasoning["metadata"]["status"] == "done"
    assert reasoning["content"] and answer["content"].startswith("Final answer: ")
    assert answer.get("metadata") in (None, {}) or not answer["metadata"].get("title")


def test_oversized_and_corrupt_files_get_messages_and_the_app_keeps_serving(client, tmp_path):
    from PIL import Image

    big = tmp_path / "big.bmp"
    Image.new("RGB", (400, 400), (9, 9, 9)).save(big)  # 480 KB, over the 200 KB limit
    corrupt = tmp_path / "broken.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    files = [gradio_client.handle_file(str(big)), gradio_client.handle_file(str(corrupt))]
    out = client.predict({"text": "What is this?", "files": files}, 16, 0.0, api_name="/respond")
    notes = [m["content"] for m in out if (m.get("metadata") or {}).get("title", "").endswith("Note")]
    assert any(n.startswith("big.bmp") and "over the" in n for n in notes), notes
    assert any(n.startswith("broken.png") and "not a usable image" in n for n in notes), notes
    assert all("/tmp/" not in n for n in notes)  # no server paths in the messages
    _, message = _clock(tmp_path)
    again = client.predict(message, 96, 0.0, api_name="/respond")
    assert again[-1]["content"].startswith("Final answer: ")
