"""The marshmallow -> JSON Schema converter, strict form for other schemas, and the $drop_keywords directive."""

from __future__ import annotations

import enum
from typing import Optional

import pydantic
from marshmallow import Schema, fields, validate

from litellm_sync._engine.from_marshmallow import marshmallow_schema
from litellm_sync._engine.jsonschema import drop_keywords, strictify
from litellm_sync._engine.template import compile_template


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Tag(Schema):
    label = fields.String(required=True, validate=validate.Length(min=1, max=20))


class Everything(Schema):
    """Every field kind the converter knows.

    Only the first paragraph becomes the description."""

    text = fields.String(required=True, metadata={"description": "Some text", "title": "Text"})
    count = fields.Integer(required=True, validate=validate.Range(min=1, max=10, max_inclusive=False))
    ratio = fields.Float(required=True)
    price = fields.Decimal(required=True)
    flag = fields.Boolean(required=True)
    when = fields.DateTime(required=True)
    day = fields.Date(required=True)
    mail = fields.Email(required=True)
    site = fields.URL(required=True)
    ident = fields.UUID(required=True)
    names = fields.List(fields.String(), required=True, validate=validate.Length(equal=2))
    pair = fields.Tuple((fields.String(), fields.Integer()), required=True)
    tag = fields.Nested(Tag, required=True)
    tags = fields.Nested(Tag, many=True, required=True)
    color = fields.Enum(Color, required=True)
    color_value = fields.Enum(Color, by_value=True, required=True)
    size = fields.String(required=True, validate=validate.OneOf(["S", "M", "L"]))
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{3}$"))
    maybe = fields.Integer(required=True, allow_none=True)
    optional = fields.String()
    renamed = fields.String(required=True, data_key="renamedKey")
    hidden = fields.String(dump_only=True)


def test_a_broad_marshmallow_schema() -> None:
    schema, strict = marshmallow_schema(Everything())
    assert strict is True
    tag = {
        "type": "object",
        "properties": {"label": {"type": "string", "minLength": 1, "maxLength": 20}},
        "required": ["label"],
        "additionalProperties": False,
    }
    properties = {
        "text": {"type": "string", "description": "Some text", "title": "Text"},
        "count": {"type": "integer", "minimum": 1, "exclusiveMaximum": 10},
        "ratio": {"type": "number"},
        "price": {"type": "number"},
        "flag": {"type": "boolean"},
        "when": {"type": "string", "format": "date-time"},
        "day": {"type": "string", "format": "date"},
        "mail": {"type": "string", "format": "email"},
        "site": {"type": "string", "format": "uri"},
        "ident": {"type": "string", "format": "uuid"},
        "names": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
        "pair": {
            "type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "minItems": 2, "maxItems": 2
        },
        "tag": tag,
        "tags": {"type": "array", "items": tag},
        "color": {"enum": ["RED", "GREEN"]},
        "color_value": {"enum": ["red", "green"]},
        "size": {"type": "string", "enum": ["S", "M", "L"]},
        "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "maybe": {"type": ["integer", "null"]},
        "optional": {"type": ["string", "null"]},  # strict: present, null when not given
        "renamedKey": {"type": "string"},
    }
    assert schema == {
        "type": "object",
        "description": "Every field kind the converter knows.",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def test_open_maps_and_raw_values_are_not_strict() -> None:
    class Loose(Schema):
        scores = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
        anything = fields.Raw(required=True)

    schema, strict = marshmallow_schema(Loose())
    assert strict is False
    assert schema["properties"] == {
        "scores": {"type": "object", "additionalProperties": {"type": "number"}},
        "anything": {},
    }


def test_nullable_nested_and_enum_fields() -> None:
    class Holder(Schema):
        tag = fields.Nested(Tag, allow_none=True, required=True)
        color = fields.Enum(Color, allow_none=True, required=True)

    schema, _ = marshmallow_schema(Holder())
    assert schema["properties"]["tag"]["anyOf"][1] == {"type": "null"}
    assert schema["properties"]["color"] == {"enum": ["RED", "GREEN", None]}


def test_recursive_schemas_use_references() -> None:
    class Node(Schema):
        name = fields.String(required=True)
        children = fields.List(fields.Nested(lambda: Node()), required=True)

    schema, _ = marshmallow_schema(Node())
    assert schema["properties"]["children"] == {"type": "array", "items": {"$ref": "#"}}

    class Tree(Schema):
        root = fields.Nested(Node, required=True)

    schema, _ = marshmallow_schema(Tree())
    assert schema["properties"]["root"] == {"$ref": "#/$defs/Node"}
    assert schema["$defs"]["Node"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}


class Inner(pydantic.BaseModel):
    """An inner object."""

    x: int


class Outer(pydantic.BaseModel):
    inner: Inner = pydantic.Field(description="the inner one")
    items: list[Inner]
    note: Optional[str] = None


def test_strictify_pydantic_schemas() -> None:
    schema, strict = strictify(Outer.model_json_schema())
    assert strict is True
    assert schema["required"] == ["inner", "items", "note"] and schema["additionalProperties"] is False
    inner = schema["properties"]["inner"]  # a $ref with a sibling description: inlined
    assert "$ref" not in inner and inner["description"] == "the inner one"
    assert inner["properties"] == {"x": {"title": "X", "type": "integer"}} and inner["additionalProperties"] is False
    assert schema["properties"]["items"]["items"] == {"$ref": "#/$defs/Inner"}
    assert schema["$defs"]["Inner"]["required"] == ["x"] and schema["$defs"]["Inner"]["additionalProperties"] is False
    assert "default" not in schema["properties"]["note"]  # a null default is dropped
    assert strictify({"type": "object", "additionalProperties": {"type": "integer"}})[1] is False


def test_drop_keywords_keeps_property_names_and_notes_constraints() -> None:
    schema = {
        "type": "object",
        "properties": {
            "minimum": {"type": "integer", "minimum": 0, "description": "Lowest"},
            "list": {"type": "array", "items": {"type": "string", "maxLength": 5}, "minItems": 2},
        },
        "$defs": {"D": {"type": "number", "maximum": 1}},
    }
    out = drop_keywords(schema, frozenset({"minimum", "maxLength", "minItems", "maximum"}), note=True)
    assert out["properties"]["minimum"] == {"type": "integer", "description": "Lowest (minimum: 0)"}
    assert out["properties"]["list"] == {
        "type": "array", "items": {"type": "string", "description": "(maxLength: 5)"}, "description": "(minItems: 2)"
    }
    assert out["$defs"]["D"] == {"type": "number", "description": "(maximum: 1)"}
    assert schema["properties"]["minimum"]["minimum"] == 0  # the input is left as it was
    template = compile_template({"$drop_keywords": "$value", "keywords": ["maximum"]})
    assert template({"value": {"type": "number", "maximum": 1}}) == {"type": "number"}  # no note: just dropped
