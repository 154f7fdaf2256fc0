"""The versioned prompt templates: loading by name and version, rendering, and a changed prompt refused by the job
runner (the pipelines' settings record each prompt's id and SHA-256)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image

from mmreason.synth import JobMismatchError, run_job
from mmreason.synth.pipelines.mmpr_pairs import MMPRCorrectnessStage
from mmreason.synth.prompts import PROMPT_DIR, Prompt, available, load_prompt


def test_every_template_loads_with_its_fields() -> None:
    assert available() == {"mammoth_categorize": [1], "mammoth_judge": [1], "mammoth_rewrite_caption": [1],
                           "mammoth_rewrite_mllm": [1], "mmpr_cot": [1], "web_alignment": [1], "web_answer": [1],
                           "web_consistency": [1], "web_qa_extract": [1], "web_validity": [1]}  # fmt: skip
    fields = {name: load_prompt(name).fields for name in available()}
    assert fields == {"mammoth_categorize": ("question", "answer"), "mammoth_judge": ("question", "answer"),
                      "mammoth_rewrite_caption": ("question", "answer"),
                      "mammoth_rewrite_mllm": ("depth", "question", "answer"), "mmpr_cot": ("question",),
                      "web_alignment": ("question", "model_answer", "web_answer"), "web_answer": ("question",),
                      "web_consistency": ("question", "answers"), "web_qa_extract": ("document",),
                      "web_validity": ("question", "solution")}  # fmt: skip
    cot = load_prompt("mmpr_cot", 1)
    text = (PROMPT_DIR / "mmpr_cot.v1.txt").read_text(encoding="utf-8")
    assert cot.id == "mmpr_cot@1" and cot.sha256 == hashlib.sha256(text.removesuffix("\n").encode()).hexdigest()


def test_render_fills_only_its_placeholders() -> None:
    prompt = Prompt("t", 2, "Solve {question} in \\boxed{} or {JSON}.")
    assert prompt.render(question="{answer} x") == "Solve {answer} x in \\boxed{} or {JSON}."
    with pytest.raises(KeyError, match="needs question"):
        prompt.render()
    with pytest.raises(KeyError, match="no placeholder answer"):
        prompt.render(question="q", answer="a")


def test_unknown_names_and_versions_are_refused() -> None:
    with pytest.raises(KeyError, match="no prompt template 'nope'"):
        load_prompt("nope")
    with pytest.raises(KeyError, match=r"has versions \[1\], not 7"):
        load_prompt("mmpr_cot", 7)


class Fixed:
    def settings(self):
        return {"backend": "fixed"}

    def generate(self, conversations, sampling=None):
        return ["a\nb\nFinal answer: 1" for _ in conversations]


def test_a_changed_prompt_is_refused_by_the_runner(tmp_path: Path) -> None:
    row = {"id": "q", "source": "s", "category": "", "quality_group": "", "images": [Image.new("RGB", (3, 3))],
           "messages": [{"role": "user", "content": [{"type": "image", "text": None}, {"type": "text", "text": "Q"}]},
                        {"role": "assistant", "content": [{"type": "text", "text": "2"}]}]}  # fmt: skip
    stage = MMPRCorrectnessStage(Fixed(), num_samples=1)
    run_job(stage, [row], tmp_path, progress=False)
    stage.prompt = Prompt("mmpr_cot", 2, stage.prompt.text + " Be brief.")
    with pytest.raises(JobMismatchError):
        run_job(stage, [row], tmp_path, progress=False)
