"""Embedding and rerank answers: OpenAI's embedding list and Cohere's rerank results, with provider and cost;
re-exported by types.py (import them from there)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from ._record import _Hidden, _Record

if TYPE_CHECKING:
    from .types import Usage


class Embedding(_Record):
    """One vector of an embedding response: floats, or base64 text of little-endian float32 when the call
    asked for `encoding_format="base64"`; `index` is its input's position."""

    __slots__ = ("embedding", "index", "object")
    _keep_none = frozenset({"embedding", "index"})

    def __init__(self, embedding: list[float] | str, index: int) -> None:
        self.object = "embedding"
        self.embedding = embedding
        self.index = index


class EmbeddingResponse(_Hidden):
    """An embedding answer in OpenAI's shape (`object: "list"`, `data[i].embedding`, `usage.prompt_tokens`),
    plus the provider that served it and its cost in USD (None when unpriced). `choices` is always empty (an
    embedding has none; it is there for hooks written for chat answers)."""

    __slots__ = ("cost", "data", "model", "object", "provider", "usage")
    _keep_none = frozenset({"usage"})
    choices: ClassVar[tuple[Any, ...]] = ()
    id: ClassVar[str | None] = None
    cache_hit: ClassVar[bool] = False

    def __init__(
        self,
        data: list[Embedding],
        model: str | None,
        usage: Usage | None,
        provider: str | None = None,
        cost: Decimal | None = None,
    ) -> None:
        self.object = "list"
        self.data = data
        self.model: str = model if isinstance(model, str) else ""
        self.usage = usage
        self.provider = provider
        self.cost = cost

    def to_dict(self) -> dict[str, Any]:
        """OpenAI's shape: usage holds `prompt_tokens` and `total_tokens` only."""
        out = super().to_dict()
        if self.usage is not None:
            out["usage"] = {"prompt_tokens": self.usage.prompt_tokens, "total_tokens": self.usage.total_tokens}
        return out


class RerankResult(_Record):
    """One ranked document: its position in the input, its relevance score and (when asked) the document."""

    __slots__ = ("document", "index", "relevance_score")
    _keep_none = frozenset({"index", "relevance_score"})

    def __init__(self, index: int, relevance_score: float, document: dict[str, Any] | None = None) -> None:
        self.index = index
        self.relevance_score = relevance_score
        self.document = document


class RerankResponse(_Hidden):
    """A rerank answer in Cohere's shape (`results[i].index`, `.relevance_score`, `.document`; `meta` with
    `billed_units` and `tokens`), plus model, usage, provider and cost in USD (None when unpriced)."""

    __slots__ = ("cost", "id", "meta", "model", "provider", "results", "usage")
    choices: ClassVar[tuple[Any, ...]] = ()
    cache_hit: ClassVar[bool] = False

    def __init__(
        self,
        id: str | None,
        results: list[RerankResult],
        meta: dict[str, Any],
        model: str | None,
        usage: Usage | None,
        provider: str | None = None,
        cost: Decimal | None = None,
    ) -> None:
        self.id: str = id if isinstance(id, str) and id else "rerank-" + uuid.uuid4().hex
        self.results = results
        self.meta = meta
        self.model: str = model if isinstance(model, str) else ""
        self.usage = usage
        self.provider = provider
        self.cost = cost
