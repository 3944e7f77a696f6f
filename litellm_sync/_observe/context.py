"""Correlation ids: one per call, held (with the call) in a context variable while the call runs, stamped on log
records; retries noted on the running call."""

from __future__ import annotations

import itertools
import logging
import os
import threading
from contextvars import Context, ContextVar
from typing import Any, Callable

from .._engine.redact import RedactingFilter

#: The call running in this context (a pipeline Call, with .correlation_id and .retries), None outside a call.
CURRENT: ContextVar[Any] = ContextVar("litellm_sync_call", default=None)
PAYLOAD_LOGGER = "litellm_sync.payloads"


class _Ids:
    """Short unique ids: a random per-process prefix (new after a fork) and a counter."""

    def __init__(self) -> None:
        self.counter = itertools.count(1)
        self.prefix = os.urandom(5).hex()

    def reseed(self) -> None:
        self.prefix = os.urandom(5).hex()

    def next(self) -> str:
        return f"{self.prefix}-{next(self.counter):x}"


_FORKS = [0]  # bumped in a forked child: ForkSafeLock replaces its lock there


def _after_fork() -> None:
    IDS.reseed()
    _FORKS[0] += 1


IDS = _Ids()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


class ForkSafeLock:
    """A lock a forked child replaces on first use: one held by another thread when the process forked would
    never be released in the child, and the child's first cache lookup would hang."""

    __slots__ = ("_forks", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forks = _FORKS[0]

    def __enter__(self) -> None:
        if self._forks != _FORKS[0]:
            self._lock, self._forks = threading.Lock(), _FORKS[0]
        self._lock.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()


def new_id() -> str:
    """A fresh correlation id, unique across processes."""
    return IDS.next()


class CorrelationFilter(logging.Filter):
    """Sets `record.correlation_id` on every record of the litellm_sync loggers: the id of the call that logged
    it, or "-" outside a call. Use it in a format (`%(correlation_id)s`) or a JSON formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "correlation_id"):
            call = CURRENT.get()
            record.correlation_id = call.correlation_id if call is not None else "-"
        return True


def current_id() -> str | None:
    """The correlation id of the call running in this context, or None."""
    call = CURRENT.get()
    return call.correlation_id if call is not None else None


def note_retry(error: str, attempt: int, wait: float) -> None:
    """Record a retry on the call running in this context (for its hook event and span); no call, no-op."""
    call = CURRENT.get()
    if call is not None:
        if call.retries is None:
            call.retries = []
        call.retries.append((attempt, error, wait))


def install() -> None:
    """Attach the correlation filter (and the key-redacting one to the payload logger), once per logger. The
    payload logger is opt-in: it stays at INFO (silent) even when "litellm_sync" is at DEBUG, until it is itself
    set to DEBUG."""
    payloads = logging.getLogger(PAYLOAD_LOGGER)
    if payloads.level == logging.NOTSET:
        payloads.setLevel(logging.INFO)
    for name in ("litellm_sync", PAYLOAD_LOGGER):
        logger = logging.getLogger(name)
        if not any(isinstance(f, CorrelationFilter) for f in logger.filters):
            logger.addFilter(CorrelationFilter())
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


install()


def run_in(context: Context | None, function: Callable[..., None], *args: Any) -> None:
    """function(*args) run in `context`, or here when there is none or it is entered already (a stream closed from
    inside its own read). Only the context's own refusal falls back: an error function raises (a RuntimeError of
    an end listener, say) propagates, and function never runs twice."""
    if context is not None:
        entered = False

        def run() -> None:
            nonlocal entered
            entered = True
            function(*args)

        try:
            context.run(run)
            return
        except RuntimeError:
            if entered:
                raise
    function(*args)
