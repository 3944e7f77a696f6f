"""Review regressions: strict-form schemas of recursive types keep their recursion."""

from __future__ import annotations

from typing import Any

import pytest

from litellm_sync._engine.jsonschema import strictify

pydantic = pytest.importorskip("pydantic")


class Node(pydantic.BaseModel):
    name: str
    first: Node = pydantic.Field(description="the first child")
    other: Node | None = pydantic.Field(None, description="another child")



def _untyped(node: Any, where: str = "#") -> list[str]:
    """The property schemas that say nothing about their value (no type, $ref or anyOf)."""
    found: list[str] = []
    if isinstance(node, dict):
        for name, value in (node.get("properties") or {}).items():
            if not any(key in value for key in ("type", "$ref", "anyOf")):
                found.append(f"{where}/{name}")
        for key, value in node.items():
            found += _untyped(value, f"{where}/{key}")
    elif isinstance(node, list):
        for item in node:
            found += _untyped(item, where)
    return found


def test_recursive_ref_with_description_stays_recursive() -> None:
    schema, strict = strictify(Node.model_json_schema())
    assert strict is True
    assert _untyped(schema) == []  # before the fix: '.../first/properties/first' was {'description': ...}
    assert schema["properties"]["first"] == {"$ref": "#/$defs/Node"}  # the root is a Node: a Node inside is a $ref
    assert schema["$defs"]["Node"]["properties"]["first"] == {"$ref": "#/$defs/Node"}
    assert schema["properties"]["other"]["anyOf"][0] == {"$ref": "#/$defs/Node"}


class Leaf(pydantic.BaseModel):
    value: int


class Tree(pydantic.BaseModel):
    leaf: Leaf = pydantic.Field(description="the leaf")


def test_non_recursive_ref_with_description_is_still_inlined() -> None:
    schema, strict = strictify(Tree.model_json_schema())
    leaf = schema["properties"]["leaf"]
    assert strict is True and "$ref" not in leaf
    assert leaf["description"] == "the leaf" and leaf["properties"] == {"value": {"title": "Value", "type": "integer"}}
    assert leaf["required"] == ["value"] and leaf["additionalProperties"] is False


def test_root_ref_with_siblings_keeps_the_reference() -> None:
    raw = {"type": "object", "properties": {"child": {"$ref": "#", "description": "a child"}}}
    schema, _strict = strictify(raw)
    assert schema["properties"]["child"] == {"$ref": "#"}
    assert raw["properties"]["child"] == {"$ref": "#", "description": "a child"}  # the caller's dict untouched
