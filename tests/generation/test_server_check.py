"""`check_server` / `mmreason check-server` against loopback stand-ins: a faithful server (it runs the same tiny
model, as vLLM with mmreason's plugin does), one that counts large images as vLLM's stock LLaVA-OneVision does
(more image tokens, other ids), and one without vLLM's `return_token_ids` (compared on text)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import torch

from mmreason.cli.check_server import main as check_server_main
from mmreason.generation.server_check import QUESTION, check_server
from mmreason.testing import build_tiny

from .stand_in import request_images, send_json

SIZES = ((200, 160), (640, 480), (47, 423))


class Served:
    """Answers chat completions with the tiny model; `inflate(w, h)` extra prompt tokens, `ids` on or off."""

    def __init__(self, model, processor, inflate=lambda w, h: 0, ids: bool = True):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                images = request_images(body)
                content = [{"type": "image"} for _ in images] + [{"type": "text", "text": QUESTION}]
                messages = [{"role": "user", "content": content}]
                text = processor.apply_chat_template(messages, add_generation_prompt=True)
                inputs = processor(images=images, text=text, return_tensors="pt")
                extra = sum(inflate(*image.size) for image in images)
                with torch.no_grad():
                    out = model.generate(**inputs, max_new_tokens=body["max_tokens"], do_sample=False)
                new = out[0, inputs["input_ids"].shape[1] :].tolist()
                if extra:
                    new = [(t + 1) % 200 for t in new]  # another geometry, other answers
                choice = {"index": 0, "finish_reason": "length", "message": {"role": "assistant",
                          "content": processor.tokenizer.decode(new, skip_special_tokens=True)}}  # fmt: skip
                if ids:
                    choice["token_ids"] = new
                reply = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                         "choices": [choice], "usage": {"prompt_tokens": inputs["input_ids"].shape[1] + extra,
                                                        "completion_tokens": len(new), "total_tokens": 0}}  # fmt: skip
                send_json(self, reply)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self):
        self.httpd.shutdown()


@pytest.fixture(scope="module")
def tiny():
    return build_tiny(vision_aspect_ratio="anyres_max_4")


def test_a_faithful_server_matches(tiny):
    server = Served(*tiny)
    try:
        checks = check_server(server.url, "served", tiny, sizes=SIZES, max_new_tokens=6)
    finally:
        server.close()
    assert [c.ok for c in checks] == [True, True, True]
    assert all(c.served_ids == c.expected_ids and len(c.expected_ids) == 6 for c in checks)


def test_a_server_with_another_geometry_is_caught(tiny):
    server = Served(*tiny, inflate=lambda w, h: 67 if w * h > 200_000 else 0)  # like anyres_max_9 on large images
    try:
        checks = check_server(server.url, "served", tiny, sizes=SIZES, max_new_tokens=6)
    finally:
        server.close()
    assert [c.ok for c in checks] == [True, False, True]
    assert checks[1].served_prompt_tokens == checks[1].expected_prompt_tokens + 67


def test_a_multi_image_prompt_is_compared_too(tiny):
    """Stock vLLM tiles each image of a multi-image prompt anyres (more tokens); LLaVA-NeXT pads each to one tile."""
    _, processor = tiny
    server = Served(*tiny)
    anyres_each = Served(*tiny, inflate=lambda w, h: 40)  # counts every image as if it were alone
    try:
        (good,) = check_server(server.url, "served", tiny, sizes=(), multi_image=True, max_new_tokens=4)
        (bad,) = check_server(anyres_each.url, "served", tiny, sizes=(), multi_image=True, max_new_tokens=4)
    finally:
        server.close()
        anyres_each.close()
    assert good.ok and good.label == "200x160+47x423+1153x944"
    assert good.expected_prompt_tokens > 3 * processor.count_image_tokens([(1, 1), (1, 1)])[0]
    assert not bad.ok and bad.served_prompt_tokens == bad.expected_prompt_tokens + 120


def test_without_token_ids_the_text_is_compared(tiny):
    server = Served(*tiny, ids=False)
    try:
        (check,) = check_server(server.url, "served", tiny, sizes=SIZES[:1], max_new_tokens=6)
    finally:
        server.close()
    assert check.ok and check.served_ids is None and "compared on text" in check.notes[0]


def test_the_command_exits_1_on_a_difference(tiny, tmp_path, capsys):
    model, processor = tiny
    model.save_pretrained(tmp_path / "ckpt")
    processor.save_pretrained(tmp_path / "ckpt")
    for inflate, code in ((lambda w, h: 0, None), (lambda w, h: 5, 1)):
        server = Served(model, processor, inflate=inflate)
        try:
            if code is None:
                check_server_main(
                    [server.url, "served", "--checkpoint", str(tmp_path / "ckpt"), "--max_new_tokens", "4"]
                )
            else:
                with pytest.raises(SystemExit) as exit_info:
                    check_server_main([server.url, "served", "--checkpoint", str(tmp_path / "ckpt"),
                                       "--max_new_tokens", "4"])  # fmt: skip
                assert exit_info.value.code == code
        finally:
            server.close()
    out = capsys.readouterr().out
    assert "5/5 prompts: the server matches the checkpoint" in out and "0/5 prompts" in out
