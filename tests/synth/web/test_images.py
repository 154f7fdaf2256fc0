"""Image localisation rules (the seed's size rules, SVG, GIFs, base64) and hostile images: a decompression bomb,
an SVG that would render at 10^10 pixels or pull in a local file, truncated and random bytes."""

from __future__ import annotations

import base64
import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from mmreason.synth.web.images import ImageRefused, ImageRules, data_uri_bytes, decode_image
from tests.synth.web.site import SVG, animated_gif, png, png_bomb


def size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def test_the_seeds_size_rules():
    assert size(decode_image(png(150, 40))) == (150, 40)  # downloaded: one side >= 100 is enough
    with pytest.raises(ImageRefused, match="under 100 px"):
        decode_image(png(99, 99))
    with pytest.raises(ImageRefused, match="both sides"):
        decode_image(png(150, 40), inline=True)  # base64: both sides
    assert size(decode_image(png(100, 100), inline=True)) == (100, 100)
    with pytest.raises(ImageRefused, match="at most 100"):
        decode_image(b"\x89PNG" + b"\0" * 50, inline=True)


def test_gifs_and_svg():
    with pytest.raises(ImageRefused, match="animated GIF"):
        decode_image(animated_gif())
    still = io.BytesIO()
    Image.new("P", (120, 120)).save(still, format="GIF")
    assert Image.open(io.BytesIO(decode_image(still.getvalue()))).format == "PNG"
    assert size(decode_image(SVG, "image/svg+xml")) == (240, 160)
    assert size(decode_image(b'<?xml version="1.0"?>\n' + SVG)) == (240, 160)  # recognised by its bytes


def test_hostile_images():
    with pytest.raises(ImageRefused, match="decompression bomb"):
        decode_image(png_bomb())  # 900 M pixels in 110 KB
    with pytest.raises(ImageRefused, match="pixel cap"):
        decode_image(png(3000, 3000), rules=ImageRules(max_pixels=1_000_000))  # refused from the header
    huge = b'<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="9" height="9"/></svg>'
    assert max(size(decode_image(huge))) == 2048
    leak = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="120" '
        b'height="120"><image xlink:href="file:///etc/hostname" href="/etc/passwd" width="120" height="120"/></svg>'
    )
    rendered = Image.open(io.BytesIO(decode_image(leak))).convert("RGBA")
    assert rendered.getextrema()[3] == (0, 0)  # nothing was drawn: the references were removed
    entity = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><svg xmlns="http://www.w3.org/2000/svg" width="120" '
        b'height="120"><text>&c;&c;&c;</text></svg>'
    )
    with contextlib.suppress(ImageRefused):
        decode_image(entity)
    good = png(200, 150)
    for broken in [good[: len(good) // 2], b"GIF89a" + b"\0" * 40, b"<svg", b"", b"\xff\xd8\xff" + b"\0" * 30]:
        with pytest.raises(ImageRefused):
            decode_image(broken)


def test_data_uris():
    payload = png(120, 120)
    uri = "data:image/png;base64," + base64.b64encode(payload).decode()
    assert data_uri_bytes(uri) == payload
    for bad in ["data:image/png;base64,@@@", "https://x.org/a.png", "data:"]:
        with pytest.raises(ImageRefused):
            data_uri_bytes(bad)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["", "image/png", "image/svg+xml", "image/gif"]), st.booleans())
def test_fuzzed_bytes_are_kept_or_refused(data, kind, inline):
    try:
        out = decode_image(data, kind, inline=inline)
    except ImageRefused:
        return
    assert Image.open(io.BytesIO(out)).format == "PNG"
