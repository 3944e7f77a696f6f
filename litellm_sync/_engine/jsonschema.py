"""JSON Schema for structured output: any schema made fit for strict mode, and keywords a wire format refuses
dropped.

Strict mode (OpenAI's `"strict": true`, and the providers that follow it) wants every object closed
(`additionalProperties: false`) with every property required; an optional field is then a required one that
may be null. `strictify` brings a schema (pydantic's `model_json_schema()`, a caller's dict) to that form, and
says when it cannot (open maps, untyped values). The marshmallow converter (from_marshmallow.py) writes that
form directly. No marshmallow here: the spec's templates use `drop_keywords` at load time.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any


def strictify(schema: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """A copy of a JSON Schema in strict form (objects closed, every property required, null defaults and
    `$ref` siblings resolved as OpenAI's SDK does) and whether strict mode can take it."""
    original = dict(schema)
    root = copy.deepcopy(original)
    state = {"strict": True}
    _strict_node(root, original, state, frozenset())
    return root, state["strict"]


def _strict_node(node: Any, original: Mapping[str, Any], state: dict[str, bool], inlining: frozenset[str]) -> None:
    """Bring one node to strict form in place; `original` is the untouched schema `$ref`s are read from, and
    `inlining` the refs being inlined above this node (a recursive type keeps its `$ref` the second time)."""
    if isinstance(node, list):
        for item in node:
            _strict_node(item, original, state, inlining)
        return
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if ref is not None and len(node) > 1:  # strict mode refuses siblings of $ref: inline the target
        target = _resolve(original, ref)
        if isinstance(target, dict):
            if ref == "#" or ref in inlining:  # a type inside itself: keep the reference, drop its annotations
                node.clear()
                node["$ref"] = ref
                return
            del node["$ref"]
            node.update({key: copy.deepcopy(value) for key, value in target.items() if key not in node})
            inlining = inlining | {ref}
    if node.get("default", 0) is None:
        del node["default"]
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
        node.pop("allOf")
        node.update({key: value for key, value in all_of[0].items() if key not in node})
    if node.get("type") == "object" or "properties" in node:
        extra = node.get("additionalProperties")
        if extra not in (None, False):
            state["strict"] = False  # an open map (a dict of values): strict mode cannot say it
        else:
            node["additionalProperties"] = False
            properties = node.get("properties")
            node["required"] = list(properties) if isinstance(properties, dict) else []
    for key, value in node.items():
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            for item in value.values():
                _strict_node(item, original, state, inlining)
        elif key in ("items", "anyOf", "allOf", "oneOf", "prefixItems", "additionalProperties", "not"):
            _strict_node(value, original, state, inlining)


def _resolve(root: Mapping[str, Any], ref: Any) -> Any:
    if not isinstance(ref, str) or not ref.startswith("#"):
        return None
    node: Any = root
    for part in ref[1:].split("/"):
        if part:
            node = node.get(part) if isinstance(node, Mapping) else None
    return node


_SUBSCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SUBSCHEMAS = ("items", "anyOf", "allOf", "oneOf", "prefixItems", "additionalProperties", "not")


def drop_keywords(schema: Any, keywords: frozenset[str], note: bool) -> Any:
    """A copy of a JSON Schema without the given keywords in any of its schema nodes (property names are left
    alone); with note, each node's dropped constraints are added to its description ("minimum: 0"), so the
    model still reads them. For wire formats that refuse some keywords (the template directive $drop_keywords)."""
    if isinstance(schema, list):
        return [drop_keywords(item, keywords, note) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in schema.items():
        if key in keywords:
            dropped.append(f"{key}: {json.dumps(value)}")
        elif key in _SUBSCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: drop_keywords(item, keywords, note) for name, item in value.items()}
        elif key in _SUBSCHEMAS:
            out[key] = drop_keywords(value, keywords, note)
        else:
            out[key] = value
    if note and dropped:
        description = out.get("description")
        prefix = f"{description} " if isinstance(description, str) and description else ""
        out["description"] = prefix + "(" + ", ".join(dropped) + ")"
    return out
