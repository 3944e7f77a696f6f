"""Fixtures shared by the test modules: one fake provider server per module, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from litellm_sync.testing import FakeProviderServer


@pytest.fixture(scope="module")
def shared_server() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as server:
        yield server


@pytest.fixture
def server(shared_server: FakeProviderServer) -> FakeProviderServer:
    shared_server.clear()
    shared_server.set_default_text(None)
    return shared_server
