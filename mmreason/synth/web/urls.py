"""URL harvest for web mining: normalisation, dedupe across seeds and runs, a domain blocklist, the seed's
top-domain skip and per-domain caps ([`harvest`]).

VisualWebInstruct's `deduplication.py` keys URLs by `normalize_url` (the whole URL lowercased, fragment dropped)
and filters a "useless domains" list; `html_download.py` then skips the 50 most frequent domains. [`url_key`] keeps
that key and adds what the seed lacks: tracking parameters (`utm_*`, `gclid`, `fbclid`, ...) dropped, the query's
parameters sorted, `www.`, default ports and trailing slashes folded: `https://WWW.X.com:443/a/?utm_source=s#top`
and `https://x.com/a` are one URL. What is fetched is [`clean_url`]: the first spelling seen, with
its fragment and tracking parameters removed but its case kept (paths and queries are case-sensitive; the seed
fetched its lowercased key and so asked servers for pages that may not exist).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset({
    "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "fbclid", "msclkid", "yclid", "twclid", "ttclid", "igshid",
    "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "ref_src", "oly_enc_id", "oly_anon_id", "vero_id",
})  # fmt: skip
"""Query parameters that only track the click (dropped, as is every `utm_*` parameter)."""
DEFAULT_PORTS = {"http": 80, "https": 443}
SEED_TOP_DOMAINS = 50
"""The seed's `skip_top_domains`: the most frequent domains are skipped (they are indexes and social sites)."""


def is_tracking(name: str) -> bool:
    """Whether a query parameter only tracks the click."""
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in TRACKING_PARAMS


def domain_of(url: str) -> str:
    """The URL's host, lowercased, without `www.` and port (`""` when it has none)."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".")
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host


def clean_url(url: str) -> str:
    """`url` as fetched: surrounding whitespace, the fragment and tracking parameters removed; scheme and host
    lowercased (they are case-insensitive); path and query as written."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking(k)]
    netloc = parts.netloc.lower() if "@" not in parts.netloc else parts.netloc
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, urlencode(query) if query else "", ""))


def url_key(url: str) -> str:
    """The dedupe key: the seed's `normalize_url` (everything lowercased, fragment dropped) with tracking
    parameters dropped, parameters sorted, and `www.`, default ports and a trailing slash folded.

    Raises:
        ValueError: not an absolute http(s) URL with a host.
    """
    parts = urlsplit(url.strip().lower())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url[:200]!r}")
    host = parts.hostname.rstrip(".")
    host = host[4:] if host.startswith("www.") else host
    port = parts.port  # raises ValueError on a malformed port
    netloc = host if port in (None, DEFAULT_PORTS[parts.scheme]) else f"{host}:{port}"
    path = parts.path.rstrip("/") or "/"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking(k))
    return urlunsplit((parts.scheme, netloc, path, urlencode(query), ""))


def url_id(key: str) -> str:
    """A URL row's id: `url-` + the first 16 hex digits of the key's SHA-1 (the same URL has the same id in every
    run, which is what dedupes across runs)."""
    return "url-" + hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def blocked(domain: str, blocklist: frozenset[str]) -> bool:
    """Whether `domain` or a parent domain of it is on the blocklist (`example.com` blocks `a.example.com`)."""
    labels = domain.split(".")
    return any(".".join(labels[i:]) in blocklist for i in range(len(labels)))


@dataclass(frozen=True)
class HarvestConfig:
    """What [`harvest`] keeps.

    Attributes:
        blocklist: domains never fetched (and their subdomains), lowercased, without `www.`.
        skip_top_domains: the most frequent domains among the unique URLs are skipped (the seed: 50; 0 keeps all).
        max_per_domain: at most this many URLs per domain, first seen first (`None`: no cap).
        seen: URL keys of earlier runs; those URLs are not harvested again.
    """

    blocklist: frozenset[str] = frozenset()
    skip_top_domains: int = SEED_TOP_DOMAINS
    max_per_domain: int | None = None
    seen: frozenset[str] = frozenset()


@dataclass
class HarvestStats:
    """What [`harvest`] did, for the data report: links in, then what each rule removed."""

    links: int = 0
    invalid: int = 0
    duplicates: int = 0
    seen_before: int = 0
    unique: int = 0
    blocked: int = 0
    top_domain: int = 0
    over_domain_cap: int = 0
    kept: int = 0
    skipped_domains: list[str] = field(default_factory=list)
    domains: dict[str, int] = field(default_factory=dict)
    invalid_examples: list[str] = field(default_factory=list)


def harvest(
    links: Iterable[tuple[str, str]], config: HarvestConfig = HarvestConfig()
) -> tuple[list[dict], HarvestStats]:
    """Unique URL rows from `(seed_id, link)` pairs, in first-seen order.

    Returns:
        The URL rows `{"id", "url", "key", "domain", "seed_ids"}` (every seed that led to the URL) and the
        [`HarvestStats`] (`domains`: kept URLs per domain).
    """
    stats = HarvestStats()
    rows: dict[str, dict] = {}
    for seed_id, link in links:
        stats.links += 1
        try:
            key = url_key(link)
            url = clean_url(link)
        except ValueError:
            stats.invalid += 1
            if len(stats.invalid_examples) < 10:
                stats.invalid_examples.append(str(link)[:200])
            continue
        if key in config.seen:
            stats.seen_before += 1
        elif key in rows:
            stats.duplicates += 1
            if seed_id not in rows[key]["seed_ids"]:
                rows[key]["seed_ids"].append(seed_id)
        else:
            rows[key] = {"id": url_id(key), "url": url, "key": key, "domain": domain_of(url), "seed_ids": [seed_id]}
    stats.unique = len(rows)
    allowed = []
    for row in rows.values():
        if blocked(row["domain"], config.blocklist):
            stats.blocked += 1
        else:
            allowed.append(row)
    frequency = Counter(row["domain"] for row in allowed)  # the seed ranks domains after its blocklist
    ranked = sorted(frequency.items(), key=lambda kv: (-kv[1], kv[0]))
    stats.skipped_domains = [domain for domain, _ in ranked[: config.skip_top_domains]]
    top = set(stats.skipped_domains)
    kept, per_domain = [], Counter()
    for row in allowed:
        domain = row["domain"]
        if domain in top:
            stats.top_domain += 1
        elif config.max_per_domain is not None and per_domain[domain] >= config.max_per_domain:
            stats.over_domain_cap += 1
        else:
            per_domain[domain] += 1
            kept.append(row)
    stats.kept = len(kept)
    stats.domains = dict(per_domain.most_common())
    return kept, stats


__all__ = [
    "SEED_TOP_DOMAINS", "TRACKING_PARAMS", "HarvestConfig", "HarvestStats", "blocked", "clean_url", "domain_of",
    "harvest", "is_tracking", "url_id", "url_key",
]  # fmt: skip
