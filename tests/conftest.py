"""Fixtures shared by the test modules: a private spec cache for the whole session, one fake provider server
per module, reset before each test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from litellm_sync.testing import FakeProviderServer


@pytest.fixture(scope="session", autouse=True)
def private_spec_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The spec cache of the whole session (and of subprocesses it starts) lives in a temporary directory:
    the suite never writes into the user's cache dir or $HOME."""
    directory = str(tmp_path_factory.mktemp("spec-cache"))
    previous = os.environ.get("LITELLM_SYNC_CACHE_DIR")
    os.environ["LITELLM_SYNC_CACHE_DIR"] = directory
    yield directory
    if previous is None:
        os.environ.pop("LITELLM_SYNC_CACHE_DIR", None)
    else:
        os.environ["LITELLM_SYNC_CACHE_DIR"] = previous


@pytest.fixture(scope="module")
def shared_server() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as server:
        yield server


@pytest.fixture
def server(shared_server: FakeProviderServer) -> FakeProviderServer:
    shared_server.clear()
    shared_server.set_default_text(None)
    return shared_server
