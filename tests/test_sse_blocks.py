"""The SSE decoder on reads holding many events cut anywhere (what the transport hands it from a busy
socket): the same events as one event per read, also with comments, typed, multi-line and id events."""

from __future__ import annotations

import pytest

from litellm_sync._engine.framing.sse import decode_sse
from litellm_sync.exceptions import ResponseTooLargeError

BODY = (
    b'data: {"n":0}\n\n'
    b": keep-alive\n\n"
    b'data: {"n":1}\n\n\n'
    b"event: ping\ndata: {}\n\n"
    b'data: {"n":2}\ndata: {"more":true}\n\n'
    b"id: 7\n\n"
    b'data: {"n":3}\n\n'
    b"retry: 50\ndata: x\n\n"
    b'data: {"n":4}\n\n'
)


def _events(reads: list[bytes], **limits: int) -> list[tuple[str, str | None, str | None, int | None]]:
    return [(e.data, e.event, e.id, e.retry) for e in decode_sse(iter(reads), **limits)]


def test_reads_of_many_events_cut_anywhere_give_the_same_events() -> None:
    wanted = _events([BODY[i : i + 1] for i in range(len(BODY))])
    assert [d for d, *_ in wanted][:3] == ['{"n":0}', '{"n":1}', "{}"]
    assert ('{"n":3}', None, "7", None) in wanted and ("x", None, "7", 50) in wanted
    for first in range(len(BODY) + 1):
        for second in (first, first + 5, first + 23, len(BODY)):
            reads = [BODY[:first], BODY[first:second], BODY[second:]]
            assert _events(reads) == wanted, (first, second)
    body = BODY * 3  # the id and retry carry over to the later copies' events
    assert _events([body[:100], body[100:101], body[101:]]) == _events([body[i : i + 1] for i in range(len(body))])


def test_limits_still_hold_on_reads_of_whole_events() -> None:
    longest = max(len(line) for line in BODY.split(b"\n"))
    reads = [BODY[:40], BODY[40:]]  # both reads longer than the limit: the checked path
    assert _events(reads, max_line_bytes=longest) == _events([BODY])
    with pytest.raises(ResponseTooLargeError):
        _events(reads, max_line_bytes=longest - 1)
    with pytest.raises(ResponseTooLargeError):
        _events(reads, max_event_bytes=len('{"n":2}\n{"more":true}') - 1)
