"""RedisCache on a real redis-server: an answer stored by one process is a hit in another (nothing sent);
Redis down means misses, never errors. Skips without redis-server or the redis package, fails under CI."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_router_redis import RedisServer, _missing

import litellm_sync
from litellm_sync.cache import RedisCache
from litellm_sync.testing import FakeProviderServer

HI = [{"role": "user", "content": "shared across processes"}]
KEY = "sk-redis-cache-secret-000000"


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
    import sys, litellm_sync
    from litellm_sync.cache import RedisCache
    url, namespace, base, stream = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
    with litellm_sync.Client(max_retries=0, cache=RedisCache(url, ttl=60, namespace=namespace)) as client:
        answer = client.completion("openai/gpt-4o-mini", [{"role": "user", "content": "shared across processes"}],
                                   api_key=%(key)r, api_base=base, stream=stream)
        if stream:
            text = "".join(answer.text())
        else:
            text = answer.content
        print(answer.cache_hit, text)
""") % {"key": KEY}


def _run(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[1]),
                                                                     os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", WORKER, *args], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("stream", [False, True])
def test_a_hit_across_two_processes_sends_nothing(
    redis_server: RedisServer, server: FakeProviderServer, stream: bool
) -> None:
    namespace = "test-" + uuid.uuid4().hex[:8]
    args = (redis_server.url, namespace, server.url, "1" if stream else "0")
    assert _run(*args) == "False Echo: shared across processes"
    assert len(server.requests) == 1
    assert _run(*args) == "True Echo: shared across processes"
    assert len(server.requests) == 1  # the second process was served from Redis
    cache = RedisCache(redis_server.url, namespace=namespace)
    with litellm_sync.Client(max_retries=0, cache=cache) as client:
        answer = client.completion("openai/gpt-4o-mini", HI, api_key="sk-other-000000000", api_base=server.url,
                                   stream=stream)
        assert answer.cache_hit
        if stream:
            answer.close()
    import redis

    raw = redis.Redis.from_url(redis_server.url)
    keys = raw.keys(f"{namespace}:cache:*")
    assert len(keys) == 1 and all(KEY.encode() not in raw.get(k) and KEY.encode() not in k for k in keys)
    cache.clear()
    assert raw.keys(f"{namespace}:cache:*") == []
    raw.close()
    cache.close()


def test_redis_down_is_a_miss_not_an_error(server: FakeProviderServer, caplog: pytest.LogCaptureFixture) -> None:
    cache = RedisCache("redis://127.0.0.1:1/0", ttl=60)  # nothing listens on port 1
    with litellm_sync.Client(max_retries=0, cache=cache) as client, caplog.at_level("WARNING", "litellm_sync"):
        answer = client.completion("openai/gpt-4o-mini", HI, api_key=KEY, api_base=server.url)
    assert answer.content == "Echo: shared across processes" and not answer.cache_hit
    assert any("RedisCache" in r.getMessage() for r in caplog.records)
