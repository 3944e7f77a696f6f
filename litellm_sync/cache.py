"""Response cache for `Client(cache=...)`: in memory (LRU + TTL), Redis, a directory, or Django's cache.

    client = litellm_sync.Client(cache=litellm_sync.cache.MemoryCache(maxsize=1000, ttl=3600))
    client.completion(model, messages)                            # sent, stored
    client.completion(model, messages).cache_hit                  # True: nothing sent, cost 0
    client.completion(model, messages, cache={"no-cache": True})  # skip the lookup (the answer is still stored)
    client.completion(model, messages, cache={"no-store": True})  # do not store this answer
    client.completion(model, messages, cache={"ttl": 60})         # store it for 60 seconds

The key is a SHA-256 of the provider, the model, stream or not, the messages and every parameter that can change
the answer, written as canonical JSON; never the API key, the base URL, headers, timeouts or metadata. Entries are
JSON (never pickle: a shared Redis must not be able to run code in your process), carry a format version, and an
entry that cannot be read back (corrupt, another version, another key) is a miss, never an error. A backend that
fails (Redis down, disk full) is logged and treated as a miss, so the call still goes out.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from ._engine.redact import get_logger
from ._observe.context import ForkSafeLock
from ._observe.records import (
    BadEntry,
    CachedChatChunk,
    CachedChatResponse,
    CachedEmbeddingResponse,
    CachedRerankResponse,
    dump,
    load,
)
from ._observe.replay import CachedStream
from .exceptions import ConfigurationError
from .types import ChatChunk, ChatResponse, EmbeddingResponse, RerankResponse, _Record

log = get_logger()

FORMAT = 1  # bump when an entry's layout changes: entries of other versions are misses
#: Parameters that cannot change the answer, or that must never reach a key (credentials, routing, transport).
NOT_IN_KEY = frozenset({
    "api_key", "api_base", "api_version", "timeout", "max_retries", "extra_headers", "metadata", "cache",
    "drop_params", "stream", "total_timeout", "max_workers", "mock_response",
})  # fmt: skip
CACHE_OPTIONS = frozenset({"no-cache", "no-store", "ttl"})
#: Answers of the other operations, stored with their kind: the type stored and the type a hit is read back as.
_ANSWERS: dict[str, tuple[type[Any], type[Any]]] = {
    "embedding": (EmbeddingResponse, CachedEmbeddingResponse),
    "rerank": (RerankResponse, CachedRerankResponse),
}


class Cache:
    """A byte store with expiry; subclass it for another backend (get, set, delete, clear)."""

    ttl: float | None = None

    def get(self, key: str) -> bytes | None:
        """The entry stored under key, or None (missing, expired or unreadable)."""
        raise NotImplementedError

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store value under key for ttl seconds (None: the cache's default ttl; no ttl: until evicted)."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Forget one entry."""
        raise NotImplementedError

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """The entries under keys, in order (None where missing); a backend may read them in one round trip."""
        return [self.get(key) for key in keys]

    def clear(self) -> None:
        """Forget every entry this cache holds."""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections, if any."""


class MemoryCache(Cache):
    """In this process: least recently used entries evicted past `maxsize`, entries expire after `ttl` seconds."""

    def __init__(self, maxsize: int = 1024, ttl: float | None = 3600.0) -> None:
        if maxsize < 1:
            raise ConfigurationError(f"MemoryCache(maxsize={maxsize!r}): maxsize must be at least 1")
        self.maxsize = maxsize
        self.ttl = ttl
        self._lock = ForkSafeLock()
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"MemoryCache(maxsize={self.maxsize}, ttl={self.ttl}, entries={len(self._entries)})"

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        ttl = self.ttl if ttl is None else ttl
        expires = time.monotonic() + ttl if ttl is not None else float("inf")
        with self._lock:
            self._entries[key] = (expires, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class DiskCache(Cache):
    """One file per entry under `path` (and nowhere else), for scripts and notebooks; unbounded, `ttl` seconds."""

    def __init__(self, path: str | os.PathLike[str], ttl: float | None = None) -> None:
        self.path = Path(path)
        self.ttl = ttl

    def __repr__(self) -> str:
        return f"DiskCache({str(self.path)!r}, ttl={self.ttl})"

    def _file(self, key: str) -> Path:
        if not key.isalnum():  # keys are hex digests; anything else could walk out of the directory
            raise ValueError(f"DiskCache: refusing key {key[:40]!r}")
        return self.path / key[:2] / (key + ".entry")

    def get(self, key: str) -> bytes | None:
        try:
            data = self._file(key).read_bytes()
        except (OSError, ValueError):
            return None
        expires, _, value = data.partition(b"\n")
        try:
            if float(expires) and float(expires) <= time.time():
                return None
        except ValueError:
            return None
        return value

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        ttl = self.ttl if ttl is None else ttl
        expires = repr(time.time() + ttl) if ttl is not None else "0"
        import tempfile

        target = self._file(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as out:
                out.write(expires.encode() + b"\n" + value)
            os.replace(temp, target)  # readers see the old entry or the new one, never half of one
        except OSError as exc:
            log.warning("DiskCache could not store an entry under %s: %s", self.path, exc)

    def delete(self, key: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._file(key).unlink()

    def clear(self) -> None:
        for entry in self.path.glob("*/*.entry"):
            entry.unlink(missing_ok=True)


class RedisCache(Cache):
    """Entries in Redis (the `redis` extra), shared by every process and host using the same URL and namespace."""

    def __init__(
        self, url: str = "redis://localhost:6379/0", ttl: float | None = 3600.0, namespace: str = "litellm_sync"
    ) -> None:
        self.url = url
        self.ttl = ttl
        self.prefix = f"{namespace}:cache:"
        self._client: Any = None
        self._pid = -1
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RedisCache(namespace={self.prefix[:-7]!r}, ttl={self.ttl})"  # the URL may hold a password

    def _redis(self) -> Any:
        if self._client is None or self._pid != os.getpid():  # a forked child opens its own connections
            with self._lock:
                if self._client is None or self._pid != os.getpid():
                    try:
                        import redis
                    except ImportError:
                        raise ConfigurationError(
                            "RedisCache needs the redis package: pip install 'litellm_sync[redis]'"
                        ) from None
                    self._client = redis.Redis.from_url(self.url, socket_timeout=2.0, socket_connect_timeout=2.0)
                    self._pid = os.getpid()
        return self._client

    def get(self, key: str) -> bytes | None:
        try:
            value = self._redis().get(self.prefix + key)
        except ConfigurationError:
            raise
        except Exception as exc:  # Redis down: a miss, the call still goes out
            log.warning("RedisCache lookup failed, treating it as a miss: %s", type(exc).__name__)
            return None
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        ttl = self.ttl if ttl is None else ttl
        try:
            self._redis().set(self.prefix + key, value, px=int(ttl * 1000) if ttl is not None else None)
        except ConfigurationError:
            raise
        except Exception as exc:
            log.warning("RedisCache could not store an entry: %s", type(exc).__name__)

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        try:
            values = self._redis().mget([self.prefix + key for key in keys])
        except ConfigurationError:
            raise
        except Exception as exc:  # Redis down: misses, the call still goes out
            log.warning("RedisCache lookup failed, treating it as a miss: %s", type(exc).__name__)
            return [None] * len(keys)
        return [value if isinstance(value, bytes) else None for value in values]

    def delete(self, key: str) -> None:
        self._redis().delete(self.prefix + key)

    def clear(self) -> None:
        client = self._redis()
        for found in client.scan_iter(match=self.prefix + "*", count=500):
            client.delete(found)

    def close(self) -> None:
        if self._client is not None and self._pid == os.getpid():
            self._client.close()
        self._client = None


class DjangoCache(Cache):
    """Django's configured cache (`django.core.cache.caches[alias]`, looked up at each use), or a given Django
    cache object (`backend=`), as the backend."""

    def __init__(
        self, alias: str = "default", ttl: float | None = 3600.0, prefix: str = "litellm_sync:", backend: Any = None
    ) -> None:
        self.alias = alias
        self.ttl = ttl
        self.prefix = prefix
        self.backend = backend

    def _cache(self) -> Any:
        if self.backend is not None:
            return self.backend
        from django.core.cache import caches

        return caches[self.alias]

    def get(self, key: str) -> bytes | None:
        value = self._cache().get(self.prefix + key)
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        ttl = self.ttl if ttl is None else ttl
        self._cache().set(self.prefix + key, value, timeout=ttl)

    def delete(self, key: str) -> None:
        self._cache().delete(self.prefix + key)

    def clear(self) -> None:
        self._cache().clear()


# -- keys and entries ------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, _Record):
        return value.to_dict()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, (bytes, bytearray)):
        return hashlib.sha256(value).hexdigest()
    to_dict = getattr(value, "to_dict", None) or getattr(value, "model_dump", None)
    if callable(to_dict):
        return to_dict()
    raise TypeError(f"{type(value).__name__} cannot be part of a cache key")


def cache_key(
    provider: str, model: str, messages: Any, params: Mapping[str, Any], stream: bool, *,
    native: bool = False, operation: str | None = None,
) -> str | None:
    """The entry's key, or None when the request holds something that cannot be written as JSON (not cached).
    native: a call that wants the provider's own body back (`responses()`), keyed apart from chat calls.
    operation: another operation than chat (`embeddings`, `rerank`): `messages` is then its request (inputs,
    query and documents), keyed apart from chat and from the other operations. A parameter given as None is
    the same as one not given."""
    request = {k: v for k, v in params.items() if k not in NOT_IN_KEY and v is not None}
    head: list[Any] = [FORMAT, provider, model, bool(stream)] + (["native"] if native else [])
    if operation is not None:
        head.append({"operation": operation})
    try:
        text = json.dumps(
            [*head, messages, request],
            sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain,
        )  # fmt: skip
    except (TypeError, ValueError, RecursionError):
        return None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def check_options(options: Any) -> Mapping[str, Any]:
    """The per-call `cache=` mapping, checked; ConfigurationError for anything else."""
    if options is None:
        return {}
    if not isinstance(options, Mapping) or not set(options) <= CACHE_OPTIONS:
        raise ConfigurationError(
            f"cache={options!r}: expected a dict with the keys 'no-cache', 'no-store' or 'ttl' "
            "(for example cache={'no-cache': True})"
        )
    return options


def encode(key: str, answer: Any, native: Mapping[str, Any] | None = None) -> bytes:
    """An entry: format version, key, and the response (or the stream's chunks) with every field; `native`, the
    provider's own body, beside the response when given. An embedding or rerank answer is stored with its kind."""
    kind = next((name for name, (cls, _cached) in _ANSWERS.items() if isinstance(answer, cls)), None)
    if kind is not None:
        body: Any = {"kind": kind, "response": dump(answer)}
    elif isinstance(answer, ChatResponse):
        body = {"response": dump(answer)}
        if native is not None:
            body["native"] = dict(native)
    else:
        body = {"chunks": [dump(chunk) for chunk in answer]}
    return json.dumps({"v": FORMAT, "key": key, **body}, separators=(",", ":")).encode()


def decode(key: str, data: bytes) -> Any:
    """The response or chunks an entry holds, marked as cache hits that cost nothing; BadEntry when the entry is
    corrupt, of another version or another key."""
    try:
        entry = json.loads(data)
    except (ValueError, RecursionError):
        raise BadEntry("not JSON") from None
    if not isinstance(entry, dict) or entry.get("v") != FORMAT or entry.get("key") != key:
        raise BadEntry("another format version or key")
    kind = entry.get("kind")
    if kind is not None:
        if kind not in _ANSWERS or not isinstance(entry.get("response"), dict):
            raise BadEntry("an answer of an unknown kind")
        answer = load(_ANSWERS[kind][1], entry["response"])
        answer.cost = Decimal(0) if answer.cost is not None else None
        return answer
    if "response" in entry:
        response: CachedChatResponse = load(CachedChatResponse, entry["response"])
        response.cost = Decimal(0) if response.cost is not None else None
        if "native" in entry:
            if not isinstance(entry["native"], dict):
                raise BadEntry("native body is not an object")
            response.native = entry["native"]
        return response
    chunks = entry.get("chunks")
    if not isinstance(chunks, list) or not chunks:
        raise BadEntry("no chunks")
    replayed: list[ChatChunk] = [load(CachedChatChunk, chunk) for chunk in chunks]
    for chunk in replayed:
        if chunk.cost is not None:
            chunk.cost = Decimal(0)
    return replayed


__all__ = ["Cache", "CachedStream", "DiskCache", "DjangoCache", "MemoryCache", "RedisCache", "cache_key"]
