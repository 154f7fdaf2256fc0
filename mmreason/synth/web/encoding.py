"""[`decode_html`]: a fetched page's bytes as text, its encoding detected the way browsers and the seed do.

Order: a byte-order mark; the `charset` of the `Content-Type` header; a `<meta charset>` /
`<meta http-equiv="Content-Type">` declaration in the first 4 KiB (read with lxml's HTML parser, not a pattern);
then detection on the bytes (`charset-normalizer`, the maintained successor of the seed's chardet); UTF-8 with
replacement characters when nothing else decodes.
"""

from __future__ import annotations

import codecs

BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))  # fmt: skip
PRESCAN_BYTES = 4096


def known_codec(name: str | None) -> str | None:
    """The Python codec name of a declared charset, or `None` when Python has no such codec."""
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("'\"")).name
    except (LookupError, ValueError):
        return None


def header_charset(content_type: str | None) -> str | None:
    """The `charset` parameter of a `Content-Type` header value."""
    from email.message import Message

    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    return message.get_content_charset()


def meta_charset(head: bytes) -> str | None:
    """The charset a page declares in a `<meta>` tag of its first bytes."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.document_fromstring(head, parser=lxml_html.HTMLParser(encoding="iso-8859-1", no_network=True))
    except (etree.ParserError, ValueError):
        return None
    for meta in root.iter("meta"):
        if meta.get("charset"):
            return meta.get("charset")
        is_content_type = (meta.get("http-equiv") or "").lower() == "content-type"
        if is_content_type and (found := header_charset(meta.get("content"))):
            return found
    return None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """`(text, encoding)` of a page's bytes (see the module docstring for the order)."""
    for bom, name in BOMS:
        if body.startswith(bom):
            return body.decode(name, errors="replace"), name
    for declared in (lambda: header_charset(content_type), lambda: meta_charset(body[:PRESCAN_BYTES])):
        if (name := known_codec(declared())) is not None:
            try:
                return body.decode(name), name
            except (UnicodeDecodeError, LookupError):
                pass  # a wrong declaration: detect instead
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(body).best()
    if best is not None:
        return str(best), best.encoding
    return body.decode("utf-8", errors="replace"), "utf-8"


__all__ = ["decode_html", "header_charset", "known_codec", "meta_charset"]
