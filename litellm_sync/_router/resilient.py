"""`ResilientState`: Redis while it answers, in-process state while it does not (logged once), Redis again when it
returns. Successful calls are settled by the next decision's script (one round trip per call); a background
thread sends those that no decision picked up within `settle_delay`."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence

from .._engine.redact import get_logger
from ..state import Candidate, Failure, Grant, GroupLimit, MemoryState, State
from .redis_state import RedisState, Settlement

log = get_logger()
RETRY_REDIS_AFTER = 1.0  # seconds on local state before trying Redis again
SETTLE_DELAY = 0.05  # seconds a successful settlement waits for a decision to carry it, before it is sent alone
MOST_CARRIED = 64  # settlements one decision carries at most (more wait for the next, or the background thread)


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
        self.settle_delay = SETTLE_DELAY
        self._down_until: float | None = None  # monotonic time of the next Redis attempt while it is down
        self._lock = threading.Lock()
        # Successful settlements not yet in Redis, and how many are on their way there (taken, not yet answered).
        self._changed = threading.Condition(threading.Lock())
        self._pending: list[Settlement] = []
        self._sending = 0
        self._flusher_pid = -1
        self._owner_pid = os.getpid()
        self._closed = False

    def _forked(self) -> None:
        """In a forked child: the parent's pending settlements are the parent's to send (sending them here too would
        settle them twice), and its condition's lock may have been held by a thread that does not exist here."""
        if self._owner_pid != os.getpid():
            self._changed = threading.Condition(threading.Lock())
            self._pending, self._sending, self._flusher_pid = [], 0, -1
            self._owner_pid = os.getpid()

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
            carried = self._take(MOST_CARRIED)
            try:
                grant = self.shared.acquire(candidates, group, tokens, now, order_by, buffer, carried)
            except self._errors as error:
                self._failed(error)  # the settlements it carried are lost with the outage (Redis keys expire)
            else:
                self._worked()
                return grant
            finally:
                self._sent(len(carried))
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
            # A success changes no decision of this call: the next decision's script carries it (one round trip
            # per call, the decision). Failures settle now, so the retry sees the cooldown they start.
            self._defer((key, group, grant, now, tokens_used, latency))
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

    def _defer(self, settlement: Settlement) -> None:
        self._forked()
        with self._changed:
            self._pending.append(settlement)
            if self._flusher_pid != os.getpid():  # one thread per process (a forked child starts its own)
                self._flusher_pid = os.getpid()
                threading.Thread(target=self._flush_late, name="router-state-settler", daemon=True).start()
            self._changed.notify_all()

    def _take(self, most: int) -> list[Settlement]:
        self._forked()
        with self._changed:
            taken, self._pending = self._pending[:most], self._pending[most:]
            self._sending += len(taken)
            return taken

    def _sent(self, count: int) -> None:
        if count:
            with self._changed:
                self._sending -= count
                self._changed.notify_all()

    def _send_alone(self) -> None:
        """Send what is pending in one script call (no decision carries it)."""
        taken = self._take(1 << 30)
        try:
            if taken:
                self.shared.settle(taken)
                self._worked()
        except self._errors as error:
            self._failed(error)  # in-flight counts in Redis expire; the rest is lost with the outage
        except Exception as error:  # never let the thread die: settlements would pile up
            log.warning("router state: could not settle %d calls in Redis: %s", len(taken), error)
        finally:
            self._sent(len(taken))

    def _flush_late(self) -> None:
        pid = os.getpid()
        while True:
            with self._changed:
                while not self._pending and not self._closed:
                    self._changed.wait()
                if self._closed or self._flusher_pid != pid:
                    return
            time.sleep(self.settle_delay)  # a decision made meanwhile carries them
            self._send_alone()

    def flush(self) -> None:
        """Send the settlements still pending now and wait until those on their way have been answered."""
        self._send_alone()
        with self._changed:
            while self._sending:
                self._changed.wait()

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
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self.shared.close()
