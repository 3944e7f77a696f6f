"""What every framing shares: the event type decoders yield, their call signature, the size-limit error."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from ...exceptions import ResponseTooLargeError

_WHAT = {"max_line_bytes": "a stream line", "max_event_bytes": "a stream event"}


class ServerSentEvent:
    """One event of a stream, whatever its framing: its type (SSE `event` field; None means the default type,
    "message") and its data text. `id` and `retry` are the SSE stream's last event id and reconnection time
    (ms) as of this event, or None; other framings leave them None."""

    __slots__ = ("data", "event", "id", "retry")

    def __init__(self, data: str, event: str | None = None, id: str | None = None, retry: int | None = None) -> None:
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry

    def __repr__(self) -> str:
        return f"ServerSentEvent(event={self.event!r}, data={self.data!r}, id={self.id!r}, retry={self.retry!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ServerSentEvent) and (self.data, self.event, self.id, self.retry) == (
            other.data,
            other.event,
            other.id,
            other.retry,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value


class Framing(Protocol):
    """A decoder: body bytes, as they arrive, to events. Lazy: it reads `chunks` only as events are pulled,
    and holds at most one line / one event (bounded by the two limits) plus the current chunk."""

    def __call__(
        self, chunks: Iterable[bytes], *, max_line_bytes: int = ..., max_event_bytes: int = ...
    ) -> Iterator[ServerSentEvent]: ...


def too_large(limit: str, value: int) -> ResponseTooLargeError:
    """The error for a stream line or event over `limit` (`max_line_bytes` or `max_event_bytes`) of `value` bytes."""
    return ResponseTooLargeError(
        f"{_WHAT[limit]} went over {limit} ({value} bytes) before it ended; the stream was stopped so it cannot "
        f"exhaust memory. If the provider really sends that much at once, raise the limit: "
        f"Client(limits=Limits({limit}=...))",
        limit=limit,
        value=value,
    )
