"""The `eventstream` framing: AWS's binary `application/vnd.amazon.eventstream`, decoded as bytes arrive.

https://docs.aws.amazon.com/transcribe/latest/dg/streaming-setting-up.html (the message format), as used by
Bedrock's ConverseStream and InvokeModelWithResponseStream. Each message is:

    total length (uint32, big-endian) | headers length (uint32) | prelude CRC32 (of those 8 bytes)
    headers (headers-length bytes)     | payload                 | message CRC32 (of everything before it)

so a message is at least 16 bytes. A header is a name (1-byte length, UTF-8), a type byte and a value:
0 true, 1 false, 2 byte, 3 int16, 4 int32, 5 int64, 6 bytes (2-byte length), 7 string (2-byte length),
8 timestamp (int64 ms), 9 UUID (16 bytes). Both CRCs are checked; a bad CRC, an impossible length or a
malformed header raises `APIResponseValidationError` saying which, never a half-read event.

Events (`ServerSentEvent(data, event)`): `data` is the payload as text (UTF-8, replacement characters for
invalid bytes; JSON for Bedrock). `event` comes from the headers by `:message-type`:
- `event` (or no `:message-type`): the `:event-type` header (`contentBlockDelta`, `messageStop`, ...);
- `exception`: the `:exception-type` header (`throttlingException`, ...), so a provider's stream rules list
  those types under `error.types`; the payload is the exception's JSON (`{"message": "..."}`);
- `error`: the event type `error`, and, when the payload is empty, the data is the JSON
  `{"code": <:error-code>, "message": <:error-message>}` made from the headers.

Limits: a message's declared total length is checked against `max_event_bytes` from its prelude, before
its body is buffered, and raises `ResponseTooLargeError`; `max_line_bytes` does not apply (no lines). At the
end of the body an unfinished message is discarded, as the `sse` framing discards an unfinished event: a
stream with an end marker then reads as closed early.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterable, Iterator

from ...exceptions import APIResponseValidationError
from ...limits import DEFAULT_LIMITS
from .base import ServerSentEvent, too_large

_PRELUDE = 12  # total length, headers length, prelude CRC
_MIN = _PRELUDE + 4  # plus the message CRC
_FIXED = {2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}  # header type -> value size (bytes)
_INTS = {2: ">b", 3: ">h", 4: ">i", 5: ">q", 8: ">q"}


def _malformed(what: str) -> APIResponseValidationError:
    return APIResponseValidationError(
        f"the provider's event stream (application/vnd.amazon.eventstream) is malformed: {what}. The body was "
        f"damaged in transit or is not an AWS event stream; retrying the call usually helps, and a proxy that "
        f"rewrites bodies must pass this one through unchanged"
    )


def parse_headers(raw: bytes) -> dict[str, object]:
    """The header block of one message as {name: value} (see the module docstring for the types)."""
    headers: dict[str, object] = {}
    at, end = 0, len(raw)
    while at < end:
        size = raw[at]
        at += 1
        if at + size + 1 > end:
            raise _malformed("a header name runs past the header block")
        name = raw[at : at + size].decode("utf-8", "replace")
        at += size
        kind = raw[at]
        at += 1
        value: object
        if kind in (0, 1):
            value = kind == 0
        elif kind in _FIXED:
            width = _FIXED[kind]
            if at + width > end:
                raise _malformed(f"header {name!r} runs past the header block")
            chunk = raw[at : at + width]
            value = str(chunk.hex()) if kind == 9 else struct.unpack(_INTS[kind], chunk)[0]
            at += width
        elif kind in (6, 7):
            if at + 2 > end:
                raise _malformed(f"header {name!r} runs past the header block")
            width = int.from_bytes(raw[at : at + 2], "big")
            at += 2
            if at + width > end:
                raise _malformed(f"header {name!r} runs past the header block")
            chunk = raw[at : at + width]
            value = chunk.decode("utf-8", "replace") if kind == 7 else bytes(chunk)
            at += width
        else:
            raise _malformed(f"header {name!r} has unknown value type {kind}")
        headers[name] = value
    return headers


def _event(headers: dict[str, object], payload: bytes) -> ServerSentEvent:
    kind = headers.get(":message-type", "event")
    if kind == "exception":
        return ServerSentEvent(payload.decode("utf-8", "replace"), _str(headers.get(":exception-type")))
    if kind == "error":
        data = payload.decode("utf-8", "replace")
        if not payload:
            data = json.dumps({"code": headers.get(":error-code"), "message": headers.get(":error-message")})
        return ServerSentEvent(data, "error")
    return ServerSentEvent(payload.decode("utf-8", "replace"), _str(headers.get(":event-type")))


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def decode_eventstream(
    chunks: Iterable[bytes],
    *,
    max_line_bytes: int = DEFAULT_LIMITS.max_line_bytes,
    max_event_bytes: int = DEFAULT_LIMITS.max_event_bytes,
) -> Iterator[ServerSentEvent]:
    """Event-stream messages from body bytes as they arrive, one event each (see the module docstring)."""
    del max_line_bytes  # a binary framing has no lines
    buffer = bytearray()
    total = 0  # the current message's total length, once its prelude has been read and checked
    for chunk in chunks:
        if not chunk:
            continue
        buffer += chunk
        while True:
            if not total:
                if len(buffer) < _PRELUDE:
                    break
                prelude = bytes(buffer[:8])
                if zlib.crc32(prelude) != int.from_bytes(buffer[8:12], "big"):
                    raise _malformed("the prelude CRC32 does not match its length fields")
                total, header_length = struct.unpack(">II", prelude)
                if total < _MIN or header_length > total - _MIN:
                    raise _malformed(f"impossible lengths (message {total} bytes, headers {header_length} bytes)")
                if total > max_event_bytes:
                    raise too_large("max_event_bytes", max_event_bytes)
            if len(buffer) < total:
                break
            message = bytes(buffer[:total])
            del buffer[:total]
            total = 0
            if zlib.crc32(message[:-4]) != int.from_bytes(message[-4:], "big"):
                raise _malformed("a message CRC32 does not match its bytes")
            header_length = int.from_bytes(message[4:8], "big")
            headers = parse_headers(message[_PRELUDE : _PRELUDE + header_length])
            yield _event(headers, message[_PRELUDE + header_length : -4])
    # End of body: an unfinished message is discarded (see the module docstring).


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message with string headers (tests and fake servers use it to write transcripts)."""
    block = b"".join(
        bytes([len(name.encode())]) + name.encode() + b"\x07" + len(value.encode()).to_bytes(2, "big") + value.encode()
        for name, value in headers.items()
    )
    total = _MIN + len(block) + len(payload)
    prelude = struct.pack(">II", total, len(block))
    head = prelude + zlib.crc32(prelude).to_bytes(4, "big") + block + payload
    return head + zlib.crc32(head).to_bytes(4, "big")
