"""Stream framings: how a streamed body's bytes become events. A registry, name -> decoder.

A provider's `stream: {format: NAME}` picks `FRAMINGS[NAME]`; the stream code calls it as
`FRAMINGS[NAME](chunks, max_line_bytes=..., max_event_bytes=...)` (the limits default to
`litellm_sync.limits.DEFAULT_LIMITS`) and maps each event's `data` (and `event`, the type) through the
provider's stream rules.

Adding a framing (a text one, or a binary one such as AWS's `application/vnd.amazon.eventstream`):

1. Write one module here, `framing/<name>.py`, with one decoder matching `base.Framing`:
   `decode_<name>(chunks: Iterable[bytes], *, max_line_bytes=..., max_event_bytes=...) -> Iterator[ServerSentEvent]`.
   - Incremental: pull `chunks` one read at a time and yield each event as soon as it is complete; a frame
     split across reads at any byte must give the same events (tests/test_properties.py runs every framing
     in `FRAMINGS` over arbitrary bytes, whole, split anywhere and one byte per read; add tests of its own
     format to tests/test_framing.py).
   - Bounded: never hold more than one frame within the limits plus the current read. A length-prefixed
     binary frame checks its declared length against `max_event_bytes` before buffering it, and raises
     `base.too_large("max_event_bytes", limit)`; a line-based one checks its pending line as bytes arrive.
   - Events: `ServerSentEvent(data, event)`: `data` the payload as text (JSON for every dialect so far),
     `event` the frame's type if the framing has one (e.g. the `:event-type` header), else None. A
     malformed frame (bad checksum, bad prelude) raises `APIResponseValidationError` saying what was wrong.
   - No provider names: what differs between providers belongs in their YAML stream rules.
2. Add it to `FRAMINGS` below. The name is then valid for `stream.format` in providers.yaml
   (docs/providers-yaml.md, "Streams").
"""

from __future__ import annotations

from .base import Framing, ServerSentEvent, too_large
from .eventstream import decode_eventstream
from .ndjson import decode_ndjson
from .sse import decode_sse

#: Framing name (`stream.format` in providers.yaml) -> decoder from body bytes to events.
FRAMINGS: dict[str, Framing] = {"sse": decode_sse, "ndjson": decode_ndjson, "eventstream": decode_eventstream}

__all__ = [
    "FRAMINGS",
    "Framing",
    "ServerSentEvent",
    "decode_eventstream",
    "decode_ndjson",
    "decode_sse",
    "too_large",
]
