"""What a reader returns: a `Read` (id, model, usage, choices), each choice a `ChoiceRead` with its text, reasoning,
blocks and `ToolCallRead`s, and the `ReadState` one stream carries from event to event."""

from __future__ import annotations

from typing import Any


class ReadState:
    """Mutable per-response (or per-stream) state: the running tool-call and kept-block indexes, and which
    tool calls were the answer tool's (`answer_tool:`)."""

    __slots__ = ("answers", "block_index", "other_calls", "tool_index")

    def __init__(self) -> None:
        self.tool_index = -1
        self.block_index = -1
        self.answers: set[int] | None = None  # indexes of answer-tool calls (their later fragments are text too)
        self.other_calls = False  # a call to another tool was read: a tool_calls finish stays tool_calls


class ToolCallRead:
    """A tool call, or a fragment of one in a stream, as read from the wire."""

    __slots__ = ("arguments", "extra", "id", "index", "name")

    def __init__(
        self,
        index: int,
        id: str | None,
        name: str | None,
        arguments: str | None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.index = index
        self.id = id
        self.name = name
        self.arguments = arguments
        self.extra = extra


class ChoiceRead:
    """One choice (or one choice's delta) as read from the wire."""

    __slots__ = (
        "blocks", "content", "finish_reason", "index", "raw_finish_reason", "reasoning", "refusal", "role", "tool_calls"
    )

    def __init__(self) -> None:
        self.index = 0
        self.role: str | None = None
        self.content: str | None = None
        self.reasoning: str | None = None
        self.refusal: str | None = None
        self.tool_calls: list[ToolCallRead] = []
        self.finish_reason: str | None = None
        self.raw_finish_reason: Any = None  # as the provider sent it, before the `finish_reasons:` map
        # Kept blocks (`keep_block:` parts), or in a stream fragments of them (`choice.blocks`) with an index.
        self.blocks: list[dict[str, Any]] | None = None

    def is_empty(self) -> bool:
        return (
            self.content is None
            and self.reasoning is None
            and self.refusal is None
            and not self.tool_calls
            and self.finish_reason is None
            and self.role is None
            and not self.blocks
        )


class Read:
    """Everything a reader found in one body or event."""

    __slots__ = ("choices", "created", "id", "model", "usage")

    def __init__(self) -> None:
        self.id: str | None = None
        self.model: str | None = None
        self.created: int | None = None
        self.choices: list[ChoiceRead] = []
        self.usage: dict[str, int] | None = None
