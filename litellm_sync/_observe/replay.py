"""`CachedStream`: a cached stream's chunks replayed with the `ChatStream` interface, nothing sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Callable

from .._engine.response import stream_chunk_builder
from ..types import ChatChunk, ChatResponse


class CachedStream:
    """Iterates the chunks a stream produced when it was stored; same methods as `ChatStream`, `cache_hit` True."""

    cache_hit = True
    parse_as: Callable[[ChatResponse], Any] | None = None  # as ChatStream's: loads response() into .parsed

    def __init__(self, chunks: list[ChatChunk], provider: str, model: str) -> None:
        self._all = chunks
        self._given: list[ChatChunk] = []
        self._iterator = iter(chunks)
        self._provider = provider
        self._model = model
        self._closed = False

    @property
    def model(self) -> str:
        """The model as the provider reported it when the stream was stored."""
        return next((c.model for c in self._all if c.model), self._model)

    @property
    def provider(self) -> str:
        """The provider that served the stored stream."""
        return self._provider

    def __iter__(self) -> Iterator[ChatChunk]:
        return self

    def __next__(self) -> ChatChunk:
        if self._closed:
            raise StopIteration
        chunk = next(self._iterator)
        self._given.append(chunk)
        return chunk

    def __enter__(self) -> CachedStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the replay; safe to call more than once."""
        self._closed = True

    def prefetch(self) -> None:
        """Nothing to read ahead: the chunks are in memory."""

    def notify_end(self, on_end: Callable[[ChatResponse | None, Exception | None, bool], None]) -> None:
        """A replay has ended as far as listeners care: they are told at once, complete, that it cost nothing."""
        on_end(stream_chunk_builder(self._all), None, True)

    def text(self) -> Iterator[str]:
        """Only the text deltas."""
        try:
            for chunk in self:
                for choice in chunk.choices:
                    if choice.delta.content:
                        yield choice.delta.content
        finally:
            self.close()

    def sse(self) -> Iterator[bytes]:
        """The replay as OpenAI-format SSE bytes ending with `data: [DONE]`."""
        try:
            for chunk in self:
                yield b"data: " + json.dumps(chunk.to_dict(), separators=(",", ":")).encode() + b"\n\n"
        finally:
            self.close()
        yield b"data: [DONE]\n\n"

    def response(self) -> ChatResponse:
        """Consume what is left and rebuild the whole response."""
        for _chunk in self:
            pass
        built = stream_chunk_builder(self._given)
        if self.parse_as is not None:
            built.parsed = self.parse_as(built)
        return built

    @property
    def chunks(self) -> list[ChatChunk]:
        """The chunks yielded so far."""
        return list(self._given)

    @property
    def usage(self) -> Any:
        """The latest usage replayed, or None."""
        return next((c.usage for c in reversed(self._given) if c.usage is not None), None)

    @property
    def cost(self) -> Any:
        """0 once the usage has been replayed: a hit costs nothing."""
        return next((c.cost for c in reversed(self._given) if c.usage is not None), None)
