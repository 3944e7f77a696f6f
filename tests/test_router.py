"""The Router end to end against fake provider servers: fallbacks, retries, cooldowns, strategies, pre-call checks,
rate limits, streams, threads, hooks. Time is a fake clock: sleeping advances it, nothing really waits."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

import litellm_sync
from litellm_sync.exceptions import (
    ContextWindowExceededError,
    InternalServerError,
    RateLimitError,
    ServiceUnavailableError,
    UnsupportedParamsError,
)
from litellm_sync.router import Router, RouterEvent, RouterRateLimitError
from litellm_sync.state import Candidate, Grant, GroupLimit
from litellm_sync.testing import FakeProviderServer, Reply

HI = [{"role": "user", "content": "hello there"}]
Fakes = tuple[FakeProviderServer, ...]


class FakeClock:
    """Wall time that moves only when told to (or when the Router sleeps)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeProviderServer, ...]]:
    with FakeProviderServer() as a, FakeProviderServer() as b, FakeProviderServer() as c:
        yield a, b, c


@pytest.fixture
def fakes(servers: tuple[FakeProviderServer, ...]) -> tuple[FakeProviderServer, ...]:
    for server in servers:
        server.clear()
    return servers


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def deployment(group: str, model: str, server: FakeProviderServer, **params: Any) -> dict[str, Any]:
    info = params.pop("model_info", {})
    return {
        "model_name": group,
        "litellm_params": {"model": model, "api_key": "sk-secret-" + group, "api_base": server.url, **params},
        "model_info": info,
    }


def make_router(clock: FakeClock, model_list: list[dict[str, Any]], **settings: Any) -> Router:
    settings.setdefault("seed", 7)
    return Router(model_list, clock=clock, sleep=clock.sleep, **settings)


def hits(server: FakeProviderServer) -> int:
    return len(server.requests)


def fail(status: int, message: str = "boom", **headers: str) -> Reply:
    return Reply(status=status, json={"error": {"message": message, "type": "server_error"}}, headers=headers)


# ---------------------------------------------------------------------------------------------------------
# Fallbacks and retries


@pytest.mark.parametrize("failure", ["500", "429", "timeout"])
def test_fallback_across_providers(fakes: Fakes, clock: FakeClock, failure: str) -> None:
    a, b, _ = fakes
    reply = {"500": fail(500), "429": fail(429, "slow down"), "timeout": Reply(json={"late": True}, delay=0.5)}[failure]
    a.enqueue(reply, reply)
    router = make_router(
        clock,
        [deployment("chat", "openai/gpt-4o-mini", a, timeout=0.1),
         deployment("backup", "anthropic/claude-haiku-4-5", b)],
        fallbacks=[{"chat": ["backup"]}],
        num_retries=1,
    )
    with router:
        response = router.completion("chat", HI)
    assert response.provider == "anthropic"
    assert response.choices[0].message.content == "Echo: hello there"
    assert hits(a) == 2  # the first try and one retry (the only deployment: it had failed already)
    assert hits(b) == 1


def test_retry_goes_to_a_deployment_that_has_not_failed(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    a.enqueue(fail(500))
    b.enqueue(fail(500))
    router = make_router(
        clock, [deployment("chat", "openai/gpt-4o-mini", a), deployment("chat", "openai/gpt-4o-mini", b)],
        num_retries=1,
    )
    with pytest.raises(InternalServerError), router:
        router.completion("chat", HI)
    assert (hits(a), hits(b)) == (1, 1)  # the retry went to the other one, whichever came first
    assert clock.sleeps == []  # a fresh deployment is tried at once


def test_non_retryable_error_is_not_retried_but_falls_back(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    a.enqueue(fail(401, "bad key"))
    router = make_router(
        clock,
        [deployment("chat", "openai/gpt-4o-mini", a), deployment("backup", "anthropic/claude-haiku-4-5", b)],
        fallbacks={"chat": ["backup"]},
    )
    with router:
        assert router.completion("chat", HI).provider == "anthropic"
    assert hits(a) == 1


def test_retry_policy_per_exception_class(fakes: Fakes, clock: FakeClock) -> None:
    a, _, _ = fakes
    a.enqueue(fail(429), fail(429), fail(429), fail(500))
    router = make_router(clock, [deployment("chat", "openai/gpt-4o-mini", a)], num_retries=0, allowed_fails=10,
                         retry_policy={"RateLimitErrorRetries": 3})
    with pytest.raises(InternalServerError), router:
        router.completion("chat", HI)
    assert hits(a) == 4  # three 429s retried, then the 500 gets num_retries=0


def test_context_window_fallback_on_provider_error(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    a.enqueue(Reply(status=400, json={"error": {"message": "too long", "code": "context_length_exceeded"}}))
    router = make_router(
        clock,
        [deployment("small", "openai/gpt-4o-mini", a), deployment("large", "anthropic/claude-sonnet-4-5", b)],
        context_window_fallbacks=[{"small": ["large"]}],
    )
    with router:
        assert router.completion("small", HI).provider == "anthropic"
    assert (hits(a), hits(b)) == (1, 1)  # a context-window error is not retried on the same group


def test_context_window_pre_call_check(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    long_prompt = [{"role": "user", "content": "word " * 400}]
    router = make_router(
        clock,
        [
            deployment("chat", "openai/gpt-4o-mini", a, model_info={"max_input_tokens": 100}),
            deployment("chat", "openai/gpt-4o", b),
            deployment("tiny", "openai/gpt-4o-mini", a, model_info={"max_input_tokens": 100, "id": "tiny"}),
        ],
        context_window_fallbacks=[{"tiny": ["chat"]}],
    )
    with router:
        for _ in range(5):
            router.completion("chat", long_prompt)
        assert (hits(a), hits(b)) == (0, 5)  # the small window was skipped, never sent to
        assert router.completion("tiny", long_prompt).model == "gpt-4o"  # nothing fits: falls back, not sent
        assert hits(a) == 0
        with pytest.raises(ContextWindowExceededError, match="context window of 100"):
            router.completion("tiny", long_prompt, fallbacks=[])


def test_content_policy_fallback(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    a.enqueue(Reply(status=400, json={"error": {"message": "no", "code": "content_policy_violation"}}))
    router = make_router(
        clock,
        [deployment("strict", "openai/gpt-4o-mini", a), deployment("lenient", "anthropic/claude-haiku-4-5", b)],
        content_policy_fallbacks=[{"strict": ["lenient"]}],
    )
    with router:
        assert router.completion("strict", HI).provider == "anthropic"


def test_required_features_skip_deployments(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    image = [{"role": "user", "content": [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ]}]  # fmt: skip
    router = make_router(
        clock, [deployment("chat", "deepseek/deepseek-chat", a), deployment("chat", "openai/gpt-4o-mini", b)]
    )
    with router:
        for _ in range(4):
            router.completion("chat", image)
        assert (hits(a), hits(b)) == (0, 4)
        router_text = make_router(clock, [deployment("text", "deepseek/deepseek-chat", a)])
        with pytest.raises(UnsupportedParamsError, match="vision"):
            router_text.completion("text", image)


# ---------------------------------------------------------------------------------------------------------
# Cooldowns


def test_cooldown_after_allowed_fails_and_recovery(fakes: Fakes, clock: FakeClock) -> None:
    a, _, _ = fakes
    a.enqueue(fail(500), fail(500))
    events: list[Any] = []
    router = make_router(clock, [deployment("chat", "openai/gpt-4o-mini", a)], num_retries=0, allowed_fails=1,
                         cooldown_time=10, hooks=[events.append])
    with router:
        for _ in range(2):
            with pytest.raises(InternalServerError):
                router.completion("chat", HI)
        assert [e.kind for e in events if isinstance(e, RouterEvent) and e.kind == "cooldown"] == ["cooldown"]
        with pytest.raises(RouterRateLimitError, match="cooling down") as caught:
            router.completion("chat", HI)
        assert caught.value.retry_after == pytest.approx(10)
        assert hits(a) == 2  # nothing sent while cooling down
        clock.now += 9.9
        with pytest.raises(RouterRateLimitError):
            router.completion("chat", HI)
        clock.now += 0.2
        assert router.completion("chat", HI).choices[0].message.content == "Echo: hello there"
        assert hits(a) == 3


def test_retry_after_sets_the_cooldown(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    a.enqueue(fail(429, "slow down", **{"Retry-After": "40"}))
    router = make_router(clock, [deployment("chat", "openai/gpt-4o-mini", a, order=1),
                                 deployment("chat", "anthropic/claude-haiku-4-5", b, order=2)], cooldown_time=5)
    with router:
        assert router.completion("chat", HI).provider == "anthropic"  # retried on the other one, no wait
        clock.now += 39
        assert router.completion("chat", HI).provider == "anthropic"  # a still rests (order would pick it)
        clock.now += 2
        assert router.completion("chat", HI).provider == "openai"
    assert clock.sleeps == []


# ---------------------------------------------------------------------------------------------------------
# Strategies


def _spread(router: Router, calls: int, group: str = "chat") -> dict[str, int]:
    counts: dict[str, int] = {}
    for _ in range(calls):
        response = router.completion(group, HI)
        counts[response.model] = counts.get(response.model, 0) + 1
    return counts


def test_simple_shuffle_follows_weights(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    router = make_router(clock, [deployment("chat", "openai/gpt-4o-mini", a, weight=9),
                                 deployment("chat", "openai/gpt-4o", b, weight=1)])
    with router:
        counts = _spread(router, 200)
    assert counts["gpt-4o-mini"] > 150 and counts["gpt-4o"] > 5  # 9:1, seeded


def test_simple_shuffle_uses_rpm_as_weights(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    router = make_router(clock, [deployment("chat", "openai/gpt-4o-mini", a, rpm=1000),
                                 deployment("chat", "openai/gpt-4o", b, rpm=100)])
    with router:
        counts = _spread(router, 100)
    assert counts["gpt-4o-mini"] > 75 and counts["gpt-4o"] > 1


def test_order_priorities(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    router = make_router(clock, [deployment("chat", "openai/gpt-4o", b, order=2),
                                 deployment("chat", "openai/gpt-4o-mini", a, order=1, rpm=3)])
    with router:
        assert _spread(router, 5) == {"gpt-4o-mini": 3, "gpt-4o": 2}  # order 2 only once order 1 is full


def test_cost_based_routing(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    router = make_router(clock, [deployment("chat", "openai/gpt-4o", a), deployment("chat", "openai/gpt-4o-mini", b),
                                 deployment("chat", "openai/gpt-4.1", a)], routing_strategy="cost-based-routing")
    with router:
        assert _spread(router, 6) == {"gpt-4o-mini": 6}


def test_least_busy(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    router = make_router(clock, [deployment("chat", "openai/gpt-4o-mini", a), deployment("chat", "openai/gpt-4o", b)],
                         routing_strategy="least-busy")
    with router:
        held = [router.completion("chat", HI, stream=True) for _ in range(4)]  # open streams count as in flight
        assert sorted(s.model for s in held) == ["gpt-4o", "gpt-4o", "gpt-4o-mini", "gpt-4o-mini"]
        busy_model = held[0].model
        for stream in held[1:]:
            stream.close()
        assert {router.completion("chat", HI).model for _ in range(3)} == ({"gpt-4o", "gpt-4o-mini"} - {busy_model})
        held[0].close()


def test_latency_based_routing(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    router = make_router(clock, [deployment("chat", "openai/gpt-4o-mini", a), deployment("chat", "openai/gpt-4o", b)],
                         routing_strategy="latency-based-routing")
    slow, fast = (d.id for d in router.model_groups["chat"])
    with router:
        router.state.release(slow, GroupLimit("chat"), Grant(-1), clock(), latency=0.8)
        router.state.release(fast, GroupLimit("chat"), Grant(-1), clock(), latency=0.05)
        assert _spread(router, 5) == {"gpt-4o": 5}
        stream = router.completion("chat", HI, stream=True)
        list(stream)
        assert 0 < router.stats(fast)["latency"] < 0.05  # the stream's time to first token joined the average


def test_latency_buffer_spreads_near_equals(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    router = make_router(clock, [deployment("chat", "openai/gpt-4o-mini", a), deployment("chat", "openai/gpt-4o", b)],
                         routing_strategy="latency-based-routing",
                         routing_strategy_args={"lowest_latency_buffer": 0.5})
    first, second = (d.id for d in router.model_groups["chat"])
    with router:
        router.state.release(first, GroupLimit("chat"), Grant(-1), clock(), latency=10.0)
        router.state.release(second, GroupLimit("chat"), Grant(-1), clock(), latency=12.0)
        pinned = router.model_groups["chat"]
        counts = {}
        for _ in range(40):
            grant = router.state.acquire([Candidate(d.id) for d in pinned[::-1]], GroupLimit("chat"), 1, clock(),
                                         "latency", 0.5)
            counts[grant.index] = counts.get(grant.index, 0) + 1
        assert counts == {0: 40}  # within the buffer: the given (shuffled) order decides, not the 2 s gap


def test_usage_based_routing(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    router = make_router(clock, [deployment("chat", "openai/gpt-4o-mini", a, tpm=100_000),
                                 deployment("chat", "openai/gpt-4o", b, tpm=100_000)],
                         routing_strategy="usage-based-routing-v2")
    heavy = router.model_groups["chat"][0].id
    with router:
        router.state.acquire([Candidate(heavy)], GroupLimit("chat"), 5000, clock())
        assert _spread(router, 5) == {"gpt-4o": 5}
        assert router.stats(router.model_groups["chat"][1].id)["tpm"] == 5 * 5  # actual usage, not the estimate (7)


# ---------------------------------------------------------------------------------------------------------
# Rate limits


def test_rpm_limit_raises_locally(fakes: Fakes, clock: FakeClock) -> None:
    a, _, _ = fakes
    router = make_router(clock, [deployment("chat", "openai/gpt-4o-mini", a, rpm=2)])
    with router:
        router.completion("chat", HI)
        router.completion("chat", HI)
        with pytest.raises(RateLimitError, match="rpm/tpm limit"):
            router.completion("chat", HI)
        assert hits(a) == 2
        clock.now += 60  # the next minute
        router.completion("chat", HI)
    assert hits(a) == 3


def test_rate_limit_wait_waits_for_the_next_window(fakes: Fakes, clock: FakeClock) -> None:
    a, _, _ = fakes
    clock.now = 1_800_000_030.0  # half-way through a minute
    events: list[Any] = []
    router = make_router(clock, [deployment("chat", "openai/gpt-4o-mini", a, rpm=1)], rate_limit_wait=45,
                         hooks=[events.append])
    with router:
        router.completion("chat", HI)
        router.completion("chat", HI)
    assert clock.sleeps == [pytest.approx(30)]
    assert [e.kind for e in events if isinstance(e, RouterEvent)].count("rate_limit_wait") == 1


def test_group_limit(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    router = make_router(clock, [deployment("chat", "openai/gpt-4o-mini", a), deployment("chat", "openai/gpt-4o", b)],
                         group_limits={"chat": {"rpm": 3}})
    with router:
        _spread(router, 3)
        with pytest.raises(RouterRateLimitError):
            router.completion("chat", HI)
    assert hits(a) + hits(b) == 3


def test_32_threads_exact_rpm(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    router = make_router(clock, [deployment("chat", "openai/gpt-4o-mini", a, rpm=25),
                                 deployment("chat", "openai/gpt-4o", b, rpm=15)])
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(32)

    def worker() -> None:
        start.wait()
        for _ in range(2):
            try:
                router.completion("chat", HI)
                result = "ok"
            except RouterRateLimitError:
                result = "limited"
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=worker) for _ in range(32)]
    with router:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ids = [d.id for d in router.model_groups["chat"]]
        assert [router.stats(i)["rpm"] for i in ids] == [25, 15]
        assert [router.stats(i)["inflight"] for i in ids] == [0, 0]
    assert outcomes.count("ok") == 40 and outcomes.count("limited") == 24
    assert (hits(a), hits(b)) == (25, 15)


# ---------------------------------------------------------------------------------------------------------
# Streams


def test_stream_failing_before_first_chunk_falls_back(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    a.enqueue(fail(503))
    router = make_router(clock, [deployment("chat", "openai/gpt-4o-mini", a),
                                 deployment("backup", "anthropic/claude-haiku-4-5", b)],
                         fallbacks=[{"chat": ["backup"]}], num_retries=0)
    with router, router.completion("chat", HI, stream=True) as stream:
        assert isinstance(stream, litellm_sync.ChatStream)
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Echo: hello there" and stream.provider == "anthropic"


def test_stream_failing_after_first_chunk_raises(fakes: Fakes, clock: FakeClock) -> None:
    a, b, _ = fakes
    head = '{"id":"x","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,'
    a.enqueue(Reply(events=[
        f'data: {head}"delta":{{"role":"assistant","content":"Hel"}},"finish_reason":null}}]}}\n\n',
        'data: {"error": {"message": "overloaded", "code": 503}}\n\n',
    ]))  # fmt: skip
    router = make_router(clock, [deployment("chat", "openai/gpt-4o-mini", a),
                                 deployment("backup", "anthropic/claude-haiku-4-5", b)],
                         fallbacks=[{"chat": ["backup"]}], allowed_fails=0)
    with router:
        stream = router.completion("chat", HI, stream=True)
        with pytest.raises(ServiceUnavailableError, match="overloaded"):
            list(stream)
        assert hits(b) == 0
        assert router.stats(router.model_groups["chat"][0].id)["cooldown"] == 5.0  # the failure counted


# ---------------------------------------------------------------------------------------------------------
# Observability and secrets


def test_hooks_hear_every_decision(fakes: Fakes, clock: FakeClock,
                                   caplog: pytest.LogCaptureFixture) -> None:
    a, b, _ = fakes
    a.enqueue(fail(500), fail(500))
    events: list[Any] = []
    router = make_router(clock, [deployment("chat", "openai/gpt-4o-mini", a),
                                 deployment("backup", "anthropic/claude-haiku-4-5", b)],
                         fallbacks=[{"chat": ["backup"]}], num_retries=1, allowed_fails=1, hooks=[events.append])
    with caplog.at_level("DEBUG", logger="litellm_sync"), router:
        router.completion("chat", HI)
    kinds = [e.kind if isinstance(e, RouterEvent) else "call" for e in events]
    assert kinds == ["route", "call", "retry", "route", "call", "cooldown", "fallback", "route", "call"]
    call_ids = {e.call_id for e in events if isinstance(e, RouterEvent)}
    assert len(call_ids) == 1
    (call_id,) = call_ids
    assert sum(f"router[{call_id}]" in r.getMessage() for r in caplog.records) == 6
    assert "sk-secret" not in caplog.text and "sk-secret" not in repr(router) and "sk-secret" not in repr(events)


def test_stream_calls_reach_hooks_once_when_they_end(fakes: Fakes, clock: FakeClock) -> None:
    a, _, _ = fakes
    events: list[Any] = []
    router = make_router(clock, [deployment("chat", "openai/gpt-4o-mini", a, tpm=1000)], hooks=[events.append])
    with router:
        with router.completion("chat", HI, stream=True) as stream:
            assert [e for e in events if isinstance(e, litellm_sync.CallEvent)] == []  # not before the end
            list(stream)
        calls = [e for e in events if isinstance(e, litellm_sync.CallEvent)]
        assert len(calls) == 1 and calls[0].stream and calls[0].complete
        assert calls[0].response is not None and calls[0].response.usage.total_tokens == 5
        stats = router.stats(router.model_groups["chat"][0].id)
    assert (stats["inflight"], stats["tpm"]) == (0, 5)


def test_the_hook_contract_one_call_event_per_attempt_one_router_event_per_decision(
    fakes: Fakes, clock: FakeClock
) -> None:
    from litellm_sync.cache import MemoryCache

    a, b, _ = fakes
    a.enqueue(fail(500))
    events: list[Any] = []
    model_list = [deployment("chat", "openai/gpt-4o-mini", a, order=1, model_info={"id": "first"}),
                  deployment("chat", "openai/gpt-4o-mini", b, order=2, model_info={"id": "second"})]
    with make_router(clock, model_list, num_retries=1, hooks=[events.append], cache=MemoryCache()) as router:
        router.completion("chat", HI)  # fails on "first", retried on "second"
        router.completion("chat", HI)  # a cache hit: no decision, one CallEvent
        with router.completion("chat", [{"role": "user", "content": "stream"}], stream=True) as stream:
            opened = len(events)
            list(stream)
    described = [
        (e.kind, e.deployment) if isinstance(e, RouterEvent)
        else ("call", e.metadata["deployment"], e.outcome) for e in events
    ]
    assert described == [
        ("route", "first"), ("call", "first", "error"), ("retry", "first"), ("route", "second"),
        ("call", "second", "success"),
        ("call", "first", "cache_hit"),
        ("route", "first"), ("call", "first", "success"),
    ]
    assert isinstance(events[opened - 1], RouterEvent)  # a stream's route comes when it opens, its call when it ends
    ids = [e.correlation_id for e in events]
    assert len(set(ids[:5])) == 1 and len(set(ids)) == 3  # one id per Router call, on both kinds of event
    assert all(e.call_id == e.correlation_id for e in events if isinstance(e, RouterEvent))
    assert (hits(a), hits(b)) == (2, 1)


def test_a_given_request_id_is_the_router_calls_id_in_events_and_log_records(
    fakes: Fakes, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    a, b, _ = fakes
    a.enqueue(fail(500))
    events: list[Any] = []
    router = make_router(clock, [deployment("chat", "openai/gpt-4o-mini", a),
                                 deployment("backup", "anthropic/claude-haiku-4-5", b)],
                         fallbacks=[{"chat": ["backup"]}], num_retries=0, hooks=[events.append])
    with caplog.at_level("DEBUG", logger="litellm_sync"), router:
        router.completion("chat", HI, metadata={"request_id": "web-req-42", "user": "ann"})
        router.completion("chat", HI)
    first = [e for e in events if e.correlation_id == "web-req-42"]
    assert [e.kind if isinstance(e, RouterEvent) else "call" for e in first] == [
        "route", "call", "fallback", "route", "call"]
    assert all(e.metadata["user"] == "ann" for e in first if isinstance(e, litellm_sync.CallEvent))
    generated = {e.correlation_id for e in events} - {"web-req-42"}
    assert len(generated) == 1  # the second call: one generated id on all its events
    routed = [r for r in caplog.records if r.getMessage().startswith("router[")]
    assert {r.correlation_id for r in routed} == {"web-req-42", *generated}  # type: ignore[attr-defined]
    assert all(f"router[{r.correlation_id}]" in r.getMessage() for r in routed)  # type: ignore[attr-defined]
