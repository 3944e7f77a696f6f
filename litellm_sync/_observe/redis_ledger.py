"""`RedisLedger`: budget counters in Redis hashes, admission and settlement each one atomic script."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

from ..budgets import Ledger
from ..exceptions import ConfigurationError

# KEYS: the limited keys. ARGV: units to reserve, then per key its limit and ttl (0: none).
_ADMIT = """
local units = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local spent = tonumber(redis.call('HGET', key, 'spent') or '0')
  local reserved = tonumber(redis.call('HGET', key, 'reserved') or '0')
  if spent + reserved >= tonumber(ARGV[2 * i]) then
    return {i, tostring(spent), tostring(reserved)}
  end
end
for i, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, 'reserved', units)
  local ttl = tonumber(ARGV[2 * i + 1])
  if ttl > 0 then redis.call('EXPIRE', key, ttl) end
end
return 0
"""


class RedisLedger(Ledger):
    """Counters shared by every process using the same Redis; a forked child opens its own connections.

    Unlike the Router's state, a budget does not fall back to local counts while Redis is down: a spend limit
    that silently stopped counting would not be a limit, so the error reaches the caller."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: Any = None
        self._script: Any = None
        self._pid = -1
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "RedisLedger()"  # the URL may hold a password

    def _redis(self) -> Any:
        if self._client is None or self._pid != os.getpid():
            with self._lock:
                if self._client is None or self._pid != os.getpid():
                    try:
                        import redis
                    except ImportError:
                        raise ConfigurationError(
                            "Budgets(store='redis://...') needs the redis package: pip install 'litellm_sync[redis]'"
                        ) from None
                    self._client = redis.Redis.from_url(self.url, socket_timeout=5.0, socket_connect_timeout=5.0)
                    self._script = self._client.register_script(_ADMIT)
                    self._pid = os.getpid()
        return self._client

    def admit(self, limited: Sequence[tuple[str, int, int]], units: int) -> tuple[int, int, int] | None:
        self._redis()
        args: list[int] = [units]
        for _, limit, ttl in limited:
            args += [limit, ttl]
        result = self._script(keys=[key for key, _, _ in limited], args=args)
        if not isinstance(result, list):
            return None
        return int(result[0]) - 1, int(float(result[1])), int(float(result[2]))

    def settle(self, limited: Sequence[str], units: int, tracked: Sequence[tuple[str, int]], cost: int | None) -> None:
        pipe = self._redis().pipeline(transaction=True)
        for key in limited:
            if units:
                pipe.hincrby(key, "reserved", -units)
        for key, ttl in tracked:
            pipe.hincrby(key, "calls", 1)
            pipe.hincrby(key, "unknown" if cost is None else "spent", 1 if cost is None else cost)
            if ttl:
                pipe.expire(key, ttl)
        pipe.execute()

    def read(self, key: str) -> tuple[int, int, int, int]:
        found = self._redis().hgetall(key)

        def field(name: bytes) -> int:
            return int(found.get(name, 0))

        return field(b"spent"), field(b"calls"), field(b"unknown"), max(field(b"reserved"), 0)

    def close(self) -> None:
        if self._client is not None and self._pid == os.getpid():
            self._client.close()
        self._client = None
