"""Compiled stream rules: a provider's `stream:` block (framing, end marker, event dispatch, in-band errors)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable

from .framing import FRAMINGS
from .paths import make_getter
from .reader import Reader, compile_condition

if TYPE_CHECKING:
    from .._spec.model import StreamModel


class StreamRules:
    """A provider's compiled `stream:` block."""

    def __init__(self, spec: StreamModel, finish_reasons: Mapping[str, str], default: Reader) -> None:
        self.framing = FRAMINGS[spec.format]
        self.done: str | None = spec.done
        type_source = spec.type
        self.type_from_event = type_source == "event"
        self.type_getter: Callable[[Any], Any] | None = None
        if type_source and not self.type_from_event:
            self.type_getter = make_getter(type_source)
        self.end_types = frozenset(spec.end_types)
        self.end_when = compile_condition(spec.end_when, None)
        self.ignore = frozenset(spec.ignore)
        self.error_types = frozenset(spec.error.types)
        self.error_when = compile_condition(spec.error.when, spec.error.has)
        events = dict(spec.events)
        default_spec = events.pop("*", None)
        answer = default.answer_tool  # every event reader reads the response reader's answer tool
        self.readers = {name: Reader(rule, finish_reasons, answer) for name, rule in events.items()}
        self.default = Reader(default_spec, finish_reasons, answer) if default_spec is not None else default
        self.has_end_marker = bool(self.done or self.end_types or self.end_when)
        # No event types to dispatch on (chat completions, Gemini, NDJSON): the stream loop's fast path.
        self.untyped = not self.type_from_event and self.type_getter is None
        # Streams learn of tool calls and of the finish reason in different events: the assembler applies this.
        self.tool_calls_finish_reason: str | None = default.tool_calls_finish_reason
        # An SSE endpoint that answers a stream request with one JSON body (a server that ignores `stream`,
        # or an error in a 200) is read whole with the response reader instead.
        # A provider that cannot stream (`supported: false`) is always read that way.
        self.whole_body_reader: Reader | None = default if spec.format == "sse" or not spec.supported else None
