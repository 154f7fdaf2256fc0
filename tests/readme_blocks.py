"""The README's code blocks, as CI and tests/test_readme.py run them.

* `two_commands()`: the `bash` blocks of the "Two commands" section, one command each (install + quickstart,
  install + tests); `.ci/run` runs them as written from the clean clone.
* `runnable_snippets()`: the Python blocks preceded by an `<!-- runnable ... -->` comment; they must run as written
  in the folder where the README's first command (`mmreason quickstart`) ran, offline. Blocks that need a GPU or
  the Hub are not marked.

`python tests/readme_blocks.py commands` prints the two commands, one a line; `python tests/readme_blocks.py
snippets` runs every runnable snippet in the current folder and exits non-zero if one fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"(?P<marker><!-- runnable[^>]*-->\n)?```(?P<lang>\w*)[^\n]*\n(?P<code>.*?)^```", re.S | re.M)


def blocks(text: str) -> list[tuple[str, str, bool]]:
    """`(language, code, marked_runnable)` of every fenced block, in order."""
    return [(m["lang"], m["code"], bool(m["marker"])) for m in _BLOCK.finditer(text)]


def section(text: str, title: str) -> str:
    """The text of the `## title` section (up to the next `## ` heading)."""
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def two_commands(text: str | None = None) -> list[str]:
    """The commands of the "Two commands" section's bash blocks."""
    text = README.read_text() if text is None else text
    return [code.strip() for lang, code, _ in blocks(section(text, "Two commands")) if lang == "bash"]


def runnable_snippets(text: str | None = None) -> list[str]:
    """The Python blocks marked runnable."""
    text = README.read_text() if text is None else text
    return [code for lang, code, marked in blocks(text) if marked and lang == "python"]


def main(argv: list[str]) -> int:
    if argv == ["commands"]:
        print("\n".join(two_commands()))
        return 0
    if argv == ["snippets"]:
        for number, code in enumerate(runnable_snippets(), start=1):
            print(f"== README snippet {number} ==", flush=True)
            if subprocess.run([sys.executable, "-c", code]).returncode != 0:
                print(f"README snippet {number} failed:\n{code}", file=sys.stderr)
                return 1
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
