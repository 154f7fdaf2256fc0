"""HTML → accessibility tree on fixed pages, against expectations written by hand from the seed's rules
(`acc_tree.py`), plus malformed markup, deep nesting, huge pages and fuzzed input."""

from __future__ import annotations

import itertools
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from mmreason.synth.web.tree import Node, TreeLimits, build_tree

PAGE = """<!DOCTYPE html><html><head><title>Not in the body</title><base href="/course/"></head>
<body>
  <header>Site name</header>
  <nav><a href="/">Home</a></nav>
  <div class="menu">Menu item</div>
  <div class="Sidebar extra">Related</div>
  <div id="top-banner">Sale!</div>
  <div id="mainHeader">Header by id</div>
  <div id="thread-42">
    <h2>Question 3</h2>
    <p>Find   the
       length of <b>AB</b>.</p>
    <!-- a comment the seed kept as text -->
    <img src="fig/tri.png" alt=" right  triangle ">
    <img alt="no source">
    <img src="//cdn.example.org/b.gif">
    <img data-src="https://img.example.org/lazy.png" alt="lazy">
    <img src="javascript:alert(1)">
    <script>var x = "<p>not text</p>";</script>
    <style>p { color: red }</style>
    <button>Show answer</button><input value="typed">
    <p>Solution: AB = 5.</p>
    <pre>  x = 3
  y = 4  </pre>
  </div>
  <div class="download-link">Download kept (class names match whole)</div>
  <footer>Copyright</footer>
</body></html>"""

EXPECTED = [
    Node("text", "Question 3 Find the length of AB ."),
    Node("image", src="https://site.example.com/course/fig/tri.png", alt="right triangle"),
    Node("image", src="https://cdn.example.org/b.gif"),
    Node("image", src="https://img.example.org/lazy.png", alt="lazy"),
    Node("text", "Solution: AB = 5. x = 3\n  y = 4 Download kept (class names match whole)"),
]
DOCUMENT = """<document>
Question 3 Find the length of AB .

<image alt='right triangle' src='https://site.example.com/course/fig/tri.png'></image>

<image src='https://cdn.example.org/b.gif'></image>

<image alt='lazy' src='https://img.example.org/lazy.png'></image>

Solution: AB = 5. x = 3
  y = 4 Download kept (class names match whole)
</document>"""


def test_the_seeds_rules_on_a_fixed_page():
    tree = build_tree(PAGE, "https://site.example.com/q/page.html")
    assert tree.nodes == EXPECTED
    assert tree.document() == DOCUMENT
    assert str(tree.nodes[1]) == "[Image: right triangle] Source: https://site.example.com/course/fig/tri.png"
    assert tree.images_seen == 3 and tree.truncated == []  # no src and javascript: are no images


def test_id_words_not_substrings():
    html = "<body><div id='head'>H</div><div id='thread'>T</div><div id='quadratic-1'>Q</div>" \
           "<div id='sideMenu'>S</div><div id='ad'>A</div><div id='page_footer'>F</div></body>"  # fmt: skip
    assert [n.text for n in build_tree(html).nodes] == ["H T Q"]


def test_inline_images_are_named_for_the_model():
    html = "<p>See</p><img src='data:image/png;base64,iVBORw0KGgo=' alt='a'><img src='data:text/html,<b>x'>" \
           "<img src='data:image/gif;base64,R0lGOD=='>"  # fmt: skip
    tree = build_tree(html, "http://x.org/")
    assert tree.document() == ("<document>\nSee\n\n<image alt='a' src='inline-image-0'></image>\n\n"
                               "<image src='inline-image-1'></image>\n</document>")  # fmt: skip
    assert tree.inline_images == {"inline-image-0": "data:image/png;base64,iVBORw0KGgo=",
                                  "inline-image-1": "data:image/gif;base64,R0lGOD=="}  # fmt: skip


def test_malformed_markup_is_read():
    html = "<div><p>Problem: Compute 7 * 8.<p><b>bold <i>nested</b></i> text</div></div></span><table><tr><td>a" \
           "<td>b</table><img src='/x.png'><p>end<div></body></html></html><p>after the end"  # fmt: skip
    tree = build_tree(html, "http://m.org/a")
    assert [str(n) for n in tree.nodes] == ["Problem: Compute 7 * 8. bold nested text a b",
                                            "[Image: ] Source: http://m.org/x.png", "end after the end"]  # fmt: skip


def test_empty_and_binary_input():
    for html in ["", "   ", b"\x00\xff\xfe", "<html></html>", "<!-- only a comment -->"]:
        tree = build_tree(html)
        assert [n for n in tree.nodes if n.text.strip("\x00\ufffd")] == [] or isinstance(html, bytes)


def test_deep_nesting_is_capped_and_reported():
    shallow = build_tree("<div>" * 200 + "deep text" + "</div>" * 200)
    assert [n.text for n in shallow.nodes] == ["deep text"] and shallow.truncated == []
    start = time.perf_counter()
    deep = build_tree("<p>kept</p>" + "<div>" * 200_000 + "lost" + "</div>" * 200_000)
    assert time.perf_counter() - start < 5  # linear: a 2.2 MB hostile page, no hang, no RecursionError
    assert [n.text for n in deep.nodes] == ["kept"]
    assert deep.truncated == ["markup nested deeper than 256 levels: the deeper content was dropped"]


def test_caps_on_images_text_and_elements():
    html = "<p>Count the tiles.</p>" + "".join(f"<img src='/t/{i}.png'>" for i in range(10_000))
    tree = build_tree(html, "http://g.org/")
    assert tree.images_seen == 10_000 and len(tree.images) == 200
    assert tree.truncated == ["10000 images on the page, kept the first 200"]
    long = build_tree("<p>" + "word " * 100_000 + "</p>", limits=TreeLimits(max_chars=1000))
    assert len(long.nodes[0].text) == 1000 and long.truncated == ["text cut at 1000 characters"]
    many = build_tree("<p>x</p>" * 5000, limits=TreeLimits(max_elements=100))
    assert many.truncated == ["page cut after 100 elements"]


def test_time_is_linear_in_the_page():
    def seconds(n: int) -> float:
        html = "<div class='post'><p>Some text <b>bold</b> and <a href='#'>link</a>.</p><img src='/i.png'></div>" * n
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            build_tree(html, "http://x.org/", TreeLimits(max_images=10**9))
            best = min(best, time.perf_counter() - start)
        return best

    small, large = seconds(2_000), seconds(16_000)
    assert large < 8 * small * 2.5, (small, large)  # 8x the page: well under quadratic (64x)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>/=\"' abcimgpdvsrc&;#!-\n\x00\u00e9\u4e2d\U0001f600")), max_size=400))
def test_fuzzed_markup_never_crashes(html):
    tree = build_tree(html, "http://f.org/p")
    assert all(node.kind in ("text", "image") for node in tree.nodes)
    assert tree.document().startswith("<document>\n") and tree.document().endswith("\n</document>")
    kinds = [node.kind for node in tree.nodes]
    assert all(not (a == b == "text") for a, b in itertools.pairwise(kinds))  # consecutive text is merged


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_fuzzed_bytes_never_crash(data):
    build_tree(data, "http://f.org/")
