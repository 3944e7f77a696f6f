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
from typing import Any, Callable

from .paths import MISSING, compile_path, get_path, make_getter

Getter = Callable[[Any], Any]
USAGE_FIELDS = (
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "cache_creation_tokens",
    "reasoning_tokens",
)


class ReadState:
    """Mutable per-response (or per-stream) state: the running tool-call index."""

    __slots__ = ("tool_index",)

    def __init__(self) -> None:
        self.tool_index = -1


class ToolCallRead:
    """A tool call, or a fragment of one in a stream, as read from the wire."""

    __slots__ = ("arguments", "id", "index", "name")

    def __init__(self, index: int, id: str | None, name: str | None, arguments: str | None) -> None:
        self.index = index
        self.id = id
        self.name = name
        self.arguments = arguments


class ChoiceRead:
    """One choice (or one choice's delta) as read from the wire."""

    __slots__ = ("content", "finish_reason", "index", "reasoning", "refusal", "role", "tool_calls")

    def __init__(self) -> None:
        self.index = 0
        self.role: str | None = None
        self.content: str | None = None
        self.reasoning: str | None = None
        self.refusal: str | None = None
        self.tool_calls: list[ToolCallRead] = []
        self.finish_reason: str | None = None

    def is_empty(self) -> bool:
        return (
            self.content is None
            and self.reasoning is None
            and self.refusal is None
            and not self.tool_calls
            and self.finish_reason is None
            and self.role is None
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
    tests: list[tuple[tuple[Any, ...], Any]] = [
        (compile_path(path), tuple(v) if isinstance(v, list) else (v,)) for path, v in (when or {}).items()
    ]
    has_path = compile_path(has) if has else None
    if not tests and has_path is None:
        return None

    def condition(value: Any) -> bool:
        if has_path is not None and get_path(value, has_path) in (MISSING, None):
            return False
        return all(get_path(value, path) in wanted for path, wanted in tests)

    return condition


class _ToolCallRule:
    """Reads tool calls from a list (or a single object) at a path."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.items = make_getter(spec.get("path"))
        self.condition = compile_condition(spec.get("when"), spec.get("has"))
        index = spec.get("index", "$next")
        self.index_mode = index if index in ("$next", "$current") else "path"
        self.index = make_getter(index) if self.index_mode == "path" else None
        self.id = make_getter(spec.get("id"))
        self.name = make_getter(spec.get("name"))
        self.arguments = make_getter(spec.get("arguments"))

    def read(self, source: Any, state: ReadState, out: list[ToolCallRead]) -> None:
        items = self.items(source) if source is not MISSING else MISSING
        if items is MISSING or items is None:
            return
        for item in items if isinstance(items, list) else (items,):
            if self.condition is not None and not self.condition(item):
                continue
            out.append(self.read_one(item, state))

    def read_one(self, item: Any, state: ReadState) -> ToolCallRead:
        if self.index_mode == "$next":
            state.tool_index += 1
            index = state.tool_index
        elif self.index_mode == "$current":
            index = max(state.tool_index, 0)
        else:
            found = self.index(item)  # type: ignore[misc]
            index = found if isinstance(found, int) else len(_seen(state))
            state.tool_index = max(state.tool_index, index)
        call_id = self.id(item)
        name = self.name(item)
        return ToolCallRead(
            index,
            None if call_id is MISSING else call_id,
            None if name is MISSING else name,
            arguments_text(self.arguments(item)),
        )


def _seen(state: ReadState) -> range:
    return range(state.tool_index + 1)


class _PartRule:
    """One rule of a `parts:` list: a condition and what the matching part contributes."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.condition = compile_condition(spec.get("when"), spec.get("has"))
        self.text = make_getter(spec["text"]) if "text" in spec else None
        self.reasoning = make_getter(spec["reasoning"]) if "reasoning" in spec else None
        self.tool_call = _ToolCallRule({"path": ".", **spec["tool_call"]}) if "tool_call" in spec else None


class Reader:
    """A compiled `response:` (or stream event) rule set."""

    def __init__(self, spec: Mapping[str, Any], finish_reasons: Mapping[str, str] | None = None) -> None:
        self.id = make_getter(spec.get("id"))
        self.model = make_getter(spec.get("model"))
        self.created = make_getter(spec.get("created"))
        self.choices = make_getter(spec["choices"]) if spec.get("choices") else None
        choice = spec.get("choice") or {}
        self.index = make_getter(choice.get("index"))
        self.role = make_getter(choice.get("role"))
        self.content = make_getter(choice.get("content"))
        self.reasoning = make_getter(choice.get("reasoning"))
        self.refusal = make_getter(choice.get("refusal"))
        self.finish_reason = make_getter(choice.get("finish_reason"))
        tool_specs = choice.get("tool_calls") or []
        self.tool_calls = [_ToolCallRule(s) for s in (tool_specs if isinstance(tool_specs, list) else [tool_specs])]
        self.parts = [_PartRule(p) for p in spec.get("parts") or []]
        self.finish_reasons = dict(finish_reasons or {}, **(spec.get("finish_reasons") or {}))
        self.tool_calls_finish_reason = spec.get("tool_calls_finish_reason")
        usage = spec.get("usage") or {}
        self.usage_root = make_getter(usage["from"]) if usage.get("from") else None
        self.usage = [(field, _usage_getter(usage[field])) for field in USAGE_FIELDS if field in usage]

    def read(self, body: Any, state: ReadState) -> Read:
        """Read one body or event."""
        out = Read()
        value = self.id(body)
        out.id = None if value is MISSING else value
        value = self.model(body)
        out.model = None if value is MISSING else value
        value = self.created(body)
        out.created = value if isinstance(value, int) else None
        if self.choices is None:
            out.choices.append(self._read_choice(body, 0, state))
        else:
            items = self.choices(body)
            if isinstance(items, list):
                for position, item in enumerate(items):
                    out.choices.append(self._read_choice(item, position, state))
        if self.usage:
            out.usage = self._read_usage(body)
        return out

    def _read_choice(self, item: Any, position: int, state: ReadState) -> ChoiceRead:
        choice = ChoiceRead()
        index = self.index(item)
        choice.index = index if isinstance(index, int) else position
        role = self.role(item)
        choice.role = role if isinstance(role, str) else None
        content = self.content(item)
        if isinstance(content, str):
            choice.content = content
        elif isinstance(content, list) and self.parts:
            self._read_parts(content, choice, state)
        elif content is not MISSING and content is not None:
            choice.content = text_of(content)
        reasoning = self.reasoning(item)
        if reasoning is not MISSING and reasoning is not None:
            reasoning = text_of(reasoning)
            if reasoning is not None:
                choice.reasoning = (choice.reasoning or "") + reasoning
        refusal = self.refusal(item)
        choice.refusal = refusal if isinstance(refusal, str) else None
        for rule in self.tool_calls:
            rule.read(item, state, choice.tool_calls)
        reason = self.finish_reason(item)
        if reason is not MISSING and reason is not None:
            reason = self.finish_reasons.get(reason, reason)
            if self.tool_calls_finish_reason and choice.tool_calls and reason == "stop":
                reason = self.tool_calls_finish_reason
            choice.finish_reason = reason
        return choice

    def _read_parts(self, parts: list[Any], choice: ChoiceRead, state: ReadState) -> None:
        texts: list[str] = []
        thoughts: list[str] = []
        for part in parts:
            for rule in self.parts:
                if rule.condition is not None and not rule.condition(part):
                    continue
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
                break
        if texts:
            choice.content = "".join(texts)
        if thoughts:
            choice.reasoning = "".join(thoughts)

    def _read_usage(self, body: Any) -> dict[str, int] | None:
        source = self.usage_root(body) if self.usage_root is not None else body
        if source is MISSING or source is None:
            return None
        usage = {}
        for field, getter in self.usage:
            value = getter(source)
            if isinstance(value, int):
                usage[field] = value
        return usage or None


def _usage_getter(spec: Any) -> Getter:
    """A usage field: a path, a list of fallback paths, or `{sum: [paths]}`."""
    if isinstance(spec, dict):
        getters = [make_getter(p) for p in spec["sum"]]

        def total(source: Any) -> Any:
            values = [v for v in (g(source) for g in getters) if isinstance(v, int)]
            return sum(values) if values else MISSING

        return total
    return make_getter(spec)


def new_tool_call_id() -> str:
    """An id for a tool call whose provider gave none (the caller must echo it back in tool messages)."""
    return "call_" + uuid.uuid4().hex[:24]
