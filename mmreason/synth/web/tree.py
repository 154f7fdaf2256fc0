"""HTML → accessibility tree → the `<document>` the extraction model reads ([`build_tree`], [`PageTree`]).

VisualWebInstruct's `acc_tree.py` rules (BeautifulSoup there; lxml's HTML parser here: libxml2's error-recovering
parser takes any markup in linear time — selectolax's Lexbor was measured quadratic in nesting depth, 2.7 s for
40,000 nested `<div>`s, a hang on a hostile 5 MB page):

* only the body is read (everything but `<head>`: a browser also puts text after `</body>` or `</html>` there;
  libxml2 drops what follows `</html>`, so `</html>` and `</body>` end tags are removed before parsing — they
  are implied at the end anyway);
* dropped with everything inside: the tags [`SKIP_TAGS`], elements with a class in [`SKIP_WORDS`], and elements
  whose id holds one of those words;
* `<img>` becomes an image node, shown as `[Image: {alt}] Source: {absolute src}`; an image without `src` is
  dropped;
* text is stripped, and consecutive text (across inline and block elements alike) is merged with one space;
* [`PageTree.document`] is the seed's `format_for_llm`: `"<document>\\n" + "\\n\\n".join(parts) + "\\n</document>"`,
  an image part `<image alt='{alt}' src='{src}'></image>` (no `alt=` when the alt text is empty).

Where this differs from the seed, on purpose:

* relative `src` is resolved against the page URL (and its `<base href>`), as a browser does; the seed joined it
  to `scheme://host` only, so `img/a.png` on `/q/page.html` became `/img/a.png`; protocol-relative `//cdn/x.png`
  gets the page's scheme;
* id words are whole words (`main-header`, `sideMenu` are dropped; `thread-12`, `download` are not — the seed's
  substring test dropped every id containing "ad", such as `thread`, `head`, `quadratic`); class names match whole,
  as in the seed;
* comments and processing instructions are dropped (BeautifulSoup's comments are strings, so the seed kept them
  as page text); whitespace runs inside text collapse to one space, except inside `<pre>` and `<textarea>`;
* a lazy-loaded `<img>` without `src` takes `data-src`;
* images with an inline `data:image/...;base64,` source are shown to the model as `src='inline-image-K'` (K from 0,
  in page order; [`PageTree.inline_images`] maps back), so no base64 text goes to the model and the reply names the
  image exactly (the seed matched base64 strings back by string similarity);
* limits ([`TreeLimits`]): images, text characters and elements visited are capped, every cap reported in
  `PageTree.truncated`; the walk is iterative and linear in the page. libxml2 keeps at most 256 levels of
  nesting (what is deeper is dropped — reported in `truncated` too; real pages stay far below it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

SKIP_TAGS = frozenset(
    {"script", "style", "meta", "link", "noscript", "iframe", "header", "footer", "nav", "button", "input"}
)
SKIP_WORDS = frozenset(
    {"navigation", "menu", "sidebar", "footer", "header", "cookie", "ad", "banner", "modal", "popup"}
)
INLINE_PREFIX = "inline-image-"
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_PRESERVE = frozenset({"pre", "textarea"})
_DOCUMENT_END = re.compile(rb"</\s*(?:html|body)\s*>", re.IGNORECASE)
MAX_DEPTH = 256  # libxml2's nesting limit without XML_PARSE_HUGE


@dataclass(frozen=True)
class TreeLimits:
    """Caps of one page's tree.

    Attributes:
        max_images: image nodes kept (later images are counted, not kept).
        max_chars: text characters kept (text past it is cut).
        max_elements: elements visited (the rest of the page is not read).
    """

    max_images: int = 200
    max_chars: int = 200_000
    max_elements: int = 200_000


@dataclass(frozen=True)
class Node:
    """A tree node: `kind` `"text"` (with `text`) or `"image"` (with `src`, `alt`)."""

    kind: str
    text: str = ""
    src: str = ""
    alt: str = ""

    def __str__(self) -> str:
        return self.text if self.kind == "text" else f"[Image: {self.alt}] Source: {self.src}"


@dataclass
class PageTree:
    """The content of one page.

    Attributes:
        nodes: text and image nodes in page order (no two text nodes in a row).
        images_seen: `<img>` elements with a source on the page (kept or not).
        truncated: what the limits cut, one line each (empty when nothing was cut).
    """

    nodes: list[Node] = field(default_factory=list)
    images_seen: int = 0
    truncated: list[str] = field(default_factory=list)

    @property
    def images(self) -> list[Node]:
        """The image nodes."""
        return [node for node in self.nodes if node.kind == "image"]

    @property
    def inline_images(self) -> dict[str, str]:
        """`inline-image-K` → its `data:` URI, for the page's inline images."""
        inline = [node.src for node in self.images if node.src.startswith("data:")]
        return {f"{INLINE_PREFIX}{k}": src for k, src in enumerate(inline)}

    def document(self) -> str:
        """The seed's `format_for_llm` text of the tree (inline images as `inline-image-K`)."""
        parts, inline = [], 0
        for node in self.nodes:
            if node.kind == "text":
                parts.append(node.text)
                continue
            src = node.src
            if src.startswith("data:"):
                src, inline = f"{INLINE_PREFIX}{inline}", inline + 1
            alt = f"alt='{node.alt}' " if node.alt else ""
            parts.append(f"<image {alt}src='{src}'></image>")
        return "<document>\n" + "\n\n".join(part for part in parts if part) + "\n</document>"

    def __str__(self) -> str:
        return "\n".join(str(node) for node in self.nodes)


def skipped(element: object) -> bool:
    """Whether an element is dropped with its content (its tag, a class or an id word)."""
    if element.tag in SKIP_TAGS:
        return True
    classes = element.get("class")
    if classes and any(name.lower() in SKIP_WORDS for name in classes.split()):
        return True
    ident = element.get("id")
    return bool(ident) and any(word in SKIP_WORDS for word in _NON_WORD.split(_CAMEL.sub(r"\1 \2", ident).lower()))


def image_source(src: str, base: str | None) -> str | None:
    """The absolute http(s) or `data:image/` URL of an `<img>` source, or `None` for anything else."""
    src = src.strip()
    if not src:
        return None
    if src.lower().startswith("data:"):
        return src if src[5:16].lower().startswith("image/") else None
    try:
        absolute = urljoin(base, src) if base else src
        scheme = urlsplit(absolute).scheme.lower()
    except ValueError:
        return None
    return absolute if scheme in ("http", "https") else None


def parse_html(html: str | bytes) -> tuple[object | None, bool]:
    """`(root, too_deep)`: the lxml root of a page (`None` for an empty or unparseable one), and whether libxml2
    dropped markup nested deeper than [`MAX_DEPTH`]. Bytes are read as UTF-8 (decode with
    `mmreason.synth.web.encoding.decode_html` first)."""
    from lxml import etree

    data = html.encode("utf-8", "surrogatepass") if isinstance(html, str) else html
    if not data.strip():
        return None, False
    # plain etree elements (lxml.html's element classes cost ~20% of the walk and are not needed)
    parser = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True)
    try:
        root = etree.fromstring(_DOCUMENT_END.sub(b"", data), parser=parser)
    except (etree.LxmlError, ValueError):
        return None, False
    if root is None:
        return None, False
    too_deep = any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log)
    return root, too_deep


def build_tree(html: str | bytes, url: str | None = None, limits: TreeLimits = TreeLimits()) -> PageTree:
    """The accessibility tree of a page (see the module docstring for the rules).

    Args:
        html: the page, decoded text (or UTF-8 bytes).
        url: the page's URL, to resolve relative image sources (without it they are kept as written only when
            absolute).
        limits: the caps.
    """
    tree = PageTree()
    root, too_deep = parse_html(html)
    if root is None:
        return tree
    if too_deep:
        tree.truncated.append(f"markup nested deeper than {MAX_DEPTH} levels: the deeper content was dropped")
    base = url
    for element in root.iter("base"):
        if element.get("href"):
            base = urljoin(url or "", element.get("href").strip()) if url else element.get("href").strip()
            break
    texts: list[str] = []
    chars = visited = preserve = 0
    text_cut = False

    def add_text(raw: str) -> None:
        nonlocal chars, text_cut
        text = raw.strip() if preserve else " ".join(raw.split())
        if not text or chars >= limits.max_chars:
            return
        if chars + len(text) > limits.max_chars:
            text, text_cut = text[: limits.max_chars - chars], True
        chars += len(text)
        texts.append(text)

    def flush() -> None:
        if texts:
            tree.nodes.append(Node("text", " ".join(texts)))
            texts.clear()

    from lxml import etree

    # lxml's iterwalk: start/end events in C; a dropped element's subtree is skipped, its tail (text after it,
    # which belongs to its parent) is still read at its end event
    walker = etree.iterwalk(root, events=("start", "end"))
    dropped = None
    for event, element in walker:
        tag = element.tag
        if event == "end":
            if element is not dropped and tag in _PRESERVE:
                preserve -= 1
            if element.tail and element is not root:
                add_text(element.tail)
            continue
        if not isinstance(tag, str) or tag == "head" or skipped(element):
            dropped = element
            walker.skip_subtree()
            continue
        visited += 1
        if visited > limits.max_elements:
            tree.truncated.append(f"page cut after {limits.max_elements} elements")
            break
        if tag == "img":
            dropped = element
            walker.skip_subtree()
            src = image_source(element.get("src") or element.get("data-src") or "", base)
            if src is None:
                continue
            tree.images_seen += 1
            if tree.images_seen <= limits.max_images:
                flush()
                tree.nodes.append(Node("image", src=src, alt=" ".join((element.get("alt") or "").split())))
            continue
        if tag in _PRESERVE:
            preserve += 1
        if element.text:
            add_text(element.text)
    flush()
    if text_cut:
        tree.truncated.append(f"text cut at {limits.max_chars} characters")
    if tree.images_seen > limits.max_images:
        tree.truncated.append(f"{tree.images_seen} images on the page, kept the first {limits.max_images}")
    return tree


__all__ = ["SKIP_TAGS", "SKIP_WORDS", "Node", "PageTree", "TreeLimits", "build_tree", "image_source", "parse_html"]
