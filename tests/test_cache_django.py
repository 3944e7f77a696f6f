"""DjangoCache: a Django cache as the backend (a locmem cache object here: the tests leave Django's global settings
to the example apps)."""

from __future__ import annotations

import pytest

import litellm_sync
from litellm_sync.cache import DjangoCache
from litellm_sync.testing import FakeProviderServer

pytest.importorskip("django")


def test_django_cache_backend(server: FakeProviderServer) -> None:
    from django.core.cache.backends.locmem import LocMemCache

    hello = [{"role": "user", "content": "through django"}]
    backend = LocMemCache("litellm-test", {})
    cache = DjangoCache(ttl=60, backend=backend)
    with litellm_sync.Client(max_retries=0, cache=cache) as client:
        first = client.completion("openai/gpt-4o-mini", hello, api_key="sk-x", api_base=server.url)
        second = client.completion("openai/gpt-4o-mini", hello, api_key="sk-x", api_base=server.url)
    assert (first.cache_hit, second.cache_hit, second.content) == (False, True, "Echo: through django")
    assert len(server.requests) == 1
    assert len(backend._cache) == 1  # one entry, under the prefix
    cache.clear()
    with litellm_sync.Client(max_retries=0, cache=cache) as client:
        assert not client.completion("openai/gpt-4o-mini", hello, api_key="sk-x", api_base=server.url).cache_hit
