"""The response cache for embedding() and rerank(): keyed by operation, model, inputs (an embedding's each on its
own: tests/test_embedding_cache.py) and the parameters that change the answer, apart from chat entries; a hit sends
nothing, costs 0 and says so, to the caller and the hooks. And responses() reading LiteLLM's call-level keywords as
completion() does (the body it sends is captured)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
import responses

import litellm_sync
from litellm_sync import exceptions
from litellm_sync.cache import MemoryCache, cache_key
from litellm_sync.hooks import CallEvent
from litellm_sync.testing import FakeProviderServer

MODEL = "openai/text-embedding-3-small"


@pytest.fixture
def client() -> Any:
    events: list[Any] = []
    with litellm_sync.Client(cache=MemoryCache(), hooks=[events.append], max_retries=0) as built:
        built.events = events  # type: ignore[attr-defined]
        yield built


def _embed(client: Any, server: FakeProviderServer, texts: Any, **params: Any) -> Any:
    params.setdefault("api_key", "sk-test")
    return client.embedding(MODEL, texts, api_base=server.url, **params)


def test_a_repeated_embedding_is_a_hit_that_costs_nothing(client: Any, server: FakeProviderServer) -> None:
    first = _embed(client, server, ["alpha beta", "gamma"])
    again = _embed(client, server, ["alpha beta", "gamma"], api_key="sk-another-key")
    assert (first.cache_hit, again.cache_hit) == (False, True)
    assert first.cost == Decimal("0.02") * 3 / 1_000_000 and again.cost == 0
    assert again.to_dict()["data"] == first.to_dict()["data"]
    assert again.usage is not None and again.usage.prompt_tokens == 0  # what this call sent: nothing
    assert type(again).__name__ == "CachedEmbeddingResponse" and again.provider == "openai"
    assert len(server.requests) == 1
    reported = [e for e in client.events if isinstance(e, CallEvent)]
    assert [e.cache_hit for e in reported] == [False, True]
    assert reported[1].response is again and reported[1].outcome == "cache_hit"


@pytest.mark.parametrize("change", [
    {"dimensions": 8}, {"input_type": "query"}, {"encoding_format": "base64"}, {"texts": ["alpha beta", "delta"]},
    {"model": "openai/text-embedding-3-large"},
])
def test_what_changes_the_answer_changes_the_key(client: Any, server: FakeProviderServer,
                                                 change: dict[str, Any]) -> None:
    _embed(client, server, ["alpha beta", "gamma"], dimensions=None)
    params = dict(change)
    texts = params.pop("texts", ["alpha beta", "gamma"])
    model = params.pop("model", MODEL)
    other = client.embedding(model, texts, api_key="sk-test", api_base=server.url, **params)
    assert not other.cache_hit
    assert len(server.requests) == 2
    new = ["delta"] if "texts" in change else ["alpha beta", "gamma"]  # each input is cached on its own
    assert server.requests[-1].json["input"] == new


def test_a_subset_or_reordering_of_cached_inputs_is_a_hit(client: Any, server: FakeProviderServer) -> None:
    first = _embed(client, server, ["alpha beta", "gamma"])
    for texts in (["alpha beta"], ["gamma", "alpha beta"]):
        again = _embed(client, server, texts)
        assert again.cache_hit
        assert [d.embedding for d in again.data] == [first.data[["alpha beta", "gamma"].index(t)].embedding
                                                     for t in texts]
    assert len(server.requests) == 1


def test_a_parameter_given_as_none_is_the_same_call(client: Any, server: FakeProviderServer) -> None:
    _embed(client, server, "alpha")
    assert _embed(client, server, "alpha", dimensions=None, input_type=None, timeout=5, metadata={"a": 1}).cache_hit


def test_per_call_cache_controls_apply(client: Any, server: FakeProviderServer) -> None:
    _embed(client, server, "alpha", cache={"no-store": True})
    assert not _embed(client, server, "alpha").cache_hit  # not stored the first time: sent, stored now
    assert not _embed(client, server, "alpha", cache={"no-cache": True}).cache_hit
    assert _embed(client, server, "alpha").cache_hit
    assert not _embed(client, server, "alpha", caching=False).cache_hit
    assert len(server.requests) == 3 + 1


def test_embedding_entries_never_answer_chat_calls(client: Any, server: FakeProviderServer) -> None:
    """The same model name and the same text as a chat message and as an embedding input: two entries."""
    model = "openai_compatible/shared-name"
    chat = [{"role": "user", "content": "hello"}]
    client.completion(model, chat, api_key="sk", api_base=server.url)
    embedded = client.embedding(model, "hello", api_key="sk", api_base=server.url)
    assert not embedded.cache_hit and len(server.requests) == 2
    assert client.completion(model, chat, api_key="sk", api_base=server.url).cache_hit
    assert client.embedding(model, "hello", api_key="sk", api_base=server.url).cache_hit
    assert len(server.requests) == 2
    assert cache_key("openai", "m", ["hi"], {}, False) != cache_key("openai", "m", ["hi"], {}, False,
                                                                     operation="embeddings")
    assert cache_key("openai", "m", ["hi"], {}, False, operation="rerank") != cache_key(
        "openai", "m", ["hi"], {}, False, operation="embeddings")


def test_a_corrupt_or_foreign_entry_is_a_miss(client: Any, server: FakeProviderServer) -> None:
    _embed(client, server, "alpha")
    cache = client.pipeline.cache
    (key,) = list(cache._entries)
    cache.set(key, json.dumps({"v": 1, "key": key, "kind": "spreadsheet", "response": {}}).encode())
    assert not _embed(client, server, "alpha").cache_hit
    cache.set(key, b"\x00not json")
    assert not _embed(client, server, "alpha").cache_hit
    assert _embed(client, server, "alpha").cache_hit  # the fresh answer replaced the bad entry
    assert len(server.requests) == 3


RERANK = {"id": "r-1", "results": [{"index": 1, "relevance_score": 0.91}, {"index": 0, "relevance_score": 0.12}],
          "meta": {"billed_units": {"search_units": 1}}}
DOCS = ["Paris is in France.", "Berlin is in Germany."]


def test_a_repeated_rerank_is_a_hit(client: Any) -> None:
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, "https://api.cohere.com/v2/rerank", json=RERANK)
        first = client.rerank("cohere/rerank-v3.5", "Capital of Germany?", DOCS, top_n=1, api_key="k")
        again = client.rerank("cohere/rerank-v3.5", "Capital of Germany?", DOCS, top_n=1, api_key="k")
        other = client.rerank("cohere/rerank-v3.5", "Capital of Germany?", DOCS, top_n=2, api_key="k")
        assert len(rsps.calls) == 2
    assert (first.cache_hit, again.cache_hit, other.cache_hit) == (False, True, False)
    assert first.cost == Decimal("0.002") and again.cost == 0
    assert again.results == first.results and again.meta == first.meta and again.id == first.id


# -- responses(): LiteLLM's call-level keywords ---------------------------------------------------------------

BODY = {"id": "resp_1", "object": "response", "model": "gpt-5-mini", "status": "completed",
        "output": [{"id": "m", "type": "message", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": "Hi.", "annotations": []}]}],
        "usage": {"input_tokens": 10, "output_tokens": 2, "total_tokens": 12}}


def test_responses_reads_litellm_keywords_and_never_sends_them() -> None:
    events: list[Any] = []
    sent: list[Any] = []
    replies = iter([(500, {"error": {"message": "boom", "type": "server_error"}}), (200, BODY)])

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        sent.append(request)
        status, body = next(replies)
        return status, {"content-type": "application/json"}, json.dumps(body)

    retry = litellm_sync.RetryPolicy(max_retries=0, sleep=lambda _s: None)
    with responses.RequestsMock() as rsps, litellm_sync.Client(hooks=[events.append], retry_policy=retry) as client:
        rsps.add_callback(responses.POST, "https://proxy.example/v1/responses", callback=answer)
        result = litellm_sync.responses(
            "gpt-5-mini", "Say hi", client=client, custom_llm_provider="openai_responses", api_key="sk-test",
            num_retries=1, request_timeout=7, base_url="https://proxy.example/v1", headers={"X-Team": "search"},
            metadata={"request_id": "req-42"}, tags=["search"], litellm_call_id="ignored-as-request-id-is-given",
            input_cost_per_token=0.000001, output_cost_per_token=0.000002, max_tokens=20,
        )
    assert result.output_text == "Hi."
    assert len(sent) == 2  # num_retries=1: the 500 was retried
    body = json.loads(sent[-1].body)
    assert body["model"] == "gpt-5-mini" and body["input"] == "Say hi" and body["max_output_tokens"] == 20
    litellm_names = {"num_retries", "request_timeout", "base_url", "headers", "metadata", "tags", "litellm_call_id",
                     "custom_llm_provider", "input_cost_per_token", "output_cost_per_token"}
    assert litellm_names.isdisjoint(body)
    assert sent[-1].headers["X-Team"] == "search"
    assert max(sent[-1].req_kwargs["timeout"]) == pytest.approx(7, abs=0.5)  # request_timeout=7
    assert result.cost == Decimal("0.000001") * 10 + Decimal("0.000002") * 2  # this call's prices
    (event,) = [e for e in events if isinstance(e, CallEvent)]
    assert event.correlation_id == "req-42" and event.metadata["tags"] == ["search"]


def test_responses_refuses_what_it_cannot_do() -> None:
    with litellm_sync.Client() as client:
        with pytest.raises(exceptions.UnsupportedParamsError, match="fallbacks"):
            litellm_sync.responses("openai_responses/gpt-5-mini", "hi", client=client, api_key="k",
                                   fallbacks=["openai_responses/gpt-5"])
        with pytest.raises(exceptions.UnsupportedParamsError, match="rpm"):
            litellm_sync.responses("openai_responses/gpt-5-mini", "hi", client=client, api_key="k", rpm=5)
        with pytest.raises(exceptions.ConfigurationError, match="num_retries"):
            litellm_sync.responses("openai_responses/gpt-5-mini", "hi", client=client, api_key="k", num_retries=1,
                                   max_retries=2)


def test_responses_caching_keyword_controls_the_cache() -> None:
    with responses.RequestsMock() as rsps, litellm_sync.Client(cache=MemoryCache()) as client:
        rsps.add(responses.POST, re.compile(r"https://api\.openai\.com/v1/responses"), json=BODY)
        for _ in range(2):
            litellm_sync.responses("openai_responses/gpt-5-mini", "hi", client=client, api_key="k", caching=False)
        assert len(rsps.calls) == 2
        litellm_sync.responses("openai_responses/gpt-5-mini", "hi", client=client, api_key="k")
        assert litellm_sync.responses("openai_responses/gpt-5-mini", "hi", client=client, api_key="k").cache_hit
        assert len(rsps.calls) == 3
    with litellm_sync.Client() as plain, pytest.raises(exceptions.ConfigurationError, match="no cache"):
        litellm_sync.responses("openai_responses/gpt-5-mini", "hi", client=plain, api_key="k", caching=True)
