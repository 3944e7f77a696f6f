"""The `eventstream` framing (AWS application/vnd.amazon.eventstream): messages decoded at every split, both
CRC32 checks, every header type, exceptions and errors as typed events, and the size limit from the prelude.
botocore's own decoder is the independent reference for what a message means."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator

import pytest
from botocore.eventstream import EventStreamBuffer
from hypothesis import given, settings
from hypothesis import strategies as st

from litellm_sync._engine.framing import FRAMINGS, ServerSentEvent
from litellm_sync._engine.framing.eventstream import encode_message, parse_headers
from litellm_sync.exceptions import APIResponseValidationError, ResponseTooLargeError

decode = FRAMINGS["eventstream"]


def _event(kind: str, payload: dict[str, object]) -> bytes:
    return encode_message(
        {":event-type": kind, ":content-type": "application/json", ":message-type": "event"},
        json.dumps(payload).encode(),
    )


TRANSCRIPT = [
    ("messageStart", {"role": "assistant", "p": "abcdefgh"}),
    ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hé 🌍"}, "p": "ab"}),
    ("contentBlockStop", {"contentBlockIndex": 0}),
    ("messageStop", {"stopReason": "end_turn"}),
    ("metadata", {"usage": {"inputTokens": 5, "outputTokens": 2, "totalTokens": 7}, "metrics": {"latencyMs": 9}}),
]
RAW = b"".join(_event(kind, payload) for kind, payload in TRANSCRIPT)
EXPECTED = [(kind, json.dumps(payload)) for kind, payload in TRANSCRIPT]


def _pieces(raw: bytes) -> Iterator[list[bytes]]:
    yield [raw]
    for cut in range(len(raw) + 1):
        yield [raw[:cut], raw[cut:]]
    for a in range(0, len(raw), 7):
        for b in range(a, len(raw), 11):
            yield [raw[:a], b"", raw[a:b], raw[b:]]
    yield [raw[i : i + 1] for i in range(len(raw))]


def _events(chunks: list[bytes], **limits: int) -> list[tuple[str | None, str]]:
    return [(e.event, e.data) for e in decode(chunks, **limits)]


def test_a_transcript_gives_the_same_events_at_every_split() -> None:
    for pieces in _pieces(RAW):
        assert _events(pieces) == EXPECTED


def test_our_encoder_writes_what_botocore_reads() -> None:
    reference = EventStreamBuffer()
    reference.add_data(RAW)
    read = [(m.headers[":event-type"], m.payload.decode()) for m in reference]
    assert read == EXPECTED


def test_every_header_type_is_read_as_botocore_reads_it() -> None:
    block = (
        b"\x01t\x00" + b"\x01f\x01" + b"\x01b\x02\xff" + b"\x01s\x03\xff\xfe" + b"\x01i\x04" + struct.pack(">i", -7)
        + b"\x01l\x05" + struct.pack(">q", 2**40) + b"\x02by\x06\x00\x03a\x00b" + b"\x01S\x07\x00\x02\xc3\xa9"
        + b"\x02ts\x08" + struct.pack(">q", 1700000000000) + b"\x01u\x09" + bytes(range(16))
    )
    reference = EventStreamBuffer()
    reference.add_data(_raw_message(block, b"{}"))
    expected = next(iter(reference)).headers
    ours = parse_headers(block)
    assert ours["t"] is True and ours["f"] is False
    assert (ours["b"], ours["s"], ours["i"], ours["l"]) == (expected["b"], expected["s"], expected["i"], expected["l"])
    assert (ours["by"], ours["S"]) == (b"a\x00b", "é") == (expected["by"], expected["S"])
    assert ours["ts"] == 1700000000000 and ours["u"] == bytes(range(16)).hex()


def _raw_message(block: bytes, payload: bytes) -> bytes:
    total = 16 + len(block) + len(payload)
    prelude = struct.pack(">II", total, len(block))
    head = prelude + zlib.crc32(prelude).to_bytes(4, "big") + block + payload
    return head + zlib.crc32(head).to_bytes(4, "big")


def test_a_bad_message_crc_is_a_typed_error_after_the_good_events() -> None:
    broken = bytearray(RAW)
    last = len(RAW) - len(_event(*TRANSCRIPT[-1]))
    broken[last + 20] ^= 0x01  # a header byte of the last message: its prelude is intact, its CRC is not
    for pieces in _pieces(bytes(broken)):
        seen: list[tuple[str | None, str]] = []
        with pytest.raises(APIResponseValidationError, match="message CRC32 does not match"):
            for event in decode(pieces):
                seen.append((event.event, event.data))
        assert seen == EXPECTED[:-1]


def test_a_bad_prelude_crc_stops_before_the_length_is_trusted() -> None:
    broken = bytearray(RAW)
    broken[2] ^= 0x40  # the first message now claims to be megabytes long
    with pytest.raises(APIResponseValidationError, match="prelude CRC32") as caught:
        list(decode([bytes(broken)], max_event_bytes=64))
    assert not isinstance(caught.value, ResponseTooLargeError)


def test_impossible_lengths_and_malformed_headers_are_typed_errors() -> None:
    prelude = struct.pack(">II", 10, 0)
    with pytest.raises(APIResponseValidationError, match="impossible lengths"):
        list(decode([prelude + zlib.crc32(prelude).to_bytes(4, "big")]))
    with pytest.raises(APIResponseValidationError, match="unknown value type 12"):
        list(decode([_raw_message(b"\x01x\x0c", b"")]))
    with pytest.raises(APIResponseValidationError, match="runs past the header block"):
        list(decode([_raw_message(b"\x01x\x07\x00\x09ab", b"")]))


def test_a_message_over_max_event_bytes_is_refused_from_its_prelude_before_buffering() -> None:
    big = _event("contentBlockDelta", {"delta": {"text": "x" * 5000}})
    reads: list[int] = []

    def body() -> Iterator[bytes]:
        for i in range(0, len(big), 100):
            reads.append(i)
            yield big[i : i + 100]

    with pytest.raises(ResponseTooLargeError) as caught:
        list(decode(body(), max_event_bytes=4096))
    assert caught.value.limit == "max_event_bytes"
    assert len(reads) == 1  # the prelude was enough
    assert len(list(decode([big], max_event_bytes=len(big)))) == 1


def test_exceptions_and_errors_become_typed_events() -> None:
    exception = encode_message(
        {":message-type": "exception", ":exception-type": "throttlingException", ":content-type": "application/json"},
        b'{"message":"Too many requests"}',
    )
    error = encode_message({":message-type": "error", ":error-code": "InternalFailure", ":error-message": "boom"}, b"")
    assert list(decode([exception, error])) == [
        ServerSentEvent('{"message":"Too many requests"}', "throttlingException"),
        ServerSentEvent(json.dumps({"code": "InternalFailure", "message": "boom"}), "error"),
    ]


def test_an_unfinished_message_at_the_end_is_discarded() -> None:
    for cut in range(1, len(_event(*TRANSCRIPT[-1]))):
        assert _events([RAW[:-cut]]) == EXPECTED[:-1]


@settings(max_examples=200, deadline=None)
@given(
    messages=st.lists(
        st.tuples(st.text(max_size=12), st.binary(max_size=60)), min_size=1, max_size=5
    ),
    points=st.lists(st.integers(0, 600), max_size=10),
)
def test_generated_transcripts_decode_the_same_at_any_split(
    messages: list[tuple[str, bytes]], points: list[int]
) -> None:
    raw = b"".join(encode_message({":event-type": kind}, payload) for kind, payload in messages)
    cuts = sorted({min(p, len(raw)) for p in points})
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)])]
    expected = [(kind or None, payload.decode("utf-8", "replace")) for kind, payload in messages]
    assert _events(pieces) == expected
    assert _events([raw[i : i + 1] for i in range(len(raw))]) == expected
