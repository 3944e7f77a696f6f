"""Response and chunk objects in OpenAI's shape, with attribute, item and `to_dict()` access."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any, ClassVar

#: The finish reasons OpenAI's types accept; every response and chunk says one of these (or, mid-stream, none).
OPENAI_FINISH_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter", "function_call"})


def new_response_id() -> str:
    """An id in OpenAI's form for a response (or a whole stream) whose provider gave none."""
    return "chatcmpl-" + uuid.uuid4().hex


class _Record:
    """A slotted record: attribute access, `obj["field"]`, `to_dict()` and a readable repr."""

    __slots__: ClassVar[tuple[str, ...]] = ()
    #: Fields kept in to_dict() even when None (OpenAI clients expect them).
    _keep_none: ClassVar[frozenset[str]] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-ready dict, None-valued optional fields left out."""
        out: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if value is None and name not in self._keep_none:
                continue
            out[name] = _plain(value)
        return out

    def __getitem__(self, key: str) -> Any:
        if key in self.__slots__:
            return getattr(self, key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        """Dict-style access for code written against dict responses."""
        value = getattr(self, key, None) if key in self.__slots__ else None
        return default if value is None else value

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.to_dict() == other.to_dict()  # type: ignore[union-attr]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__ if getattr(self, k) is not None)
        return f"{type(self).__name__}({fields})"


def _plain(value: Any) -> Any:
    if isinstance(value, _Record):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    return value


class Function(_Record):
    """The function a tool call invokes; arguments are JSON text."""

    __slots__ = ("arguments", "name")
    _keep_none = frozenset({"arguments", "name"})

    def __init__(self, name: str | None, arguments: str | None) -> None:
        self.name = name
        self.arguments = arguments


class ToolCall(_Record):
    """A tool call of a response message, or a fragment of one in a stream delta (with index)."""

    __slots__ = ("function", "id", "index", "provider_specific_fields", "type")

    def __init__(
        self,
        id: str | None,
        function: Function,
        index: int | None = None,
        type: str | None = "function",
        provider_specific_fields: dict[str, Any] | None = None,
    ) -> None:
        self.id = id
        self.function = function
        self.index = index
        self.type = type
        # What the provider needs back with this call in the next turn (the spec's `extra:`), e.g. a signature.
        self.provider_specific_fields = provider_specific_fields


class Message(_Record):
    """An assistant message: content, tool calls, visible reasoning and the reasoning blocks to send back."""

    __slots__ = ("content", "reasoning_content", "refusal", "role", "thinking_blocks", "tool_calls")
    _keep_none = frozenset({"content", "role"})

    def __init__(
        self,
        content: str | None,
        tool_calls: list[ToolCall] | None = None,
        reasoning_content: str | None = None,
        role: str = "assistant",
        refusal: str | None = None,
        thinking_blocks: list[dict[str, Any]] | None = None,
    ) -> None:
        self.role = role
        self.content = content
        self.tool_calls = tool_calls or None
        self.reasoning_content = reasoning_content
        self.refusal = refusal
        # Reasoning blocks kept verbatim (the spec's `keep_block:`), e.g. Anthropic thinking with its signature:
        # the provider needs them back, unchanged, at the start of this turn when it is resent.
        self.thinking_blocks = thinking_blocks or None


class Choice(_Record):
    """One completion choice; `finish_reason` is one of OPENAI_FINISH_REASONS, and the value the provider
    sent (`end_turn`, `MAX_TOKENS`, `eos`...) is kept in `provider_specific_fields["finish_reason"]`."""

    __slots__ = ("finish_reason", "index", "message", "provider_specific_fields")
    _keep_none = frozenset({"finish_reason"})

    def __init__(
        self,
        index: int,
        message: Message,
        finish_reason: str | None,
        provider_specific_fields: dict[str, Any] | None = None,
    ) -> None:
        self.index = index
        self.message = message
        self.finish_reason = finish_reason
        self.provider_specific_fields = provider_specific_fields


class Usage(_Record):
    """Token counts; prompt_tokens includes cached and cache-write tokens, as OpenAI counts them. The three
    totals are always integers (a count the provider left out is 0); the detail counts are None when unknown."""

    __slots__ = (
        "cache_creation_tokens",
        "cached_tokens",
        "completion_tokens",
        "prompt_tokens",
        "reasoning_tokens",
        "total_tokens",
    )

    def __init__(
        self,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        total_tokens: int | None = None,
        cached_tokens: int | None = None,
        cache_creation_tokens: int | None = None,
        reasoning_tokens: int | None = None,
    ) -> None:
        # OpenAI's type requires the three counts as integers: one the provider left out is 0 (Gemini, whose
        # JSON omits zero values, leaves out candidatesTokenCount for an empty answer), the total their sum.
        self.prompt_tokens: int = prompt_tokens or 0
        self.completion_tokens: int = completion_tokens or 0
        self.total_tokens: int = self.prompt_tokens + self.completion_tokens if total_tokens is None else total_tokens
        self.cached_tokens = cached_tokens
        self.cache_creation_tokens = cache_creation_tokens
        self.reasoning_tokens = reasoning_tokens

    @property
    def prompt_tokens_details(self) -> dict[str, int | None]:
        """OpenAI's nested form of the cached and cache-write token counts."""
        return {"cached_tokens": self.cached_tokens, "cache_write_tokens": self.cache_creation_tokens}

    @property
    def completion_tokens_details(self) -> dict[str, int | None]:
        """OpenAI's nested form of the reasoning-token count."""
        return {"reasoning_tokens": self.reasoning_tokens}

    def to_dict(self) -> dict[str, Any]:
        """The flat counts, plus OpenAI's nested `prompt_tokens_details` (cached_tokens, cache_write_tokens)
        and `completion_tokens_details` (reasoning_tokens) when the provider reported any of them."""
        out = super().to_dict()
        prompt = {key: value for key, value in self.prompt_tokens_details.items() if value is not None}
        if prompt:
            out["prompt_tokens_details"] = prompt
        if self.reasoning_tokens is not None:
            out["completion_tokens_details"] = {"reasoning_tokens": self.reasoning_tokens}
        return out


class _Hidden(_Record):
    """An answer with LiteLLM's `_hidden_params`; where it came from (`note_origin`) is held in a slot of its own,
    outside the record's fields: never dumped, cached or compared."""

    __slots__ = ("_origin",)
    cache_hit: ClassVar[bool] = False
    cost: Decimal | None
    provider: str | None

    @property
    def _hidden_params(self) -> dict[str, Any]:
        """LiteLLM's `response._hidden_params`: response_cost (USD, a float; None when unpriced), the provider
        (custom_llm_provider), api_base (the base URL the call was sent to, without user info, query or key;
        None when nothing was sent: a cache hit) and model_id (the Router deployment that answered, its
        `model_info.id`; None for a Client's own call, as LiteLLM's plain completion)."""
        cost = None if self.cost is None else float(self.cost)
        api_base, model_id = getattr(self, "_origin", (None, None))
        return {"response_cost": cost, "custom_llm_provider": self.provider, "model_id": model_id,
                "api_base": api_base, "cache_hit": self.cache_hit}  # fmt: skip


def note_origin(answer: Any, api_base: str | None = None, model_id: str | None = None) -> Any:
    """Record on an answer (a response, or a stream whose `response()` passes it on) the base URL it was sent to
    and the Router deployment that served it, for its `_hidden_params`; a value not given is kept. An answer
    that has no `_hidden_params` (a cache replay) is left as it is. Returns the answer."""
    if isinstance(answer, _Hidden) or hasattr(answer, "_origin"):
        base, identity = getattr(answer, "_origin", (None, None))
        answer._origin = (api_base or base, model_id or identity)
    return answer


class _Parsed(_Hidden):
    """Holds `parsed` in a slot of its own, outside the record's fields: never dumped, cached or compared."""

    __slots__ = ("_parsed",)


class ChatResponse(_Parsed):
    """A chat completion in OpenAI's shape, plus the provider that served it and its cost in USD."""

    __slots__ = ("choices", "cost", "created", "id", "model", "object", "provider", "usage")
    cache_hit: ClassVar[bool] = False  # True on an answer served from the Client's cache (see cache.py)

    def __init__(
        self,
        id: str | None,
        model: str | None,
        choices: list[Choice],
        usage: Usage | None,
        created: int | None = None,
        provider: str | None = None,
        cost: Decimal | None = None,
    ) -> None:
        self.id: str = id if isinstance(id, str) and id else new_response_id()
        self.object = "chat.completion"
        self.created: int = created if created.__class__ is int else int(time.time())
        self.model: str = model if isinstance(model, str) else ""
        self.choices = choices
        self.usage = usage
        self.provider = provider
        self.cost = cost

    @property
    def content(self) -> str | None:
        """The first choice's text, the most common thing to want."""
        return self.choices[0].message.content if self.choices else None

    @property
    def parsed(self) -> Any:
        """With `response_format=` a marshmallow Schema, a pydantic model or a JSON Schema: the reply loaded into
        it (docs/structured-output.md); otherwise None."""
        return getattr(self, "_parsed", None)

    @parsed.setter
    def parsed(self, value: Any) -> None:
        self._parsed = value


class Delta(_Record):
    """What one stream chunk adds to a choice; `thinking_blocks` holds block fragments, each with an index."""

    __slots__ = ("content", "reasoning_content", "refusal", "role", "thinking_blocks", "tool_calls")

    def __init__(
        self,
        content: str | None = None,
        reasoning_content: str | None = None,
        tool_calls: list[ToolCall] | None = None,
        role: str | None = None,
        refusal: str | None = None,
        thinking_blocks: list[dict[str, Any]] | None = None,
    ) -> None:
        self.role = role
        self.content = content
        self.reasoning_content = reasoning_content
        self.tool_calls = tool_calls
        self.refusal = refusal
        self.thinking_blocks = thinking_blocks


class ChunkChoice(_Record):
    """One choice's delta in a stream chunk; the chunk that finishes a choice keeps the provider's own finish
    reason in `provider_specific_fields["finish_reason"]`, as `Choice` does."""

    __slots__ = ("delta", "finish_reason", "index", "provider_specific_fields")
    _keep_none = frozenset({"finish_reason"})

    def __init__(
        self,
        index: int,
        delta: Delta,
        finish_reason: str | None = None,
        provider_specific_fields: dict[str, Any] | None = None,
    ) -> None:
        self.index = index
        self.delta = delta
        self.finish_reason = finish_reason
        self.provider_specific_fields = provider_specific_fields


class ChatChunk(_Record):
    """A stream chunk in OpenAI's `chat.completion.chunk` shape; the last one carries usage and cost."""

    __slots__ = ("choices", "cost", "created", "id", "model", "object", "provider", "usage")
    cache_hit: ClassVar[bool] = False  # True on a chunk replayed from the Client's cache (see cache.py)

    def __init__(
        self,
        id: str | None,
        model: str | None,
        choices: list[ChunkChoice],
        usage: Usage | None = None,
        created: int | None = None,
        provider: str | None = None,
        cost: Decimal | None = None,
    ) -> None:
        # A stream's assembler passes the same id and created to every chunk; these defaults are a last resort.
        self.id: str = id if isinstance(id, str) and id else new_response_id()
        self.object = "chat.completion.chunk"
        self.created: int = created if created.__class__ is int else int(time.time())
        self.model: str = model if isinstance(model, str) else ""
        self.choices = choices
        self.usage = usage
        self.provider = provider
        self.cost = cost


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
