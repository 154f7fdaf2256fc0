"""URL harvest: the seed's key (lowercase, fragment dropped) plus tracking parameters, www/slash/port variants;
dedupe across seeds and runs, blocklist, top-domain skip after the blocklist, per-domain caps. Expected values
are written out by hand."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mmreason.synth.web.urls import HarvestConfig, clean_url, domain_of, harvest, url_id, url_key


def test_key_folds_the_seeds_and_the_missing_variants():
    assert url_key("HTTPS://Example.COM/A/B?X=1#Frag") == "https://example.com/a/b?x=1"  # the seed's normalize_url
    same = ["https://www.example.com/a/b/?x=1&utm_source=news", "https://example.com:443/a/b?x=1#top",
            "https://EXAMPLE.com/a/b?fbclid=zz&x=1&gclid=1", "https://www.example.com./a/b/?x=1"]  # fmt: skip
    assert {url_key(url) for url in same} == {"https://example.com/a/b?x=1"}
    assert url_key("http://example.com") == "http://example.com/"
    assert url_key("http://example.com:8080/") == "http://example.com:8080/"
    assert url_key("https://e.com/p?b=2&a=1") == url_key("https://e.com/p?a=1&b=2")
    assert url_key("https://e.com/p?ref=x") != url_key("https://e.com/p")  # only tracking parameters go


def test_clean_url_keeps_the_case_of_path_and_query():
    assert (
        clean_url(" HTTPS://Math.Example.com/Q/Item?ID=7&utm_medium=x#sol ") == "https://math.example.com/Q/Item?ID=7"
    )
    assert domain_of("https://www.Math.example.com:8443/x") == "math.example.com"


def test_non_http_links_are_invalid():
    for bad in ["file:///etc/passwd", "javascript:alert(1)", "ftp://x.com/a", "mailto:a@b.c", "//no-scheme.com/x",
                "http://", "http://x.com:99999999/"]:  # fmt: skip
        rows, stats = harvest([("s", bad)], HarvestConfig(skip_top_domains=0))
        assert rows == [] and stats.invalid == 1, bad


def test_harvest_dedupes_across_seeds_and_runs_and_applies_the_rules():
    links = [("s0", "https://a.com/1"), ("s0", "https://a.com/2"), ("s1", "https://www.a.com/1/#x"),
             ("s1", "https://b.com/1"), ("s2", "https://b.com/2"), ("s2", "https://ads.spam.com/1"),
             ("s2", "https://c.com/1"), ("s3", "https://c.com/2"), ("s3", "https://c.com/3"), ("s3", "https://d.com/1"),
             ("s3", "https://spam.com/2"), ("s3", "https://spam.com/3"), ("s3", "https://spam.com/4")]  # fmt: skip
    seen = frozenset({url_key("https://d.com/1")})
    config = HarvestConfig(blocklist=frozenset({"spam.com"}), skip_top_domains=1, max_per_domain=1, seen=seen)
    rows, stats = harvest(links, config)
    # unique: a.com/1 a.com/2 b.com/1 b.com/2 ads.spam.com/1 c.com/1 c.com/2 c.com/3 spam.com/2..4 (d.com/1 seen)
    assert (stats.links, stats.duplicates, stats.seen_before, stats.unique) == (13, 1, 1, 11)
    # blocklist first (spam.com and its subdomain: 4 URLs); the top domain is then c.com (3), not spam.com
    assert (stats.blocked, stats.skipped_domains, stats.top_domain) == (4, ["c.com"], 3)
    assert [row["url"] for row in rows] == ["https://a.com/1", "https://b.com/1"]
    assert stats.over_domain_cap == 2 and stats.kept == 2 and stats.domains == {"a.com": 1, "b.com": 1}
    assert rows[0]["seed_ids"] == ["s0", "s1"] and rows[0]["id"] == url_id(url_key("https://a.com/1"))


def test_the_seeds_top_50_skip_is_the_default():
    links = [(f"s{i}", f"https://d{i % 60}.com/{i}") for i in range(600)]
    rows, stats = harvest(links)
    assert stats.unique == 600 and stats.top_domain == 500 and len(rows) == 100
    # equal counts: ties broken by name, so the kept domains are the last 10 in name order
    assert {row["domain"] for row in rows} == set(sorted(f"d{i}.com" for i in range(60))[50:])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=5), st.text(max_size=80)), max_size=30))
def test_harvest_never_crashes_and_accounts_for_every_link(links):
    rows, stats = harvest(links, HarvestConfig(skip_top_domains=2, max_per_domain=3))
    assert stats.links == len(links)
    assert stats.invalid + stats.duplicates + stats.seen_before + stats.unique == stats.links
    assert (
        stats.blocked + stats.top_domain + stats.over_domain_cap + stats.kept
        == stats.unique
        == len({row["key"] for row in rows}) + stats.top_domain + stats.over_domain_cap
    )
