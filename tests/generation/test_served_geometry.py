"""The OpenAI backend refuses a vLLM-served model whose geometry the server does not serve (issue #19 item 13, #20).

Stock vLLM's LLaVA-OneVision always applies `anyres_max_9` and rounds the unpad crop; the served configs here are
stock transformers `LlavaOnevisionConfig`s and mmreason checkpoints, found through the `root` a stand-in
`/v1/models` lists (as vLLM does) or named with `served_config`. A model with another geometry is probed with one
image: a server that counts its tokens as the model does (vLLM with mmreason's plugin) passes."""

import json

import pytest
from transformers import LlavaOnevisionConfig

from mmreason.cli.eval import main as eval_main
from mmreason.generation import OpenAIBackend, ServedGeometryError
from mmreason.testing import build_tiny

from ..eval.fixtures import write_mathvista
from .stand_in import StandInServer, request_images


def _export(folder, ratio, rule="round"):
    LlavaOnevisionConfig(vision_aspect_ratio=ratio, image_unpad_rule=rule).save_pretrained(folder)
    return str(folder)


@pytest.fixture
def served(tmp_path):
    servers = []

    def start(root, owned_by="vllm", prompt_tokens=None):
        models = [{"id": "served", "root": root, "owned_by": owned_by}]
        server = StandInServer(failures=0, models=models, prompt_tokens=prompt_tokens)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.httpd.shutdown()


def test_listed_root_with_another_geometry_is_refused(served, tmp_path):
    server = served(_export(tmp_path / "export4", "anyres_max_4"))
    with pytest.raises(ServedGeometryError, match=r"'anyres_max_4'.*always applies 'anyres_max_9'.*not be probed"):
        OpenAIBackend(server.url, "served", max_retries=0, timeout=10)


def test_override_records_the_mismatch(served, tmp_path):
    server = served(_export(tmp_path / "export4", "anyres_max_4"))
    backend = OpenAIBackend(server.url, "served", max_retries=0, timeout=10, allow_geometry_mismatch=True)
    assert "anyres_max_4" in backend.settings()["geometry_mismatch"]
    assert backend.settings()["served_geometry"] == {
        "vision_aspect_ratio": "anyres_max_4", "image_unpad_rule": "round", "probe": None}  # fmt: skip
    assert backend.generate([[{"role": "user", "content": "hi"}]]) == ["Answer: 42"]


def test_matching_or_unknown_geometry_passes(served, tmp_path):
    matching = served(_export(tmp_path / "export9", "anyres_max_9"))
    settings = OpenAIBackend(matching.url, "served", max_retries=0).settings()
    assert "geometry_mismatch" not in settings  # stock vLLM's geometry: nothing to probe, recorded
    assert settings["served_geometry"] == {"vision_aspect_ratio": "anyres_max_9", "image_unpad_rule": "round"}
    remote = served("/not/on/this/machine")  # a path on the server's machine: nothing to tell
    unknown = OpenAIBackend(remote.url, "served", max_retries=0)
    assert unknown.geometry_mismatch is None and "served_geometry" not in unknown.settings()
    other = served(_export(tmp_path / "sglang", "anyres_max_4"), owned_by="sglang")  # not vLLM
    assert OpenAIBackend(other.url, "served", max_retries=0).geometry_mismatch is None


def test_served_config_names_an_mmreason_checkpoint(served, tmp_path):
    model, _ = build_tiny(vision_aspect_ratio="anyres_max_4")
    model.save_pretrained(tmp_path / "ckpt")
    server = served("/not/on/this/machine")
    with pytest.raises(ServedGeometryError, match="anyres_max_4"):
        OpenAIBackend(server.url, "served", max_retries=0, served_config=str(tmp_path / "ckpt" / "config.json"))


def test_eval_cli_refuses_and_allows(served, tmp_path, capsys):
    server = served(_export(tmp_path / "export4", "anyres_max_4"))
    data = write_mathvista(tmp_path / "data")
    argv = ["--model", "served", "--benchmark", "mathvista_testmini", "--data", str(data), "--limit", "1",
            "--base_url", server.url, "--output_dir", str(tmp_path / "out")]  # fmt: skip
    with pytest.raises(SystemExit) as exit_info:
        eval_main(argv)
    assert exit_info.value.code != 0 and not (tmp_path / "out").exists()
    error = capsys.readouterr().err
    assert "anyres_max_4" in error and "anyres_max_9" in error and "--allow_geometry_mismatch" in error
    eval_main([*argv, "--allow_geometry_mismatch", "true"])
    run = json.loads((tmp_path / "out" / "mathvista_testmini" / "run.json").read_text())
    assert "anyres_max_4" in run["generation"]["geometry_mismatch"]


def _checkpoint(folder, **geometry):
    model, processor = build_tiny(real_geometry=True, grid="(1x1),...,(6x6)", **geometry)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return processor


def _counting(processor, extra=0):
    """`usage.prompt_tokens` of a server that counts the request's image as `processor` does (+ `extra`)."""
    from mmreason.generation.server_check import QUESTION

    def count(body):
        (image,) = request_images(body)
        content = [{"type": "image"}, {"type": "text", "text": QUESTION}]
        text = processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True)
        inputs = processor(images=[image], text=text, return_tensors="np")
        return int(inputs["input_ids"].shape[1]) + extra

    return count


@pytest.mark.parametrize(
    "geometry",
    [{"vision_aspect_ratio": "anyres_max_4"}, {"vision_aspect_ratio": "anyres_max_9", "image_unpad_rule": "truncate"}],
)
def test_a_server_counting_as_the_model_passes_the_probe(served, tmp_path, geometry):
    """MAmmoTH-VL's geometry (anyres_max_4), or LLaVA-NeXT's truncating unpad at anyres_max_9, served by a server
    that counts as the model does (vLLM + mmreason's plugin) passes; one counting as stock vLLM does is refused."""
    processor = _checkpoint(tmp_path / "ckpt", **geometry)
    faithful = served(str(tmp_path / "ckpt"), prompt_tokens=_counting(processor))
    backend = OpenAIBackend(faithful.url, "served", max_retries=0, timeout=60)
    probe = backend.settings()["served_geometry"]["probe"]
    assert backend.geometry_mismatch is None and probe["served_prompt_tokens"] == probe["expected_prompt_tokens"]
    assert probe["image"] == ("1153x944" if geometry["vision_aspect_ratio"] == "anyres_max_4" else "47x423")
    stock = served(str(tmp_path / "ckpt"), prompt_tokens=_counting(processor, extra=108))
    with pytest.raises(ServedGeometryError, match=r"prompt tokens on the server"):
        OpenAIBackend(stock.url, "served", max_retries=0, timeout=60)
