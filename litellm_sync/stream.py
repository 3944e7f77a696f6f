"""`ChatStream`: the iterator and context manager a caller gets from `completion(..., stream=True)`; what it
does with each event it reads is _engine/stream_events.py."""

from __future__ import annotations

import contextvars
import itertools
import json
from collections.abc import Generator, Iterator, Sequence
from typing import Any, Callable

from ._engine.errors import ErrorMapper
from ._engine.reads import ReadState
from ._engine.response import ChunkAssembler, stream_chunk_builder
from ._engine.stream_events import StreamEvents, StreamResponse
from ._engine.stream_rules import StreamRules
from ._observe.context import run_in
from ._record import note_origin
from .exceptions import APIConnectionError, APIError, APIResponseValidationError, LiteLLMSyncError, StreamUsageError
from .limits import DEFAULT_LIMITS, Limits
from .types import ChatChunk, ChatResponse

_DRAIN_MOST = 16  # reads after the end marker before a still-talking server just costs the connection


class ChatStream(StreamEvents):
    """An iterator of `ChatChunk`s over one streaming HTTP response; closes the connection when done.

    Use it in a `with` block (or call `close()`): exhaustion, an error, `close()` and leaving the block all
    release the connection. A plain for loop that breaks early leaves the connection open until the stream
    object is dropped, so prefer `with` when you may stop early. `response()` consumes the stream and
    rebuilds the whole ChatResponse; `usage` and `cost` hold the final figures after iteration. Chunks are
    kept only when something needs them (`response()` called before iterating, or a Client hook), so an
    endless stream holds no memory; `response()` after iterating an unkept stream raises and says how to
    rebuild from the chunks you collected (`litellm_sync.stream_chunk_builder`).
    """

    cache_hit = False  # a stream replayed from the Client's cache is a cache.CachedStream, with cache_hit True
    #: Set by completion(response_format=<schema or model>): loads the rebuilt response into `.parsed`.
    parse_as: Callable[[ChatResponse], Any] | None = None
    # The context the Client's call started in (its correlation id current): the stream is read and closed inside it,
    # so log lines written then carry the id. Context.run costs ~15 ns a chunk; a ContextVar set/reset ~150 ns.
    context: contextvars.Context | None = None
    # (api_base, Router deployment id) for the `_hidden_params` of the response `response()` rebuilds (note_origin).
    _origin: tuple[str | None, str | None] = (None, None)

    def __init__(
        self,
        http_response: StreamResponse,
        rules: StreamRules,
        errors: ErrorMapper,
        assembler: ChunkAssembler,
        secrets: Sequence[str],
        on_end: Callable[[ChatResponse | None, Exception | None, bool], None] | None = None,
        limits: Limits = DEFAULT_LIMITS,
        keep: bool = False,
    ) -> None:
        self._http = http_response
        self._limits = limits
        self._keep = keep  # keep every chunk for response() and hooks; else only the latest usage is kept
        self._dropped = False  # a chunk went by unkept: response() can no longer rebuild the whole answer
        self._usage_chunk: ChatChunk | None = None
        self._rules = rules
        self._errors = errors
        self._assembler = assembler
        self._secrets = secrets
        self._chunks: list[ChatChunk] = []
        self._finished = False
        self._closed = False
        self._last_event = False
        self._answer_complete = False
        self._on_end = on_end
        # The C JSON scanner, one per stream (its string memo is then never shared between threads).
        self._scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
        self._generator: Generator[ChatChunk, None, None] = self._generate()
        self._iterator: Iterator[ChatChunk] = self._generator
        self._ended: tuple[Exception | None, bool] | None = None  # (error, complete) once the stream ended

    def __iter__(self) -> Iterator[ChatChunk]:
        return self

    def __next__(self) -> ChatChunk:
        try:
            context = self.context
            return next(self._iterator) if context is None else context.run(next, self._iterator)
        except (ValueError, RuntimeError) as exc:  # a second thread: "already executing" / "already entered"
            if "already executing" not in str(exc) and "already entered" not in str(exc):
                raise
            raise StreamUsageError(
                "this ChatStream is being iterated by another thread; a stream has one consumer: read it in one "
                "thread and hand the chunks on (through a queue.Queue, say)"
            ) from None

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # An abandoned, unclosed stream: close its connection, but run no hook (this may be any thread, at
        # any time, even interpreter shutdown); its end is never reported.
        if not getattr(self, "_closed", True):
            self._closed = True
            self._on_end = None
            self._http.close(reuse=False)

    def close(self) -> None:
        """Stop the stream and release its connection; safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        try:
            run_in(self.context, self._stop)
        finally:  # the connection goes back (or is dropped) even when an end listener raises
            self._http.close(reuse=self._finished)

    def _stop(self) -> None:
        self._generator.close()
        self._end(None)  # a stream closed before it was ever iterated still ends (its generator never ran)

    def _generate(self) -> Generator[ChatChunk, None, None]:
        rules = self._rules
        state = ReadState()
        ended = False
        try:
            content_type = self._http.headers.get("content-type", "")
            if "text/html" in content_type:
                self._not_a_stream(content_type)
            if rules.whole_body_reader is not None and "json" in content_type:
                yield from self._whole_body(rules.whole_body_reader, state)
                self._finished = True
                self._end(None)
                return
            body = self._http.chunks("reading the stream")
            handle, assemble, keep = self._handle, self._assembler.chunk, self._chunks.append
            done = rules.done
            # Streams without event types (chat completions, Gemini, NDJSON) take the inline branch: it is the
            # benchmarked hot path. Typed events (Anthropic, Cohere) go through `_handle`.
            untyped = rules.untyped
            read_event, error_when, end_when = rules.default.read, rules.error_when, rules.end_when
            scan = self._scan
            for event in self._frame(body):
                data = event.data
                if data == done:
                    ended = True
                    break
                if untyped:
                    # The C scanner straight, not json.loads (type check, decode, two whitespace regexes around
                    # raw_decode): ~1 us less per chunk of the ~9.5 us CPU a streamed chunk cost. Anything it
                    # does not parse whole (whitespace around, an error) goes to json.loads for its exact verdict.
                    try:
                        payload, end = scan(data, 0)
                    except (StopIteration, ValueError, RecursionError):
                        end = -1
                    if end != len(data):
                        payload = self._loads(data)
                    if error_when is not None and error_when(payload):
                        self._in_band_error(data, None)
                    read = read_event(payload, state)
                    last = end_when is not None and end_when(payload)
                else:
                    handled = handle(event, state)
                    if handled is None:
                        continue
                    read, last = handled, self._last_event
                chunk = assemble(read)
                if chunk is not None:
                    if self._keep:
                        keep(chunk)
                    else:
                        self._dropped = True
                    if chunk.usage is not None:
                        self._usage_chunk = chunk
                    if not self._answer_complete:
                        for choice in chunk.choices:
                            if choice.finish_reason is not None:
                                self._answer_complete = True
                    yield chunk
                if last:
                    ended = True
                    break
            if not ended and rules.has_end_marker:
                raise APIConnectionError(
                    "the stream ended before its end marker (connection closed early); the answer is incomplete",
                    provider=self._assembler.provider,
                    model=self._assembler.model,
                )
            self._finished = True
            self._end(None)
            if ended and not self._closed:
                self._closed = True
                self._drain(body)
        except APIError as api_error:
            self._end(api_error.redact_secrets(self._secrets))
            raise
        except GeneratorExit:
            self._end(None)
            raise
        except ValueError as exc:  # the framing found bytes it cannot decode
            error = APIResponseValidationError(
                f"the stream could not be decoded: {exc}",
                provider=self._assembler.provider,
                model=self._assembler.model,
            )
            self._end(error)
            raise error from None
        finally:
            if not self._closed:
                self._closed = True
                self._http.close(reuse=self._finished)

    def _drain(self, body: Iterator[bytes]) -> None:
        """After the end marker: read the little left (the closing chunk) so the connection can be reused;
        the byte iterator enforces the deadline, and a tail that keeps talking only costs the connection."""
        try:
            for count, _data in enumerate(body):
                if count >= _DRAIN_MOST:
                    self._http.close(reuse=False)
                    return
        except APIError:
            self._http.close(reuse=False)
            return
        self._http.close(reuse=True)

    def prefetch(self) -> None:
        """Read up to the first chunk now, so an error the provider sends before any content (an overloaded
        event as the first thing in a 200 stream) raises here, where the client's retries still apply."""
        try:
            first = next(self._generator)
        except StopIteration:
            self._iterator = iter(())
            return
        if not self._keep and not self._chunks:  # the caller has seen nothing yet: response() still works
            self._chunks.append(first)
            self._dropped = False
        self._iterator = itertools.chain((first,), self._generator)

    def notify_end(self, on_end: Callable[[ChatResponse | None, Exception | None, bool], None]) -> None:
        """Have on_end told (once) how the stream ends; at once if it already has. Chunks are kept from now.
        Listeners add up, told in the order they were given (the Client's, then the Router's)."""
        self._keep = True
        if self._ended is not None:
            self._tell(on_end, *self._ended)
        elif self._on_end is None:
            self._on_end = on_end
        else:
            first = self._on_end

            def both(response: ChatResponse | None, error: Exception | None, complete: bool) -> None:
                first(response, error, complete)
                on_end(response, error, complete)

            self._on_end = both

    def _end(self, error: Exception | None) -> None:
        """Record (once) how the stream ended and tell the client's hooks, if any."""
        if self._ended is not None:
            return
        self._ended = (error, self._finished)
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            self._tell(on_end, error, self._finished)

    def _tell(self, on_end: Callable[..., None], error: Exception | None, complete: bool) -> None:
        # The rebuilt response is made only for a listener: without hooks a stream end costs nothing.
        # It carries the stream's origin, as response()'s does: a hook reads the same _hidden_params either way.
        on_end(note_origin(stream_chunk_builder(self._chunks), *self._origin) if self._chunks else None, error,
               complete)

    def text(self) -> Iterator[str]:
        """Only the text deltas, for `StreamingHttpResponse(stream.text())`; closes upstream when closed."""
        try:
            for chunk in self:
                for choice in chunk.choices:
                    if choice.delta.content:
                        yield choice.delta.content
        finally:
            self.close()

    def response(self) -> ChatResponse:
        """Consume the stream and rebuild the whole response from every chunk.

        Call it instead of iterating (or after iterating a stream whose Client has hooks, which keeps every
        chunk): a stream keeps no chunks by default, so that an endless stream holds no memory."""
        if self._dropped:
            raise LiteLLMSyncError(
                "ChatStream.response() needs every chunk, but this stream was iterated without keeping them; "
                "call .response() instead of iterating, or rebuild from the chunks you collected with "
                "litellm_sync.stream_chunk_builder(chunks)"
            )
        self._keep = True
        for _chunk in self:
            pass
        built = note_origin(stream_chunk_builder(self._chunks), *self._origin)
        if self.parse_as is not None:
            built.parsed = self.parse_as(built)
        return built

    @property
    def chunks(self) -> list[ChatChunk]:
        """The chunks kept so far (every chunk when response() or a hook needs them, else at most the first)."""
        return list(self._chunks)

    @property
    def usage(self) -> Any:
        """The latest usage reported (final once the stream is exhausted), or None."""
        return None if self._usage_chunk is None else self._usage_chunk.usage

    @property
    def cost(self) -> Any:
        """The cost in USD from the latest usage, or None."""
        return None if self._usage_chunk is None else self._usage_chunk.cost
