"""The README lists every `strict` vs `official` difference of every scorer, generated from the scorers."""

from pathlib import Path

from mmreason.eval.benchmarks import BENCHMARKS, strict_changes_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_scorer_documents_its_strict_changes():
    for bench in BENCHMARKS.values():
        assert bench.scorer().STRICT_CHANGES, bench.name


def test_readme_carries_the_generated_list():
    text = README.read_text()
    start, end = text.index("<!-- strict-changes:start -->\n"), text.index("<!-- strict-changes:end -->")
    assert text[start + len("<!-- strict-changes:start -->\n") : end] == strict_changes_markdown(), (
        "README out of date: regenerate with mmreason.eval.benchmarks.strict_changes_markdown()"
    )
