"""[`SafeFetcher`]: downloading pages and images for web mining so that a URL from the web cannot turn the
crawler against its own network, on aiohttp.

Every request ([`FetchPolicy`] sets the limits):

* **schemes** — http and https only, no credentials in the URL; a redirect to anything else is refused;
* **addresses** — every hostname resolves through [`GuardedResolver`] (the addresses checked are the addresses
  connected to), IP-literal hosts are checked before the request, redirects are followed one hop at a time and
  every hop is checked: private, loopback, link-local, metadata and other non-public addresses are refused unless
  `allow_networks` opts in;
* **TLS** — certificates verified (the seed's `ssl=False` is gone); no proxy from the environment;
* **caps** — at most `max_redirects` hops, `max_bytes` of body (the declared `Content-Length` first, then the
  bytes read, after `gzip`/`deflate` decoding — a compression bomb stops at the cap), `timeout` seconds for
  the whole fetch, redirects included (a slow drip is cut there);
* **content types** — a page must be HTML (`text/html`, `application/xhtml+xml`), an image `image/*`;
* **politeness** — at most `per_domain` requests in flight per domain, `concurrency` in all; robots.txt honoured
  ([`RobotsCache`]).

A fetch never raises: it returns a [`FetchResult`] whose `refusal` says why nothing usable came back and whether
retrying may help (`retryable`: timeouts, connection errors, 429 and 5xx).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import aiohttp

from .addresses import AddressRefused, address_refusal, is_ip_literal, networks
from .resolver import GuardedResolver
from .robots import ROBOTS_MAX_BYTES, RobotsCache
from .urls import domain_of

HTML_TYPES = ("text/html", "application/xhtml+xml")
IMAGE_TYPES = ("image/",)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "mmreason-web/0.1 (+https://github.com/mmreason/mmreason; research crawler)"
CHUNK = 64 << 10


@dataclass
class FetchPolicy:
    """The limits of a [`SafeFetcher`] (defaults: the seed's 30 s timeout, 100 requests in flight, 10 per domain).

    Attributes:
        allow_networks: non-public networks allowed anyway (`["127.0.0.1"]` in the tests), CIDR strings.
        resolve: `host → address` answers given without DNS (checked like DNS answers).
        max_bytes: body cap of pages; `max_image_bytes`: of images.
        timeout: seconds per fetch, redirects and body included; `connect_timeout`: per connection attempt.
        max_redirects: redirect hops followed.
        concurrency: requests in flight; `per_domain`: per domain.
        robots: honour robots.txt (pass one [`RobotsCache`] to several fetchers to read each site's once).
        user_agent: the `User-Agent` header (its first word is the robots.txt agent token).
    """

    allow_networks: list[str] = field(default_factory=list)
    resolve: dict[str, str] = field(default_factory=dict)
    max_bytes: int = 5 << 20
    max_image_bytes: int = 10 << 20
    timeout: float = 30.0
    connect_timeout: float = 10.0
    max_redirects: int = 5
    concurrency: int = 100
    per_domain: int = 10
    robots: bool = True
    user_agent: str = USER_AGENT

    @property
    def robots_agent(self) -> str:
        """The robots.txt agent token: the first word of `user_agent` before its `/`."""
        return self.user_agent.split("/")[0].split()[0] or "*"

    def settings(self) -> dict:
        """The policy as JSON-able settings (a job's fingerprint), without `resolve` (connection details)."""
        from dataclasses import asdict

        return {key: value for key, value in asdict(self).items() if key != "resolve"}


@dataclass
class FetchResult:
    """What one fetch returned.

    Attributes:
        url: the URL asked for; `final_url`: after redirects.
        status: the last HTTP status (`None` when no response came).
        content_type: the response's `Content-Type`.
        body: the body (empty when refused).
        redirects: the hops followed, in order.
        refusal: why nothing usable came back (`None` on success); `retryable`: whether a later try may succeed.
        seconds: wall time of the fetch.
    """

    url: str
    final_url: str = ""
    status: int | None = None
    content_type: str = ""
    body: bytes = b""
    redirects: list[str] = field(default_factory=list)
    refusal: str | None = None
    retryable: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the fetch succeeded."""
        return self.refusal is None


class _Refused(Exception):
    def __init__(self, reason: str, retryable: bool = False, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retryable, self.status = reason, retryable, status


def url_refusal(url: str, allow: tuple = ()) -> str | None:
    """Why a URL may not be fetched before any connection (scheme, credentials, an IP-literal host), or `None`."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as error:
        return f"malformed URL ({error})"
    if parts.scheme.lower() not in ("http", "https"):
        return f"scheme {parts.scheme or '(none)'!r} is not http(s)"
    if not host:
        return "no host in the URL"
    if parts.username is not None or parts.password is not None:
        return "credentials in the URL"
    if is_ip_literal(host):
        return address_refusal(host, allow)
    return None


def accepted(content_type: str, accept: tuple[str, ...]) -> bool:
    """Whether a `Content-Type` is one of `accept` (prefixes such as `image/` match a family; no type: yes)."""
    kind = content_type.split(";")[0].strip().lower()
    return not kind or any(kind == a or (a.endswith("/") and kind.startswith(a)) for a in accept)


class SafeFetcher:
    """Fetches under a [`FetchPolicy`]; an async context manager (one aiohttp session).

    async with SafeFetcher(FetchPolicy()) as fetcher:
        page = await fetcher.fetch("https://example.com/q/1")
        if page.ok: ...
        else: print(page.refusal)
    """

    def __init__(self, policy: FetchPolicy | None = None, robots: RobotsCache | None = None) -> None:
        self.policy = policy or FetchPolicy()
        self.allow = networks(self.policy.allow_networks)
        self._session: aiohttp.ClientSession | None = None
        self._domains: dict[str, asyncio.Semaphore] = {}
        self._all: asyncio.Semaphore | None = None
        self.robots = robots or RobotsCache(self.policy.robots_agent)

    async def __aenter__(self) -> SafeFetcher:
        policy = self.policy
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(self.allow, policy.resolve),
                                         limit=policy.concurrency, limit_per_host=0)  # fmt: skip
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=policy.connect_timeout)
        self._session = aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False,
                                              headers={"User-Agent": policy.user_agent})  # fmt: skip
        self._all = asyncio.Semaphore(policy.concurrency)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(
        self, url: str, accept: tuple[str, ...] = HTML_TYPES, max_bytes: int | None = None, robots: bool = True
    ) -> FetchResult:
        """Fetch `url` (never raises; see [`FetchResult`]).

        Args:
            url: an absolute URL.
            accept: the content types taken (`HTML_TYPES`, `IMAGE_TYPES`, ...).
            max_bytes: the body cap (default: the policy's page cap).
            robots: consult robots.txt (when the policy does).
        """
        if self._session is None:
            raise RuntimeError("use the fetcher as `async with SafeFetcher(policy) as fetcher:`")
        result = FetchResult(url=url, final_url=url)
        start = time.perf_counter()
        limit = max_bytes if max_bytes is not None else self.policy.max_bytes
        try:
            await asyncio.wait_for(self._follow(result, accept, limit, robots), self.policy.timeout)
        except _Refused as refused:
            result.refusal, result.retryable = refused.reason, refused.retryable
            result.status = refused.status if refused.status is not None else result.status
            result.body = b""
        except (asyncio.TimeoutError, TimeoutError):
            result.refusal, result.retryable, result.body = f"timed out after {self.policy.timeout:g} s", True, b""
        except aiohttp.ClientConnectorCertificateError as error:
            result.refusal = f"TLS certificate not valid for {urlsplit(result.final_url).hostname}: {error}"
        except aiohttp.ClientConnectorError as error:
            if isinstance(error.os_error, AddressRefused):
                result.refusal = str(error.os_error)
            elif isinstance(error, aiohttp.ClientSSLError):
                result.refusal = f"TLS error: {error}"
            else:
                result.refusal, result.retryable = f"connection failed: {error}", True
        except aiohttp.ClientSSLError as error:
            result.refusal = f"TLS error: {error}"
        except (aiohttp.ClientError, OSError, ValueError) as error:
            result.refusal, result.retryable = f"{type(error).__name__}: {error}"[:300], True
        result.seconds = time.perf_counter() - start
        return result

    async def _robots_txt(self, url: str) -> FetchResult:
        return await self.fetch(url, ("text/",), ROBOTS_MAX_BYTES, robots=False)

    async def _follow(self, result: FetchResult, accept: tuple[str, ...], limit: int, robots: bool) -> None:
        current = result.url
        for _hop in range(self.policy.max_redirects + 1):
            if reason := url_refusal(current, self.allow):
                raise _Refused(reason if current == result.url else f"redirect to {current[:200]}: {reason}")
            if robots and self.policy.robots and (refused := await self.robots.refusal(current, self._robots_txt)):
                raise _Refused(*refused)
            result.final_url = current
            domain = domain_of(current)
            if domain not in self._domains:
                self._domains[domain] = asyncio.Semaphore(self.policy.per_domain)
            # the domain's slot first: a fetch waiting for a busy domain must not hold one of the global slots
            async with self._domains[domain], self._all, self._session.get(current, allow_redirects=False) as response:
                result.status = response.status
                result.content_type = response.headers.get("Content-Type", "")
                if response.status in REDIRECTS:
                    location = response.headers.get("Location")
                    if not location:
                        raise _Refused(f"redirect ({response.status}) without a Location")
                    current = urljoin(current, location.strip())
                    result.redirects.append(current)
                    continue
                await self._read(response, result, accept, limit)
                return
        raise _Refused(f"more than {self.policy.max_redirects} redirects")

    @staticmethod
    async def _read(
        response: aiohttp.ClientResponse, result: FetchResult, accept: tuple[str, ...], limit: int
    ) -> None:
        status = response.status
        if status >= 400 or status < 200:
            raise _Refused(f"HTTP {status}", retryable=status in (408, 425, 429) or status >= 500, status=status)
        if not accepted(result.content_type, accept):
            raise _Refused(f"content type {result.content_type[:100]!r} is not one of {', '.join(accept)}")
        if response.content_length is not None and response.content_length > limit:
            raise _Refused(f"body of {response.content_length} bytes declared, over the {limit}-byte cap")
        body = bytearray()
        async for chunk in response.content.iter_chunked(CHUNK):
            body += chunk
            if len(body) > limit:
                raise _Refused(f"body over the {limit}-byte cap (stopped reading)")
        result.body = bytes(body)


__all__ = ["HTML_TYPES", "IMAGE_TYPES", "FetchPolicy", "FetchResult", "SafeFetcher", "accepted", "url_refusal"]
