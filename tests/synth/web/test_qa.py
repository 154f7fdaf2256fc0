"""Parsing the extraction model's Markdown QA reply: the seed's format and placeholders, variants the seed lost,
and fuzzed replies. Expected items are written by hand."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mmreason.synth.web.qa import QAItem, image_url, parse_qa_markdown

SEED_FORMAT = """**Question 1:**
A ladder 5 m long leans against a wall.
How high does it reach if its foot is 3 m away?

**Images:**
* https://site.com/img/ladder.png
* [Second image URL if available]
[continue for each additional image...]

**Solution:**
By Pythagoras, h^2 = 5^2 - 3^2 = 16.

    h = 4 m

**Images in Solution:**
* Not found

**Question 2:**\x20
Not found

**Images:**
* Not found

**Question 3:**
Name the process shown.

**Images:**
* [First image URL if available]

**Solution:**
Not found

**Images in Solution:**
* [Not found]
"""


def test_the_seeds_format_and_placeholders():
    assert parse_qa_markdown(SEED_FORMAT) == [
        QAItem(
            "A ladder 5 m long leans against a wall.\nHow high does it reach if its foot is 3 m away?",
            ["https://site.com/img/ladder.png"],
            "By Pythagoras, h^2 = 5^2 - 3^2 = 16.\n\n    h = 4 m",
            [],
        ),
        QAItem("Name the process shown.", [], "Not found", []),
    ]


def test_variants_the_seed_lost():
    reply = (
        "### **Question 1**: What is 2 + 2?\n**Solution:** It is 4.\n\n"
        "**Question 2:** Find x.\n**Images:**\n- ![diagram](https://s.com/x.png)\n+ <https://s.com/y.png>\n"
        "* [figure](inline-image-0)\n**Solution images:**\n* https://s.com/sol.png\n"
    )
    assert parse_qa_markdown(reply) == [
        QAItem("What is 2 + 2?", [], "It is 4.", []),
        QAItem(
            "Find x.",
            ["https://s.com/x.png", "https://s.com/y.png", "inline-image-0"],
            "Not found",
            ["https://s.com/sol.png"],
        ),
    ]


def test_empty_and_questionless_replies():
    for reply in [
        "",
        "   ",
        "**Question 1:** Not found",
        "**Question 1:**\n*Not found*\n**Solution:** x",
        "no format",
    ]:
        assert parse_qa_markdown(reply) == []


def test_image_lines():
    assert image_url("* https://a.com/b.png") == "https://a.com/b.png"
    assert image_url("* [https://a.com/b.png]") == "https://a.com/b.png"
    assert image_url("- https://a.com/b.png (the graph)") == "https://a.com/b.png"
    for placeholder in ["* Not found", "* [First image URL if available]", "* none", "* N/A", "plain text", "*"]:
        assert image_url(placeholder) is None, placeholder


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "**Question 1:**",
                "**Question 2:**",
                "**Images:**",
                "**Solution:**",
                "**Images in Solution:**",
                "* https://a.b/c.png",
                "* Not found",
                "Not found",
                "text line",
                "",
                "*",
                "**",
                "\u4e2d\u6587",
                "\x00",
            ]
        )
        | st.text(max_size=30),
        max_size=40,
    )
)
def test_fuzzed_replies_never_crash(lines):
    items = parse_qa_markdown("\n".join(lines))
    assert all(item.question and item.question.lower() != "not found" for item in items)
    assert all(isinstance(url, str) and url for item in items for url in item.question_images + item.solution_images)


def test_a_huge_reply_is_linear():
    import time

    block = "**Question 1:**\nQ\n**Images:**\n* https://a.b/c.png\n**Solution:**\nS\n"
    start = time.perf_counter()
    assert len(parse_qa_markdown(block * 20_000)) == 20_000
    assert time.perf_counter() - start < 10
