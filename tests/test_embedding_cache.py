"""The response cache keeps an embedding per input: a call sends only the inputs the cache lacks (each distinct one
once, batched as usual) and rejoins them with the cached vectors in input order; a call whose inputs are all cached
sends nothing. Requests are captured with `responses` (the Router's through the fake server) to read what is sent."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import responses

import litellm_sync
from litellm_sync.cache import MemoryCache, RedisCache
from litellm_sync.hooks import CallEvent
from litellm_sync.router import Router, RouterRateLimitError
from litellm_sync.testing import FakeProviderServer, hashed_vector

KEY = "sk-embedding-cache-secret-0042"
URL = "https://tiny.example/v1/embeddings"
TINY = {
    "providers": {
        "tiny": {
            "extends": "openai_chat",
            "base_url": "https://tiny.example/v1",
            "auth": {"env": ["TINY_KEY"]},
            "operations": {"embeddings": {
                "path": "/embeddings", "body": {"model": "$model", "input": "$input"}, "batch_size": 3,
                "response": {"items": "data", "embedding": "embedding", "index": "index",
                             "usage": {"from": "usage", "prompt_tokens": "prompt_tokens"}},
            }},
            "models": {"tiny-embed": {"mode": "embedding", "pricing": {"input": "1.00"}}},
        }
    }
}
MODEL = "tiny/tiny-embed"
PER_TOKEN = Decimal("1.00") / 1_000_000


class RecordingCache(MemoryCache):
    """A MemoryCache that remembers the ttl of each entry stored."""

    def __init__(self) -> None:
        super().__init__()
        self.ttls: dict[str, float | None] = {}

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self.ttls[key] = ttl
        super().set(key, value, ttl)


def _reply(request: Any) -> tuple[int, dict[str, str], str]:
    """Each input's vector is hashed from its text; items in reverse order (indexes say where); 10 tokens an input."""
    inputs = json.loads(request.body)["input"]
    items = [{"index": i, "embedding": hashed_vector(text, 4)} for i, text in enumerate(inputs)]
    usage = {"prompt_tokens": 10 * len(inputs), "total_tokens": 10 * len(inputs)}
    return 200, {}, json.dumps({"data": list(reversed(items)), "usage": usage})


@pytest.fixture
def client() -> Any:
    events: list[Any] = []
    with litellm_sync.Client(providers=TINY, cache=RecordingCache(), hooks=[events.append], max_retries=0) as built:
        built.events = events  # type: ignore[attr-defined]
        yield built


@pytest.fixture
def sent() -> Any:
    """The input lists sent, one per request, in the order they arrived."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.POST, URL, callback=_reply)
        yield lambda: [json.loads(call.request.body)["input"] for call in rsps.calls]


def _embed(client: Any, texts: Any, **params: Any) -> Any:
    params.setdefault("api_key", KEY)
    return client.embedding(MODEL, texts, **params)


def _vectors(response: Any) -> list[Any]:
    assert [item.index for item in response.data] == list(range(len(response.data)))
    return [item.embedding for item in response.data]


def test_a_call_whose_inputs_are_all_cached_sends_nothing(client: Any, sent: Any) -> None:
    first = _embed(client, ["alpha", "beta", "gamma"])
    again = _embed(client, ["gamma", "alpha"], api_key="sk-another-key")  # a subset, in another order
    assert sent() == [["alpha", "beta", "gamma"]]
    assert (first.cache_hit, again.cache_hit) == (False, True)
    assert _vectors(again) == [hashed_vector("gamma", 4), hashed_vector("alpha", 4)]
    assert again.cost == 0 and again.usage is not None and again.usage.prompt_tokens == 0  # nothing was billed
    assert again.model == "tiny-embed" and again.provider == "tiny"
    reported = [e for e in client.events if isinstance(e, CallEvent)]
    assert [e.cache_hit for e in reported] == [False, True]  # told once, as a hit
    assert reported[1].response is again


def test_only_the_missing_inputs_are_sent_batched_and_rejoined_in_order(client: Any, sent: Any) -> None:
    _embed(client, ["n1", "n2"])
    texts = [f"n{k}" for k in range(7)]
    mixed = _embed(client, texts)
    assert sorted(sent()[1:]) == [["n0", "n3", "n4"], ["n5", "n6"]]  # batch size 3 (in parallel), the 5 missing
    assert _vectors(mixed) == [hashed_vector(text, 4) for text in texts]
    assert not mixed.cache_hit and mixed.model == "tiny-embed"
    assert mixed.usage is not None and mixed.usage.prompt_tokens == 50  # the part sent
    assert mixed.cost == 50 * PER_TOKEN
    reported = [e for e in client.events if isinstance(e, CallEvent)]
    assert len(reported) == 2 and reported[1].response is mixed and not reported[1].cache_hit
    assert _embed(client, list(reversed(texts))).cache_hit  # each fresh vector was stored as its own entry
    assert len(sent()) == 3
    assert len(client.pipeline.cache) == 7


def test_duplicate_inputs_are_sent_once_and_fill_every_position(client: Any, sent: Any) -> None:
    result = _embed(client, ["x", "y", "x", "x"])
    assert sent() == [["x", "y"]]
    assert _vectors(result) == [hashed_vector(t, 4) for t in ["x", "y", "x", "x"]]
    assert result.usage is not None and result.usage.prompt_tokens == 20
    assert result.data[0].embedding is not result.data[2].embedding  # each position has its own list
    again = _embed(client, ["z", "y", "z", "x"])
    assert sent()[1:] == [["z"]]
    assert _vectors(again) == [hashed_vector(t, 4) for t in ["z", "y", "z", "x"]]
    hit = _embed(client, ["x", "x"])
    assert hit.cache_hit and hit.data[0].embedding is not hit.data[1].embedding


def test_per_call_controls(client: Any, sent: Any) -> None:
    cache = client.pipeline.cache
    _embed(client, ["a", "b"], cache={"no-store": True})
    assert len(cache) == 0
    _embed(client, ["a"])
    assert len(cache) == 1
    fresh = _embed(client, ["a", "b", "a"], cache={"no-cache": True})  # looks past the cache, still stores
    assert sent() == [["a", "b"], ["a"], ["a", "b"]] and not fresh.cache_hit
    assert len(cache) == 2
    assert not _embed(client, ["a", "b"], caching=False).cache_hit  # neither read nor stored
    assert sent()[-1] == ["a", "b"]
    _embed(client, ["c"], caching=False)
    assert len(cache) == 2
    _embed(client, ["d", "a"], cache={"ttl": 60})
    assert sent()[-1] == ["d"]
    assert sorted(cache.ttls.values(), key=repr) == [60.0, None, None]  # only d's entry was stored with ttl=60
    assert len(sent()) == 6


def test_what_changes_a_vector_is_keyed_apart(client: Any, sent: Any) -> None:
    _embed(client, ["a"])
    _embed(client, ["a"], dimensions=4)
    _embed(client, ["a"], input_type="query")
    client.embedding("tiny/other-embed", ["a"], api_key=KEY)
    assert len(sent()) == 4
    assert _embed(client, ["a"], dimensions=4).cache_hit and _embed(client, ["a"], encoding_format="float").cache_hit
    assert len(sent()) == 4  # encoding_format="float" is the default: the same entries


def test_base64_is_keyed_apart_and_comes_back_as_stored(client: Any, sent: Any) -> None:
    floats = _embed(client, ["a"])
    packed = _embed(client, ["a", "b"], encoding_format="base64")
    assert sent() == [["a"], ["a", "b"]]  # float entries do not answer base64 calls
    assert all(isinstance(v, str) for v in _vectors(packed))
    again = _embed(client, ["b", "a"], encoding_format="base64")
    assert again.cache_hit and _vectors(again) == list(reversed(_vectors(packed)))
    assert _embed(client, ["a"]).to_dict()["data"] == floats.to_dict()["data"]  # floats still floats
    assert len(sent()) == 2


def test_bad_entries_are_misses_and_replaced(client: Any, sent: Any) -> None:
    _embed(client, ["a", "b", "c"])
    _embed(client, ["d"])
    cache = client.pipeline.cache
    keys = list(cache._entries)  # stored in input order
    cache.set(keys[0], b"\x00not json")
    entry = json.loads(cache.get(keys[1]))
    entry["response"]["data"][0]["embedding"] = "AACAPw=="  # base64 text in a float entry
    cache.set(keys[1], json.dumps(entry).encode())
    entry = json.loads(cache.get(keys[2]))
    entry["response"]["data"] *= 2  # two vectors where one belongs
    cache.set(keys[2], json.dumps(entry).encode())
    result = _embed(client, ["a", "b", "c", "d"])
    assert sent()[2:] == [["a", "b", "c"]] and not result.cache_hit
    assert _vectors(result) == [hashed_vector(t, 4) for t in "abcd"]
    assert _embed(client, ["a", "b", "c", "d"]).cache_hit  # the fresh vectors replaced the bad entries
    assert len(sent()) == 3


def test_a_failing_backend_is_a_miss(sent: Any) -> None:
    class Down(MemoryCache):
        def get(self, key: str) -> bytes | None:
            raise ConnectionError("cache server down")

    with litellm_sync.Client(providers=TINY, cache=Down(), max_retries=0) as client:
        _embed(client, ["a", "b"])
        assert not _embed(client, ["a", "b"]).cache_hit
    assert sent() == [["a", "b"], ["a", "b"]]


def test_the_api_key_never_reaches_a_key_or_an_entry(client: Any, sent: Any) -> None:
    _embed(client, ["a", "b"], dimensions=4)
    _embed(client, ["c"], encoding_format="base64")
    entries = client.pipeline.cache._entries
    assert len(entries) == 3
    for key, (_expires, value) in entries.items():
        assert KEY not in key and KEY.encode() not in value


def test_mock_response_answers_only_the_missing_inputs(client: Any, sent: Any) -> None:
    _embed(client, ["a"])
    mocked = _embed(client, ["a", "b", "c"], mock_response=[[1.0], [2.0], [3.0]])
    assert _vectors(mocked) == [hashed_vector("a", 4), [2.0], [3.0]]
    assert len(sent()) == 1 and mocked.usage is not None and mocked.usage.prompt_tokens == 2
    assert _vectors(_embed(client, ["c", "b"])) == [[3.0], [2.0]]


def test_without_a_cache_inputs_are_sent_as_given(sent: Any) -> None:
    with litellm_sync.Client(providers=TINY, max_retries=0) as client:
        result = _embed(client, ["x", "x"])
    assert sent() == [["x", "x"]] and result.usage is not None and result.usage.prompt_tokens == 20


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from test_router_redis import RedisServer, _missing  # skips without redis-server, fails under CI

    try:
        import redis  # noqa: F401
    except ImportError:
        _missing("the redis package (pip install 'litellm_sync[redis]')")
    server = RedisServer(Path(tmp_path_factory.mktemp("redis")))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def test_redis_reads_every_input_in_one_round_trip(redis_url: str, sent: Any) -> None:
    import redis

    texts = [f"text {k}" for k in range(40)]
    cache = RedisCache(redis_url, ttl=60, namespace="test-" + uuid.uuid4().hex[:8])
    server = redis.Redis.from_url(redis_url)
    with litellm_sync.Client(providers=TINY, cache=cache, max_retries=0) as client:
        _embed(client, texts[:30])
        before = server.info("commandstats")
        mixed = _embed(client, texts)
        after = server.info("commandstats")
    assert after["cmdstat_mget"]["calls"] - before["cmdstat_mget"]["calls"] == 1
    assert after.get("cmdstat_get", {}).get("calls", 0) == before.get("cmdstat_get", {}).get("calls", 0)
    assert sorted(sent()[10:]) == [texts[30:33], texts[33:36], texts[36:39], texts[39:]]  # the 10 new ones only
    assert _vectors(mixed) == [hashed_vector(t, 4) for t in texts]


# -- the Router --------------------------------------------------------------------------------------------


def _router(server: FakeProviderServer, rpm: int) -> Router:
    deployment = {"model_name": "emb", "model_info": {"id": "emb-a"},
                  "litellm_params": {"model": "openai/text-embedding-3-small", "api_key": KEY,
                                     "api_base": server.url, "rpm": rpm}}
    return Router(model_list=[deployment], cache=MemoryCache())


def test_a_router_call_whose_inputs_are_all_cached_takes_no_capacity(server: FakeProviderServer) -> None:
    with _router(server, rpm=1) as router:
        router.embedding("emb", ["one two", "three"])
        hit = router.embedding("emb", ["three", "one two", "three"])  # rpm=1 is spent: only the cache can answer
        assert hit.cache_hit and router.stats("emb-a")["rpm"] == 1
        assert [d.embedding for d in hit.data] == [[5.0, 1.0], [7.0, 2.0], [5.0, 1.0]]
        with pytest.raises(RouterRateLimitError):
            router.embedding("emb", ["three", "four"])  # four is not cached: the call needs the deployment
    assert len(server.requests) == 1


def test_a_router_call_partly_cached_sends_only_the_rest(server: FakeProviderServer) -> None:
    with _router(server, rpm=5) as router:
        router.embedding("emb", ["one two", "three"])
        mixed = router.embedding("emb", ["four", "one two", "five six seven"])
        stats = router.stats("emb-a")
    assert [r.json["input"] for r in server.requests] == [["one two", "three"], ["four", "five six seven"]]
    assert [d.embedding for d in mixed.data] == [[4.0, 1.0], [7.0, 2.0], [14.0, 3.0]]
    assert not mixed.cache_hit and mixed.usage is not None and mixed.usage.total_tokens == 4
    assert stats["rpm"] == 2 and stats["tpm"] == 3 + 4


def test_a_budget_reserves_for_the_inputs_sent_not_the_cached_ones(sent: Any) -> None:
    from litellm_sync.budgets import Budget, Budgets, MemoryLedger

    class Recording(MemoryLedger):
        def __init__(self) -> None:
            super().__init__()
            self.reserved: list[int] = []

        def admit(self, limited: Any, units: int) -> Any:
            self.reserved.append(units)
            return super().admit(limited, units)

    ledger = Recording()
    budgets = Budgets([Budget(1)], store=ledger)
    with litellm_sync.Client(providers=TINY, cache=MemoryCache(), budgets=budgets, max_retries=0) as client:
        _embed(client, ["a long enough text to count " * 4] * 2 + ["short"])
        _embed(client, ["a long enough text to count " * 4] * 2 + ["short", "new " * 20])
    first, second = ledger.reserved
    assert 0 < second < first  # the second call sends the new text alone, and reserves for it alone
    assert sent() == [["a long enough text to count " * 4, "short"], ["new " * 20]]
