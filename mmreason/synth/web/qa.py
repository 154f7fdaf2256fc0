"""Reading the extraction model's Markdown QA reply ([`parse_qa_markdown`]) — the seed's `qa.py` format:

    **Question 1:**
    <question text>

    **Images:**
    * <image URL>

    **Solution:**
    <solution text>

    **Images in Solution:**
    * <image URL>

The seed's rules: questions split on `**Question N:**`; image lines are bullets whose URL is the line stripped of
`* []`; the placeholders "First/Second image URL if available" and "Not found" are not images; an item whose
question is "Not found" is dropped; a missing solution is "Not found". Also read here (the seed lost or garbled
them): `**Question 1**:` / `### **Question 1:**` spellings, text on the header line itself, a question followed
directly by `**Solution:**` (the seed's question ended only at `**Images:**`, so it was dropped), `-`/`+` bullets,
`![alt](url)` / `[text](url)` / `<url>` image lines, blank lines inside a solution, and any placeholder in square
brackets (`[continue for each additional image...]`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NOT_FOUND = "Not found"
_QUESTION = re.compile(r"^[ \t]*(?:#{1,6}[ \t]*)?\*\*[ \t]*Question[ \t]*\d+[ \t]*(?::[ \t]*\*\*|\*\*[ \t]*:?)",
                       re.IGNORECASE | re.MULTILINE)  # fmt: skip
_HEADER = re.compile(
    r"^(?:#{1,6}\s*)?\*\*\s*(images in solution|solution images|images|solution)\s*(?::\s*\*\*|\*\*\s*:?)\s*(.*)$",
    re.IGNORECASE,
)
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_PLACEHOLDERS = frozenset({"not found", "none", "n/a", "no images", "no image", "first image url if available",
                           "second image url if available", "image url", "url"})  # fmt: skip


@dataclass
class QAItem:
    """One question mined from a page: text and image URLs as the model wrote them."""

    question: str
    question_images: list[str] = field(default_factory=list)
    solution: str = NOT_FOUND
    solution_images: list[str] = field(default_factory=list)


def is_not_found(text: str) -> bool:
    """Whether a part is the "Not found" placeholder (any case, with `*`, brackets, quotes or a full stop)."""
    return text.strip().strip("*[]()\"'`.").strip().lower() in ("not found", "")


def image_url(line: str) -> str | None:
    """The image URL of a bullet line, or `None` for a placeholder or a line that is no bullet."""
    line = line.strip()
    if not line or line[0] not in "*-+":
        return None
    url = link.group(1) if (link := _LINK.search(line)) else line.strip("*-+ \t[]").strip("<>").strip()
    lowered = url.lower().rstrip(".")
    if not url or lowered in _PLACEHOLDERS or (line.lstrip("*-+ \t").startswith("[") and " " in url):
        return None
    return url.split()[0] if " " in url else url


def parse_qa_markdown(text: str) -> list[QAItem]:
    """The questions of an extraction reply (see the module docstring); `[]` for an empty reply or one whose
    questions are all "Not found"."""
    starts = [match.end() for match in _QUESTION.finditer(text)]
    bounds = [*[match.start() for match in _QUESTION.finditer(text)][1:], len(text)]
    items = []
    for start, end in zip(starts, bounds):
        parts: dict[str, list[str]] = {"question": [], "images": [], "solution": [], "images in solution": []}
        section = "question"
        for line in text[start:end].split("\n"):
            if header := _HEADER.match(line.strip()):
                section = header.group(1).lower().replace("solution images", "images in solution")
                line = header.group(2)
            if section in ("images", "images in solution"):
                if (url := image_url(line)) is not None:
                    parts[section].append(url)
            else:
                parts[section].append(line.rstrip() if section == "solution" else line.strip())
        question = "\n".join(parts["question"]).strip()
        solution = "\n".join(parts["solution"]).strip("\n").strip()
        if is_not_found(question):
            continue
        items.append(QAItem(question, parts["images"], NOT_FOUND if is_not_found(solution) else solution,
                            parts["images in solution"]))  # fmt: skip
    return items


__all__ = ["NOT_FOUND", "QAItem", "image_url", "is_not_found", "parse_qa_markdown"]
