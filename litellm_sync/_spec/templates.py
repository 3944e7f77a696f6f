"""Every template of a spec entry, found by its place and compiled with the variables that place offers.

What a template may read depends on where it is (see docs/providers-yaml.md, Templates):

- request templates (`body`, `stream_body`, `headers`, `auth.value`, the chat endpoint's path and queries):
  REQUEST_VARIABLES plus the names that `messages.lift` rules lift into, and the public call arguments of
  the auth mechanism the entry names (e.g. `aws_region_name`), and the provider's `variables`;
- parameter rules: the same plus `value` (the parameter's value; not in `default`);
- the models endpoint: `api_key`, `api_version` and the `variables`; a templated `base_url`: `api_version`
  and the `variables`;
- `messages.parts.<type>`: that part type's fields (and `type`); `messages.message`: `role`, `content` and
  every slot the part rules name;
- inside `$each ... do:`, also `item` and `index`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .._engine.auth import mechanism_variables
from .._engine.messages import PART_FIELDS
from .._engine.template import TemplateError, compile_template
from .fields import is_slot_rule_list

REQUEST_VARIABLES = frozenset({"model", "messages", "stream", "api_key", "api_version", "model_info", "body"})
"""The context of a chat request's templates (built in RequestBuilder.build)."""
MODELS_VARIABLES = frozenset({"api_key", "api_version"})
"""The context of the models endpoint's templates (built in RequestBuilder.build_models_request)."""


class Names:
    """Names declared across the files of a load: lifted variables and message slots."""

    def __init__(self, lifted: Iterable[str] = (), slots: Iterable[str] = (), variables: Iterable[str] = ()) -> None:
        self.lifted = frozenset(lifted)
        self.slots = frozenset(slots)
        self.variables = frozenset(variables)

    @classmethod
    def declared_in(cls, files: Iterable[Mapping[str, Any]]) -> Names:
        """Collect the `lift.into`, part-rule `slot` and `variables` names of every entry of every file."""
        lifted: set[str] = set()
        variables: set[str] = set()
        slots: set[str] = {"content"}
        for data in files:
            for section in ("dialects", "providers"):
                entries = data.get(section)
                for entry in entries.values() if isinstance(entries, Mapping) else ():
                    declared = entry.get("variables") if isinstance(entry, Mapping) else None
                    if isinstance(declared, Mapping):
                        variables.update(k for k in declared if isinstance(k, str))
                    messages = entry.get("messages") if isinstance(entry, Mapping) else None
                    if not isinstance(messages, Mapping):
                        continue
                    for lift in _as_list(messages.get("lift")):
                        if isinstance(lift, Mapping) and isinstance(lift.get("into"), str):
                            lifted.add(lift["into"])
                    parts = messages.get("parts")
                    for rule in parts.values() if isinstance(parts, Mapping) else ():
                        for item in _as_list(rule):
                            if isinstance(item, Mapping) and isinstance(item.get("slot"), str):
                                slots.add(item["slot"])
        return cls(lifted, slots, variables)


def _operation_templates(operations: Any, request: frozenset[str]) -> list[tuple[str, Any, frozenset[str]]]:
    """The templates of `operations:` (and their `by_model` variants), in the request scope plus the
    operation's own variables (`$input`, `$params`, `$query`, `$documents`)."""
    from .op_schema import OPERATION_VARIABLES

    scope = request | OPERATION_VARIABLES
    out: list[tuple[str, Any, frozenset[str]]] = []

    def walk(where: str, op: Any) -> None:
        if not isinstance(op, Mapping):
            return
        for key in ("path", "body", "base_url"):
            if op.get(key) is not None:
                out.append((f"{where}.{key}", op[key], scope))
        for key in ("query",):
            for name, value in (op.get(key) or {}).items() if isinstance(op.get(key), Mapping) else ():
                out.append((f"{where}.{key}.{name}", value, scope))
        params = op.get("params")
        for name, rule in params.items() if isinstance(params, Mapping) else ():
            if isinstance(rule, Mapping):
                for key in ("template", "default"):
                    if key in rule:
                        out.append((f"{where}.params.{name}.{key}", rule[key], scope | {"value"}))
                for key in ("map", "set", "headers"):
                    for sub, value in rule[key].items() if isinstance(rule.get(key), Mapping) else ():
                        out.append((f"{where}.params.{name}.{key}.{sub}", value, scope | {"value"}))
        for index, variant in enumerate(op.get("by_model") or ()):
            walk(f"{where}.by_model[{index}]", variant)

    for name, op in operations.items() if isinstance(operations, Mapping) else ():
        walk(f"operations.{name}", op)
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def template_problems(entry: Mapping[str, Any], names: Names) -> list[tuple[str, str]]:
    """Every template in one entry that does not compile in its place, as (dotted path in the entry, message)."""
    request = REQUEST_VARIABLES | names.lifted | names.variables | mechanism_variables(entry.get("auth"))
    found: list[tuple[str, Any, frozenset[str]]] = []

    def add(path: str, value: Any, scope: frozenset[str]) -> None:
        if value is not None:
            found.append((path, value, scope))

    def add_each(path: str, mapping: Any, scope: frozenset[str]) -> None:
        if isinstance(mapping, Mapping):
            for key, value in mapping.items():
                add(f"{path}.{key}", value, scope)

    def add_rule(path: str, rule: Any) -> None:
        if not isinstance(rule, Mapping):
            return
        with_value = request | {"value"}
        if "template" in rule:
            add(f"{path}.template", rule["template"], with_value)
        if "default" in rule:
            add(f"{path}.default", rule["default"], request)
        for key in ("map", "set", "headers"):
            add_each(f"{path}.{key}", rule.get(key), with_value)
        cases = rule.get("cases")
        for case, sub in cases.items() if isinstance(cases, Mapping) else ():
            add_rule(f"{path}.cases.{case}", sub)

    for key in ("body", "stream_body"):
        add(key, entry.get(key), request)
    base_url = entry.get("base_url")
    if isinstance(base_url, dict) or (isinstance(base_url, str) and "${" in base_url):
        add("base_url", base_url, frozenset({"api_version"}) | names.variables)
    auth = entry.get("auth")
    add("auth.value", auth.get("value") if isinstance(auth, Mapping) else None, request)
    add_each("headers", entry.get("headers"), request)
    endpoints = entry.get("endpoints")
    for endpoint_name, endpoint in endpoints.items() if isinstance(endpoints, Mapping) else ():
        if isinstance(endpoint, Mapping):
            scope = MODELS_VARIABLES | names.variables if endpoint_name == "models" else request
            where = f"endpoints.{endpoint_name}"
            for key in ("path", "stream_path"):
                add(f"{where}.{key}", endpoint.get(key), scope)
            add_each(f"{where}.query", endpoint.get("query"), scope)
            add_each(f"{where}.stream_query", endpoint.get("stream_query"), scope)
    messages = entry.get("messages")
    if isinstance(messages, Mapping):
        add("messages.message", messages.get("message"), frozenset({"role"}) | names.slots)
        by_role = messages.get("message_by_role")
        if isinstance(by_role, Mapping):
            for role, template in by_role.items():
                add(f"messages.message_by_role.{role}", template, frozenset({"role"}) | names.slots)
        parts = messages.get("parts")
        for kind, rule in parts.items() if isinstance(parts, Mapping) else ():
            scope = frozenset({"type", *PART_FIELDS.get(kind, ())})
            if is_slot_rule_list(rule):
                for index, item in enumerate(rule):
                    if isinstance(item, Mapping):
                        add(f"messages.parts.{kind}[{index}].template", item.get("template"), scope)
            elif isinstance(rule, Mapping) and "template" in rule:
                add(f"messages.parts.{kind}.template", rule["template"], scope)
            else:
                add(f"messages.parts.{kind}", rule, scope)
    params = entry.get("params")
    for param, rule in params.items() if isinstance(params, Mapping) else ():
        add_rule(f"params.{param}", rule)
    found.extend(_operation_templates(entry.get("operations"), request))
    problems = []
    for path, raw, scope in found:
        try:
            compile_template(raw, scope)
        except TemplateError as exc:
            problems.append((path, str(exc)))
        except (TypeError, ValueError, AttributeError, StopIteration) as exc:
            problems.append((path, f"not a valid template: {exc}"))
    return problems
