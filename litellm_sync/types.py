"""Response and chunk objects in OpenAI's shape, with attribute, item and `to_dict()` access. The record base is
_record.py; the embedding and rerank answers (_operation_types.py) are imported from here too."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any, ClassVar

from ._operation_types import Embedding, EmbeddingResponse, RerankResponse, RerankResult
from ._record import _Hidden as _Hidden
from ._record import _plain as _plain
from ._record import _Record as _Record

for _public in (Embedding, EmbeddingResponse, RerankResponse, RerankResult):
    _public.__module__ = __name__  # shown, and pickled, under the import path users know: litellm_sync.types
del _public

#: The finish reasons OpenAI's types accept; every response and chunk says one of these (or, mid-stream, none).
OPENAI_FINISH_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter", "function_call"})


def new_response_id() -> str:
    """An id in OpenAI's form for a response (or a whole stream) whose provider gave none."""
    return "chatcmpl-" + uuid.uuid4().hex


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


__all__ = [
    "OPENAI_FINISH_REASONS",
    "ChatChunk",
    "ChatResponse",
    "Choice",
    "ChunkChoice",
    "Delta",
    "Embedding",
    "EmbeddingResponse",
    "Function",
    "Message",
    "RerankResponse",
    "RerankResult",
    "ToolCall",
    "Usage",
    "new_response_id",
]
