"""Proxies: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY from the environment, or Client(proxy=...)."""

from __future__ import annotations

from typing import Any

import pytest

import litellm_sync
from litellm_sync.testing import FakeProviderServer

# A host that must never be resolved: only the proxy may see it.
UPSTREAM = "http://provider.invalid/v1"
MESSAGES = [{"role": "user", "content": "through the proxy"}]


@pytest.fixture()
def proxy() -> Any:
    with FakeProviderServer() as fake:  # plays the proxy: it answers absolute-URI requests itself
        yield fake


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_environment_proxy_is_used(proxy: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    with litellm_sync.Client(max_retries=0) as client:
        answer = client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base=UPSTREAM)
        streamed = client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base=UPSTREAM,
                                     stream=True).response()
    assert answer.content == streamed.content == "Echo: through the proxy"
    assert [r.path for r in proxy.requests] == ["/v1/chat/completions"] * 2
    assert proxy.requests[0].headers["host"] == "provider.invalid"


def test_no_proxy_exempts_hosts_from_the_environment_proxy(
    proxy: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeProviderServer() as direct:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        with litellm_sync.Client(max_retries=0) as client:
            client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base=UPSTREAM)
            client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base=direct.url)
        assert len(proxy.requests) == 1 and proxy.requests[0].headers["host"] == "provider.invalid"
        assert len(direct.requests) == 1  # NO_PROXY: straight to the server


def test_explicit_proxy_takes_every_call(proxy: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # Client(proxy=URL) is requests' proxies=: as in requests, NO_PROXY exempts only environment proxies.
    monkeypatch.setenv("NO_PROXY", "provider.invalid")
    with litellm_sync.Client(max_retries=0, proxy=proxy.url) as client:
        client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base=UPSTREAM)
    assert [r.headers["host"] for r in proxy.requests] == ["provider.invalid"]


def test_proxy_false_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeProviderServer() as direct:
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # would refuse connections if used
        with litellm_sync.Client(max_retries=0, proxy=False) as client:
            answer = client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base=direct.url)
        assert answer.content == "Echo: through the proxy"
