"""Observability hooks: callables told about every call when it ends, success or failure, never in its way.

    def record(event: litellm_sync.CallEvent) -> None:
        metrics.observe(event.provider, event.model, event.latency_ms, event.cost, event.error is not None)

    client = litellm_sync.Client(hooks=[record])

A hook runs in the calling thread right after the call ends (for a stream: when it is exhausted, closed or
fails). An exception inside a hook is logged and swallowed: observability never breaks a call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from ._engine.redact import get_logger
from .types import ChatResponse, Usage

log = get_logger()


@dataclass(frozen=True)
class CallEvent:
    """One finished call: where it went, how long it took, and what came back (a response or an error)."""

    provider: str
    model: str
    stream: bool
    latency_ms: float  # from sending the request to the end (a stream's last chunk, or the error)
    response: ChatResponse | None  # for a stream: rebuilt from the chunks received
    error: Exception | None
    complete: bool  # False for a stream the consumer stopped early or that failed

    @property
    def usage(self) -> Usage | None:
        """The response's usage, when there is one."""
        return self.response.usage if self.response is not None else None

    @property
    def cost(self) -> Decimal | None:
        """The response's cost in USD, when it is priced."""
        return self.response.cost if self.response is not None else None


Hook = Callable[[CallEvent], Any]


def notify(hooks: Sequence[Hook], event: CallEvent) -> None:
    """Tell every hook; a failing hook is logged, never raised."""
    for hook in hooks:
        try:
            hook(event)
        except Exception as exc:  # a broken hook must not break the call
            log.warning("hook %r failed: %s: %s", hook, type(exc).__name__, exc)
