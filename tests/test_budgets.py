"""Spend budgets: refused before sending once a limit is reached, exact under 16 threads, per user, tag, model and
group, per period, unknown prices counted as unknown (and refusable), streams and failures settled."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest

import litellm_sync
from litellm_sync.budgets import Budget, Budgets, MemoryLedger
from litellm_sync.exceptions import APIConnectionError, BudgetExceededError, ConfigurationError, InternalServerError
from litellm_sync.testing import FakeProviderServer, Reply

HI = [{"role": "user", "content": "spend"}]
TOKENS = 5
CALL_COST = Decimal("0.00001")  # 5 output tokens at $2 per million; input is free in this spec


def priced(server: FakeProviderServer) -> dict[str, Any]:
    # Prices fixed here so the test knows each call's cost independently of the registry.
    return {"providers": {"priced": {
        "extends": "openai_chat", "base_url": server.url, "auth": {"env": ["PRICED_TEST_KEY"]},
        "models": {"m": {"pricing": {"input": "0", "output": "2"}}, "free-form": {}},
    }}}  # fmt: skip


def ask(client: litellm_sync.Client, model: str = "priced/m", **params: Any) -> Any:
    # max_tokens makes the reservation equal to the actual cost; x-fake-chunks makes the fake answer TOKENS tokens.
    headers = {"x-fake-chunks": str(TOKENS)}
    return client.completion(model, HI, api_key="sk-test", max_tokens=TOKENS, extra_headers=headers, **params)


def make(server: FakeProviderServer, *limits: Budget, **options: Any) -> litellm_sync.Client:
    return litellm_sync.Client(providers=priced(server), max_retries=0, budgets=Budgets(limits, **options))


def test_refused_before_sending_once_the_limit_is_reached(server: FakeProviderServer) -> None:
    with make(server, Budget(CALL_COST * 3)) as client:
        for _ in range(3):
            assert ask(client).cost == CALL_COST
        with pytest.raises(BudgetExceededError, match=r"client=\*.*nothing was sent") as info:
            ask(client, metadata={"request_id": "req-42"})
        spend = client.spend()
    assert len(server.requests) == 3  # counted at the provider
    assert info.value.request_sent is False and info.value.correlation_id == "req-42"
    assert (info.value.key, info.value.period, info.value.limit) == ("client=*", "day", CALL_COST * 3)
    assert spend.usd == CALL_COST * 3 and spend.calls == 3 and spend.unknown_calls == 0 and spend.reserved_usd == 0


def test_exact_under_16_threads(server: FakeProviderServer) -> None:
    outcomes: list[str] = []
    lock = threading.Lock()
    with make(server, Budget(CALL_COST * 10)) as client:
        start = threading.Barrier(16)

        def work() -> None:
            start.wait()
            for _ in range(3):
                try:
                    ask(client)
                    result = "ok"
                except BudgetExceededError:
                    result = "refused"
                with lock:
                    outcomes.append(result)

        threads = [threading.Thread(target=work) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        spend = client.spend()
    assert outcomes.count("ok") == 10 and outcomes.count("refused") == 38
    assert len(server.requests) == 10
    assert spend.usd == CALL_COST * 10 and spend.calls == 10 and spend.reserved_usd == 0


def test_per_user_tag_model_and_group(server: FakeProviderServer) -> None:
    limits = (Budget(CALL_COST * 2, per="user"), Budget(CALL_COST, per="tag", match="nightly"))
    with make(server, *limits) as client:
        ask(client, user="alice")
        ask(client, metadata={"user": "alice", "tags": ["batch"], "model_group": "chat"})
        with pytest.raises(BudgetExceededError, match="user=alice"):
            ask(client, user="alice")
        ask(client, user="bob")  # every user has a limit of their own
        ask(client, metadata={"tags": ["nightly", "batch"]})
        with pytest.raises(BudgetExceededError, match="tag=nightly"):
            ask(client, metadata={"tags": ["nightly"]})
        ask(client, metadata={"tags": ["batch"]})  # only the matched tag is limited
        assert client.spend(user="alice").usd == CALL_COST * 2
        assert client.spend(user="bob").calls == 1
        assert client.spend(tag="batch").usd == CALL_COST * 3
        assert client.spend(model_group="chat").calls == 1
        assert client.spend(model="priced/m").usd == CALL_COST * 5 == client.spend().usd
        assert client.spend(user="nobody").calls == 0
        with pytest.raises(ConfigurationError):
            client.spend(user="alice", tag="batch")
        with pytest.raises(ConfigurationError):
            client.spend(period="week")
    assert len(server.requests) == 5


def test_periods_roll_over(server: FakeProviderServer) -> None:
    now = [1_800_000_000.0]  # 2027-01-15 UTC
    limits = [Budget(CALL_COST * 2, period="day"), Budget(CALL_COST * 3, period="month")]
    budgets = Budgets(limits, clock=lambda: now[0])
    with litellm_sync.Client(providers=priced(server), max_retries=0, budgets=budgets) as client:
        ask(client)
        ask(client)
        with pytest.raises(BudgetExceededError, match="this day"):
            ask(client)
        now[0] += 86400  # the next day: the daily limit is fresh, the month's is not
        assert client.spend().usd == 0 and client.spend(period="month").usd == CALL_COST * 2
        ask(client)
        with pytest.raises(BudgetExceededError, match="this month"):
            ask(client)
        assert client.spend(period="total").usd == CALL_COST * 3


def test_unknown_prices_are_counted_as_unknown_and_can_be_refused(server: FakeProviderServer) -> None:
    with make(server, Budget(1)) as client:
        answer = ask(client, "priced/free-form")
        assert answer.cost is None
        spend = client.spend()
        assert (spend.usd, spend.calls, spend.unknown_calls) == (0, 1, 1)
    with make(server, Budget(1), refuse_unpriced=True) as client:
        with pytest.raises(BudgetExceededError, match="price of priced/free-form is unknown"):
            ask(client, "priced/free-form")
        ask(client)  # priced calls still go
    assert len(server.requests) == 2


def test_a_stream_holds_its_reservation_until_it_ends(server: FakeProviderServer) -> None:
    with make(server, Budget(CALL_COST * 10)) as client:
        stream = ask(client, stream=True, stream_options={"include_usage": True})
        assert client.spend().reserved_usd == CALL_COST and client.spend().calls == 0
        with stream:
            chunks = list(stream)
        assert stream.cost == CALL_COST and chunks
        spend = client.spend()
        assert (spend.usd, spend.calls, spend.reserved_usd) == (CALL_COST, 1, 0)


def test_a_failed_call_releases_its_reservation_and_spends_nothing(server: FakeProviderServer) -> None:
    server.enqueue(Reply(status=500, json={"error": {"message": "down"}}))
    with make(server, Budget(CALL_COST)) as client:
        with pytest.raises(InternalServerError):
            ask(client)
        spend = client.spend()
        assert (spend.usd, spend.calls, spend.reserved_usd) == (0, 0, 0)
        ask(client)  # the limit was not used up by the failure
        assert client.spend().usd == CALL_COST


def test_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="period"):
        Budget(1, period="week")
    with pytest.raises(ConfigurationError, match="per="):
        Budget(1, per="team")
    with pytest.raises(ConfigurationError, match="limit"):
        Budget(-1)
    with pytest.raises(ConfigurationError, match="store"):
        Budgets(store="postgres://x")
    with pytest.raises(ConfigurationError, match="budgets="):
        litellm_sync.Client(budgets={"limit": 1})
    with pytest.raises(ConfigurationError, match="counts no spend"):
        litellm_sync.Client().spend()
    assert isinstance(Budgets(store=MemoryLedger()).ledger, MemoryLedger)
    assert Budgets([Budget("0.5")]).limits[0].limit == Decimal("0.5")


def test_an_unreachable_store_refuses_rather_than_waving_through(server: FakeProviderServer) -> None:
    pytest.importorskip("redis")
    with make(server, Budget(1), store="redis://127.0.0.1:1/0") as client, pytest.raises(
        APIConnectionError, match="budget store"
    ) as info:
        ask(client)
    assert info.value.request_sent is False and len(server.requests) == 0


def test_a_router_counts_per_model_group(server: FakeProviderServer) -> None:
    from litellm_sync.router import Router

    params = {"model": "priced/m", "api_key": "sk-test", "max_tokens": TOKENS,
              "extra_headers": {"x-fake-chunks": str(TOKENS)}}
    deployments = [{"model_name": group, "litellm_params": params} for group in ("chat", "batch")]
    client_budgets = Budgets([Budget(CALL_COST, per="model_group", match="batch")])
    with litellm_sync.Client(providers=priced(server), budgets=client_budgets) as client, Router(
        deployments, client=client
    ) as router:
        router.completion("batch", HI)
        with pytest.raises(BudgetExceededError, match="model_group=batch"):
            router.completion("batch", HI)
        router.completion("chat", HI)
        assert client.spend(model_group="batch").usd == CALL_COST == client.spend(model_group="chat").usd
    assert len(server.requests) == 2


def test_a_used_up_budget_is_a_429_in_a_web_app() -> None:
    from litellm_sync.web import error_payload, http_status

    error = BudgetExceededError("budget reached for user=alice", key="user=alice", period="day")
    assert http_status(error) == 429
    assert error_payload(error)["error"]["type"] == "BudgetExceededError"


# The collector may finalize the dropped stream's socket (with a ResourceWarning) before the stream closes it.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_stream_dropped_unclosed_gives_its_reservation_back(server: FakeProviderServer) -> None:
    import gc

    with make(server, Budget(CALL_COST * 10)) as client:
        stream = ask(client, stream=True)
        next(iter(stream))
        assert client.spend().reserved_usd == CALL_COST
        del stream
        gc.collect()
        ask(client)  # the next call settles the dropped one: a call of unknown cost, its reservation released
        spend = client.spend()
        assert (spend.calls, spend.unknown_calls, spend.reserved_usd, spend.usd) == (2, 1, 0, CALL_COST)
