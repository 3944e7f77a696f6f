"""Stream framings (litellm_sync._engine.framing), through the registry the stream code uses: the WHATWG SSE
rules, NDJSON, every-byte-offset splits, incremental dispatch, and the line and event size limits (also end to
end: an SSE line that never ends, served over a socket, stops with bounded memory).
(Property tests over generated transcripts are in test_properties.py.)"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import pytest
from faultserver import FaultServer, Send, chunk, chunked_head

import litellm_sync
from litellm_sync._engine.framing import FRAMINGS, ServerSentEvent
from litellm_sync.exceptions import APIResponseValidationError, ResponseTooLargeError
from litellm_sync.limits import DEFAULT_LIMITS

sse = FRAMINGS["sse"]
ndjson = FRAMINGS["ndjson"]


def _events(chunks: list[bytes], **limits: int) -> list[tuple[str | None, str]]:
    return [(e.event, e.data) for e in sse(chunks, **limits)]


def _pieces(raw: bytes) -> Iterator[list[bytes]]:
    """`raw` whole, cut in two at every offset, cut in three at pairs of offsets, and one byte per read."""
    yield [raw]
    for cut in range(len(raw) + 1):
        yield [raw[:cut], raw[cut:]]
    for a in range(0, len(raw), 3):
        for b in range(a, len(raw), 5):
            yield [raw[:a], raw[a:b], raw[b:]]
    yield [raw[i : i + 1] for i in range(len(raw))]


# -- the registry --------------------------------------------------------------------------------------


def test_registry_names_the_two_framings_and_each_takes_the_limits_as_keywords() -> None:
    assert set(FRAMINGS) == {"sse", "ndjson", "eventstream"}
    body = [b'data: {"a": 1}\n\n']
    assert [e.data for e in FRAMINGS["sse"](body)] == ['{"a": 1}']
    assert [e.data for e in FRAMINGS["sse"](body, max_line_bytes=100, max_event_bytes=100)] == ['{"a": 1}']
    assert [e.data for e in FRAMINGS["ndjson"]([b'{"a": 1}\n'], max_line_bytes=100, max_event_bytes=100)] == [
        '{"a": 1}'
    ]


# -- SSE: the WHATWG rules -----------------------------------------------------------------------------


@pytest.mark.parametrize("newline", [b"\n", b"\r", b"\r\n"])
def test_sse_line_endings_across_every_boundary(newline: bytes) -> None:
    raw = newline.join([b"event: a", b"data: one", b"", b": comment", b"data: two", b"data: three", b"", b""])
    expected = [("a", "one"), (None, "two\nthree")]
    for pieces in _pieces(raw):
        assert _events(pieces) == expected, pieces


def test_mixed_line_endings_bom_comments_ids_and_retry_at_every_offset() -> None:
    raw = (
        b"\xef\xbb\xbf: hello\r\n"
        b"retry: 3000\r"
        b"id: 1\n"
        b"event: first\r\n"
        b"data: a\r"
        b"data:b\n"
        b"data\r\n"
        b"\r"
        b"data: \xc3\xa9\xf0\x9f\x8c\x8d\n"
        b"\n"
        b"id\r\n"
        b"event\n"
        b"data: last\r\n"
        b"\r\n"
        b"data: never dispatched\n"
    )
    expected = [
        ServerSentEvent("a\nb\n", "first", "1", 3000),
        ServerSentEvent("é🌍", None, "1", 3000),
        ServerSentEvent("last", None, "", 3000),
    ]
    for pieces in _pieces(raw):
        assert list(sse(pieces)) == expected, pieces


def test_a_cr_and_the_lf_after_it_in_the_next_read_are_one_line_break() -> None:
    assert _events([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]) == [(None, "a\nb")]
    # A CR then a CR is two breaks: here a line, then the blank line that dispatches.
    assert _events([b"data: a\r", b"\r", b"data: b\n\n"]) == [(None, "a"), (None, "b")]


def test_multiline_data_joins_with_lf_and_one_space_after_the_colon_is_dropped() -> None:
    raw = b'data: {\ndata:  "a": 1\ndata:}\n\n'
    assert _events([raw]) == [(None, '{\n "a": 1\n}')]


def test_comments_are_ignored() -> None:
    raw = b": OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\ndata: x\n:between\ndata: y\n\n"
    assert _events([raw]) == [(None, "x\ny")]


def test_event_type_resets_after_dispatch_and_unknown_fields_are_ignored() -> None:
    raw = b"event: ping\ndata: 1\n\nfoo: bar\nDATA: no\ndata: 2\n\nevent:\ndata: 3\n\n"
    assert _events([raw]) == [("ping", "1"), (None, "2"), (None, "3")]


def test_field_without_colon_has_an_empty_value() -> None:
    assert _events([b"data:x\ndata\n\n"]) == [(None, "x\n")]
    assert _events([b"data\n\n"]) == [(None, "")]


def test_an_event_without_data_is_not_dispatched_and_its_type_is_dropped() -> None:
    assert _events([b"\n\n\nevent: x\n\n"]) == []
    assert _events([b"event: x\n\ndata: y\n\n"]) == [(None, "y")]


def test_id_persists_across_events_and_an_id_with_nul_is_ignored() -> None:
    raw = b"id: 7\ndata: a\n\ndata: b\n\nid: x\x00y\ndata: c\n\nid:\ndata: d\n\n"
    assert [(e.data, e.id) for e in sse([raw])] == [("a", "7"), ("b", "7"), ("c", "7"), ("d", "")]


def test_retry_takes_ascii_digits_only() -> None:
    raw = b"retry: 10\ndata: a\n\nretry: 1x\ndata: b\n\nretry: \xd9\xa3\ndata: c\n\nretry: 25\ndata: d\n\n"
    assert [(e.data, e.retry) for e in sse([raw])] == [("a", 10), ("b", 10), ("c", 10), ("d", 25)]


def test_bom_is_dropped_at_the_start_only_even_split_over_reads() -> None:
    raw = b"\xef\xbb\xbfdata: \xef\xbb\xbfx\n\n"
    for pieces in _pieces(raw):
        assert _events(pieces) == [(None, "\ufeffx")], pieces
    # Without the BOM drop, the first line's field would be "\ufeffdata" and nothing dispatched.
    assert _events([b"\xef\xbb\xbf", b"\xef\xbb\xbfdata: x\n\n"]) == []
    assert _events([b"\xef\xbb", b"\xbf"]) == []


def test_only_cr_and_lf_end_lines_not_other_unicode_line_separators() -> None:
    raw = "data: a\x0bb\x0cc\x1cd\x85e\u2028f\u2029g\n\n".encode()
    assert _events([raw]) == [(None, "a\x0bb\x0cc\x1cd\x85e\u2028f\u2029g")]
    assert _events([b"event: e\n" + raw]) == [("e", "a\x0bb\x0cc\x1cd\x85e\u2028f\u2029g")]  # general path
    assert [e.data for e in ndjson(['"\u2028"\r\n'.encode()])] == ['"\u2028"']


def test_invalid_utf8_is_replaced_and_a_multibyte_character_split_across_reads_is_kept() -> None:
    for pieces in _pieces("data: é🌍\n\n".encode()):
        assert _events(pieces) == [(None, "é🌍")]
    assert _events([b"data: \xff\n\n"]) == [(None, "\ufffd")]
    assert _events([b"event: \xff\ndata: x\n\n"]) == [("\ufffd", "x")]


def test_at_the_end_of_the_body_an_unfinished_event_is_discarded() -> None:
    """WHATWG: pending data at EOF is discarded, so a stream cut mid-event never hands half a payload on."""
    assert _events([b"data: last"]) == []
    assert _events([b"data: last\n"]) == []
    assert _events([b'data: {"a": 1}\n\ndata: {"cut": ']) == [(None, '{"a": 1}')]
    assert _events([b"data: last\r\n\r"]) == [(None, "last")]  # a final CR is a whole line break


def test_each_event_comes_out_as_soon_as_its_blank_line_arrives() -> None:
    pulled: list[bytes] = []

    def body() -> Iterator[bytes]:
        for piece in (b"data: a\n", b"\n", b"data: b\r", b"\r", b"data: c\r\n\r\n", b"data: never\n"):
            pulled.append(piece)
            yield piece

    seen = []
    for event in sse(body()):
        seen.append((event.data, len(pulled)))
    assert seen == [("a", 2), ("b", 4), ("c", 5)]


def test_many_events_in_one_read_and_reads_that_start_with_other_fields() -> None:
    raw = b"data: 1\n\ndata: 2\ndata: 3\n\n\n\nevent: e\ndata: 4\n\ndata: 5\n\n"
    assert _events([raw]) == [(None, "1"), (None, "2\n3"), ("e", "4"), (None, "5")]
    assert _events([b"event: e\ndata: 1\n\n", b"data: 2\n\n"]) == [("e", "1"), (None, "2")]


# -- NDJSON --------------------------------------------------------------------------------------------


def test_ndjson_records_blank_lines_crlf_and_a_last_record_without_newline() -> None:
    raw = b'{"a": 1}\r\n\n  \n\r\n{"b": "\xc3\xa9"}\n{"c": 3}'
    for pieces in _pieces(raw):
        assert [e.data for e in ndjson(pieces)] == ['{"a": 1}', '{"b": "é"}', '{"c": 3}'], pieces
    assert all(e.event is None for e in ndjson([raw]))


def test_ndjson_blank_tail_is_no_record() -> None:
    assert [e.data for e in ndjson([b'{"a": 1}\n', b"  "])] == ['{"a": 1}']
    assert list(ndjson([])) == []


# -- limits --------------------------------------------------------------------------------------------


class Counted:
    """A body that never ends, read by read; counts the bytes the decoder pulled."""

    def __init__(self, head: bytes, piece: bytes, most: int = 10**9) -> None:
        self.head, self.piece, self.most = head, piece, most
        self.pulled = 0

    def __iter__(self) -> Iterator[bytes]:
        self.pulled += len(self.head)
        yield self.head
        while self.pulled < self.most:
            self.pulled += len(self.piece)
            yield self.piece


@pytest.mark.parametrize("framing", ["sse", "ndjson"])
@pytest.mark.parametrize("head", [b"", b"data: ok\n\n", b'{"ok": 1}\n', b": keep-alive\r"])
def test_a_line_that_never_ends_stops_after_about_max_line_bytes(framing: str, head: bytes) -> None:
    limit, piece = 64 * 1024, b"x" * 1000
    body = Counted(head + b"data: " if framing == "sse" else head, piece, most=100 * limit)
    with pytest.raises(ResponseTooLargeError) as info:
        list(FRAMINGS[framing](body, max_line_bytes=limit))
    # It stopped pulling as soon as the pending line went over the limit: at most one more read.
    assert limit < body.pulled - len(head) <= limit + 2 * len(piece)
    error = info.value
    assert (error.limit, error.value) == ("max_line_bytes", limit)
    assert "max_line_bytes" in str(error) and f"{limit}" in str(error)
    assert "Client(limits=Limits(max_line_bytes=" in str(error)
    assert isinstance(error, APIResponseValidationError)


@pytest.mark.parametrize("framing", ["sse", "ndjson"])
def test_a_line_over_the_limit_inside_one_large_read_raises(framing: str) -> None:
    line = (b"data: " if framing == "sse" else b"") + b"y" * 5000
    with pytest.raises(ResponseTooLargeError) as info:
        list(FRAMINGS[framing]([b"x\n" * 10 + line + b"\n\n"], max_line_bytes=4096))
    assert info.value.limit == "max_line_bytes"
    # A read just under the limit is fine, and so is the default limit for a large but sane line.
    assert len(list(FRAMINGS[framing]([line[:4000] + b"\n\n"], max_line_bytes=4096))) == 1
    assert len(list(FRAMINGS[framing]([line + b"\n\n"]))) == 1


@pytest.mark.parametrize("limit", ["max_line_bytes", "max_event_bytes"])
def test_limits_hold_for_reads_of_whole_data_events(limit: str) -> None:
    """Reads shaped like chat-completion streams (whole `data:` events, nothing pending) are checked too."""
    ok, big = b"data: ok\n\n", b"data: " + b"y" * 5000 + b"\n\n"
    for body in ([ok, big], [ok, ok + big], [ok, big + ok]):
        with pytest.raises(ResponseTooLargeError) as info:
            list(sse(body, **{limit: 4096}))
        assert info.value.limit == limit


def test_the_default_limits_are_the_library_defaults() -> None:
    just_over = DEFAULT_LIMITS.max_line_bytes + 1
    with pytest.raises(ResponseTooLargeError) as info:
        list(sse([b"data: ", b"z" * just_over]))
    assert info.value.value == DEFAULT_LIMITS.max_line_bytes


def test_an_event_of_many_short_data_lines_over_max_event_bytes_raises() -> None:
    limit = 10_000
    body = Counted(b"event: big\n", b"data: " + b"x" * 94 + b"\n", most=100 * limit)
    with pytest.raises(ResponseTooLargeError) as info:
        list(sse(body, max_event_bytes=limit, max_line_bytes=1000))
    assert (info.value.limit, info.value.value) == ("max_event_bytes", limit)
    assert "Client(limits=Limits(max_event_bytes=" in str(info.value)
    data_pulled = (body.pulled - len(body.head)) // len(body.piece) * 95  # each line: 94 bytes of data, 1 LF
    assert limit < data_pulled <= limit + 2 * 95  # it stopped at the line that went over
    # The same lines in one read, and the joined size exactly at the limit is allowed (100 lines of 99 + 99 LFs).
    with pytest.raises(ResponseTooLargeError):
        list(sse([b"data: " + b"x" * 99 + b"\n"] * 101 + [b"\n"], max_event_bytes=limit))
    (event,) = sse([b"".join([b"data: " + b"x" * 99 + b"\n"] * 100) + b"\n\n"], max_event_bytes=100 * 99 + 99)
    assert len(event.data) == 100 * 99 + 99


def test_comments_and_dispatched_events_do_not_count_towards_max_event_bytes() -> None:
    body = [b": " + b"k" * 50 + b"\n", b"data: " + b"x" * 50 + b"\n\n"] * 1000
    assert len(list(sse(body, max_event_bytes=100, max_line_bytes=100))) == 1000


def test_ndjson_names_the_smaller_limit() -> None:
    record = b'{"x": "' + b"a" * 300 + b'"}\n'
    with pytest.raises(ResponseTooLargeError) as info:
        list(ndjson([record], max_line_bytes=1000, max_event_bytes=200))
    assert (info.value.limit, info.value.value) == ("max_event_bytes", 200)
    with pytest.raises(ResponseTooLargeError) as info:
        list(ndjson([record], max_line_bytes=200, max_event_bytes=1000))
    assert (info.value.limit, info.value.value) == ("max_line_bytes", 200)


def test_an_endless_sse_line_over_a_socket_stops_at_the_limit_with_bounded_memory() -> None:
    """Issue 10, item 3: 64 MiB of one `data:` line (sent as 64 KiB chunks of one shared buffer) must stop
    at the default 4 MiB line limit; Python's traced allocations peak near that, not near 64 MiB."""
    piece = chunk(b"x" * 65536)
    script = [Send(chunked_head()), Send(chunk(b"data: "))] + [Send(piece)] * 1024
    with FaultServer() as server, litellm_sync.Client(max_retries=0) as client:
        server.enqueue(script)
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLargeError) as info:  # noqa: SIM117 (the stream opens inside raises)
                with client.completion(
                    "openai/gpt-4o", [{"role": "user", "content": "hi"}], stream=True, api_key="sk-test",
                    api_base=server.url,
                ) as stream:
                    list(stream)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert info.value.limit == "max_line_bytes"
    assert peak < 3 * DEFAULT_LIMITS.max_line_bytes, f"peak {peak / 2**20:.1f} MiB"
