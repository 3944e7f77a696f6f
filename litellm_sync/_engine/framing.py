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


class _LineSplitter:
    """Bytes to decoded lines across reads: CR, LF and CRLF end a line; a CRLF split across reads is one."""

    __slots__ = ("pending",)

    def __init__(self) -> None:
        self.pending: list[bytes] = []

    def feed(self, chunk: bytes) -> list[str]:
        """The lines this read completes."""
        pending = self.pending
        # Fast path, the usual read of an LF-framed stream: whole lines, no CR, nothing carried over.
        if not pending and chunk[-1:] == b"\n" and 13 not in chunk:
            lines = chunk.split(b"\n")
            lines.pop()
            return [line.decode("utf-8", "replace") for line in lines]
        if b"\n" not in chunk and b"\r" not in chunk:
            pending.append(chunk)
            return []
        if pending:
            pending.append(chunk)
            chunk = b"".join(pending)
            pending.clear()
        lines = chunk.splitlines(keepends=True)
        # A line ending in a bare CR may be the first half of a CRLF: keep it until the next read decides.
        if lines[-1][-1] != 10:
            pending.append(lines.pop())
        # splitlines(keepends=True) leaves exactly one terminator (CRLF, CR or LF) and no other CR/LF.
        return [line.rstrip(b"\r\n").decode("utf-8", "replace") for line in lines]

    def finish(self) -> list[str]:
        """The last line(s) when the body ends without a terminator."""
        tail = b"".join(self.pending)
        self.pending.clear()
        return [line.decode("utf-8", "replace") for line in tail.splitlines()]


def iter_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Split a byte stream into decoded lines without terminators; a CRLF split across reads is one break."""
    splitter = _LineSplitter()
    for chunk in chunks:
        if chunk:
            yield from splitter.feed(chunk)
    yield from splitter.finish()


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


def sse_from_bytes(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """SSE events straight from body bytes: the same events as `iter_sse(iter_lines(chunks))`, faster.

    The usual read holds whole events only (LF-framed, ending in a blank line, nothing pending): it is
    decoded once and each single-line `data:` event is made without the line-by-line machinery. Any other
    read goes through the general line path, which shares the same state.
    """
    splitter = _LineSplitter()
    state = _SSEState()
    for chunk in chunks:
        if not chunk:
            continue
        if not splitter.pending and state.idle() and chunk[-2:] == b"\n\n" and 13 not in chunk:
            for block in chunk.decode("utf-8", "replace").split("\n\n")[:-1]:
                if block.startswith("data: ") and "\n" not in block:
                    yield ServerSentEvent(block[6:])
                    continue
                for line in (*block.split("\n"), ""):
                    event = state.feed(line)
                    if event is not None:
                        yield event
            continue
        for line in splitter.feed(chunk):
            event = state.feed(line)
            if event is not None:
                yield event
    for line in splitter.finish():
        event = state.feed(line)
        if event is not None:
            yield event
    event = state.flush()
    if event is not None:
        yield event


class _SSEState:
    """The WHATWG SSE line state machine for the general path of `sse_from_bytes`."""

    __slots__ = ("data", "event", "event_id")

    def __init__(self) -> None:
        self.event: str | None = None
        self.event_id: str | None = None
        self.data: list[str] = []

    def idle(self) -> bool:
        return not self.data and self.event is None

    def feed(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self.flush()
        if line[0] == ":":
            return None
        field, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if field == "data":
            self.data.append(value)
        elif field == "event":
            self.event = value
        elif field == "id" and "\0" not in value:
            self.event_id = value
        return None

    def flush(self) -> ServerSentEvent | None:
        event = ServerSentEvent("\n".join(self.data), self.event, self.event_id) if self.data else None
        self.event, self.data = None, []
        return event


def ndjson_from_bytes(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """NDJSON events straight from body bytes."""
    return iter_ndjson(iter_lines(chunks))


def iter_ndjson(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    """Each non-blank line of newline-delimited JSON is one event with no type."""
    for line in lines:
        if line.strip():
            yield ServerSentEvent(line)


#: Framing name -> function from body bytes to events.
FRAMINGS = {"sse": sse_from_bytes, "ndjson": ndjson_from_bytes}
