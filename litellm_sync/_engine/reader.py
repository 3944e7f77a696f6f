"""Readers: compiled `response:` and stream-event rules that pull choices, text, tool calls and usage out
of any provider's JSON.

One reader serves a whole response body and a single stream event alike; what it returns is a `Read`,
which `convert` turns into a `ChatResponse` or a `ChatChunk`. Paths are compiled at load; reading is a
handful of closure calls per choice.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable

from .answer import take_answer
from .paths import MISSING, compile_fields, make_getter
from .reads import ChoiceRead, Read, ReadState, ToolCallRead

if TYPE_CHECKING:
    from .._spec.model import BlocksModel, PartRuleModel, ReaderModel, ToolCallsModel

Getter = Callable[[Any], Any]
MAX_PART_DEPTH = 8  # `parts:` rules that nest (an output item holding content parts) go at most this deep
USAGE_FIELDS = (
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "cache_creation_tokens",
    "reasoning_tokens",
)


def text_of(value: Any) -> str | None:
    """Flatten a string, a list of strings or of `{text: ...}` parts into one string."""
    if value is MISSING or value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        pieces = [text_of(item) for item in value]
        return "".join(p for p in pieces if p is not None)
    if isinstance(value, dict):
        return text_of(value.get("text"))
    return str(value)


def arguments_text(value: Any) -> str | None:
    """Tool-call arguments as JSON text: strings pass, objects are serialised."""
    if value is MISSING or value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def compile_condition(when: Mapping[str, Any] | None, has: str | None) -> Callable[[Any], bool] | None:
    """`when: {path: value or [values]}` equality tests plus `has: path` presence, all required."""
    wanted = [tuple(v) if isinstance(v, list) else (v,) for v in (when or {}).values()]
    if not wanted and not has:
        return None
    read = compile_fields([has, *(when or {})])
    if not wanted:  # presence only (`has: error`, checked on every stream event): one call, one compare

        def has_only(value: Any) -> bool:
            return read(value)[0] is not MISSING

        return has_only

    def condition(value: Any) -> bool:
        present, *found = read(value)
        if has and present is MISSING:
            return False
        return all(value in options for value, options in zip(found, wanted))

    return condition


class _RunningIndex:
    """An `index:` spec: `$next` starts a new item, `$current` continues the last one, a path reads it."""

    __slots__ = ("getter", "mode")

    def __init__(self, spec: str) -> None:
        self.mode = spec if spec in ("$next", "$current") else "path"
        self.getter = make_getter(spec) if self.mode == "path" else None

    def advance(self, item: Any, last: int) -> tuple[int, int]:
        """(this item's index, the new last index) given the last index handed out (-1 for none)."""
        if self.mode == "$next":
            return last + 1, last + 1
        if self.mode == "$current":
            return max(last, 0), last
        found = self.getter(item)  # type: ignore[misc]
        index = found if isinstance(found, int) else last + 1
        return index, max(last, index)


class _ToolCallRule:
    """Reads tool calls from a list (or a single object) at a path."""

    def __init__(self, spec: ToolCallsModel) -> None:
        self.path = spec.path
        self.condition = compile_condition(spec.when, spec.has)
        self.index = _RunningIndex(spec.index)
        self.id = make_getter(spec.id)
        self.name = make_getter(spec.name)
        self.arguments = make_getter(spec.arguments)
        self.extra = [(name, make_getter(path)) for name, path in spec.extra]

    def read_items(self, items: Any, state: ReadState, out: list[ToolCallRead]) -> None:
        """Read the calls found at this rule's path (already fetched by the reader)."""
        if items is MISSING or items is None:
            return
        for item in items if isinstance(items, list) else (items,):
            if self.condition is not None and not self.condition(item):
                continue
            out.append(self.read_one(item, state))

    def read_one(self, item: Any, state: ReadState) -> ToolCallRead:
        index, state.tool_index = self.index.advance(item, state.tool_index)
        call_id = self.id(item)
        name = self.name(item)
        extra = None
        if self.extra:
            extra = {key: value for key, getter in self.extra if (value := getter(item)) is not MISSING} or None
        return ToolCallRead(
            index,
            None if call_id is MISSING else call_id,
            None if name is MISSING else name,
            arguments_text(self.arguments(item)),
            extra,
        )


class _BlockRule:
    """`choice.blocks`: stream fragments of kept blocks, each a dict with a running `index`.

    Without `fields` the matching object is the fragment (a block's start, copied whole); with `fields:
    {name: path}` only the values found are (a delta: `{thinking: thinking}`). `stream_chunk_builder`
    merges the fragments of one index into the complete block.
    """

    def __init__(self, spec: BlocksModel) -> None:
        self.path = spec.path
        self.condition = compile_condition(spec.when, spec.has)
        self.index = _RunningIndex(spec.index)
        self.fields = [(name, make_getter(path)) for name, path in spec.fields] if spec.fields else None

    def read_items(self, items: Any, state: ReadState, out: list[dict[str, Any]]) -> None:
        """Append a fragment for each matching object found at this rule's path."""
        if items is MISSING or items is None:
            return
        for item in items if isinstance(items, list) else (items,):
            if not isinstance(item, dict) or (self.condition is not None and not self.condition(item)):
                continue
            if self.fields is None:
                fragment = dict(item)
            else:
                fragment = {key: value for key, getter in self.fields if (value := getter(item)) is not MISSING}
            fragment["index"], state.block_index = self.index.advance(item, state.block_index)
            out.append(fragment)


class _PartRule:
    """One rule of a `parts:` list: a condition and what the matching part contributes."""

    def __init__(self, spec: PartRuleModel) -> None:
        self.condition = compile_condition(spec.when, spec.has)
        self.text = make_getter(spec.text) if spec.text is not None else None
        self.reasoning = make_getter(spec.reasoning) if spec.reasoning is not None else None
        self.tool_call = _ToolCallRule(spec.tool_call) if spec.tool_call is not None else None  # path "." default
        self.keep_block = spec.keep_block
        self.nested = make_getter(spec.parts) if spec.parts is not None else None


class Reader:
    """A compiled `response:` (or stream event) rule set.

    The plain paths of the top level and of a choice are each compiled into one generated function
    (`compile_fields`), so reading an event costs two calls plus whatever is actually present.
    """

    def __init__(
        self, spec: ReaderModel, finish_reasons: Mapping[str, str] | None = None, answer_tool: str | None = None
    ) -> None:
        self.answer_tool = spec.answer_tool or answer_tool  # a stream event's reader inherits the response's
        self.has_choices = spec.choices is not None
        self.has_usage = bool(spec.usage)
        self.top = compile_fields([spec.id, spec.model, spec.created, spec.choices, spec.usage_from])
        choice = spec.choice
        self.tool_calls = [_ToolCallRule(rule) for rule in choice.tool_calls]
        self.blocks = _BlockRule(choice.blocks) if choice.blocks is not None else None
        self.choice = compile_fields(
            [choice.index, choice.role, choice.content, choice.reasoning, choice.refusal, choice.finish_reason]
            + [rule.path for rule in self.tool_calls]
            + ([self.blocks.path] if self.blocks is not None else [])
        )
        self.tool_call_slots = [(6 + i, rule) for i, rule in enumerate(self.tool_calls)]  # after the 6 fields
        self.blocks_slot = 6 + len(self.tool_calls)
        self.parts = [_PartRule(p) for p in spec.parts]
        self.finish_reasons = dict(finish_reasons or {}, **spec.finish_reasons)
        self.tool_calls_finish_reason = spec.tool_calls_finish_reason
        # Usage: every path of every field in one function; a {sum: [...]} field adds its paths up.
        paths: list[Any] = []
        self.usage_plan: list[tuple[str, list[int]]] = []
        for field, wanted in spec.usage:
            self.usage_plan.append((field, list(range(len(paths), len(paths) + len(wanted)))))
            paths.extend(wanted)
        self.usage_fields = compile_fields(paths)

    def read(self, body: Any, state: ReadState) -> Read:
        """Read one body or event."""
        out = Read()
        found_id, model, created, choices, usage = self.top(body)
        if found_id is not MISSING:
            out.id = found_id
        if model is not MISSING:
            out.model = model
        if created.__class__ is int:
            out.created = created
        if not self.has_choices:
            out.choices.append(self._read_choice(body, 0, state))
        elif choices.__class__ is list:
            if len(choices) == 1:  # the usual stream event: no enumerate (~0.1 us of the ~1.65 us a read costs)
                out.choices.append(self._read_choice(choices[0], 0, state))
            else:
                for position, item in enumerate(choices):
                    out.choices.append(self._read_choice(item, position, state))
        if self.has_usage and usage is not MISSING:
            out.usage = self._read_usage(usage)
        return out

    def shape_problem(self, body: Any) -> str | None:
        """Why a whole body cannot be an answer in this dialect, or None: a scalar or null (no path reads
        anything from it), choices that are not a list, or choices that are not objects."""
        if not isinstance(body, (dict, list)):
            return f"the body is {_kind(body)}, not a JSON object"
        if self.has_choices:
            choices = self.top(body)[3]
            if choices is not MISSING and choices is not None:
                if not isinstance(choices, list):
                    return f"its list of choices is {_kind(choices)}"
                for position, item in enumerate(choices):
                    if not isinstance(item, dict):
                        return f"choice {position} is {_kind(item)}, not an object"
        return None

    def _read_choice(self, item: Any, position: int, state: ReadState) -> ChoiceRead:
        choice = ChoiceRead()
        values = self.choice(item)
        index, role, content, reasoning, refusal, reason = values[:6]
        choice.index = index if index.__class__ is int else position
        if role.__class__ is str:
            choice.role = role
        if content.__class__ is str:
            choice.content = content
        elif content.__class__ is list and self.parts:
            self._read_parts(content, choice, state)
        elif content is not MISSING:
            choice.content = text_of(content)
        if reasoning is not MISSING:
            reasoning = text_of(reasoning)
            if reasoning is not None:
                choice.reasoning = (choice.reasoning or "") + reasoning
        if refusal.__class__ is str:
            choice.refusal = refusal
        for slot, rule in self.tool_call_slots:
            items = values[slot]
            if items is not MISSING:
                rule.read_items(items, state, choice.tool_calls)
        if self.blocks is not None:
            self._read_blocks(values[self.blocks_slot], choice, state)
        if self.answer_tool is not None and choice.tool_calls:
            take_answer(choice, state, self.answer_tool)
        if reason is not MISSING:
            choice.raw_finish_reason = reason
            reason = self.finish_reasons.get(reason, reason) if reason.__class__ is str else None
            if self.tool_calls_finish_reason and choice.tool_calls and reason == "stop":
                reason = self.tool_calls_finish_reason
            if reason == "tool_calls" and state.answers and not state.other_calls:
                reason = "stop"  # the only call was the answer: the model stopped with its answer
            choice.finish_reason = reason
        return choice

    def _read_blocks(self, items: Any, choice: ChoiceRead, state: ReadState) -> None:
        fragments: list[dict[str, Any]] = []
        self.blocks.read_items(items, state, fragments)  # type: ignore[union-attr]
        if fragments:
            choice.blocks = (choice.blocks or []) + fragments

    def _read_parts(self, parts: list[Any], choice: ChoiceRead, state: ReadState) -> None:
        texts: list[str] = []
        thoughts: list[str] = []
        self._walk_parts(parts, choice, state, texts, thoughts, 0)
        if texts:
            choice.content = "".join(texts)
        if thoughts:
            choice.reasoning = "".join(thoughts)

    def _walk_parts(
        self, parts: list[Any], choice: ChoiceRead, state: ReadState, texts: list[str], thoughts: list[str], depth: int
    ) -> None:
        for part in parts:
            for rule in self.parts:
                if rule.condition is not None and not rule.condition(part):
                    continue
                if rule.keep_block and isinstance(part, dict):
                    if choice.blocks is None:
                        choice.blocks = []
                    choice.blocks.append(part)
                if rule.text is not None:
                    found = text_of(rule.text(part))
                    if found is not None:
                        texts.append(found)
                if rule.reasoning is not None:
                    found = text_of(rule.reasoning(part))
                    if found is not None:
                        thoughts.append(found)
                if rule.tool_call is not None:
                    choice.tool_calls.append(rule.tool_call.read_one(part, state))
                if rule.nested is not None and depth < MAX_PART_DEPTH:
                    inner = rule.nested(part)
                    if inner.__class__ is list:
                        self._walk_parts(inner, choice, state, texts, thoughts, depth + 1)
                break

    def _read_usage(self, source: Any) -> dict[str, int] | None:
        values = self.usage_fields(source)
        usage = {}
        for field, slots in self.usage_plan:
            numbers = [values[i] for i in slots if values[i].__class__ is int]
            if numbers:
                usage[field] = numbers[0] if len(slots) == 1 else sum(numbers)
        return usage or None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {str: "a string", int: "a number", float: "a number", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )


def new_tool_call_id() -> str:
    """An id for a tool call whose provider gave none (the caller must echo it back in tool messages)."""
    return "call_" + uuid.uuid4().hex[:24]
