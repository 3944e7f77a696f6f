"""Responses and chunks to JSON-ready dicts and back, for the cache: the round trip keeps every field."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from ..types import (
    ChatChunk,
    ChatResponse,
    Choice,
    ChunkChoice,
    Delta,
    Embedding,
    EmbeddingResponse,
    Function,
    Message,
    RerankResponse,
    RerankResult,
    ToolCall,
    Usage,
    _Record,
)

#: Fields holding records (a list of them when the type is in a list); everything else is a plain JSON value.
_NESTED: dict[type[_Record], dict[str, Any]] = {
    ChatResponse: {"choices": [Choice], "usage": Usage},
    ChatChunk: {"choices": [ChunkChoice], "usage": Usage},
    Choice: {"message": Message},
    ChunkChoice: {"delta": Delta},
    Message: {"tool_calls": [ToolCall]},
    Delta: {"tool_calls": [ToolCall]},
    ToolCall: {"function": Function},
    EmbeddingResponse: {"data": [Embedding], "usage": Usage},
    RerankResponse: {"results": [RerankResult], "usage": Usage},
}


class CachedChatResponse(ChatResponse):
    """A ChatResponse served from the cache: `cache_hit` is True and it cost nothing."""

    cache_hit = True
    native: dict[str, Any] | None = None  # the provider's own body, for an entry stored by responses()


class CachedChatChunk(ChatChunk):
    """A ChatChunk replayed from the cache."""

    cache_hit = True


class CachedEmbeddingResponse(EmbeddingResponse):
    """An EmbeddingResponse served from the cache: `cache_hit` is True and it cost nothing."""

    cache_hit = True


class CachedRerankResponse(RerankResponse):
    """A RerankResponse served from the cache: `cache_hit` is True and it cost nothing."""

    cache_hit = True


_NESTED[CachedChatResponse] = {**_NESTED[ChatResponse], "choices": [Choice]}
_NESTED[CachedEmbeddingResponse] = _NESTED[EmbeddingResponse]
_NESTED[CachedRerankResponse] = _NESTED[RerankResponse]
_NESTED[CachedChatChunk] = _NESTED[ChatChunk]


class BadEntry(ValueError):
    """A cached entry that cannot be read back (corrupt, or written by another version): a miss."""


def dump(record: _Record) -> dict[str, Any]:
    """Every slot of a record (None included) as JSON-ready values; Decimal costs as exact strings."""
    out: dict[str, Any] = {}
    for name in type(record).__slots__:
        value = getattr(record, name, None)
        if isinstance(value, _Record):
            value = dump(value)
        elif isinstance(value, list):
            value = [dump(item) if isinstance(item, _Record) else item for item in value]
        elif isinstance(value, Decimal):
            value = str(value)
        out[name] = value
    return out


def _plan(cls: type[_Record]) -> tuple[tuple[str, ...], tuple[tuple[str, Any], ...]]:
    """Per class, once: the plain slots and the record-valued ones (with their type)."""
    nested = _NESTED.get(cls, {})
    plain = tuple(name for name in cls.__slots__ if name not in nested and name != "cost")
    return plain, tuple(nested.items())


_PLANS = {cls: _plan(cls) for cls in _NESTED}


def load(cls: type[_Record], data: Any) -> Any:
    """Rebuild a record of `cls` from `dump`'s output; BadEntry when the shape is not what dump writes."""
    if not isinstance(data, dict):
        raise BadEntry(f"expected an object for {cls.__name__}")
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _plan(cls)
    plain, nested = plan
    record = cls.__new__(cls)
    get = data.get
    for name in plain:
        setattr(record, name, get(name))
    for name, kind in nested:
        value = get(name)
        if value is not None:
            if isinstance(kind, list):
                if not isinstance(value, list):
                    raise BadEntry(f"{cls.__name__}.{name}: expected a list")
                value = [load(kind[0], item) for item in value]
            else:
                value = load(kind, value)
        setattr(record, name, value)
    if "cost" in cls.__slots__:
        cost = get("cost")
        if cost is not None:
            try:
                cost = Decimal(cost)
            except (InvalidOperation, TypeError, ValueError):
                raise BadEntry(f"{cls.__name__}.cost: not a number") from None
        record.cost = cost  # type: ignore[attr-defined]
    return record
