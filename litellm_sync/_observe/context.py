"""Correlation ids: one per call, held in a context variable while the call runs, stamped on log records."""

from __future__ import annotations

import itertools
import logging
import os
from contextvars import ContextVar

from .._engine.redact import RedactingFilter

#: The correlation id of the call running in this context (None outside a call).
CURRENT: ContextVar[str | None] = ContextVar("litellm_sync_correlation_id", default=None)
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


IDS = _Ids()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=IDS.reseed)


def new_id() -> str:
    """A fresh correlation id, unique across processes."""
    return IDS.next()


class CorrelationFilter(logging.Filter):
    """Sets `record.correlation_id` on every record of the litellm_sync loggers: the id of the call that logged
    it, or "-" outside a call. Use it in a format (`%(correlation_id)s`) or a JSON formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "correlation_id"):
            record.correlation_id = CURRENT.get() or "-"
        return True


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
