"""The batch runner's worker threads: each takes the next item, calls it with retries and backoff (a rate limit
pauses every worker), writes its record, and counts it; the budget and Ctrl-C stop new work, never a call."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

from .._engine.redact import get_logger
from .._router.call import RouterRateLimitError
from ..exceptions import APIError, AuthenticationError, ConfigurationError, RateLimitError
from .records import Item, error_record, success_record

log = get_logger()
RETRY_AFTER_CAP = 300.0  # a provider's Retry-After is honoured up to this many seconds
WAIT_SLICE = 60.0
#: Rate-limited tries of one item before it is recorded as failed (retryable: the next run tries it again).
MAX_RATE_LIMITED = 100  # waiting for a Router's capacity is re-checked at least this often

#: Errors that no item can succeed past (a wrong key, an unknown model): the run stops instead of recording them.
FATAL = (ConfigurationError, AuthenticationError)


@dataclass
class Totals:
    """What the run did so far; updated under the runner's lock, read by the progress display."""

    total: int = 0  # items this run set out to do
    succeeded: int = 0
    failed: int = 0
    retries: int = 0
    rate_limited: int = 0  # retries caused by a rate limit (429, or no Router capacity)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: Decimal = field(default_factory=Decimal)
    unpriced: int = 0  # successes whose cost is unknown
    paused: float = 0.0  # seconds every worker was held back by a rate limit

    @property
    def done(self) -> int:
        return self.succeeded + self.failed


class Gate:
    """A pause every worker honours before its next call: one worker's 429 slows the whole run, not just itself."""

    def __init__(self, stop: threading.Event, totals: Totals) -> None:
        self._stop = stop
        self._totals = totals
        self._lock = threading.Lock()
        self._until = 0.0

    def pause(self, seconds: float) -> None:
        now = time.monotonic()
        with self._lock:
            until = now + seconds
            if until > self._until:
                self._totals.paused += until - max(self._until, now)
                self._until = until

    def wait(self) -> None:
        while not self._stop.is_set():
            left = self._until - time.monotonic()
            if left <= 0:
                return
            self._stop.wait(left)


class Runner:
    """Runs `call` over the items on `max_workers` threads; `write` receives each finished record."""

    def __init__(
        self,
        call: Callable[[Item], Any],
        items: Iterable[Item],
        write: Callable[[dict[str, Any]], None],
        totals: Totals,
        *,
        max_workers: int,
        max_attempts: int,
        backoff: tuple[float, float],
        budget: Decimal | None,
        spent: Decimal,
        on_record: Callable[[Totals], None] = lambda totals: None,
    ) -> None:
        self.call = call
        self.write = write
        self.totals = totals
        self.max_workers = max_workers
        self.max_attempts = max_attempts
        self.initial_backoff, self.max_backoff = backoff
        self.budget = budget
        self.spent = spent
        self.on_record = on_record
        self.stop = threading.Event()
        self.stopped: str | None = None  # "budget", "interrupted", or "error"
        self.fatal: BaseException | None = None
        self.gate = Gate(self.stop, totals)
        self._items: Iterator[Item] = iter(items)
        self._lock = threading.Lock()
        self._warned_unpriced = False
        self._running = 0  # workers not yet done writing; the last one to finish sets `_finished`
        self._finished = threading.Event()

    def run(self) -> None:
        """Work until the items run out, the budget is spent, a fatal error, or Ctrl-C (calls in flight finish).

        The wait is on an Event the last worker sets after its last write, never on `Thread.join`: before Python
        3.13 a Ctrl-C that interrupts `join` marks the joined thread stopped while it still runs (CPython
        gh-90882), and the run would then return, and the process exit, before that thread's call is written."""
        self._running = self.max_workers
        threads = [threading.Thread(target=self._work, name=f"litellm-batch-{n}", daemon=True)
                   for n in range(self.max_workers)]  # fmt: skip
        for thread in threads:
            thread.start()
        try:
            while not self._finished.wait(0.2):  # a timed wait lets Ctrl-C reach the main thread
                pass
        except KeyboardInterrupt:
            with self._lock:
                in_flight = self._running
            log.warning("batch interrupted: finishing the %d call(s) in flight (Ctrl-C again to abandon them)",
                        in_flight)
            self._halt("interrupted")
            while not self._finished.wait(0.2):
                pass

    def _halt(self, why: str) -> None:
        with self._lock:
            if self.stopped is None:
                self.stopped = why
        self.stop.set()

    def _next(self) -> Item | None:
        with self._lock:
            if self.stop.is_set():
                return None
            if self.budget is not None and self.spent >= self.budget:
                self.stopped = self.stopped or "budget"
                self.stop.set()
                return None
            return next(self._items, None)

    def _work(self) -> None:
        try:
            self._loop()
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0:
                    self._finished.set()

    def _loop(self) -> None:
        while True:
            item = self._next()
            if item is None:
                return
            try:
                record = self._attempt(item)
            except FATAL as error:
                self.fatal = self.fatal or error
                self._halt("error")
                return
            if record is None:
                return  # stopped while waiting to retry: nothing is written, the next run tries it again
            self.write(record)
            self._count(record)

    def _attempt(self, item: Item) -> dict[str, Any] | None:
        attempt = limited = 0  # attempts that failed for the item's own sake; tries refused by a rate limit
        while True:
            self.gate.wait()
            if self.stop.is_set():
                return None
            try:
                response = self.call(item)
            except FATAL:
                raise
            except RouterRateLimitError as error:  # nothing was sent: wait for the Router's capacity
                limited += 1
                if limited >= MAX_RATE_LIMITED:  # e.g. an item larger than a tpm limit: it can never fit
                    return error_record(item.id, error, attempt + limited)
                self._note_retry(rate_limited=True)
                self.stop.wait(min(max(error.retry_after or 1.0, 0.01), WAIT_SLICE))
                continue
            except Exception as error:
                retryable = isinstance(error, APIError) and error.retryable
                if retryable and isinstance(error, RateLimitError):  # not the item's fault: pause the whole run
                    limited += 1
                    if limited >= MAX_RATE_LIMITED:
                        return error_record(item.id, error, attempt + limited)
                    wait = self._backoff(limited, error)
                    self._note_retry(rate_limited=True)
                    self.gate.pause(wait)
                    continue
                attempt += 1
                if not isinstance(error, APIError) or not retryable or attempt >= self.max_attempts:
                    return error_record(item.id, error, attempt + limited)
                wait = self._backoff(attempt, error)
                self._note_retry(rate_limited=False)
                log.info("batch item %r: %s, retry %d in %.2fs", item.id, type(error).__name__, attempt, wait)
                self.stop.wait(wait)
                continue
            return success_record(item.id, response)

    def _backoff(self, attempt: int, error: APIError) -> float:
        if error.retry_after is not None:
            return min(max(error.retry_after, 0.0), RETRY_AFTER_CAP)
        return min(self.max_backoff, self.initial_backoff * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)

    def _note_retry(self, rate_limited: bool) -> None:
        with self._lock:
            self.totals.retries += 1
            self.totals.rate_limited += rate_limited

    def _count(self, record: dict[str, Any]) -> None:
        with self._lock:
            totals = self.totals
            if record["error"] is not None:
                totals.failed += 1
            else:
                totals.succeeded += 1
                usage = record["usage"] or {}
                totals.prompt_tokens += usage.get("prompt_tokens") or 0
                totals.completion_tokens += usage.get("completion_tokens") or 0
                cost = record["cost"]
                if cost is None:
                    totals.unpriced += 1
                    if self.budget is not None and not self._warned_unpriced:
                        self._warned_unpriced = True
                        log.warning("batch budget: some responses have no known price; they do not count "
                                    "toward the budget (add prices to the model in YAML)")
                else:
                    spent = Decimal(str(cost))
                    totals.cost += spent
                    self.spent += spent
        self.on_record(totals)
