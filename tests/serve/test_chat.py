"""The demo's turn logic without a UI: Gradio-6 history -> canonical conversation (images re-read, the assistant's
reasoning + final answer joined back, the demo's notices left out), answer messages split into a collapsible
reasoning section and the final answer, refused files and failed generations as notices."""

from PIL import Image

from mmreason.serve.chat import REASONING_TITLE, answer_messages, respond, to_conversation


def _png(path, colour=(0, 0, 255)):
    Image.new("RGB", (20, 10), colour).save(path)
    return str(path)


def test_history_in_gradio_6_forms_becomes_the_canonical_conversation(tmp_path):
    first, second = _png(tmp_path / "a.png"), _png(tmp_path / "b.png", (255, 0, 0))
    history = [
        {"role": "user", "content": [{"type": "file", "file": {"path": first, "mime_type": "image/png"}}]},
        {"role": "user", "content": [{"type": "text", "text": "Which bar is tallest?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "A is 5."}],
         "metadata": {"title": REASONING_TITLE, "status": "done"}},
        {"role": "assistant", "content": "Final answer: A"},
        {"role": "assistant", "content": "x.pdf: not a usable image.", "metadata": {"title": "⚠️ Note"}},
    ]  # fmt: skip
    conversation, problems = to_conversation({"text": "And the shortest?", "files": [second]}, history)
    assert problems == []
    assert [turn["role"] for turn in conversation] == ["user", "assistant", "user"]
    user, assistant, last = conversation
    assert [p["type"] for p in user["content"]] == ["image", "text"]
    assert user["content"][0]["image"].getpixel((0, 0)) == (0, 0, 255)
    assert assistant["content"] == [{"type": "text", "text": "A is 5.\nFinal answer: A"}]
    assert last["content"][0]["image"].getpixel((0, 0)) == (255, 0, 0)
    assert last["content"][1] == {"type": "text", "text": "And the shortest?"}


def test_answer_messages_while_streaming_and_when_done():
    pending = answer_messages("Step 1: A is 5", finished=False, seconds=0.4)
    assert len(pending) == 1 and pending[0]["metadata"]["status"] == "pending"
    done = answer_messages("Step 1: A is 5.\nFinal answer: A", finished=True, seconds=1.0)
    assert done[0]["content"] == "Step 1: A is 5." and done[0]["metadata"]["title"] == REASONING_TITLE
    assert done[0]["metadata"]["status"] == "done" and done[1] == {"role": "assistant", "content": "Final answer: A"}
    plain = answer_messages("Just an answer.", finished=True, seconds=1.0)  # a model without the marker
    assert plain == [{"role": "assistant", "content": "Just an answer."}]


class _Backend:
    """A stand-in that streams fixed chunks (or fails after the first), recording what it was asked."""

    def __init__(self, chunks, fail=False):
        self.chunks, self.fail, self.asked = chunks, fail, []

    def stream(self, conversation, sampling):
        self.asked.append((conversation, sampling))
        for number, chunk in enumerate(self.chunks):
            if self.fail and number == 1:
                raise RuntimeError("out of memory")
            yield chunk


def test_respond_streams_reasoning_then_answer_and_passes_the_settings(tmp_path):
    backend = _Backend(["The heights ", "are A 5.\n", "Final answer: ", "A"])
    message = {"text": "Tallest?", "files": [_png(tmp_path / "a.png")]}
    outputs = list(respond(backend, message, [], max_new_tokens=64, temperature=0.7))
    assert len(outputs) == 5  # one per chunk, then the finished turn
    assert outputs[0][0]["metadata"]["status"] == "pending"
    assert outputs[-1][0]["content"] == "The heights are A 5." and outputs[-1][1]["content"] == "Final answer: A"
    ((conversation, sampling),) = backend.asked
    assert sampling.max_new_tokens == 64 and sampling.temperature == 0.7
    assert [p["type"] for p in conversation[-1]["content"]] == ["image", "text"]


def test_refused_files_and_failures_are_notices(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not a png")
    outputs = list(respond(_Backend(["x"]), {"text": "", "files": [str(tmp_path / "bad.png")]}, []))
    assert len(outputs) == 1 and "bad.png: not a usable image" in outputs[0][0]["content"]
    assert "Send a question" in outputs[0][1]["content"]
    only_image = list(respond(_Backend(["x"]), {"text": "", "files": [_png(tmp_path / "a.png")]}, []))
    assert "Add a question" in only_image[-1][-1]["content"]
    failed = list(respond(_Backend(["Step one", " two"], fail=True), {"text": "Hi", "files": []}, []))
    assert failed[-1][0]["content"] == "Step one" and "Generation failed: RuntimeError" in failed[-1][-1]["content"]
