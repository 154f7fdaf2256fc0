"""Versioned prompt templates of the synthesis pipelines: `<name>.v<version>.txt` files and [`load_prompt`].

A template is plain text with `{field}` placeholders (lower-case identifiers); other braces (`\\boxed{}`, JSON) are
left alone. A prompt is never edited in place: a changed wording is a new file with the next version, so a job's
recorded `Prompt.id` (`"mmpr_cot@1"`) and `sha256` say exactly which text made its rows, and the job runner refuses
to resume a job under another prompt.

| name | used by | wording |
|---|---|---|
| `mmpr_cot` | MMPR correctness pairs | InternVL's `INSTRUCTION_EN`, verbatim |
| `mammoth_categorize` | MAmmoTH-VL rewrite | ours (the paper's prompts are figures only) |
| `mammoth_rewrite_caption` | MAmmoTH-VL rewrite, caption-only rows (text LLM) | ours |
| `mammoth_rewrite_mllm` | MAmmoTH-VL rewrite, other rows (MLLM) | ours |
| `mammoth_judge` | MAmmoTH-VL model-as-judge filter | ours |
| `web_qa_extract` | VisualWebInstruct QA extraction (the seed's Markdown QA format) | ours |
| `web_validity` | VisualWebInstruct validity filter (the seed's `QUESTION_VALID:` format + `SUBJECT:`) | ours |
| `web_answer` | VisualWebInstruct consistency refinement: one sampled answer | ours |
| `web_consistency` | VisualWebInstruct consistency refinement: the judge | ours (the paper gives none) |
| `web_alignment` | VisualWebInstruct alignment with the web page's answer | ours |
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PROMPT_DIR = Path(__file__).parent
_FILE = re.compile(r"^(?P<name>[a-z0-9_]+)\.v(?P<version>\d+)\.txt$")
_FIELD = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@dataclass(frozen=True)
class Prompt:
    """One version of a prompt template.

    Attributes:
        name: the template's name (`"mmpr_cot"`).
        version: its version (1, 2, ...).
        text: the template, `{field}` placeholders included.
    """

    name: str
    version: int
    text: str

    @property
    def id(self) -> str:
        """`"name@version"`, what a job's settings record."""
        return f"{self.name}@{self.version}"

    @property
    def fields(self) -> tuple[str, ...]:
        """The placeholders the template has, in order of first use."""
        return tuple(dict.fromkeys(_FIELD.findall(self.text)))

    @property
    def sha256(self) -> str:
        """SHA-256 of the template text."""
        return hashlib.sha256(self.text.encode()).hexdigest()

    def settings(self) -> dict[str, str]:
        """`{"id": ..., "sha256": ...}` for a stage's `settings()`."""
        return {"id": self.id, "sha256": self.sha256}

    def render(self, **values: str) -> str:
        """The template with each `{field}` replaced by `values[field]` (in one pass: a value's own braces are
        never expanded).

        Raises:
            KeyError: a placeholder has no value, or a value names no placeholder.
        """
        if missing := [name for name in self.fields if name not in values]:
            raise KeyError(f"prompt {self.id} needs {', '.join(missing)}")
        if extra := [name for name in values if name not in self.fields]:
            raise KeyError(f"prompt {self.id} has no placeholder {', '.join(extra)}")
        return _FIELD.sub(lambda match: str(values[match.group(1)]), self.text)


def available() -> dict[str, list[int]]:
    """Every template name with its versions, ascending."""
    found: dict[str, list[int]] = {}
    for path in PROMPT_DIR.iterdir():
        if match := _FILE.match(path.name):
            found.setdefault(match["name"], []).append(int(match["version"]))
    return {name: sorted(versions) for name, versions in sorted(found.items())}


@cache
def load_prompt(name: str, version: int | None = None) -> Prompt:
    """The template `name` at `version` (default: its latest version).

    Raises:
        KeyError: no such template or version.
    """
    versions = available().get(name)
    if not versions:
        raise KeyError(f"no prompt template {name!r}; available: {', '.join(available())}")
    version = versions[-1] if version is None else int(version)
    if version not in versions:
        raise KeyError(f"prompt {name!r} has versions {versions}, not {version}")
    text = (PROMPT_DIR / f"{name}.v{version}.txt").read_text(encoding="utf-8")
    return Prompt(name, version, text.removesuffix("\n"))


__all__ = ["PROMPT_DIR", "Prompt", "available", "load_prompt"]
