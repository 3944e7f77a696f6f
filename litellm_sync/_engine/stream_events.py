"""Reading a stream's events: each event's JSON, typed events to their readers, in-band error events, a whole
JSON answer where a stream was asked for, and an HTML page instead of a stream. `ChatStream` (stream.py) takes
these from `StreamEvents` and keeps the iteration, the closing and the end listeners."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Callable, Protocol

from ..exceptions import APIConnectionError, APIError, APIResponseValidationError
from ..limits import Limits
from ..types import ChatChunk
from .errors import ErrorMapper
from .reader import Reader
from .reads import Read, ReadState
from .redact import excerpt, get_logger
from .response import ChunkAssembler, read_answer
from .stream_rules import StreamRules

log = get_logger()


class StreamResponse(Protocol):
    """What a stream needs from the transport: headers, the body as bytes as they arrive (every failure, the
    deadline included, already one of our exceptions), and a way to give the connection back."""

    headers: Any
    at_eof: bool  # the body has ended (a decoder still holding bytes then holds a cut-off event)

    def chunks(self, stage: str) -> Iterator[bytes]: ...

    def read(self, limits: Limits) -> bytes: ...

    def close(self, reuse: bool) -> None: ...


class StreamEvents:
    """What a stream does with the events it reads; mixed into `ChatStream`, whose state these methods share."""

    _http: StreamResponse
    _limits: Limits
    _rules: StreamRules
    _errors: ErrorMapper
    _assembler: ChunkAssembler
    _secrets: Any
    _chunks: list[ChatChunk]
    _usage_chunk: ChatChunk | None
    _answer_complete: bool
    _last_event: bool
    _scan: Callable[[str, int], tuple[Any, int]]

    @property
    def model(self) -> str:
        """The model as the provider reported it (or as requested, before the first chunk)."""
        return self._assembler.model

    @property
    def provider(self) -> str:
        """The provider serving this stream."""
        return self._assembler.provider

    def _not_a_stream(self, content_type: str) -> None:
        """A stream request answered with an HTML page (a login portal, a proxy error, a wrong api_base)."""
        head = b""
        for data in self._http.chunks("reading the body"):
            head += data
            if len(head) >= 8192:
                break
        self._http.close(reuse=False)
        raise APIResponseValidationError(
            f"a stream request was answered with an HTML page ({content_type}), not a stream: "
            f"{excerpt(head, self._secrets, 300)}; check api_base and any proxy in between",
            provider=self._assembler.provider,
            model=self._assembler.model,
        ).redact_secrets(self._secrets)

    def _frame(self, body: Iterator[bytes]) -> Iterator[Any]:
        # The one place the stream limits reach the framing (which raises ResponseTooLargeError over them).
        limits = self._limits
        return self._rules.framing(  # type: ignore[no-any-return]
            body, max_line_bytes=limits.max_line_bytes, max_event_bytes=limits.max_event_bytes
        )

    def _whole_body(self, reader: Reader, state: ReadState) -> Iterator[ChatChunk]:
        """One chunk holding a whole JSON answer (or the mapped error if the body is an error)."""
        data = self._http.read(self._limits)
        try:
            body = json.loads(data)
        except (ValueError, RecursionError):
            raise APIResponseValidationError(
                f"a stream request was answered with a body that is not JSON: {excerpt(data, self._secrets)}",
                provider=self._assembler.provider,
                model=self._assembler.model,
            ) from None
        rules = self._rules
        if rules.error_when is not None and rules.error_when(body):
            raise self._errors.from_response(None, {}, data, self._assembler.model, self._secrets)
        chunk = self._assembler.chunk(read_answer(reader, body, data, self.provider, self.model, self._secrets))
        if chunk is not None:
            self._chunks.append(chunk)  # one chunk: kept whatever `keep` says
            if chunk.usage is not None:
                self._usage_chunk = chunk
            yield chunk

    def _loads(self, data: str) -> Any:
        """One event's JSON, or the error saying why it is not (the scanner first, as in `_generate`)."""
        try:
            body, end = self._scan(data, 0)
        except (StopIteration, ValueError, RecursionError):
            end = -1
        if end == len(data):
            return body
        try:
            return json.loads(data)
        except (ValueError, RecursionError):
            raise self._invalid_json(data) from None

    def _invalid_json(self, data: str) -> APIError:
        if self._http.at_eof:  # the decoder gave up what it held when the body ended: the event was cut off
            return APIConnectionError(
                "the connection closed early, in the middle of a stream event; the answer is incomplete",
                provider=self._assembler.provider,
                model=self._assembler.model,
            )
        return APIResponseValidationError(
            f"a stream event is not valid JSON: {excerpt(data, self._secrets)}",
            provider=self._assembler.provider,
            model=self._assembler.model,
        ).redact_secrets(self._secrets)

    def _in_band_error(self, data: str, event_type: str | None) -> None:
        """Raise the mapped error of an error event, unless the answer had already finished."""
        error = self._errors.from_response(None, {}, data, self._assembler.model, self._secrets, event_type)
        if not self._answer_complete:
            raise error
        # The answer already ended with a finish reason; an error after it (OpenRouter reports a reached
        # token limit this way, with the usage) loses nothing, so it is logged and the event still read.
        log.warning("in-band error after the answer finished: %s", error)

    def _handle(self, event: Any, state: ReadState) -> Read | None:
        rules = self._rules
        data = event.data
        event_type = event.event if rules.type_from_event else None
        if event_type is not None and event_type in rules.ignore:
            return None
        body = self._loads(data)
        if rules.type_getter is not None:
            found = rules.type_getter(body)
            event_type = found if isinstance(found, str) else None
            if event_type in rules.ignore:
                return None
        if (event_type is not None and event_type in rules.error_types) or (
            rules.error_when is not None and rules.error_when(body)
        ):
            self._in_band_error(data, event_type)
        reader = rules.readers.get(event_type, rules.default) if event_type is not None else rules.default
        self._last_event = (event_type is not None and event_type in rules.end_types) or (
            rules.end_when is not None and rules.end_when(body)
        )
        return reader.read(body, state)
