"""`ResilientState`: Redis while it answers, in-process state while it does not (logged once), Redis again when it
returns; successful calls are settled from a background thread, batched in pipelines."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Sequence
from typing import Any

from .._engine.redact import get_logger
from ..state import Candidate, Failure, Grant, GroupLimit, MemoryState, State
from .redis_state import RedisState

log = get_logger()
RETRY_REDIS_AFTER = 1.0  # seconds on local state before trying Redis again


class ResilientState(State):
    """Redis while it answers; in-process state while it does not (logged once), back to Redis when it returns."""

    def __init__(self, url: str, namespace: str = "litellm_sync") -> None:
        self.shared = RedisState(url, namespace)
        self.local = MemoryState()
        self._errors: tuple[type[BaseException], ...] = (
            self.shared._redis.exceptions.ConnectionError,
            self.shared._redis.exceptions.TimeoutError,
            OSError,
        )
        self.retry_interval = RETRY_REDIS_AFTER
        self._settler: _Settler | None = None
        self._down_until: float | None = None  # monotonic time of the next Redis attempt while it is down
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ResilientState({self.shared!r}, down={self._down_until is not None})"

    @property
    def redis_up(self) -> bool:
        """False while calls are served on local state."""
        return self._down_until is None

    def _use_shared(self) -> bool:
        down = self._down_until
        return down is None or time.monotonic() >= down

    def _failed(self, error: BaseException) -> None:
        with self._lock:
            if self._down_until is None:
                log.warning("router state: Redis unreachable (%s); serving on in-process state until it returns",
                            type(error).__name__)
            self._down_until = time.monotonic() + self.retry_interval

    def _worked(self) -> None:
        if self._down_until is not None:
            with self._lock:
                if self._down_until is not None:
                    log.warning("router state: Redis is back; sharing state again")
                    self._down_until = None

    def acquire(
        self,
        candidates: Sequence[Candidate],
        group: GroupLimit,
        tokens: int,
        now: float,
        order_by: str = "none",
        buffer: float = 0.0,
    ) -> Grant:
        if self._use_shared():
            try:
                grant = self.shared.acquire(candidates, group, tokens, now, order_by, buffer)
            except self._errors as error:
                self._failed(error)
            else:
                self._worked()
                return grant
        grant = self.local.acquire(candidates, group, tokens, now, order_by, buffer)
        return Grant(grant.index, grant.window, grant.tokens, grant.cooling, grant.limited, grant.retry_in, True)

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
        if failure is None and not grant.local and self._use_shared():
            # A success changes no decision of this call: settle it off the call's path, batched (one round trip
            # per call then, the decision). Failures settle now, so the retry sees the cooldown they start.
            self._background().put((key, group, grant, now, tokens_used, latency))
            return False
        if not grant.local and self._use_shared():
            try:
                cooled = self.shared.release(key, group, grant, now, tokens_used, latency, failure)
            except self._errors as error:
                self._failed(error)
            else:
                self._worked()
                return cooled
        # A reservation made in Redis but settled locally only records the failure and latency here.
        local_grant = grant if grant.local else Grant(-1, grant.window, grant.tokens)
        return self.local.release(key, group, local_grant, now, tokens_used, latency, failure)

    def _background(self) -> _Settler:
        settler = self._settler
        if settler is None or settler.pid != os.getpid():
            with self._lock:
                if self._settler is None or self._settler.pid != os.getpid():
                    self._settler = _Settler(self)
                settler = self._settler
        return settler

    def flush(self) -> None:
        """Wait until deferred settlements have reached Redis (or been given up)."""
        settler = self._settler
        if settler is not None and settler.pid == os.getpid():
            settler.queue.join()

    def stats(self, key: str, now: float) -> dict[str, float]:
        self.flush()
        if self._use_shared():
            try:
                return self.shared.stats(key, now)
            except self._errors as error:
                self._failed(error)
        return self.local.stats(key, now)

    def close(self) -> None:
        self.flush()
        self.shared.close()


class _Settler:
    """A daemon thread of one process that sends queued successful settlements to Redis in pipelines."""

    def __init__(self, owner: ResilientState) -> None:
        self.owner = owner
        self.pid = os.getpid()
        self.queue: queue.Queue[tuple[Any, ...]] = queue.Queue()
        threading.Thread(target=self._run, name="router-state-settler", daemon=True).start()

    def put(self, call: tuple[Any, ...]) -> None:
        self.queue.put(call)

    def _run(self) -> None:
        while True:
            batch = [self.queue.get()]
            while len(batch) < 256:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self.owner.shared.release_many(batch)
            except self.owner._errors as error:
                self.owner._failed(error)  # in-flight counts in Redis expire; the rest is lost with the outage
            except Exception as error:  # never let the thread die: settlements would pile up
                log.warning("router state: could not settle %d calls in Redis: %s", len(batch), error)
            finally:
                for _ in batch:
                    self.queue.task_done()
