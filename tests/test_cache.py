"""Response cache: a hit sends nothing and costs nothing, streams replay their chunks, per-call options, keys
without secrets, bad entries as misses, LRU and TTL bounds, the disk backend."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import litellm_sync
from litellm_sync.cache import DiskCache, MemoryCache, cache_key
from litellm_sync.exceptions import ConfigurationError
from litellm_sync.testing import FakeProviderServer, Reply

MODEL = "openai/gpt-4o-mini"
HI = [{"role": "user", "content": "what is cached"}]
KEY = "sk-test-cache-secret-0123456789"


@pytest.fixture()
def events() -> list[litellm_sync.CallEvent]:
    return []


@pytest.fixture()
def cache() -> MemoryCache:
    return MemoryCache(maxsize=16, ttl=600)


@pytest.fixture()
def client(cache: MemoryCache, events: list[Any]) -> Any:
    with litellm_sync.Client(max_retries=0, cache=cache, hooks=[events.append]) as made:
        yield made


def call(client: litellm_sync.Client, server: FakeProviderServer, **params: Any) -> Any:
    params.setdefault("api_key", KEY)
    return client.completion(MODEL, params.pop("messages", HI), api_base=server.url, **params)


def test_a_hit_sends_nothing_costs_nothing_and_hooks_see_it(
    client: litellm_sync.Client, server: FakeProviderServer, events: list[Any]
) -> None:
    first = call(client, server)
    assert first.cache_hit is False and first.cost is not None and first.cost > 0
    second = call(client, server)
    assert len(server.requests) == 1  # counted at the provider
    assert second.cache_hit is True
    assert second.content == first.content and second.usage == first.usage and second.id == first.id
    assert second.cost == Decimal(0)
    assert [e.cache_hit for e in events] == [False, True]
    assert events[1].cost == 0 and events[1].outcome == "cache_hit" and events[1].response is second
    assert events[0].correlation_id != events[1].correlation_id


def test_what_changes_the_answer_changes_the_key_and_what_does_not_does_not(
    client: litellm_sync.Client, server: FakeProviderServer
) -> None:
    call(client, server)
    call(client, server, temperature=0.5)  # a parameter: another entry
    call(client, server, messages=[{"role": "user", "content": "something else"}])
    assert len(server.requests) == 3
    # Another key, a timeout, metadata: the same question, so the same answer.
    assert call(client, server, api_key="sk-another-key-000000000", timeout=30, metadata={"user": "bob"}).cache_hit
    assert call(client, server, temperature=0.5).cache_hit
    assert len(server.requests) == 3
    other_model = client.completion("openai/gpt-4o", HI, api_key=KEY, api_base=server.url)
    assert not other_model.cache_hit and len(server.requests) == 4


def test_the_api_key_never_reaches_a_key_or_an_entry(
    client: litellm_sync.Client, cache: MemoryCache, server: FakeProviderServer
) -> None:
    call(client, server)
    with client.completion(MODEL, HI, stream=True, api_key=KEY, api_base=server.url) as stream:
        list(stream)
    assert len(cache) == 2
    for key, (_, entry) in cache._entries.items():
        assert KEY not in key and KEY.encode() not in entry
        assert b"sk-test" not in entry
    assert cache_key("openai", "gpt-4o-mini", HI, {"api_key": KEY}, False) == cache_key(
        "openai", "gpt-4o-mini", HI, {}, False
    )


def test_per_call_options(client: litellm_sync.Client, cache: MemoryCache, server: FakeProviderServer) -> None:
    call(client, server, cache={"no-store": True})
    assert len(cache) == 0
    call(client, server)
    assert not call(client, server, cache={"no-cache": True}).cache_hit  # looked past the entry, stored anew
    assert len(server.requests) == 3
    assert call(client, server).cache_hit
    call(client, server, temperature=0.1, cache={"ttl": 0})  # stored already expired
    assert not call(client, server, temperature=0.1).cache_hit
    assert len(server.requests) == 5
    with pytest.raises(ConfigurationError, match="no-cache"):
        call(client, server, cache={"nocache": True})
    assert len(server.requests) == 5


def test_a_cached_stream_replays_its_chunks_as_a_stream(
    client: litellm_sync.Client, server: FakeProviderServer, events: list[Any]
) -> None:
    with client.completion(MODEL, HI, stream=True, api_key=KEY, api_base=server.url) as stream:
        original = list(stream)
    assert len(original) > 2
    replay = client.completion(MODEL, HI, stream=True, api_key=KEY, api_base=server.url)
    assert len(server.requests) == 1
    assert replay.cache_hit
    with replay:
        chunks = list(replay)
    assert [c.to_dict() for c in chunks if c.usage is None] == [c.to_dict() for c in original if c.usage is None]
    assert [c.usage for c in chunks] == [c.usage for c in original]
    assert replay.cost == 0 and all(c.cache_hit for c in chunks)
    assert replay.response().content == "Echo: what is cached"
    again = client.completion(MODEL, HI, stream=True, api_key=KEY, api_base=server.url)
    assert "".join(again.text()) == "Echo: what is cached"
    assert b"".join(client.completion(MODEL, HI, stream=True, api_key=KEY, api_base=server.url).sse()).endswith(
        b"data: [DONE]\n\n"
    )
    assert events[1].cache_hit and events[1].stream and events[1].complete and events[1].cost == 0
    # A plain call for the same messages is another entry: stream and non-stream answers are kept apart.
    assert not call(client, server).cache_hit


def test_an_abandoned_stream_is_not_stored(client: litellm_sync.Client, cache: MemoryCache,
                                           server: FakeProviderServer) -> None:
    with client.completion(MODEL, HI, stream=True, api_key=KEY, api_base=server.url) as stream:
        next(iter(stream))
    assert len(cache) == 0


@pytest.mark.parametrize(
    "entry",
    [b"not json", b'{"v": 999, "key": "%s", "response": {}}', b'{"v": 1, "key": "someone-else", "response": {}}',
     b'{"v": 1, "key": "%s", "response": {"choices": "not a list"}}', b'{"v": 1, "key": "%s", "chunks": []}',
     b'{"v": 1, "key": "%s", "response": {"cost": "NaN?"}}'],
)  # fmt: skip
def test_bad_entries_are_misses(
    client: litellm_sync.Client, cache: MemoryCache, server: FakeProviderServer, entry: bytes
) -> None:
    key = cache_key("openai", "gpt-4o-mini", HI, {}, False)
    assert key is not None
    cache.set(key, entry.replace(b"%s", key.encode()))
    answer = call(client, server)
    assert not answer.cache_hit and answer.content == "Echo: what is cached"
    assert len(server.requests) == 1
    assert call(client, server).cache_hit  # the good answer replaced the bad entry


def test_memory_cache_is_bounded_lru_with_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = MemoryCache(maxsize=2, ttl=10)
    cache.set("a", b"1")
    cache.set("b", b"2")
    assert cache.get("a") == b"1"  # a is now the most recently used
    cache.set("c", b"3")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"1", None, b"3")
    import litellm_sync.cache as module

    now = module.time.monotonic()
    monkeypatch.setattr(module.time, "monotonic", lambda: now + 11)
    assert cache.get("a") is None and len(cache) == 1
    with pytest.raises(ConfigurationError):
        MemoryCache(maxsize=0)


def test_memory_cache_under_threads(server: FakeProviderServer) -> None:
    cache = MemoryCache(maxsize=8)
    with litellm_sync.Client(max_retries=0, cache=cache) as client:
        errors: list[BaseException] = []

        def work(n: int) -> None:
            try:
                for i in range(10):
                    text = f"question {(n + i) % 12}"
                    answer = client.completion(MODEL, [{"role": "user", "content": text}], api_key=KEY,
                                               api_base=server.url)
                    assert answer.content == "Echo: " + text
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(cache) == 8  # bounded however many distinct questions went by


def test_disk_cache_keeps_files_under_its_path_and_survives_clients(tmp_path: Path, server: FakeProviderServer) -> None:
    root = tmp_path / "cache"
    for _ in range(2):
        with litellm_sync.Client(max_retries=0, cache=DiskCache(root, ttl=600)) as client:
            answer = client.completion(MODEL, HI, api_key=KEY, api_base=server.url)
    assert answer.cache_hit and len(server.requests) == 1
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files and all(root in p.parents for p in files)
    assert all(KEY.encode() not in p.read_bytes() for p in files)
    (entry,) = files
    entry.write_bytes(b"0\n{broken")
    with litellm_sync.Client(max_retries=0, cache=DiskCache(root)) as client:
        assert not client.completion(MODEL, HI, api_key=KEY, api_base=server.url).cache_hit
    with pytest.raises(ValueError):
        DiskCache(root)._file("../../etc/passwd")


def test_a_cache_that_is_not_a_backend_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="MemoryCache"):
        litellm_sync.Client(cache={"type": "redis"})


def test_import_does_not_load_the_extras() -> None:
    code = (
        "import sys, litellm_sync, litellm_sync.cache, litellm_sync.budgets, litellm_sync.observability\n"
        "print(sorted(m for m in ('redis', 'opentelemetry', 'prometheus_client', 'django') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.replace("'", '"')) == []


def test_a_router_with_a_cache_serves_hits_and_streams_report_once(server: FakeProviderServer) -> None:
    from litellm_sync.router import Router

    events: list[Any] = []
    deployments = [{"model_name": "chat", "model_info": {"id": "only"},
                    "litellm_params": {"model": MODEL, "api_key": KEY, "api_base": server.url}}]
    with Router(deployments, cache=MemoryCache(), hooks=[events.append]) as router:
        with router.completion("chat", HI, stream=True) as stream:
            first = "".join(stream.text())
        with router.completion("chat", HI, stream=True) as stream:
            again = "".join(stream.text())
            assert stream.cache_hit
        assert router.completion("chat", HI).content == first == again
        measured = router.stats("only")["latency"]
        assert router.completion("chat", HI).cache_hit
        assert router.stats("only")["latency"] == measured  # a hit is no latency sample for routing
    assert len(server.requests) == 2  # one stream, one plain call
    calls = [e for e in events if isinstance(e, litellm_sync.CallEvent)]
    assert [(e.stream, e.cache_hit) for e in calls] == [(True, False), (True, True), (False, False), (False, True)]
    assert all(e.metadata["model_group"] == "chat" for e in calls)
    assert all(e.metadata["deployment"] == "only" for e in calls)
    routes = [e for e in events if not isinstance(e, litellm_sync.CallEvent) and e.kind == "route"]
    # a hit is looked up before any deployment is picked: it makes no routing decision
    assert [e.correlation_id for e in calls if not e.cache_hit] == [r.call_id for r in routes]
    assert len({e.correlation_id for e in calls}) == 4  # each Router call has its own id
    with pytest.raises(litellm_sync.router.RouterConfigError):
        Router(deployments, client=litellm_sync.Client(), cache=MemoryCache())


def test_a_router_cache_hit_takes_no_rate_limit_capacity(server: FakeProviderServer) -> None:
    from litellm_sync.router import Router, RouterRateLimitError

    deployments = [{"model_name": "chat", "model_info": {"id": "one-a-minute"},
                    "litellm_params": {"model": MODEL, "api_key": KEY, "api_base": server.url, "rpm": 1}}]
    server.clear()
    with Router(deployments, cache=MemoryCache(), clock=lambda: 1_000_020.0) as router:
        first = router.completion("chat", HI)
        assert router.stats("one-a-minute")["rpm"] == 1
        for _ in range(5):  # the limit is reached, yet every hit is served and none is counted
            assert router.completion("chat", HI).content == first.content
        assert router.stats("one-a-minute")["rpm"] == 1
        with pytest.raises(RouterRateLimitError):  # a miss still needs capacity
            router.completion("chat", [{"role": "user", "content": "something else"}])
        with pytest.raises(RouterRateLimitError):  # and so does a call that looks past the cache
            router.completion("chat", HI, cache={"no-cache": True})
    assert len(server.requests) == 1


def test_a_router_miss_is_looked_up_once(server: FakeProviderServer) -> None:
    from litellm_sync.router import Router

    class Counting(MemoryCache):
        def __init__(self) -> None:
            super().__init__()
            self.gets: list[str] = []
            self.sets: list[str] = []

        def get(self, key: str) -> bytes | None:
            self.gets.append(key)
            return super().get(key)

        def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
            self.sets.append(key)
            super().set(key, value, ttl)

    cache = Counting()
    same_model = [{"model_name": "chat", "model_info": {"id": name},
                   "litellm_params": {"model": MODEL, "api_key": KEY, "api_base": server.url}} for name in ("a", "b")]
    with Router(same_model, cache=cache) as router:
        router.completion("chat", HI, cache={"ttl": 30})
        assert len(cache.gets) == 1  # two deployments of one model share the key: one lookup, none in the attempt
        assert cache.sets == cache.gets  # the answer is still stored (with the caller's ttl)
        assert router.completion("chat", HI).cache_hit and len(cache.gets) == 2
    backup = [{"model_name": "main", "model_info": {"id": "down"},
               "litellm_params": {"model": "openai/gpt-4o", "api_key": KEY, "api_base": server.url}},
              {"model_name": "backup", "model_info": {"id": "up"},
               "litellm_params": {"model": MODEL, "api_key": KEY, "api_base": server.url}}]
    server.enqueue(Reply(status=500, json={"error": {"message": "down"}}))
    with Router(backup, cache=cache, fallbacks=[{"main": ["backup"]}], num_retries=0) as router:
        assert router.completion("main", HI).cache_hit  # the fallback group's own entry (stored above) answers


def test_a_failing_backend_never_fails_the_call(server: FakeProviderServer, caplog: pytest.LogCaptureFixture) -> None:
    class Broken(MemoryCache):
        def get(self, key: str) -> bytes | None:
            raise OSError("backend down")

        def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
            raise OSError("backend full")

    with litellm_sync.Client(max_retries=0, cache=Broken()) as client, caplog.at_level("WARNING", "litellm_sync"):
        assert call(client, server).content == "Echo: what is cached"
        with client.completion(MODEL, HI, stream=True, api_key=KEY, api_base=server.url) as stream:
            assert "".join(stream.text()) == "Echo: what is cached"
    messages = [r.getMessage() for r in caplog.records]
    assert sum("lookup failed" in m for m in messages) == 2 and sum("could not store" in m for m in messages) == 2


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_is_not_stuck_on_a_lock_held_at_fork_time() -> None:
    import os
    import time

    cache = MemoryCache()
    cache.set("k", b"v")
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with cache._lock:
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    pid = os.fork()
    if pid == 0:  # the child: the holder thread does not exist here, its lock would never be released
        os._exit(0 if cache.get("k") == b"v" else 1)
    release.set()
    holder.join()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.01)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung on the cache's lock")
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_router_reads_litellm_keywords_before_its_cache_lookup(server: FakeProviderServer) -> None:
    from litellm_sync.router import Router

    deployments = [{"model_name": "chat", "model_info": {"id": "one-a-minute"},
                    "litellm_params": {"model": MODEL, "api_key": KEY, "api_base": server.url, "rpm": 1}}]
    server.clear()
    cache = MemoryCache()
    with Router(deployments, cache=cache, clock=lambda: 1_000_020.0) as router:
        router.completion("chat", HI, caching=True)
        # the same question with LiteLLM's keywords that do not change the answer: served before routing, so the
        # rpm limit reached by the first call does not refuse it
        for keywords in ({"caching": True}, {"num_retries": 2}, {"tags": ["a"]}, {"request_timeout": 30},
                         {"mock_response": "the cache answers first, as for a Client"}):
            assert router.completion("chat", HI, **keywords).cache_hit, keywords
        stored = len(cache)
        with pytest.raises(litellm_sync.router.RouterRateLimitError):  # caching=False: past the cache, so routed
            router.completion("chat", HI, caching=False)
        assert len(cache) == stored
    assert len(server.requests) == 1



def test_a_router_call_warns_once_for_what_drop_params_drops(
    server: FakeProviderServer, caplog: pytest.LogCaptureFixture
) -> None:
    from litellm_sync.router import Router

    deployments = [{"model_name": "chat", "litellm_params": {"model": MODEL, "api_key": f"{KEY}-{n}",
                                                             "api_base": server.url}} for n in range(3)]
    server.clear()
    with Router(deployments, cache=MemoryCache()) as router, caplog.at_level("WARNING", logger="litellm_sync"):
        router.completion("chat", HI, drop_params=True, rpm=5, cache={"no-store": True, "namespace": "a"})
    # the cache lookup before routing reads the keywords of every deployment: only the call itself warns
    assert [r.getMessage().split(" for ")[0] for r in caplog.records] == [
        "dropping LiteLLM keyword(s) rpm", "dropping cache controls namespace"]
    assert len(server.requests) == 1
