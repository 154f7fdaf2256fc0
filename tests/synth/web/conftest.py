"""Fixtures of the web-mining tests: the loopback fixture site (one per session) and a fetch policy that allows
exactly its address."""

from __future__ import annotations

import pytest

from mmreason.synth.web.fetch import FetchPolicy
from tests.synth.web.site import FixtureSite


@pytest.fixture(scope="session")
def site():
    served = FixtureSite()
    yield served
    served.close()


@pytest.fixture
def policy(site) -> FetchPolicy:
    return FetchPolicy(allow_networks=["127.0.0.1"], resolve=site.resolve, timeout=1.5, max_bytes=1 << 20)
