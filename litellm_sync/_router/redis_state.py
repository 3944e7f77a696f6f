"""Router state in Redis, shared by every process: each decision is one Lua script (one round trip) that first
applies the successful settlements made since the last one, so a call costs one round trip; a failure settles at
once (its cooldown must be seen by the retry). Scripts run by EVALSHA, falling back to EVAL on NOSCRIPT (a
restarted or flushed server). Keys are namespaced and expire."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from typing import Any

from .._engine.redact import get_logger
from ..exceptions import ConfigurationError
from ..state import (
    INFLIGHT_TTL,
    LATENCY_WEIGHT,
    WINDOW,
    Candidate,
    Failure,
    Grant,
    GroupLimit,
    State,
    window_left,
    window_of,
)

log = get_logger()
SOCKET_TIMEOUT = 0.5

# KEYS: per settlement (inflight, tpm of its window, group tpm of its window, latency); then per candidate
#       (cooldown, rpm, tpm, inflight, latency); then group rpm, group tpm.
# ARGV: m settlements, then per settlement: token delta, latency (-1 none); then now, n, tokens, order_by (0 none
#       1 inflight 2 latency 3 usage), buffer, group rpm, group tpm, window ttl, then per candidate: tier, rpm
#       limit, tpm limit (0 = none). n = 0 only settles.
_ACQUIRE = """
local m = tonumber(ARGV[1])
for s = 1, m do
  local k, a = 4 * (s - 1), 1 + 2 * (s - 1)
  if tonumber(redis.call('GET', KEYS[k + 1]) or '0') > 0 then redis.call('DECR', KEYS[k + 1]) end
  local delta = tonumber(ARGV[a + 1])
  if delta ~= 0 then
    if redis.call('EXISTS', KEYS[k + 2]) == 1 then redis.call('INCRBY', KEYS[k + 2], delta) end
    if redis.call('EXISTS', KEYS[k + 3]) == 1 then redis.call('INCRBY', KEYS[k + 3], delta) end
  end
  local latency = tonumber(ARGV[a + 2])
  if latency >= 0 then
    local old = redis.call('GET', KEYS[k + 4])
    if old then latency = tonumber(old) + LATENCY_WEIGHT * (latency - tonumber(old)) end
    redis.call('SET', KEYS[k + 4], tostring(latency), 'EX', 86400)
  end
end
local o, ko = 1 + 2 * m, 4 * m
local now, n, tokens = tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2]), tonumber(ARGV[o + 3])
if n == 0 then return {-1, 0, 0, ''} end
local order_by, buffer = tonumber(ARGV[o + 4]), tonumber(ARGV[o + 5])
local grpm, gtpm, ttl = tonumber(ARGV[o + 6]), tonumber(ARGV[o + 7]), tonumber(ARGV[o + 8])
local g = ko + 5 * n
if grpm > 0 or gtpm > 0 then
  local r = tonumber(redis.call('GET', KEYS[g + 1]) or '0')
  local t = tonumber(redis.call('GET', KEYS[g + 2]) or '0')
  if (grpm > 0 and r + 1 > grpm) or (gtpm > 0 and t + tokens > gtpm) then return {-1, 0, n, ''} end
end
local ready, cooling, limited, soonest = {}, 0, 0, nil
for i = 1, n do
  local k, a = ko + 5 * (i - 1), o + 8 + 3 * (i - 1)
  local cd = tonumber(redis.call('GET', KEYS[k + 1]) or '0')
  if cd > now then
    cooling = cooling + 1
    if soonest == nil or cd - now < soonest then soonest = cd - now end
  else
    local r = tonumber(redis.call('GET', KEYS[k + 2]) or '0')
    local t = tonumber(redis.call('GET', KEYS[k + 3]) or '0')
    local rl, tl = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
    if (rl > 0 and r + 1 > rl) or (tl > 0 and t + tokens > tl) then
      limited = limited + 1
    else
      local m = 0
      if order_by == 1 then m = tonumber(redis.call('GET', KEYS[k + 4]) or '0')
      elseif order_by == 2 then m = tonumber(redis.call('GET', KEYS[k + 5]) or '0')
      elseif order_by == 3 then m = t + r / 1e6 end
      ready[#ready + 1] = {tonumber(ARGV[a + 1]), m, i}
    end
  end
end
if #ready == 0 then return {-1, cooling, limited, soonest and tostring(soonest) or ''} end
if order_by == 2 and buffer > 0 then
  local fastest = {}
  for _, c in ipairs(ready) do
    if fastest[c[1]] == nil or c[2] < fastest[c[1]] then fastest[c[1]] = c[2] end
  end
  for _, c in ipairs(ready) do
    if c[2] <= fastest[c[1]] * (1 + buffer) then c[2] = 0 end
  end
end
local best = ready[1]
for j = 2, #ready do
  local c = ready[j]
  if c[1] < best[1] or (c[1] == best[1] and (c[2] < best[2] or (c[2] == best[2] and c[3] < best[3]))) then
    best = c
  end
end
local k = ko + 5 * (best[3] - 1)
redis.call('INCR', KEYS[k + 2]); redis.call('EXPIRE', KEYS[k + 2], ttl)
redis.call('INCRBY', KEYS[k + 3], tokens); redis.call('EXPIRE', KEYS[k + 3], ttl)
redis.call('INCR', KEYS[k + 4]); redis.call('EXPIRE', KEYS[k + 4], INFLIGHT_TTL)
if grpm > 0 or gtpm > 0 then
  redis.call('INCR', KEYS[g + 1]); redis.call('EXPIRE', KEYS[g + 1], ttl)
  redis.call('INCRBY', KEYS[g + 2], tokens); redis.call('EXPIRE', KEYS[g + 2], ttl)
end
return {best[3] - 1, 0, 0, ''}
""".replace("INFLIGHT_TTL", str(INFLIGHT_TTL)).replace("LATENCY_WEIGHT", repr(LATENCY_WEIGHT))

# KEYS: inflight, tpm (reservation's window), group tpm, latency, fails (current window), cooldown.
# ARGV: now, reserved (1/0), token delta, latency (-1 none), failed (1/0), allowed_fails, cooldown_time,
#       force cooldown (-1 none), fail window ttl.
_RELEASE = """
local now = tonumber(ARGV[1])
if ARGV[2] == '1' then
  if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
  local delta = tonumber(ARGV[3])
  if delta ~= 0 then
    if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('INCRBY', KEYS[2], delta) end
    if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('INCRBY', KEYS[3], delta) end
  end
end
local latency = tonumber(ARGV[4])
if latency >= 0 then
  local old = redis.call('GET', KEYS[4])
  if old then latency = tonumber(old) + LATENCY_WEIGHT * (latency - tonumber(old)) end
  redis.call('SET', KEYS[4], tostring(latency), 'EX', 86400)
end
if ARGV[5] ~= '1' then return 0 end
local cooldown = tonumber(ARGV[8])
if cooldown < 0 then
  local fails = redis.call('INCR', KEYS[5])
  redis.call('EXPIRE', KEYS[5], tonumber(ARGV[9]))
  if fails <= tonumber(ARGV[6]) then return 0 end
  redis.call('DEL', KEYS[5])
  cooldown = tonumber(ARGV[7])
end
local old = tonumber(redis.call('GET', KEYS[6]) or '0')
if now + cooldown > old then
  redis.call('SET', KEYS[6], tostring(now + cooldown), 'EX', math.max(math.ceil(cooldown) + 1, 1))
end
return 1
""".replace("LATENCY_WEIGHT", repr(LATENCY_WEIGHT))

_ORDER_CODES = {"none": 0, "inflight": 1, "latency": 2, "usage": 3}


def _import_redis() -> Any:
    try:
        import redis
    except ImportError:
        raise ConfigurationError(
            "Router(state='redis://...') needs the redis package: pip install 'litellm_sync[redis]'"
        ) from None
    return redis


class _Script:
    """A Lua script run by EVALSHA, with EVAL when the server does not have it (NOSCRIPT): one round trip either way
    once the server has it, two the first time."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()

    def __call__(self, client: Any, no_script: type[BaseException], keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return client.evalsha(self.sha, len(keys), *keys, *args)
        except no_script:
            return client.eval(self.text, len(keys), *keys, *args)


_ACQUIRE_SCRIPT, _RELEASE_SCRIPT = _Script(_ACQUIRE), _Script(_RELEASE)
#: A deferred successful settlement: (deployment key, group, grant, now, tokens used, latency), release's arguments.
Settlement = tuple[str, GroupLimit, Grant, float, "int | None", "float | None"]


class RedisState(State):
    """State in Redis; a new process id gets a fresh connection pool (fork-safe)."""

    def __init__(self, url: str, namespace: str = "litellm_sync") -> None:
        self._redis = _import_redis()
        self.url = url
        self.namespace = namespace
        self._lock = threading.Lock()
        self._pid = -1
        self._client: Any = None
        self._no_script: type[BaseException] = self._redis.exceptions.NoScriptError

    def __repr__(self) -> str:
        return f"RedisState(namespace={self.namespace!r})"  # the URL may carry a password

    def _connect(self) -> Any:
        pid = os.getpid()
        client = self._client
        if client is not None and self._pid == pid:
            return client
        with self._lock:
            if self._client is None or self._pid != pid:
                self._client = self._redis.Redis.from_url(
                    self.url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT
                )
                self._pid = pid
            return self._client

    def _key(self, kind: str, key: str, window: int | None = None) -> str:
        return f"{self.namespace}:{kind}:{key}" if window is None else f"{self.namespace}:{kind}:{key}:{window}"

    def acquire(
        self,
        candidates: Sequence[Candidate],
        group: GroupLimit,
        tokens: int,
        now: float,
        order_by: str = "none",
        buffer: float = 0.0,
        settle: Sequence[Settlement] = (),
    ) -> Grant:
        """As State.acquire; `settle`: successful settlements applied first, in the same script."""
        client = self._connect()
        window = window_of(now)
        keys, args = self._settlements(settle)
        args += [
            repr(now), len(candidates), tokens, _ORDER_CODES[order_by], repr(buffer),
            group.rpm or 0, group.tpm or 0, int(WINDOW * 2),
        ]  # fmt: skip
        for candidate in candidates:
            key = candidate.key
            keys += [
                self._key("cd", key),
                self._key("rpm", key, window),
                self._key("tpm", key, window),
                self._key("busy", key),
                self._key("lat", key),
            ]
            args += [candidate.tier, candidate.rpm or 0, candidate.tpm or 0]
        keys += [self._key("grpm", group.key, window), self._key("gtpm", group.key, window)]
        index, cooling, limited, soonest = _ACQUIRE_SCRIPT(client, self._no_script, keys, args)
        if index >= 0:
            return Grant(int(index), window, tokens)
        retry_in = float(soonest) if soonest else window_left(now)
        return Grant(-1, window, tokens, int(cooling), int(limited), min(retry_in, window_left(now)))

    def settle(self, calls: Sequence[Settlement]) -> None:
        """Successful settlements alone, in one round trip (when no decision comes to carry them)."""
        if calls:
            keys, args = self._settlements(calls)
            _ACQUIRE_SCRIPT(self._connect(), self._no_script, keys, [*args, 0, 0, 0])

    def _settlements(self, calls: Sequence[Settlement]) -> tuple[list[str], list[Any]]:
        keys: list[str] = []
        args: list[Any] = [len(calls)]
        for key, group, grant, _now, tokens_used, latency in calls:
            keys += [
                self._key("busy", key),
                self._key("tpm", key, grant.window),
                self._key("gtpm", group.key, grant.window),
                self._key("lat", key),
            ]
            args += [0 if tokens_used is None else tokens_used - grant.tokens, -1 if latency is None else repr(latency)]
        return keys, args

    def release(
        self,
        key: str,
        group: GroupLimit,
        grant: Grant,
        now: float,
        tokens_used: int | None = None,
        latency: float | None = None,
        failure: Failure | None = None,
    ) -> bool:
        keys = [
            self._key("busy", key),
            self._key("tpm", key, grant.window),
            self._key("gtpm", group.key, grant.window),
            self._key("lat", key),
            self._key("fails", key, window_of(now)),
            self._key("cd", key),
        ]
        delta = 0 if tokens_used is None else tokens_used - grant.tokens
        force = -1.0 if failure is None or failure.force_cooldown is None else failure.force_cooldown
        args = [
            repr(now), "1" if grant.index >= 0 else "0", delta, -1 if latency is None else repr(latency),
            "1" if failure is not None else "0", failure.allowed_fails if failure else 0,
            repr(failure.cooldown_time) if failure else 0, repr(force), int(WINDOW * 2),
        ]  # fmt: skip
        return bool(_RELEASE_SCRIPT(self._connect(), self._no_script, keys, args))

    def stats(self, key: str, now: float) -> dict[str, float]:
        client = self._connect()
        window = window_of(now)
        names = (("rpm", window), ("tpm", window), ("busy", None), ("lat", None), ("cd", None))
        values = client.mget([self._key(kind, key, w) for kind, w in names])
        rpm, tpm, busy, lat, cd = (None if v is None else float(v) for v in values)
        return {
            "rpm": rpm or 0.0,
            "tpm": tpm or 0.0,
            "inflight": busy or 0.0,
            "latency": -1.0 if lat is None else lat,
            "cooldown": max((cd or 0.0) - now, 0.0),
        }

    def close(self) -> None:
        with self._lock:
            if self._client is not None and self._pid == os.getpid():
                self._client.close()
            self._client = None
