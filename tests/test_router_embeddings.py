"""Router.embedding and Router.rerank: the same deployment choice, rate limits (tokens from the usage), cooldowns,
retries, fallbacks, cache and hooks as Router.completion, against fake provider servers on real sockets (rerank
through `responses`, the fake server speaks no rerank). Time is a fake clock: nothing really waits."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import responses

from litellm_sync.cache import MemoryCache
from litellm_sync.exceptions import AuthenticationError, BadRequestError
from litellm_sync.hooks import CallEvent
from litellm_sync.router import Router, RouterEvent, RouterRateLimitError
from litellm_sync.testing import FakeProviderServer, Reply

MODEL = "openai/text-embedding-3-small"  # priced in the registry: 0.02 USD per million input tokens
TEXTS = ["the quick brown fox", "jumps"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeProviderServer, FakeProviderServer]]:
    with FakeProviderServer() as a, FakeProviderServer() as b:
        yield a, b


@pytest.fixture
def fakes(servers: tuple[FakeProviderServer, FakeProviderServer]) -> tuple[FakeProviderServer, FakeProviderServer]:
    for server in servers:
        server.clear()
    return servers


def _deployment(group: str, url: str, key: str, **extra: Any) -> dict[str, Any]:
    return {"model_name": group, "litellm_params": {"model": MODEL, "api_key": key, "api_base": url, **extra},
            "model_info": {"id": f"{group}-{key}"}}


def _router(model_list: list[dict[str, Any]], **settings: Any) -> Router:
    clock = FakeClock()
    return Router(model_list=model_list, clock=clock, sleep=clock.sleep, seed=7, **settings)


def test_embedding_is_routed_and_counted_in_the_deployments_rate_window(fakes: Any) -> None:
    a, _b = fakes
    with _router([_deployment("emb", a.url, "sk-a", rpm=10, tpm=1000)]) as router:
        response = router.embedding("emb", TEXTS, dimensions=2)
        stats = router.stats("emb-sk-a")
    # The fake server's vectors are [characters, words] per input; its usage counts words.
    assert [item.embedding for item in response.data] == [[19.0, 4.0], [5.0, 1.0]]
    assert response.usage is not None and response.usage.total_tokens == 5
    assert response.cost == Decimal("0.02") * 5 / 1_000_000
    assert (stats["rpm"], stats["tpm"]) == (1, 5)  # the reservation was corrected to the provider's usage
    sent = a.requests[-1]
    assert sent.path == "/embeddings" and sent.json["input"] == TEXTS and sent.json["dimensions"] == 2
    assert sent.headers["authorization"] == "Bearer sk-a"


def test_a_failed_deployment_is_retried_on_another_and_cools_down(fakes: Any) -> None:
    a, b = fakes
    a.enqueue(Reply(status=503, json={"error": {"message": "overloaded"}}))
    events: list[Any] = []
    model_list = [_deployment("emb", a.url, "sk-a", order=1), _deployment("emb", b.url, "sk-b", order=2)]
    with _router(model_list, num_retries=1, allowed_fails=0, cooldown_time=30, hooks=[events.append]) as router:
        response = router.embedding("emb", TEXTS)
        assert router.stats("emb-sk-a")["cooldown"] > 0
        again = router.embedding("emb", ["later"])  # the cooling deployment is skipped
    assert len(response.data) == 2 and again.data[0].embedding == [5.0, 1.0]
    assert len(a.requests) == 1 and len(b.requests) == 2
    kinds = [e.kind if isinstance(e, RouterEvent) else "call" for e in events]
    assert kinds[:5] == ["route", "call", "cooldown", "retry", "route"]
    calls = [e for e in events if isinstance(e, CallEvent)]
    assert [e.metadata["deployment"] for e in calls] == ["emb-sk-a", "emb-sk-b", "emb-sk-b"]
    assert all(e.metadata["model_group"] == "emb" for e in calls)
    assert calls[0].error is not None and calls[1].response is response


def test_a_group_that_fails_falls_back_to_another_group(fakes: Any) -> None:
    a, b = fakes
    a.enqueue(Reply(status=401, json={"error": {"message": "bad key"}}))
    model_list = [_deployment("emb", a.url, "sk-a"), _deployment("backup", b.url, "sk-b")]
    with _router(model_list, fallbacks=[{"emb": ["backup"]}]) as router:
        response = router.embedding("emb", TEXTS)
    assert [item.index for item in response.data] == [0, 1]
    assert len(a.requests) == 1 and len(b.requests) == 1


def test_without_a_fallback_the_error_reaches_the_caller(fakes: Any) -> None:
    a, _b = fakes
    a.enqueue(Reply(status=401, json={"error": {"message": "bad key"}}))
    with _router([_deployment("emb", a.url, "sk-a")]) as router, pytest.raises(AuthenticationError):
        router.embedding("emb", TEXTS)


def test_rpm_is_enforced_before_sending(fakes: Any) -> None:
    a, _b = fakes
    with _router([_deployment("emb", a.url, "sk-a", rpm=1)]) as router:
        router.embedding("emb", TEXTS)
        with pytest.raises(RouterRateLimitError) as caught:
            router.embedding("emb", ["another"])
    assert "nothing was sent" in str(caught.value)
    assert len(a.requests) == 1


def test_a_cached_embedding_is_served_before_routing_and_takes_no_capacity(fakes: Any) -> None:
    a, _b = fakes
    events: list[Any] = []
    with _router([_deployment("emb", a.url, "sk-a", rpm=1)], cache=MemoryCache(), hooks=[events.append]) as router:
        first = router.embedding("emb", TEXTS)
        second = router.embedding("emb", TEXTS)  # rpm=1 is spent: only the cache can answer
        third = router.client.embedding(MODEL, TEXTS, api_key="sk-other", api_base=a.url)  # same key, via a Client
        assert router.stats("emb-sk-a")["rpm"] == 1
        with pytest.raises(RouterRateLimitError):
            router.embedding("emb", TEXTS, dimensions=8)  # another answer: not in the cache
    assert (first.cache_hit, second.cache_hit, third.cache_hit) == (False, True, True)
    assert second.cost == 0 and first.cost is not None and first.cost > 0
    assert [d.embedding for d in second.data] == [d.embedding for d in first.data]
    assert len(a.requests) == 1
    routes = [e for e in events if isinstance(e, RouterEvent) and e.kind == "route"]
    hits = [e for e in events if isinstance(e, CallEvent) and e.cache_hit]
    assert len(routes) == 1 and len(hits) == 2


def test_an_unknown_group_is_refused(fakes: Any) -> None:
    a, _b = fakes
    with _router([_deployment("emb", a.url, "sk-a")]) as router, pytest.raises(Exception, match="no model group"):
        router.embedding("nope", TEXTS)


# -- rerank -----------------------------------------------------------------------------------------------------

RERANK = {"id": "r-1", "results": [{"index": 1, "relevance_score": 0.91}, {"index": 0, "relevance_score": 0.12}],
          "meta": {"billed_units": {"search_units": 1}}}
DOCS = ["Paris is in France.", "Berlin is in Germany."]


def _rerank_deployment(group: str, base: str, key: str, order: int = 1) -> dict[str, Any]:
    return {"model_name": group, "litellm_params": {"model": "cohere/rerank-v3.5", "api_key": key, "api_base": base,
                                                    "order": order}, "model_info": {"id": f"{group}-{key}"}}


def test_rerank_is_routed_retried_on_another_deployment_and_cached() -> None:
    sent: list[Any] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        sent.append(request)
        if request.url.startswith("https://one.example"):
            return 429, {"content-type": "application/json"}, json.dumps({"message": "slow down"})
        return 200, {"content-type": "application/json"}, json.dumps(RERANK)

    model_list = [_rerank_deployment("rank", "https://one.example", "k1", order=1),
                  _rerank_deployment("rank", "https://two.example", "k2", order=2)]
    with responses.RequestsMock() as rsps, _router(model_list, num_retries=1, cache=MemoryCache()) as router:
        rsps.add_callback(responses.POST, re.compile(r"https://(one|two)\.example/.*"), callback=answer)
        first = router.rerank("rank", "Capital of Germany?", DOCS, top_n=1, return_documents=True)
        second = router.rerank("rank", "Capital of Germany?", DOCS, top_n=1, return_documents=True)
    assert [(r.index, r.relevance_score) for r in first.results] == [(1, 0.91)]
    assert first.results[0].document == {"text": DOCS[1]}
    assert first.cost is not None and first.cost > 0 and not first.cache_hit
    assert second.cache_hit and second.cost == 0 and second.results == first.results
    assert [r.url.split("/")[2] for r in sent] == ["one.example", "two.example"]  # the 429, then the retry
    assert json.loads(sent[1].body)["query"] == "Capital of Germany?"


def test_a_rerank_bad_request_is_not_retried() -> None:
    model_list = [_rerank_deployment("rank", "https://one.example", "k1"),
                  _rerank_deployment("rank", "https://two.example", "k2")]
    with responses.RequestsMock() as rsps, _router(model_list, num_retries=3) as router:
        rsps.add(responses.POST, re.compile(r"https://(one|two)\.example/.*"), status=400,
                 json={"message": "invalid request: documents must not be empty"})
        with pytest.raises(BadRequestError):
            router.rerank("rank", "q", DOCS)
        assert len(rsps.calls) == 1
