"""The loopback fixture website of the web-mining tests (aiohttp.web in a background thread).

Good pages hold a question ("Problem: ...") and its solution ("Solution: ... Answer: N") with images; hostile
routes cover what the fetcher must refuse or cap: redirects to private and metadata addresses and to a non-http
scheme, a redirect loop, a declared and an undeclared oversized body, a gzip bomb, a slow drip, a binary body, a
robots.txt-disallowed path, a 404, a decompression-bomb PNG, and a page that links 10,000 images. Hostnames are
given to the fetcher with `FetchPolicy.resolve` (all → 127.0.0.1). Run as a module it serves until stdin closes
and prints its port (the benchmark's server process):

    python -m tests.synth.web.site --latency 0.2
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import io
import struct
import sys
import threading
import zlib
from collections import Counter

from aiohttp import web
from PIL import Image

HOSTS = (
    "math.test",
    "physics.test",
    "chem.test",
    "many.test",
    "spam.test",
    "big.test",
    *(f"b{i}.test" for i in range(8)),
)
ROBOTS = "User-agent: *\nDisallow: /private/\n"


def png(width: int, height: int, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (width, height), color)
    for x in range(min(width, height)):
        image.putpixel((x, x), (0, 0, 0))
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A 1-bit PNG of `width x height` pixels (900 M by default) that is ~110 KB on the wire."""
    compressor, row = zlib.compressobj(9), b"\x00" * (1 + (width + 7) // 8)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (120, 120), (i * 60, 0, 0)) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="240" height="160"><rect width="240" height="160" '
       b'fill="white"/><line x1="0" y1="160" x2="80" y2="0" stroke="blue" stroke-width="4"/></svg>')  # fmt: skip
INLINE = "data:image/png;base64," + base64.b64encode(png(120, 110, (10, 120, 10))).decode()
CHROME = ('<header>Site header</header><nav><a href="/">Home</a> <a href="/about">About</a></nav>'
          '<div class="sidebar">Related questions</div><div id="cookie-banner">We use cookies</div>')  # fmt: skip


def page(title: str, body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{CHROME}<main>{body}</main>" \
           "<footer>(c) fixture site</footer></body></html>"  # fmt: skip


PAGES = {
    ("math.test", "/q/triangle.html"): page(
        "Triangle",
        (
            "<h1>Problem: Find the area of the right triangle with legs 3 and 4.</h1>"
            '<img src="/img/triangle.png" alt="right triangle"><img src="../img/icon.png" alt="icon">'
            "<p>Solution: The area is 1/2 * 3 * 4 = 6. Answer: 6</p>"
        ),
    ),
    ("math.test", "/q/graph.html"): page(
        "Graph",
        (
            "<p>Problem: What is the slope of the line in the graph?</p>"
            f'<img src="/img/graph.svg" alt="line graph"><img src="{INLINE}" alt="grid"><img src="/img/anim.gif">'
            "<p>Solution: rise over run is 2 / 1 = 2. Answer: 2</p>"
        ),
    ),
    ("physics.test", "/q/speed.html"): page(
        "Speed",
        (
            "<p>Problem: A car travels 100 m in 20 s. What is its average speed in m/s?</p>"
            "<p>Solution: v = d / t = 100 / 20 = 5. Answer: 5</p>"
        ),
    ),
    ("chem.test", "/notes.html"): page("Notes", "<p>Lecture notes on bonding. No exercises here.</p>"),
    ("math.test", "/malformed.html"): (
        "<html><body><div><p>Problem: Compute 7 * 8.<p><b>bold <i>nested</b></i> text</div></div></span>"
        '<table><tr><td>cell<td>cell 2</table><img src="/img/bomb.png" alt="bomb">'
        "<p>Solution: 7 * 8 = 56. Answer: 56<div></body></html></html><p>after the end"
    ),
    ("physics.test", "/q/ambiguous.html"): page(
        "Ambiguous",
        ("<p>Problem: An ambiguous question about a pendulum with no data.</p><p>Solution: It depends. Answer: 3</p>"),
    ),
    ("math.test", "/q/spam.html"): page(
        "Spam", ("<p>Problem: gibberish buy now cheap pills</p><p>Solution: click here. Answer: 1</p>")
    ),
    ("math.test", "/q/mismatch.html"): page(
        "Mismatch", ("<p>Problem: What is 9 + 10?</p><p>Solution: The web page says 21. Answer: 21</p>")
    ),
    ("many.test", "/gallery.html"): page(
        "Gallery",
        (
            "<p>Problem: How many tiles are in the gallery below?</p>"
            + "".join(f'<img src="/img/tile/{i}.png" alt="tile {i}">' for i in range(10_000))
            + "<p>Solution: There are 10000 tiles. Answer: 10000</p>"
        ),
    ),
}
GOOD = [f"http://{host}{path}" for host, path in PAGES]
HOSTILE = {
    "/redirect-private": "redirect to a private address",
    "/redirect-metadata": "redirect to the cloud metadata address",
    "/redirect-ftp": "redirect to a non-http scheme",
    "/loop": "redirect loop",
    "/huge.html": "declared oversized body",
    "/huge-chunked.html": "undeclared oversized body",
    "/gzip-bomb.html": "gzip bomb",
    "/drip.html": "slow drip",
    "/binary": "binary content type",
    "/private/secret.html": "robots.txt disallowed",
    "/missing.html": "404",
}


WORDS = (
    "the",
    "triangle",
    "angle",
    "velocity",
    "equation",
    "solve",
    "matrix",
    "integral",
    "force",
    "energy",
    "probability",
    "derivative",
    "x",
    "y",
    "=",
    "+",
    "2",
    "3.14",
    "mass",
    "sum",
    "area",
    "graph",
    "limit",
)


def realistic_page(seed: int, target_kb: int = 60) -> str:
    """A page shaped like a real Q&A page (for the benchmarks): head with styles and scripts, header, nav menus,
    sidebars, cookie banner, nested content divs with paragraphs, lists, tables, inline formatting and entities,
    about one image per 2 KB, comments, a big inline script, a footer; about `target_kb` KB."""
    import random

    rng = random.Random(seed)

    def words(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n))

    head = ("<head><meta charset='utf-8'><title>" + words(6) + "</title>"
            + "".join(f"<link rel='stylesheet' href='/css/{i}.css'>" for i in range(5))
            + "<style>" + "body{margin:0} .x{color:red} " * 200 + "</style>"
            + "<script>" + "var a=1;function f(){return a+1;} " * 300 + "</script></head>")  # fmt: skip
    chrome = ("<header class='site-header'><div class='logo'><img src='/logo.png' alt='logo'></div>"
              "<nav class='menu'><ul>" + "".join(f"<li><a href='/c/{i}'>{words(2)}</a></li>" for i in range(30))
              + "</ul></nav></header><div id='cookie-banner' class='cookie'>We use cookies <button>OK</button></div>"
              "<aside class='sidebar'>" + "".join(f"<p><a href='/r/{i}'>{words(8)}</a></p>" for i in range(20))
              + "</aside>")  # fmt: skip
    body, size, k = [], 0, 0
    while size < target_kb * 1024:
        k += 1
        block = (f"<div class='post' id='post-{k}'><div class='content'><h3>Question {k}</h3>"
                 f"<p>{words(40)} <b>{words(3)}</b> &amp; <i>{words(2)}</i> &lt; {words(5)}</p>"
                 f"<img src='/img/{seed}/{k}.png' alt='{words(3)}' width='320' height='200'>"
                 f"<ul>{''.join(f'<li>{words(6)}</li>' for _ in range(4))}</ul>"
                 f"<table><tr><td>{words(3)}</td><td>{words(3)}</td></tr><tr><td>1</td><td>2</td></tr></table>"
                 f"<!-- {words(5)} --><p class='answer'>Solution: {words(60)}</p></div></div>")  # fmt: skip
        body.append(block)
        size += len(block)
    footer = "<footer class='footer'>" + words(50) + "</footer><script>" + "track();" * 500 + "</script>"
    return f"<!DOCTYPE html><html>{head}<body>{chrome}<main>{''.join(body)}</main>{footer}</body></html>"


class FixtureSite:
    """The site on 127.0.0.1 (`port`); `latency` delays every page; `in_flight` / `max_in_flight` count
    concurrent requests per host."""

    def __init__(self, latency: float = 0.0, pages: dict | None = None) -> None:
        self.latency, self.pages = latency, dict(PAGES if pages is None else pages)
        self.host_latency: dict[str, float] = {}  # per-host latency of pages (overrides `latency`)
        self.in_flight: Counter = Counter()
        self.max_in_flight: Counter = Counter()
        self.requests: Counter = Counter()
        self.images = {"/img/triangle.png": png(200, 150), "/img/icon.png": png(16, 16), "/img/graph.svg": SVG,
                       "/img/anim.gif": animated_gif(), "/img/bomb.png": png_bomb()}  # fmt: skip
        self.gzip_bomb = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def _bench(self, k: int) -> str:
        if not hasattr(self, "_bench_pages"):
            self._bench_pages = [realistic_page(seed) for seed in range(16)]
        return self._bench_pages[k]

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    @property
    def resolve(self) -> dict[str, str]:
        return dict.fromkeys(HOSTS, "127.0.0.1")

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        host = request.host.split(":")[0]
        self.requests[(host, request.path)] += 1
        self.in_flight[host] += 1
        self.max_in_flight[host] = max(self.max_in_flight[host], self.in_flight[host])
        try:
            return await self._respond(request, host, request.path)
        finally:
            self.in_flight[host] -= 1

    async def _respond(self, request: web.Request, host: str, path: str) -> web.StreamResponse:
        here = f"http://{host}:{self.port}"
        if path == "/robots.txt":
            return web.Response(text=ROBOTS, content_type="text/plain")
        if path.startswith("/bench/"):
            if self.latency:
                await asyncio.sleep(self.latency)
            return web.Response(
                text=self._bench(int(path.split("/")[-1].split(".")[0]) % 16), content_type="text/html"
            )
        if (host, path) in self.pages:
            if latency := self.host_latency.get(host, self.latency):
                await asyncio.sleep(latency)
            return web.Response(text=self.pages[(host, path)], content_type="text/html", charset="utf-8")
        if path in self.images:
            kind = {"svg": "image/svg+xml", "gif": "image/gif"}.get(path.rsplit(".", 1)[-1], "image/png")
            return web.Response(body=self.images[path], content_type=kind)
        if path.startswith("/img/tile/"):
            return web.Response(body=png(120, 120, (0, 0, 200)), content_type="image/png")
        redirects = {"/redirect-private": "http://10.0.0.7/admin", "/loop": f"{here}/loop",
                     "/redirect-metadata": "http://169.254.169.254/latest/meta-data/",
                     "/redirect-ftp": "ftp://math.test/file.txt"}  # fmt: skip
        if path in redirects:
            raise web.HTTPFound(redirects[path])
        if path == "/huge.html":
            response = web.StreamResponse(headers={"Content-Type": "text/html", "Content-Length": str(50 << 20)})
            await response.prepare(request)
            await response.write(b"<html>" + b"x" * 1024)
            return response
        if path in ("/huge-chunked.html", "/drip.html"):
            response = web.StreamResponse(headers={"Content-Type": "text/html"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            try:
                for _ in range(2000):
                    await response.write(b"<p>drip</p>" if path == "/drip.html" else b"x" * (64 << 10))
                    if path == "/drip.html":
                        await asyncio.sleep(0.1)
            except (ConnectionError, RuntimeError):  # the client hung up (it was meant to)
                pass
            return response
        if path == "/gzip-bomb.html":
            return web.Response(body=self.gzip_bomb, headers={"Content-Type": "text/html",
                                                              "Content-Encoding": "gzip"})  # fmt: skip
        if path == "/binary":
            return web.Response(body=b"\x00\x01" * 100, content_type="application/octet-stream")
        if path == "/private/secret.html":
            return web.Response(text=page("Secret", "<p>Problem: a secret.</p>"), content_type="text/html")
        raise web.HTTPNotFound()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    site = FixtureSite(latency=args.latency)
    print(site.port, flush=True)
    sys.stdin.read()
    site.close()


if __name__ == "__main__":
    main()
