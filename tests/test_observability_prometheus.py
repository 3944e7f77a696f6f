"""The Prometheus hook, read back from the exposition text: requests, errors by class, latency, time to first
token, tokens and cost, labelled by provider, model and outcome, after calls, errors, streams and cache hits."""

from __future__ import annotations

import os
import re

import pytest

import litellm_sync
from litellm_sync.cache import MemoryCache
from litellm_sync.observability import prometheus_hook
from litellm_sync.testing import FakeProviderServer, Reply

if os.environ.get("CI"):
    import prometheus_client  # noqa: F401 - under CI the extra must be installed: fail, do not skip
else:
    pytest.importorskip("prometheus_client")

from prometheus_client import CollectorRegistry, generate_latest

MODEL = "openai/gpt-4o-mini"
HI = [{"role": "user", "content": "count me"}]


def value(text: str, name: str, **labels: str) -> float:
    """The sample `name{labels}` from exposition text (labels in any order); 0 when absent."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_]+)\{(.*)\} (\S+)", line)
        if match is None or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2)))
        if found == labels:
            return float(match.group(3))
    return 0.0


def test_metrics_after_calls_errors_streams_and_hits(server: FakeProviderServer) -> None:
    registry = CollectorRegistry()
    hook = prometheus_hook(registry)
    with litellm_sync.Client(max_retries=0, hooks=[hook], cache=MemoryCache()) as client:
        answer = client.completion(MODEL, HI, api_key="sk-x", api_base=server.url)
        assert client.completion(MODEL, HI, api_key="sk-x", api_base=server.url).cache_hit
        slow = Reply(status=429, headers={"retry-after": "0"}, json={"error": {"message": "slow"}})
        server.enqueue(slow, slow)
        with pytest.raises(litellm_sync.RateLimitError):
            client.completion(MODEL, HI, api_key="sk-x", api_base=server.url, temperature=1, max_retries=1)
        with client.completion(MODEL, HI, stream=True, api_key="sk-x", api_base=server.url,
                               cache={"no-store": True}) as stream:
            list(stream)
        stream = client.completion(MODEL, HI, stream=True, api_key="sk-x", api_base=server.url,
                                   cache={"no-cache": True, "no-store": True})
        next(iter(stream))
        stream.close()
    text = generate_latest(registry).decode()
    labels = {"provider": "openai", "model": "gpt-4o-mini"}
    assert value(text, "litellm_sync_requests_total", **labels, outcome="success") == 2
    assert value(text, "litellm_sync_requests_total", **labels, outcome="cache_hit") == 1
    assert value(text, "litellm_sync_requests_total", **labels, outcome="error") == 1
    assert value(text, "litellm_sync_requests_total", **labels, outcome="incomplete") == 1
    assert value(text, "litellm_sync_errors_total", **labels, error="RateLimitError") == 1
    assert value(text, "litellm_sync_retries_total", **labels, error="RateLimitError") == 1
    assert value(text, "litellm_sync_request_duration_seconds_count", **labels, outcome="success") == 2
    assert value(text, "litellm_sync_request_duration_seconds_bucket", **labels, outcome="error", le="+Inf") == 1
    assert value(text, "litellm_sync_time_to_first_token_seconds_count", **labels) == 2  # the two streams
    per_call = answer.usage
    assert value(text, "litellm_sync_tokens_total", **labels, direction="input") == 2 * per_call.prompt_tokens
    assert value(text, "litellm_sync_tokens_total", **labels, direction="output") == 2 * per_call.completion_tokens
    assert value(text, "litellm_sync_cost_usd_total", **labels) == pytest.approx(2 * float(answer.cost))


def test_hooks_on_one_registry_share_metrics_and_unpriced_calls_are_counted(server: FakeProviderServer) -> None:
    registry = CollectorRegistry()
    first, second = prometheus_hook(registry), prometheus_hook(registry)  # no duplicate-registration error
    with litellm_sync.Client(max_retries=0, hooks=[first]) as one, litellm_sync.Client(
        max_retries=0, hooks=[second]
    ) as two:
        one.completion("openai/not-a-listed-model", HI, api_key="sk-x", api_base=server.url)
        two.completion("openai/not-a-listed-model", HI, api_key="sk-x", api_base=server.url)
    text = generate_latest(registry).decode()
    labels = {"provider": "openai", "model": "not-a-listed-model"}
    assert value(text, "litellm_sync_requests_total", **labels, outcome="success") == 2
    assert value(text, "litellm_sync_unpriced_requests_total", **labels) == 2
    assert value(text, "litellm_sync_cost_usd_total", **labels) == 0
