"""The `ndjson` framing: newline-delimited JSON (https://github.com/ndjson/ndjson-spec), one record per line.

A line ends in LF (a CR before it is dropped, so CRLF works too); each line that is not blank is one event
with no type, its data the line's text (UTF-8, replacement characters for invalid bytes). A last record
without a final LF is still an event when the body ends: NDJSON needs no terminator after the last record.

Limits: a record is one line and one event, so it may be at most the smaller of `max_line_bytes` and
`max_event_bytes` (counted with the CR of a CRLF, as bytes arrive); going over raises `ResponseTooLargeError`
naming that limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ...limits import DEFAULT_LIMITS
from .base import ServerSentEvent, too_large


def decode_ndjson(
    chunks: Iterable[bytes],
    *,
    max_line_bytes: int = DEFAULT_LIMITS.max_line_bytes,
    max_event_bytes: int = DEFAULT_LIMITS.max_event_bytes,
) -> Iterator[ServerSentEvent]:
    """NDJSON records from body bytes as they arrive, one event each (see the module docstring)."""
    name = "max_line_bytes" if max_line_bytes <= max_event_bytes else "max_event_bytes"
    limit = min(max_line_bytes, max_event_bytes)
    pending: list[bytes] = []  # the pieces of an unfinished line
    pending_size = 0
    for chunk in chunks:
        if 10 not in chunk:  # no line ends here (or an empty read): hold it, within the limit
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size > limit:
                raise too_large(name, limit)
            continue
        if pending:
            pending.append(chunk)
            chunk = b"".join(pending)
            pending, pending_size = [], 0
        lines = chunk.split(b"\n")
        tail = lines.pop()
        if tail:
            pending, pending_size = [tail], len(tail)
        if len(chunk) > limit and (pending_size > limit or any(len(line) > limit for line in lines)):
            raise too_large(name, limit)
        for line in lines:
            if line and not line.isspace():  # isspace() stops at a record's first byte
                yield ServerSentEvent((line[:-1] if line[-1] == 13 else line).decode("utf-8", "replace"))
    tail = b"".join(pending).rstrip(b"\r")
    if tail and not tail.isspace():
        yield ServerSentEvent(tail.decode("utf-8", "replace"))
