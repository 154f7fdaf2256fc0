"""The guarded fetcher against the loopback fixture site: every hostile case refused or capped with its reason,
the address policy (default: loopback refused; IPv4-mapped, NAT64, metadata), TLS verification, per-domain
concurrency, robots.txt, encoding detection."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mmreason.synth.web.addresses import address_refusal, networks
from mmreason.synth.web.encoding import decode_html
from mmreason.synth.web.fetch import IMAGE_TYPES, FetchPolicy, SafeFetcher

HOSTILE = {
    "/redirect-private": ("redirect to http://10.0.0.7/admin: private address 10.0.0.7", False),
    "/redirect-metadata": (
        "redirect to http://169.254.169.254/latest/meta-data/: cloud metadata address 169.254.169.254",
        False,
    ),
    "/redirect-ftp": ("redirect to ftp://math.test/file.txt: scheme 'ftp' is not http(s)", False),
    "/loop": ("more than 5 redirects", False),
    "/huge.html": ("body of 52428800 bytes declared, over the 1048576-byte cap", False),
    "/huge-chunked.html": ("body over the 1048576-byte cap (stopped reading)", False),
    "/gzip-bomb.html": ("body over the 1048576-byte cap (stopped reading)", False),
    "/drip.html": ("timed out after 1.5 s", True),
    "/binary": ("content type 'application/octet-stream' is not one of text/html, application/xhtml+xml", False),
    "/private/secret.html": ("robots.txt of math.test:{port} disallows /private/secret.html", False),
    "/missing.html": ("HTTP 404", False),
}


def fetch_all(policy: FetchPolicy, urls: list[str], accept=None) -> list:
    async def run():
        async with SafeFetcher(policy) as fetcher:
            return await asyncio.gather(*(fetcher.fetch(u, *(accept or ())) for u in urls))

    return asyncio.run(run())


def test_every_hostile_case_is_refused_with_its_reason(site, policy):
    urls = [site.url("math.test", path) for path in HOSTILE]
    results = fetch_all(policy, urls)
    for (path, (reason, retryable)), result in zip(HOSTILE.items(), results):
        assert (result.refusal, result.retryable, result.body) == (reason.format(port=site.port), retryable, b""), path
    assert results[4].status == 200 and results[0].redirects == ["http://10.0.0.7/admin"]
    assert site.requests[("math.test", "/private/secret.html")] == 0  # robots.txt: never asked for


def test_good_pages_and_images(site, policy):
    page, image = fetch_all(policy, [site.url("math.test", "/q/triangle.html")])[0], None
    assert page.ok and page.status == 200 and b"Problem: Find the area" in page.body
    (image,) = fetch_all(policy, [site.url("math.test", "/img/triangle.png")], [IMAGE_TYPES])
    assert image.ok and image.body.startswith(b"\x89PNG")
    (wrong,) = fetch_all(policy, [site.url("math.test", "/img/triangle.png")])  # a page fetch wants HTML
    assert "content type 'image/png'" in wrong.refusal


def test_the_default_policy_refuses_loopback_and_more(site):
    default = FetchPolicy(resolve=site.resolve, timeout=2)
    before = site.requests[("math.test", "/q/triangle.html")]
    urls = [site.url("math.test", "/q/triangle.html"), f"http://127.0.0.1:{site.port}/q/triangle.html",
            "http://[::1]/", "http://[::ffff:10.1.2.3]/", "http://[64:ff9b::a9fe:a9fe]/", "http://0.0.0.0/",
            "http://169.254.169.254/latest/", "http://100.64.0.1/", "http://224.0.0.1/", "file:///etc/passwd",
            "gopher://x/", "http://user:pw@math.test/", "http:///nohost", "http://x.test:99999/"]  # fmt: skip
    reasons = [result.refusal for result in fetch_all(default, urls)]
    assert reasons == [
        "math.test resolves to a refused address: loopback address 127.0.0.1", "loopback address 127.0.0.1",
        "loopback address ::1", "private address 10.1.2.3", "cloud metadata address 169.254.169.254",
        "unspecified address 0.0.0.0", "cloud metadata address 169.254.169.254",
        "carrier-grade NAT address 100.64.0.1",
        "multicast address 224.0.0.1", "scheme 'file' is not http(s)", "scheme 'gopher' is not http(s)",
        "credentials in the URL", "no host in the URL", "malformed URL (Port out of range 0-65535)",
    ]  # fmt: skip
    assert site.requests[("math.test", "/q/triangle.html")] == before  # no connection was made


def test_address_policy_table():
    assert address_refusal("93.184.216.34") is None and address_refusal("2606:2800:220:1::1") is None
    assert address_refusal("192.168.1.5") == "private address 192.168.1.5"
    assert address_refusal("fe80::1%eth0") == "link-local address fe80::1"
    assert address_refusal("fd00:ec2::254") == "cloud metadata address fd00:ec2::254"
    assert address_refusal("10.0.0.1", networks(["10.0.0.0/8"])) is None
    assert address_refusal("10.0.0.1", networks(["127.0.0.1"])) == "private address 10.0.0.1"


def test_per_domain_concurrency_is_bounded(site):
    # hosts no other test uses (a drip of another test may still be in flight on math.test)
    slow = {("chem.test", f"/slow/{i}.html"): f"<p>page {i}</p>" for i in range(12)}
    slow |= {("big.test", f"/slow/{i}.html"): f"<p>page {i}</p>" for i in range(12)}
    site.pages.update(slow)
    site.latency = 0.15
    try:
        policy = FetchPolicy(allow_networks=["127.0.0.1"], resolve=site.resolve, per_domain=3, concurrency=64)
        results = fetch_all(policy, [site.url(host, path) for host, path in slow])
    finally:
        site.latency = 0.0
    assert all(result.ok for result in results)
    assert site.max_in_flight["chem.test"] == 3 and site.max_in_flight["big.test"] == 3


def test_a_slow_domain_does_not_hold_the_other_domains_back(site):
    # found by benchmarks/bench_web.py: a fetch took a global slot, then waited for its domain's slot
    slow = {("chem.test", f"/hold/{i}.html"): "<p>slow</p>" for i in range(12)}
    fast = {("big.test", f"/hold/{i}.html"): "<p>fast</p>" for i in range(4)}
    site.pages.update(slow | fast)
    site.host_latency["chem.test"] = 0.2
    try:
        policy = FetchPolicy(allow_networks=["127.0.0.1"], resolve=site.resolve, per_domain=2, concurrency=4)
        results = fetch_all(policy, [site.url(host, path) for host, path in [*slow, *fast]])
    finally:
        site.host_latency.clear()
    assert all(result.ok for result in results)
    assert max(r.seconds for r in results[:12]) >= 1.0  # 12 pages, 2 at a time, 0.2 s each
    assert max(r.seconds for r in results[12:]) < 0.5  # not queued behind the slow domain


def test_robots_txt_switched_off_is_not_consulted(site, policy):
    (result,) = fetch_all(replace(policy, robots=False), [site.url("math.test", "/private/secret.html")])
    assert result.ok


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_tls_certificates_are_verified(tmp_path, site):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=math.test"], check=True, capture_output=True)  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<p>secret over self-signed TLS</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        policy = FetchPolicy(allow_networks=["127.0.0.1"], resolve={"math.test": "127.0.0.1"}, robots=False)
        (result,) = fetch_all(policy, [f"https://math.test:{server.server_address[1]}/"])
    finally:
        server.shutdown()
    assert result.refusal.startswith("TLS certificate not valid for math.test") and not result.retryable


def test_encoding_detection():
    assert decode_html("<p>café</p>".encode("cp1252"), "text/html; charset=windows-1252") == ("<p>café</p>", "cp1252")
    assert decode_html('<meta charset="koi8-r"><p>Привет</p>'.encode("koi8-r"))[1] == "koi8-r"
    assert decode_html("\ufeff<p>ok</p>".encode("utf-8"))[1] == "utf-8"
    text, encoding = decode_html("<p>Это страница на русском языке, и в ней много слов.</p>".encode("cp1251"))
    assert "русском" in text and encoding == "cp1251"
    assert decode_html(b"<p>bad \xff\xfe declared</p>", "text/html; charset=ascii")[0].startswith("<p>bad")
    assert decode_html(b"<p>x</p>", "text/html; charset=no-such-codec") == ("<p>x</p>", "utf-8")
