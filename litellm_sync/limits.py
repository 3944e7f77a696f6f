"""`Limits`: how much a response may hold before the call fails, so a hostile or broken upstream cannot
exhaust a worker's memory. Set per Client: `Client(limits=Limits(max_body_bytes=64 * 2**20))`."""

from __future__ import annotations

from dataclasses import dataclass

from .exceptions import ConfigurationError

MiB = 2**20


@dataclass(frozen=True)
class Limits:
    """Size bounds on what a provider sends back; going over one raises `ResponseTooLargeError`.

    max_body_bytes: a whole (non-stream) response body, counted after decompression.
    max_line_bytes: one line of a stream (an SSE field line, an NDJSON record).
    max_event_bytes: one stream event (an SSE event's data lines together).
    """

    max_body_bytes: int = 32 * MiB
    max_line_bytes: int = 4 * MiB
    max_event_bytes: int = 4 * MiB

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_line_bytes", "max_event_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigurationError(f"Limits.{name} must be a positive int (bytes), got {value!r}")


DEFAULT_LIMITS = Limits()
