"""marshmallow Schema -> JSON Schema in strict form, and the reply's strict-only nulls removed before loading.

Every object is closed (`additionalProperties: false`) with every property required; a field that may be left
out is sent as a required one that may be null, and `optional_nulls` drops those nulls again so that
marshmallow loads the field as absent. docs/structured-output.md has the table of field types.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from marshmallow import Schema, fields, validate

# marshmallow field class name -> JSON Schema, looked up along a field's MRO (a caller's subclass of String is
# a string; Email, itself a String, is found first).
_SIMPLE: dict[str, dict[str, Any]] = {
    "Email": {"type": "string", "format": "email"},
    "Url": {"type": "string", "format": "uri"},
    "URL": {"type": "string", "format": "uri"},
    "UUID": {"type": "string", "format": "uuid"},
    "IP": {"type": "string"},
    "NaiveDateTime": {"type": "string", "format": "date-time"},
    "AwareDateTime": {"type": "string", "format": "date-time"},
    "DateTime": {"type": "string", "format": "date-time"},
    "Date": {"type": "string", "format": "date"},
    "Time": {"type": "string", "format": "time"},
    "TimeDelta": {"type": "number"},
    "String": {"type": "string"},
    "Integer": {"type": "integer"},
    "Decimal": {"type": "number"},
    "Float": {"type": "number"},
    "Number": {"type": "number"},
    "Boolean": {"type": "boolean"},
}
_JSON_TYPES = (str, int, float, bool)


class Conversion:
    """The state of one conversion: shared definitions, the schemas being converted, whether strict holds."""

    def __init__(self) -> None:
        self.defs: dict[str, Any] = {}
        self.stack: list[type] = []
        self.recursive: set[type] = set()
        self.strict = True


def marshmallow_schema(schema: Schema) -> tuple[dict[str, Any], bool]:
    """The JSON Schema of a marshmallow Schema instance (its load fields) and whether it is strict-compatible."""
    state = Conversion()
    root = _object(schema, state)
    if state.defs:
        root = {**root, "$defs": state.defs}
    return root, state.strict


def _object(schema: Schema, state: Conversion) -> dict[str, Any]:
    cls = type(schema)
    if cls in state.stack:  # a schema nested in itself: a reference, to the root or to a definition
        state.recursive.add(cls)
        return {"$ref": "#"} if state.stack[0] is cls else {"$ref": f"#/$defs/{cls.__name__}"}
    state.stack.append(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        properties[key] = _field(field, state)
        required.append(key)
        if not field.required and not field.allow_none:
            properties[key] = _nullable(properties[key])  # strict: present, but null when not given
    state.stack.pop()
    out: dict[str, Any] = {"type": "object", "properties": properties, "required": required,
                           "additionalProperties": False}
    doc = (cls.__doc__ or "").strip()
    if doc and cls.__module__ != Schema.__module__:
        out["description"] = doc.split("\n\n", 1)[0].strip()
    if cls in state.recursive and state.stack:
        state.defs[cls.__name__] = out
        return {"$ref": f"#/$defs/{cls.__name__}"}
    return out


def _field(field: fields.Field, state: Conversion) -> dict[str, Any]:
    out = _field_type(field, state)
    for validator in getattr(field, "validators", ()):
        out = _validator(out, validator)
    description = field.metadata.get("description")
    if isinstance(description, str):
        out = {**out, "description": description} if "$ref" not in out else {"allOf": [out], "description": description}
    title = field.metadata.get("title")
    if isinstance(title, str) and "$ref" not in out:
        out["title"] = title
    return _nullable(out) if field.allow_none else out


def _field_type(field: fields.Field, state: Conversion) -> dict[str, Any]:
    if isinstance(field, fields.Nested):
        nested = field.schema
        inner = _object(nested, state)
        return {"type": "array", "items": inner} if getattr(field, "many", False) or nested.many else inner
    if isinstance(field, fields.List):
        return {"type": "array", "items": _field(field.inner, state)}
    if isinstance(field, fields.Tuple):
        items = [_field(inner, state) for inner in field.tuple_fields]
        return {"type": "array", "prefixItems": items, "minItems": len(items), "maxItems": len(items)}
    if isinstance(field, fields.Dict):  # an open map: strict mode cannot say it
        state.strict = False
        values = getattr(field, "value_field", None)
        return {"type": "object", "additionalProperties": _field(values, state) if values is not None else True}
    enum_field = getattr(fields, "Enum", None)
    if enum_field is not None and isinstance(field, enum_field):
        choices = [member.value if field.by_value else member.name for member in field.enum]
        return {"enum": [c if isinstance(c, _JSON_TYPES) else str(c) for c in choices]}
    if isinstance(field, fields.Constant):
        return {"const": field.constant} if isinstance(field.constant, _JSON_TYPES) else {}
    for cls in type(field).__mro__:
        simple = _SIMPLE.get(cls.__name__)
        if simple is not None and cls.__module__.startswith("marshmallow"):
            return dict(simple)
    state.strict = False  # Raw, or a field of unknown type: any JSON value
    return {}


def _validator(out: dict[str, Any], validator: Any) -> dict[str, Any]:
    if isinstance(validator, validate.OneOf):
        return {**out, "enum": [c if isinstance(c, _JSON_TYPES) else str(c) for c in validator.choices]}
    if isinstance(validator, validate.Range):
        for bound, inclusive, key, exclusive in (
            (validator.min, validator.min_inclusive, "minimum", "exclusiveMinimum"),
            (validator.max, validator.max_inclusive, "maximum", "exclusiveMaximum"),
        ):
            if bound is not None:
                out = {**out, (key if inclusive else exclusive): _number(bound)}
        return out
    if isinstance(validator, validate.Length):
        equal = validator.equal
        low, high = (equal, equal) if equal is not None else (validator.min, validator.max)
        array = out.get("type") == "array"
        if low is not None:
            out = {**out, ("minItems" if array else "minLength"): low}
        if high is not None:
            out = {**out, ("maxItems" if array else "maxLength"): high}
        return out
    if isinstance(validator, validate.Regexp):
        pattern = validator.regex.pattern
        return {**out, "pattern": pattern} if isinstance(pattern, str) else out
    return out


def _number(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (datetime.date, uuid.UUID)):
        return str(value)
    return value


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema, also accepting null."""
    kind = schema.get("type")
    if isinstance(kind, str) and "enum" not in schema and kind not in ("object", "array"):
        return {**schema, "type": [kind, "null"]}
    if isinstance(kind, list):
        return schema if "null" in kind else {**schema, "type": [*kind, "null"]}
    if "enum" in schema and kind is None:
        return schema if None in schema["enum"] else {**schema, "enum": [*schema["enum"], None]}
    if not schema:
        return schema  # any value: null included
    return {"anyOf": [schema, {"type": "null"}]}


def optional_nulls(schema: Schema, data: Any) -> Any:
    """The reply with the nulls of fields that were made nullable only for strict mode (not required, not
    allow_none) removed, at every level, so that marshmallow loads them as absent."""
    if isinstance(data, list):
        return [optional_nulls(schema, item) for item in data]
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        if key not in out:
            continue
        value = out[key]
        if value is None and not field.allow_none and not field.required:
            del out[key]
        elif isinstance(field, fields.Nested) and value is not None:
            out[key] = optional_nulls(field.schema, value)
        elif isinstance(field, fields.List) and isinstance(field.inner, fields.Nested) and isinstance(value, list):
            out[key] = [optional_nulls(field.inner.schema, item) for item in value]
    return out
