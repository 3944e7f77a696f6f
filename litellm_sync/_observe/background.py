"""`in_background(*hooks)`: hooks run by one worker thread instead of the calling thread, in batches, each event in
the context its call ended in, so a call neither waits for hooks that do I/O nor pays cold-cache prices for
CPU-bound ones."""

from __future__ import annotations

import atexit
import collections
import contextvars
import threading
import time
import weakref
from typing import Any

from .._engine.redact import get_logger
from ..hooks import Hook, notify
from .context import _FORKS, ForkSafeLock

log = get_logger()
MAX_QUEUE = 10_000  # events waiting at most; past it new events are dropped (counted, logged once), never waited on
INTERVAL = 0.2  # seconds the worker lets events gather after telling a batch (benchmarks/observe.py: 0.05 s +7.8%,
# 0.2 s +6.3%, 1 s +5.6% of CPU per loopback call with the OpenTelemetry and Prometheus hooks; inline +13%)
_LIVE: weakref.WeakSet[BackgroundHooks] = weakref.WeakSet()  # told what is pending at interpreter exit


class BackgroundHooks:
    """A hook that hands each event (and a copy of its context) to a worker thread which tells `hooks`.

    Per call the caller pays for a context copy and a deque append (under a microsecond). The worker wakes at most
    once per `interval` while calls keep coming (sooner when a quarter of `max_queue` is waiting) and tells what
    gathered as one batch: each hook in turn is told every event of the batch, in the order the calls ended, each
    inside its call's context; a lone event is told at once. Batching is what makes CPU-bound hooks cheaper here
    than inline: right after a call's HTTP work, with the processor's caches full of it, the OpenTelemetry SDK's
    span costs about 2.5 times what it costs among other spans (benchmarks/observe.py measures both ways). `flush()`
    waits until every event queued so far has been told (tests, before exporting); at interpreter exit pending
    events are told (for up to 2 s in all). A forked child starts its own worker and drops the parent's pending
    events (they are the parent's to tell). When `max_queue` events are waiting (hooks slower than calls), new ones
    are dropped and counted in `dropped` (so at most twice `max_queue` events are held: those waiting, and the batch
    being told).
    """

    def __init__(self, *hooks: Hook, max_queue: int = MAX_QUEUE, interval: float = INTERVAL) -> None:
        _check(hooks, max_queue, interval)
        self.hooks = tuple(hooks)
        self.max_queue = max_queue
        self.interval = interval
        self.dropped = 0
        self._pending: collections.deque[tuple[Any, Any]] = collections.deque()
        self._hurry_at = max(1, max_queue // 4)  # events waiting that end the worker's pause early
        self._wake = threading.Event()  # set when events wait and the worker may be idle
        self._hurry = threading.Event()  # set by flush(): cuts the worker's pause between batches short
        self._forks = -1  # the fork generation the worker was started in; -1: not started
        self._lock = ForkSafeLock()  # a forked child gets a new one: the parent's may be held (by _drop, say)
        self._warned = False
        _LIVE.add(self)

    def __repr__(self) -> str:
        return f"in_background({', '.join(map(repr, self.hooks))})"

    def __call__(self, event: Any) -> None:
        if self._forks != _FORKS[0]:
            self._start()
        pending = self._pending
        if len(pending) >= self.max_queue:
            self._drop()
            return
        pending.append((contextvars.copy_context(), event))
        if not self._wake.is_set():  # one wake-up per batch: setting an Event takes a lock and notifies
            self._wake.set()
        elif len(pending) >= self._hurry_at and not self._hurry.is_set():  # calls outpace the pause: tell now
            self._hurry.set()

    def _drop(self) -> None:
        with self._lock:
            self.dropped += 1
            warn, self._warned = not self._warned, True
        if warn:
            log.warning("in_background: %d events waiting, hooks slower than calls: dropping events", self.max_queue)

    def _start(self) -> None:
        with self._lock:
            if self._forks != _FORKS[0]:
                if self._forks != -1:  # a forked child: the parent's queue and events are not ours
                    self._pending, self._wake, self._hurry = collections.deque(), threading.Event(), threading.Event()
                self._forks = _FORKS[0]
                threading.Thread(target=_run, args=(self._pending, self._wake, self._hurry, self.hooks, self.interval),
                                 name="litellm-sync-hooks", daemon=True).start()  # fmt: skip

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until the events queued so far have been told; False if `timeout` (s) passed first."""
        if self._forks != _FORKS[0]:
            return True  # nothing was queued in this process
        done = threading.Event()
        self._pending.append((None, done))
        self._wake.set()
        self._hurry.set()
        return done.wait(timeout)


def _check(hooks: tuple[Any, ...], max_queue: Any, interval: Any) -> None:
    from ..exceptions import ConfigurationError

    for hook in hooks:
        if not callable(hook):
            raise ConfigurationError(f"in_background({hook!r}): a hook is a callable taking one CallEvent")
    if isinstance(max_queue, bool) or not isinstance(max_queue, int) or max_queue < 1:
        raise ConfigurationError(f"in_background(max_queue={max_queue!r}): expected a whole number of events >= 1")
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not 0 <= interval <= 60:
        raise ConfigurationError(
            f"in_background(interval={interval!r}): expected seconds between 0 and 60 (the default is {INTERVAL})"
        )


def _run(
    pending: collections.deque[tuple[Any, Any]], wake: threading.Event, hurry: threading.Event,
    hooks: tuple[Hook, ...], interval: float,
) -> None:
    while True:
        wake.wait()
        wake.clear()  # before draining: an event appended from here on sets it again
        batch = []
        while pending:
            batch.append(pending.popleft())
        _tell(batch, hooks)
        if hurry.wait(interval):  # let the next batch gather, unless a flush is waiting
            hurry.clear()


def _tell(batch: list[tuple[Any, Any]], hooks: tuple[Hook, ...]) -> None:
    """Tell each hook the whole batch in turn (one hook's code and data stay in the processor's caches across the
    batch: measured cheaper than each event to every hook), then release the flushes waiting on it."""
    for hook in hooks:
        one = (hook,)
        for context, event in batch:
            if context is None:
                continue
            try:
                context.run(notify, one, event)
            except BaseException as exc:  # notify swallows Exception; a hook's SystemExit must not
                # end the worker either (a daemon thread ends silently on it, and every later flush() would wait)
                log.warning("in_background: %s: %s", type(exc).__name__, exc)
    for context, event in batch:
        if context is None:
            event.set()  # a flush marker: every event before it has been told


@atexit.register
def _flush_all(budget: float = 2.0) -> None:
    deadline = time.monotonic() + budget
    for hooks in list(_LIVE):
        hooks.flush(max(0.0, deadline - time.monotonic()))


def in_background(*hooks: Hook, max_queue: int = MAX_QUEUE, interval: float = INTERVAL) -> BackgroundHooks:
    """Run `hooks` off the calling thread, in batches (see BackgroundHooks):
    `Client(hooks=[in_background(opentelemetry_hook(), prometheus_hook())])`."""
    return BackgroundHooks(*hooks, max_queue=max_queue, interval=interval)
