"""Replies written from a provider's spec: a JSON body or a stream transcript that the provider's own reader
and stream rules read back as the answer asked for.

Nothing here knows a provider or a dialect. Values are written at the paths the spec's readers declare
(`response:`, `stream.events`), `when:`/`has:` conditions are satisfied by writing what they
test, finish reasons are the spec's `finish_reasons` read backwards, and stream events follow the spec's
`stream:` rules (framing, event types, end marker). The reply carries what the spec reads and little
else, so it is the provider's wire shape minus the fields no reader looks at. Two choices are inferred
from the spec rather than declared: content goes out as a list of parts when the dialect carries tool
calls only in parts (`parts:` with a `tool_call`, no `choice.tool_calls`), and tool-call arguments go out
as a JSON object when the dialect's message renderer sends them back as one (`$arguments_obj`), as JSON
text otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._engine.framing.eventstream import encode_message
from .._engine.paths import MISSING, compile_path, get_path
from .._engine.reader import compile_condition
from ..exceptions import ConfigurationError

ALL_FIELDS = ("id", "name", "arguments")
USAGE_ORDER = ("cached_tokens", "cache_creation_tokens", "reasoning_tokens", "prompt_tokens", "completion_tokens")


class MockSpecError(ConfigurationError):
    """The spec declares no way to carry what a mock reply asks for (text, a tool call, a finish reason)."""


@dataclass(frozen=True)
class MockToolCall:
    """A tool call to put in a reply; arguments are JSON text."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class MockAnswer:
    """What a mocked reply should read back as."""

    text: str | None = None
    tool_calls: Sequence[MockToolCall] = ()
    finish_reason: str = "stop"
    usage: Mapping[str, int] = field(default_factory=dict)
    model: str = "mock-model"
    id: str = "mock-1"
    created: int = 1_700_000_000
    chunks: Sequence[str] | None = None  # the text's stream deltas; default: split before each space

    def deltas(self) -> list[str]:
        if self.chunks is not None:
            return list(self.chunks)
        if not self.text:
            return []
        words = self.text.split(" ")
        return [words[0]] + [" " + word for word in words[1:]]


# -- paths --------------------------------------------------------------------------------------------


def first_path(spec: Any) -> str | None:
    """The path a writer uses: the path itself, or the first of a list of fallbacks."""
    if isinstance(spec, list):
        return spec[0] if spec else None
    return spec if isinstance(spec, str) else None


def put(target: dict[str, Any], path: str | None, value: Any) -> dict[str, Any]:
    """Write value at a dotted path, creating objects (lists for integer steps); '.' merges a dict in."""
    keys = compile_path(path or ".")
    if not keys:
        if isinstance(value, dict):
            target.update(value)
        return target
    node: Any = target
    for position, key in enumerate(keys):
        if isinstance(key, int):
            node.extend([None] * (key + 1 - len(node)))
            current = node[key]
        else:
            current = node.get(key)
        if position == len(keys) - 1:
            node[key] = value
            break
        kind = list if isinstance(keys[position + 1], int) else dict
        if not isinstance(current, kind):
            current = kind()
            node[key] = current
        node = current
    return target


def satisfy(obj: dict[str, Any], when: Mapping[str, Any] | None, has: str | None) -> None:
    """Make obj pass a `when:`/`has:` condition: each tested path gets its (first) wanted value."""
    for path, wanted in (when or {}).items():
        put(obj, path, wanted[0] if isinstance(wanted, list) else wanted)
    if has and get_path(obj, compile_path(has)) is MISSING:
        put(obj, has, {})


def index_mode(rule: Mapping[str, Any]) -> str:
    spec = rule.get("index", "$next")
    return spec if spec in ("$next", "$current") else "path"


# -- the writer ----------------------------------------------------------------------------------------


class ReplyWriter:
    """Writes bodies and events for one provider's resolved spec entry (`ProviderSpec.entry`)."""

    def __init__(self, entry: Mapping[str, Any], provider: str = "provider") -> None:
        self.provider = provider
        self.response: Mapping[str, Any] = entry.get("response") or {}
        self.finish_reasons: Mapping[str, str] = self.response.get("finish_reasons") or {}
        self.tool_calls_finish_reason: str | None = self.response.get("tool_calls_finish_reason")
        tool_call_part = ((entry.get("messages") or {}).get("parts") or {}).get("tool_call")
        self.arguments_as_object = "$arguments_obj" in json.dumps(tool_call_part)
        self.stream_spec: Mapping[str, Any] = entry.get("stream") or {"events": {"*": self.response}}

    def fail(self, what: str) -> MockSpecError:
        return MockSpecError(f"cannot mock provider '{self.provider}': its spec declares no way to carry {what}")

    # -- pieces shared by bodies and events

    def wire_reason(self, reason: str, rule: Mapping[str, Any]) -> str:
        """The wire value a reader maps to `reason` (the spec's finish_reasons read backwards)."""
        table = {**self.finish_reasons, **(rule.get("finish_reasons") or {})}
        for wire, unified in table.items():
            if unified == reason:
                return wire
        if reason == self.tool_calls_finish_reason and reason not in table:
            return self.wire_reason("stop", rule)  # the reader turns "stop" + tool calls into it
        return reason

    def arguments(self, call: MockToolCall) -> Any:
        if not self.arguments_as_object:
            return call.arguments
        try:
            return json.loads(call.arguments)
        except ValueError:
            return call.arguments

    def tool_item(self, rule: Mapping[str, Any], call: MockToolCall, index: int, fields: Sequence[str]) -> dict:
        """One tool-call object for `rule`, with the given fields (id, name, arguments) of call."""
        item: dict[str, Any] = {}
        satisfy(item, rule.get("when"), rule.get("has"))
        # Arguments streamed on their own are fragments of JSON text; whole calls carry the dialect's form.
        arguments = call.arguments if tuple(fields) == ("arguments",) else self.arguments(call)
        values = {"id": call.id, "name": call.name, "arguments": arguments}
        for name in fields:
            if rule.get(name):
                put(item, first_path(rule[name]), values[name])
        if index_mode(rule) == "path":
            put(item, rule["index"], index)
        return item

    def part(self, parts: Sequence[Mapping[str, Any]], text: str | None, call: tuple[int, MockToolCall] | None) -> dict:
        """A content part holding text or a tool call that the first `parts:` rule it matches reads as such."""
        kind = "text" if call is None else "tool_call"
        conditions = [compile_condition(rule.get("when"), rule.get("has")) for rule in parts]
        for position, rule in enumerate(parts):
            if kind not in rule:
                continue
            part: dict[str, Any] = {}
            satisfy(part, rule.get("when"), rule.get("has"))
            if call is None:
                put(part, first_path(rule["text"]), text)
            else:
                put(part, ".", self.tool_item(rule["tool_call"], call[1], call[0], ALL_FIELDS))
            chosen = next((i for i, test in enumerate(conditions) if test is None or test(part)), None)
            if chosen == position:
                return part
        raise self.fail(f"{kind.replace('_', ' ')} in content parts")

    def parts_mode(self, rule: Mapping[str, Any]) -> bool:
        """Whether content goes out as parts: the dialect carries tool calls only inside them."""
        parts = rule.get("parts") or []
        return bool(parts) and not (rule.get("choice") or {}).get("tool_calls") and any(
            "tool_call" in p for p in parts
        )

    def usage(self, rule: Mapping[str, Any], target: dict[str, Any], usage: Mapping[str, int]) -> None:
        spec = rule.get("usage") or {}
        if not usage or not any(name in spec for name in (*USAGE_ORDER, "total_tokens")):
            return
        block: dict[str, Any] = {}
        written: dict[str, int] = {}
        values = dict(usage)
        if "total_tokens" not in values and {"prompt_tokens", "completion_tokens"} <= set(values):
            values["total_tokens"] = values["prompt_tokens"] + values["completion_tokens"]
        for name in (*USAGE_ORDER, "total_tokens"):
            if name not in spec or name not in values:
                continue
            paths = [str(p) for p in spec[name]["sum"]] if isinstance(spec[name], dict) else [first_path(spec[name])]
            rest = sum(written.get(str(p), 0) for p in paths[1:])
            put(block, paths[0], values[name] - rest)
            written[str(paths[0])] = values[name] - rest
        put(target, first_path(spec.get("from", ".")), block)

    # -- one body or event, for one reader spec

    def write(
        self,
        rule: Mapping[str, Any],
        *,
        head: bool = True,
        role: bool = False,
        text: str | None = None,
        calls: Sequence[tuple[int, MockToolCall]] = (),
        stage: str = "whole",
        finish: str | None = None,
        usage: Mapping[str, int] | None = None,
        answer: MockAnswer,
    ) -> dict[str, Any]:
        """A body (or event) that `rule`, read as a reader spec, reads as the given pieces."""
        body: dict[str, Any] = {}
        if head:
            for key, value in (("id", answer.id), ("model", answer.model), ("created", answer.created)):
                if rule.get(key):
                    put(body, first_path(rule[key]), value)
        choice_spec = rule.get("choice") or {}
        choice: dict[str, Any] = {} if rule.get("choices") else body
        if choice_spec.get("index"):
            put(choice, first_path(choice_spec["index"]), 0)
        if role and choice_spec.get("role"):
            put(choice, first_path(choice_spec["role"]), "assistant")
        if self.parts_mode(rule) and (text is not None or calls):
            self.write_parts(rule, choice, text, calls)
        else:
            if text is not None:
                if not choice_spec.get("content"):
                    raise self.fail("text")
                put(choice, first_path(choice_spec["content"]), text)
            if calls:
                self.write_calls(choice_spec, choice, calls, stage)
        if finish is not None:
            if not choice_spec.get("finish_reason"):
                raise self.fail("a finish reason")
            put(choice, first_path(choice_spec["finish_reason"]), self.wire_reason(finish, rule))
        if rule.get("choices"):
            put(body, rule["choices"], [choice] if choice or text is not None or finish else [])
        self.usage(rule, body, usage or {})
        return body

    def write_parts(
        self, rule: Mapping[str, Any], choice: dict, text: str | None, calls: Sequence[tuple[int, MockToolCall]]
    ) -> None:
        content = [self.part(rule["parts"], text, None)] if text is not None else []
        content += [self.part(rule["parts"], None, call) for call in calls]
        put(choice, first_path((rule.get("choice") or {}).get("content")), content)

    def write_calls(
        self, choice_spec: Mapping[str, Any], choice: dict, calls: Sequence[tuple[int, MockToolCall]], stage: str
    ) -> None:
        """Tool calls at the choice's tool_calls rule: `whole` and `start` use the rule that reads names
        (`start` leaves the arguments to a later event), `arguments` the one that reads only arguments."""
        rules = choice_spec.get("tool_calls")
        rules = rules if isinstance(rules, list) else [rules] if rules else []
        if stage == "arguments":
            rule = next((r for r in rules if r.get("arguments") and not r.get("name")), None)
        else:
            rule = next((r for r in rules if r.get("name")), None)
        if rule is None:
            raise self.fail("a tool call")
        fields = {"whole": ALL_FIELDS, "start": ("id", "name"), "arguments": ("arguments",)}[stage]
        items = [self.tool_item(rule, call, index, fields) for index, call in calls]
        # A path whose rule tests a condition holds one typed block, and so does the event itself ("."):
        # otherwise a list of calls.
        single = stage != "whole" and len(items) == 1 and (
            rule.get("when") or rule.get("has") or rule.get("path", ".") == "."
        )
        put(choice, rule.get("path", "."), items[0] if single else items)

    # -- whole bodies

    def body(self, answer: MockAnswer) -> dict[str, Any]:
        """The JSON body of a non-streaming answer."""
        return self.write(
            self.response,
            role=True,
            text=answer.text,
            calls=list(enumerate(answer.tool_calls)),
            finish=answer.finish_reason,
            usage=answer.usage,
            answer=answer,
        )

    # -- streams

    def stream(self, answer: MockAnswer) -> tuple[bytes, str]:
        """The stream transcript of an answer, framed per the spec's `stream:`, and its content type."""
        spec = self.stream_spec
        events = dict(spec.get("events") or {})
        default = events.pop("*", None)
        type_source: str | None = spec.get("type")
        if type_source:
            records = self.typed_events({k: v for k, v in events.items() if v is not None}, answer)
            end_types = list(spec.get("end_types") or ())
            if end_types and records[-1][0] not in end_types:
                records.append((end_types[0], {}))
        else:
            records = [(None, body) for body in self.untyped_events(default or self.response, answer)]
        if spec.get("end_when") and records:
            satisfy(records[-1][1], spec["end_when"], None)
        if spec.get("format") == "eventstream":  # binary: one AWS event-stream message per record
            headers = {":message-type": "event", ":content-type": "application/json"}
            return b"".join(
                encode_message({**headers, ":event-type": name or ""},
                               json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
                for name, body in records
            ), "application/vnd.amazon.eventstream"
        ndjson = spec.get("format", "sse") == "ndjson"
        pieces = [self.frame(ndjson, type_source, name, body) for name, body in records]
        if spec.get("done") is not None:
            pieces.append(spec["done"] + "\n" if ndjson else f"data: {spec['done']}\n\n")
        return "".join(pieces).encode("utf-8"), "application/x-ndjson" if ndjson else "text/event-stream"

    @staticmethod
    def frame(ndjson: bool, type_source: str | None, name: str | None, body: dict[str, Any]) -> str:
        if name is not None and type_source and type_source != "event":
            typed = put({}, type_source, name)
            body = {**typed, **body} if "." not in type_source else put(body, type_source, name)
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        if ndjson:
            return data + "\n"
        return (f"event: {name}\n" if name is not None else "") + f"data: {data}\n\n"

    def untyped_events(self, rule: Mapping[str, Any], answer: MockAnswer) -> list[dict[str, Any]]:
        """Every event read by one reader: a text delta each, a whole tool call each, then the finish."""
        out = [self.write(rule, role=not out_index, text=delta, answer=answer)
               for out_index, delta in enumerate(answer.deltas())]
        for index, call in enumerate(answer.tool_calls):
            out.append(self.write(rule, role=not out, calls=[(index, call)], answer=answer))
        out.append(self.write(rule, role=not out, finish=answer.finish_reason, usage=answer.usage, answer=answer))
        return out

    def typed_events(
        self, events: Mapping[str, Mapping[str, Any]], answer: MockAnswer
    ) -> list[tuple[str | None, dict[str, Any]]]:
        """Events dispatched by type: a start event, text deltas, tool calls (a start, then the arguments
        when another event type carries them), then the finish with the usage."""

        def having(test: Any) -> list[str]:
            return [name for name, rule in events.items() if test(rule, rule.get("choice") or {})]

        starts = having(lambda r, c: r.get("id") or r.get("model") or c.get("role"))
        texts = having(lambda r, c: c.get("content"))
        finishes = having(lambda r, c: c.get("finish_reason"))
        usages = having(lambda r, c: any(k in (r.get("usage") or {}) for k in (*USAGE_ORDER, "total_tokens")))
        records: list[tuple[str | None, dict[str, Any]]] = []
        if starts:
            records.append((starts[0], self.write(events[starts[0]], role=True, answer=answer)))
        deltas = answer.deltas()
        if deltas and not texts:
            raise self.fail("streamed text")
        for position, delta in enumerate(deltas):
            name = texts[0] if position == 0 else texts[-1]
            records.append((name, self.write(events[name], head=False, text=delta, answer=answer)))
        for index, call in enumerate(answer.tool_calls):
            records.extend(self.typed_call(events, index, call, answer))
        if not finishes:
            raise self.fail("a streamed finish reason")
        end = finishes[0]
        usage = answer.usage if end in usages else None
        records.append((end, self.write(events[end], head=False, finish=answer.finish_reason, usage=usage,
                                        answer=answer)))
        if usage is None and usages and answer.usage:
            records.append((usages[-1], self.write(events[usages[-1]], head=False, usage=answer.usage, answer=answer)))
        return records

    def typed_call(
        self, events: Mapping[str, Mapping[str, Any]], index: int, call: MockToolCall, answer: MockAnswer
    ) -> list[tuple[str | None, dict[str, Any]]]:
        def rules(rule: Mapping[str, Any]) -> list[Mapping[str, Any]]:
            found = (rule.get("choice") or {}).get("tool_calls")
            return found if isinstance(found, list) else [found] if found else []

        starts = [name for name, rule in events.items() if any(r.get("name") for r in rules(rule))]
        more = [name for name, rule in events.items()
                if any(r.get("arguments") and not r.get("name") for r in rules(rule))]
        if not starts:
            raise self.fail("a streamed tool call")
        stage = "start" if more else "whole"
        records: list[tuple[str | None, dict[str, Any]]] = [
            (starts[0], self.write(events[starts[0]], head=False, calls=[(index, call)], stage=stage, answer=answer))
        ]
        if more:
            records.append((more[0], self.write(events[more[0]], head=False, calls=[(index, call)],
                                                stage="arguments", answer=answer)))
        return records
