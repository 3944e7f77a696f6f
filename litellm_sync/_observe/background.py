"""`in_background(*hooks)`: hooks run by one worker thread instead of the calling thread, in the context each call
ended in, so a call does not wait for hooks that do I/O (CPU-bound hooks gain nothing: they still need the GIL)."""

from __future__ import annotations

import atexit
import contextvars
import queue
import threading
import weakref
from typing import Any

from .._engine.redact import get_logger
from ..hooks import Hook, notify
from .context import _FORKS

log = get_logger()
MAX_QUEUE = 10_000  # events waiting at most; past it new events are dropped (counted, logged once), never waited on


class BackgroundHooks:
    """A hook that hands each event (and a copy of its context) to a worker thread which tells `hooks` in order.

    The work is the same, only off the call's path: per call the caller pays for a context copy and a queue put
    (about 1 us) instead of waiting for the hooks. That pays for hooks that wait on I/O; CPU-bound hooks (the
    OpenTelemetry and Prometheus ones) cost more this way on CPython (GIL handoffs): benchmarks/observe.py measures
    +30% per loopback call against +12% inline in one run. Events are told in the
    order calls ended; `flush()` waits until every event queued so far has been told (tests, before exporting);
    at interpreter exit pending events are told (for up to 2 s). A forked child starts its own worker and drops
    the parent's pending events (they are the parent's to tell). When `max_queue` events are waiting (hooks slower
    than calls), new ones are dropped and counted in `dropped`.
    """

    def __init__(self, *hooks: Hook, max_queue: int = MAX_QUEUE) -> None:
        self.hooks = tuple(hooks)
        self.max_queue = max_queue
        self.dropped = 0
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._forks = -1  # the fork generation the worker was started in; -1: not started
        self._lock = threading.Lock()
        self._warned = False
        ref = weakref.ref(self)
        atexit.register(lambda: (lambda made: made.flush(2.0) if made is not None else None)(ref()))

    def __repr__(self) -> str:
        return f"in_background({', '.join(map(repr, self.hooks))})"

    def __call__(self, event: Any) -> None:
        if self._forks != _FORKS[0]:
            self._start()
        work = self._queue
        if work.qsize() >= self.max_queue:
            self.dropped += 1
            if not self._warned:
                self._warned = True
                log.warning("in_background: %d events waiting, hooks slower than calls: dropping events",
                            self.max_queue)
            return
        work.put((contextvars.copy_context(), event))

    def _start(self) -> None:
        with self._lock:
            if self._forks != _FORKS[0]:
                if self._forks != -1:  # a forked child: the parent's queue and lock are not ours
                    self._queue = queue.SimpleQueue()
                    self._lock = threading.Lock()
                self._forks = _FORKS[0]
                threading.Thread(target=_run, args=(self._queue, self.hooks), name="litellm-sync-hooks",
                                 daemon=True).start()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until the events queued so far have been told; False if `timeout` (s) passed first."""
        if self._forks != _FORKS[0]:
            return True  # nothing was queued in this process
        done = threading.Event()
        self._queue.put((None, done))
        return done.wait(timeout)


def _run(work: queue.SimpleQueue[Any], hooks: tuple[Hook, ...]) -> None:
    while True:
        context, event = work.get()
        if context is None:
            event.set()  # a flush marker: every event before it has been told
            continue
        try:
            context.run(notify, hooks, event)
        except Exception as exc:  # notify swallows a hook's failure; anything else must not end the worker
            log.warning("in_background: %s: %s", type(exc).__name__, exc)


def in_background(*hooks: Hook, max_queue: int = MAX_QUEUE) -> BackgroundHooks:
    """Run `hooks` off the calling thread (see BackgroundHooks): `Client(hooks=[in_background(otel, prom)])`."""
    return BackgroundHooks(*hooks, max_queue=max_queue)
