"""Stream framing: bytes to lines (CR, LF, CRLF across reads), lines to SSE events or NDJSON records.

The SSE rules follow the WHATWG spec: `event:` names the event, `data:` lines join with newlines,
lines starting with `:` are comments, a blank line dispatches, an optional single space after the colon
is dropped, and invalid UTF-8 decodes with replacement characters. An event still pending when the
connection ends is dispatched too, since some servers omit the last blank line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


class ServerSentEvent:
    """One dispatched event: its type (``event`` field, or None) and its data text."""

    __slots__ = ("data", "event", "id")

    def __init__(self, data: str, event: str | None = None, id: str | None = None) -> None:
        self.data = data
        self.event = event
        self.id = id

    def __repr__(self) -> str:
        return f"ServerSentEvent(event={self.event!r}, data={self.data!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ServerSentEvent)
            and (self.data, self.event, self.id) == (other.data, other.event, other.id)
        )


def iter_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Split a byte stream into decoded lines without terminators; a CRLF split across reads is one break."""
    pending: list[bytes] = []
    for chunk in chunks:
        if not chunk:
            continue
        # Fast path, the usual read of an LF-framed stream: whole lines, no CR, nothing carried over.
        if not pending and chunk[-1] == 10 and 13 not in chunk:
            lines = chunk.split(b"\n")
            lines.pop()
            for line in lines:
                yield line.decode("utf-8", "replace")
            continue
        if b"\n" not in chunk and b"\r" not in chunk:
            pending.append(chunk)
            continue
        if pending:
            pending.append(chunk)
            chunk = b"".join(pending)
            pending = []
        lines = chunk.splitlines(keepends=True)
        # A line ending in a bare CR may be the first half of a CRLF: keep it until the next read decides.
        if lines[-1][-1] != 10:
            pending.append(lines.pop())
        for line in lines:
            # splitlines(keepends=True) leaves exactly one terminator (CRLF, CR or LF) and no other CR/LF.
            yield line.rstrip(b"\r\n").decode("utf-8", "replace")
    if pending:
        tail = b"".join(pending)
        for line in tail.splitlines():
            yield line.decode("utf-8", "replace")


def iter_sse(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    """Parse SSE lines into events per the WHATWG rules."""
    event: str | None = None
    event_id: str | None = None
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield ServerSentEvent("\n".join(data), event, event_id)
            event, data = None, []
            continue
        if line.startswith("data:"):  # the hot path: most lines are data lines
            data.append(line[6:] if line[5:6] == " " else line[5:])
            continue
        if line[0] == ":":
            continue
        field, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if field == "data":
            data.append(value)
        elif field == "event":
            event = value
        elif field == "id" and "\0" not in value:
            event_id = value
    if data:
        yield ServerSentEvent("\n".join(data), event, event_id)


def iter_ndjson(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    """Each non-blank line of newline-delimited JSON is one event with no type."""
    for line in lines:
        if line.strip():
            yield ServerSentEvent(line)


FRAMINGS = {"sse": iter_sse, "ndjson": iter_ndjson}
