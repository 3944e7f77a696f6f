"""Model discovery and health checks against the fake provider: declared endpoints, merging, probes."""

from __future__ import annotations

import os
from typing import Any

import pytest

import litellm_sync
from litellm_sync.testing import FakeProviderServer, Reply


@pytest.fixture()
def server() -> Any:
    with FakeProviderServer(models=["gpt-4o-mini", "brand-new-model"]) as fake:
        yield fake


@pytest.fixture()
def client() -> Any:
    with litellm_sync.Client(max_retries=0) as made:
        yield made


@pytest.fixture()
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_TOKEN", "_API_BASE", "_BASE_URL")) or name in ("OLLAMA_HOST", "CO_API_KEY"):
            monkeypatch.delenv(name)


def test_discover_models_merges_live_list_with_registry(server: FakeProviderServer, client: Any) -> None:
    found = litellm_sync.discover_models("openai", api_key="sk-x", api_base=server.url + "/v1", client=client)
    by_name = {entry["model"]: entry for entry in found}
    assert by_name["gpt-4o-mini"]["live"] and by_name["gpt-4o-mini"]["known"]
    assert by_name["gpt-4o-mini"]["pricing"]["input"] is not None
    assert by_name["brand-new-model"] == {"model": "brand-new-model", "live": True, "known": False}
    listed_only = [e for e in found if not e["live"]]
    assert listed_only and all(e["known"] for e in listed_only)
    assert server.requests[-1].method == "GET"
    assert server.requests[-1].path == "/v1/models"
    assert server.requests[-1].headers["authorization"] == "Bearer sk-x"


def test_discovery_reads_each_dialects_declared_list(server: FakeProviderServer, client: Any) -> None:
    server.enqueue(Reply(json={"models": [{"name": "models/gemini-2.5-flash"}, {"name": "models/new-one"}]}))
    live = litellm_sync.health.list_live_models("gemini", api_key="g", api_base=server.url, client=client)
    assert live == ["gemini-2.5-flash", "new-one"]  # the declared strip_prefix removed "models/"
    assert server.requests[-1].headers["x-goog-api-key"] == "g"
    assert litellm_sync.health.list_live_models("ollama", api_base=server.url, client=client) == [
        "gpt-4o-mini",
        "brand-new-model",
    ]
    assert server.requests[-1].path == "/api/tags"


def test_health_ok_error_and_skipped(server: FakeProviderServer, client: Any, no_keys: None) -> None:
    ok = litellm_sync.health_check("openai", api_key="sk-x", api_base=server.url + "/v1", client=client)
    assert (ok.provider, ok.ok, ok.status, ok.error) == ("openai", True, "ok", None)
    assert ok.latency_ms is not None and ok.latency_ms >= 0

    server.enqueue(Reply(status=401, json={"error": {"message": "bad key sk-secret-123456789", "code": "invalid"}}))
    failed = litellm_sync.health_check("openai", api_key="sk-secret-123456789", api_base=server.url + "/v1",
                                       client=client)
    assert (failed.ok, failed.status) == (False, "error")
    assert "bad key" in failed.error and "sk-secret-123456789" not in failed.error

    skipped = litellm_sync.health_check("anthropic", client=client)
    assert (skipped.ok, skipped.status, skipped.latency_ms) == (False, "skipped", None)
    assert "ANTHROPIC_API_KEY" in skipped.error


def test_chat_probe_where_no_models_endpoint(server: FakeProviderServer, client: Any) -> None:
    status = litellm_sync.health_check("perplexity", api_key="p", api_base=server.url, client=client)
    assert status.ok
    sent = server.requests[-1]
    assert sent.path == "/chat/completions"
    assert sent.json["model"] == "sonar" and sent.json["max_tokens"] == 1


def test_health_check_all_runs_in_parallel_with_a_timeout(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch, no_keys: None
) -> None:
    monkeypatch.setenv("OLLAMA_API_BASE", server.url)
    server.enqueue(Reply(json={"models": []}, delay=3.0))  # ollama's probe stalls past the timeout
    with litellm_sync.Client(max_retries=0) as client:
        results = {status.provider: status for status in litellm_sync.health_check_all(timeout=0.5, client=client)}
    assert set(results) == set(client.spec.providers)
    assert results["ollama"].status == "error" and not results["ollama"].ok
    assert results["openai"].status == "skipped"


def test_not_configured_reads_the_environment(monkeypatch: pytest.MonkeyPatch, no_keys: None) -> None:
    monkeypatch.delenv("OPENAI_COMPATIBLE_API_BASE", raising=False)
    assert litellm_sync.health.not_configured("openai") == "no API key: set OPENAI_API_KEY"
    assert litellm_sync.health.not_configured("openai_compatible") == "no base URL: set OPENAI_COMPATIBLE_API_BASE"
    keyless = litellm_sync.health.not_configured("ollama")
    assert keyless is not None and "OLLAMA_API_BASE" in keyless and "OLLAMA_HOST" in keyless
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:1")
    assert litellm_sync.health.not_configured("openai") is None
    assert litellm_sync.health.not_configured("ollama") is None
    monkeypatch.delenv("OLLAMA_HOST")
    monkeypatch.setenv("OLLAMA_API_KEY", "k")  # a key for the optional-key provider also means "set up"
    assert litellm_sync.health.not_configured("ollama") is None


def test_health_check_all_on_a_machine_with_nothing_set_up_probes_nothing(no_keys: None) -> None:
    # Today's trap: the keyless ollama entry was probed at localhost:11434 and failed the whole check.
    with litellm_sync.Client(max_retries=0) as client:
        results = litellm_sync.health_check_all(timeout=0.5, client=client)
    assert [r.provider for r in results] == sorted(client.spec.providers)
    assert {r.status for r in results} == {"skipped"}
    assert all(r.latency_ms is None and r.error for r in results)


def test_a_named_keyless_provider_is_probed_and_unreachable_is_an_error(
    client: Any, no_keys: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Naming a provider probes it even when not set up: an unreachable local server is then an error.
    import socket

    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    status = litellm_sync.health_check("ollama", api_base=f"http://127.0.0.1:{port}", timeout=2, client=client)
    assert (status.ok, status.status) == (False, "error")
