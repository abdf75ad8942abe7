"""Shared fixtures: the fake endpoint (a clean environment for launched servers: testkit.env)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testkit.fake_endpoint import FakeEndpoint


@pytest.fixture
def endpoint() -> Iterator[FakeEndpoint]:
    """Start a fake model endpoint on loopback for one test."""
    with FakeEndpoint() as ep:
        yield ep
