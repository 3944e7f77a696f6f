"""The Router's shared state on a real Redis: several processes enforce one rpm limit exactly and see each other's
cooldowns; Redis stopped mid-run is survived on local state and rejoined when it returns.

Each test module run starts its own redis-server on a free loopback port. Without redis-server or the redis
package these tests skip, except under CI (the CI variable set), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from litellm_sync.exceptions import InternalServerError
from litellm_sync.router import Router, RouterRateLimitError
from litellm_sync.testing import FakeProviderServer, Reply

HI = [{"role": "user", "content": "hello"}]
NOW = 1_800_000_000.0  # every process shares this frozen clock: one rate window for the whole test


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI (see .ci/run)")
    pytest.skip(f"{what} is not available")


class RedisServer:
    """A redis-server child process on a fixed loopback port, restartable."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            _missing("redis-server")
        self.binary = str(binary)
        self.directory = directory
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


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


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as server:
        yield server


@pytest.fixture
def provider(fake: FakeProviderServer) -> FakeProviderServer:
    fake.clear()
    return fake


@pytest.fixture
def namespace() -> str:
    return "test-" + uuid.uuid4().hex[:8]


def model_list(server: FakeProviderServer, **params: Any) -> list[dict[str, Any]]:
    return [{
        "model_name": "chat",
        "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "sk-x", "api_base": server.url, **params},
        "model_info": {"id": "shared-deployment"},
    }]  # fmt: skip


WORKER = textwrap.dedent("""
    import json, os, sys, time
    from litellm_sync.router import Router, RouterRateLimitError
    url, namespace, base, calls, go = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    router = Router([{"model_name": "chat", "model_info": {"id": "shared-deployment"},
                      "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "sk-x", "api_base": base,
                                         "rpm": 20}}],
                    state=url, namespace=namespace, clock=lambda: %(now)r, num_retries=0)
    deadline = time.monotonic() + 20
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.005)
    outcome = {"ok": 0, "limited": 0, "cooling": 0, "local": 0}
    for _ in range(calls):
        try:
            router.completion("chat", [{"role": "user", "content": "hi"}])
            outcome["ok"] += 1
        except RouterRateLimitError as error:
            outcome["cooling" if "cooling down" in str(error) else "limited"] += 1
    outcome["local"] = int(not router.state.redis_up)
    print(json.dumps(outcome))
""") % {"now": NOW}


def _spawn(args: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[1]),
                                                                     os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-c", WORKER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def _results(processes: list[subprocess.Popen[str]]) -> list[dict[str, int]]:
    results = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_four_processes_enforce_one_rpm_and_share_cooldowns(
    redis_server: RedisServer, provider: FakeProviderServer, namespace: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    processes = [_spawn([redis_server.url, namespace, provider.url, "10", str(go)]) for _ in range(4)]
    go.touch()
    results = _results(processes)
    assert sum(r["ok"] for r in results) == 20  # 40 tries, one limit of 20 a minute
    assert sum(r["limited"] for r in results) == 20
    assert len(provider.requests) == 20  # counted where it matters: at the provider
    assert not any(r["local"] for r in results)

    # This process makes the deployment fail past allowed_fails; the other processes see the cooldown.
    provider.clear()
    down = Reply(status=500, json={"error": {"message": "down"}})
    provider.enqueue(down, down)
    router = Router(model_list(provider), state=redis_server.url, namespace=namespace + "-cd", clock=lambda: NOW,
                    num_retries=0, allowed_fails=1, cooldown_time=120)
    with router:
        for _ in range(2):
            with pytest.raises(InternalServerError, match="down"):
                router.completion("chat", HI)
        assert router.stats("shared-deployment")["cooldown"] == 120
    processes = [_spawn([redis_server.url, namespace + "-cd", provider.url, "3", str(go)]) for _ in range(3)]
    results = _results(processes)
    assert [r["cooling"] for r in results] == [3, 3, 3]
    assert len(provider.requests) == 2


def test_two_routers_share_counts(redis_server: RedisServer, provider: FakeProviderServer, namespace: str) -> None:
    first = Router(model_list(provider, rpm=3), state=redis_server.url, namespace=namespace, clock=lambda: NOW)
    second = Router(model_list(provider, rpm=3), state=redis_server.url, namespace=namespace, clock=lambda: NOW)
    with first, second:
        first.completion("chat", HI)
        second.completion("chat", HI)
        first.completion("chat", HI)
        with pytest.raises(RouterRateLimitError):
            second.completion("chat", HI)
        first.state.flush()  # successes settle in the background
        stats = second.stats("shared-deployment")
        assert (stats["rpm"], stats["inflight"]) == (3, 0)
        assert stats["tpm"] == 3 * 3  # actual usage: 1 prompt + 2 completion tokens a call
        assert stats["latency"] > 0


def test_strategies_read_live_metrics_from_redis(
    redis_server: RedisServer, provider: FakeProviderServer, namespace: str
) -> None:
    deployments = [
        {"model_name": "chat", "model_info": {"id": name},
         "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "sk-x", "api_base": provider.url}}
        for name in ("one", "two")
    ]  # fmt: skip
    with Router(deployments, state=redis_server.url, namespace=namespace, routing_strategy="least-busy") as router:
        held = router.completion("chat", HI, stream=True)
        busy = "one" if router.stats("one")["inflight"] == 1 else "two"
        free = {"one", "two"} - {busy}
        assert router.stats(busy)["inflight"] == 1
        for _ in range(3):
            with router.completion("chat", HI, stream=True) as stream:
                list(stream)
            router.state.flush()  # successes settle in the background; the next decision must see this one
        assert router.stats(next(iter(free)))["rpm"] == 3
        held.close()
        assert router.stats(busy)["inflight"] == 0


def test_redis_stopped_mid_run_and_restarted(
    redis_server: RedisServer, provider: FakeProviderServer, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    router = Router(model_list(provider, rpm=1000), state=redis_server.url, namespace=namespace)
    router.state.retry_interval = 0.05  # type: ignore[attr-defined]
    with router, caplog.at_level("WARNING", logger="litellm_sync"):
        router.completion("chat", HI)
        assert router.stats("shared-deployment")["rpm"] == 1
        redis_server.stop()
        try:
            for _ in range(5):  # served on local state; logged once
                router.completion("chat", HI)
                time.sleep(0.02)
            assert router.state.redis_up is False  # type: ignore[attr-defined]
            unreachable = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
            assert len(unreachable) == 1
        finally:
            redis_server.start()
        deadline = time.monotonic() + 10
        while not router.state.redis_up and time.monotonic() < deadline:  # type: ignore[attr-defined]
            router.completion("chat", HI)
            time.sleep(0.02)
        assert router.state.redis_up  # type: ignore[attr-defined]
        before = router.stats("shared-deployment")["rpm"]
        router.completion("chat", HI)
        assert router.stats("shared-deployment")["rpm"] == before + 1  # counted in Redis again
        assert any("Redis is back" in r.getMessage() for r in caplog.records)
    assert len(provider.requests) >= 8


def test_a_new_process_gets_a_new_connection_pool(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch, namespace: str
) -> None:
    from litellm_sync._router import redis_state

    state = redis_state.RedisState(redis_server.url, namespace)
    state.stats("x", NOW)
    parent_client = state._client
    monkeypatch.setattr(redis_state.os, "getpid", lambda: -12345)  # as a forked child sees it
    assert state.stats("x", NOW)["rpm"] == 0
    assert state._client is not parent_client
    monkeypatch.undo()
    parent_client.close()
    state.close()


class SentCommands:
    """Counts round trips to Redis from this process: every packed command (or pipeline) written to a socket."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import redis.connection

        self.names: list[str] = []
        original = redis.connection.AbstractConnection.send_packed_command

        def counted(connection: Any, command: Any, check_health: bool = True) -> None:
            first = command[0] if isinstance(command, list) else command
            self.names.append(bytes(first).split(b"\r\n")[2].decode().upper())  # *N, $len, NAME
            original(connection, command, check_health)

        monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)


def test_a_call_is_one_round_trip(
    redis_server: RedisServer, provider: FakeProviderServer, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    router = Router(model_list(provider, rpm=1000), state=redis_server.url, namespace=namespace, clock=lambda: NOW)
    router.state.settle_delay = 3600.0  # type: ignore[attr-defined]  # nothing is sent alone during the test
    other = redis.Redis.from_url(redis_server.url)
    other.ping()
    with router:
        router.completion("chat", HI)  # connects, loads the script
        sent = SentCommands(monkeypatch)
        for _ in range(10):
            router.completion("chat", HI)
        # each call: one EVALSHA that settles the previous call and reserves this one
        assert sent.names == ["EVALSHA"] * 10
        other.script_flush()  # as a restarted server, it has lost the script
        router.completion("chat", HI)
        assert sent.names[10:] == ["SCRIPT", "EVALSHA", "EVAL"]  # NOSCRIPT: EVAL once, EVALSHA works again after
        router.completion("chat", HI)
        assert sent.names[13:] == ["EVALSHA"]
        router.state.flush()  # the last call's settlement, alone
        assert sent.names[14:] == ["EVALSHA"]
        stats = router.stats("shared-deployment")
    assert (stats["rpm"], stats["inflight"], stats["tpm"]) == (13, 0, 13 * 3)  # 3 tokens a call, all settled
    assert len(provider.requests) == 13


def test_settlements_no_call_carries_are_sent_alone(
    redis_server: RedisServer, provider: FakeProviderServer, namespace: str
) -> None:
    import redis

    router = Router(model_list(provider), state=redis_server.url, namespace=namespace, clock=lambda: NOW)
    router.state.settle_delay = 0.01  # type: ignore[attr-defined]
    direct = redis.Redis.from_url(redis_server.url)
    with router:
        with router.completion("chat", HI, stream=True) as stream:
            list(stream)
        deadline = time.monotonic() + 10
        while direct.get(f"{namespace}:busy:shared-deployment") != b"0" and time.monotonic() < deadline:
            time.sleep(0.01)  # no other call comes: the background thread settles it
        assert direct.get(f"{namespace}:busy:shared-deployment") == b"0"
