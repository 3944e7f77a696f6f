"""Budgets in Redis: two processes share one limit exactly (calls counted at the provider) and one ledger.
Skips without redis-server or the redis package, fails under CI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from test_budgets import CALL_COST, ask, priced
from test_router_redis import RedisServer, _missing

import litellm_sync
from litellm_sync.budgets import Budget, Budgets
from litellm_sync.testing import FakeProviderServer


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    try:
        import redis  # noqa: F401
    except ImportError:
        _missing("the redis package (pip install 'litellm_sync[redis]')")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


WORKER = textwrap.dedent("""
    import json, os, sys, time
    from decimal import Decimal
    import litellm_sync
    from litellm_sync.budgets import Budget, Budgets
    from litellm_sync.exceptions import BudgetExceededError
    from test_budgets import CALL_COST, ask, priced
    from litellm_sync.testing import FakeProviderServer
    url, namespace, base, go = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]

    class Server:  # what priced() reads from the fake server
        url = base

    budgets = Budgets([Budget(CALL_COST * 10)], store=url, namespace=namespace)
    client = litellm_sync.Client(providers=priced(Server), max_retries=0, budgets=budgets)
    deadline = time.monotonic() + 20
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.005)
    outcome = {"ok": 0, "refused": 0}
    for _ in range(12):
        try:
            ask(client)
            outcome["ok"] += 1
        except BudgetExceededError:
            outcome["refused"] += 1
    print(json.dumps(outcome))
""")


def _spawn(*args: str) -> subprocess.Popen[str]:
    here = Path(__file__).parent
    path = [str(here.parent), str(here), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path))}
    return subprocess.Popen([sys.executable, "-c", WORKER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def test_two_processes_share_one_limit_exactly(
    redis_server: RedisServer, server: FakeProviderServer, tmp_path: Path
) -> None:
    namespace = "test-" + uuid.uuid4().hex[:8]
    go = tmp_path / "go"
    processes = [_spawn(redis_server.url, namespace, server.url, str(go)) for _ in range(2)]
    go.touch()
    results = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sum(r["ok"] for r in results) == 10 and sum(r["refused"] for r in results) == 14
    assert len(server.requests) == 10
    budgets = Budgets([Budget(CALL_COST * 10)], store=redis_server.url, namespace=namespace)
    with litellm_sync.Client(providers=priced(server), max_retries=0, budgets=budgets) as client:
        spend = client.spend()
        assert (spend.usd, spend.calls, spend.reserved_usd) == (CALL_COST * 10, 10, Decimal(0))
        assert client.spend(model="priced/m", period="month").usd == CALL_COST * 10
    budgets.close()


def test_redis_ledger_counts_unknown_prices_and_users(redis_server: RedisServer, server: FakeProviderServer) -> None:
    namespace = "test-" + uuid.uuid4().hex[:8]
    budgets = Budgets([Budget(CALL_COST, per="user")], store=redis_server.url, namespace=namespace)
    with litellm_sync.Client(providers=priced(server), max_retries=0, budgets=budgets) as client:
        ask(client, user="alice")
        with pytest.raises(litellm_sync.exceptions.BudgetExceededError, match="user=alice"):
            ask(client, user="alice")
        ask(client, "priced/free-form", user="bob")
        bob = client.spend(user="bob")
        assert (bob.usd, bob.calls, bob.unknown_calls) == (0, 1, 1)
        assert client.spend(user="alice").usd == CALL_COST
    budgets.close()
