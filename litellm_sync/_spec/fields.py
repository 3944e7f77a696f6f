"""The custom marshmallow fields of the providers YAML schema, and the null handling of layered files."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import Schema, ValidationError, fields


class PathField(fields.Field):
    """A dotted path, or a list of paths tried in order."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
            return value
        raise ValidationError("Expected a dotted path or a list of dotted paths.")


class StrList(fields.Field):
    """A string or a list of strings, loaded as a list."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        raise ValidationError("Expected a string or a list of strings.")


class Price(fields.Field):
    """A USD price per million tokens: a quoted decimal (or a number), exact; null when unknown."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool):
            raise ValidationError("Expected a decimal price such as \"2.50\".")
        try:
            price = Decimal(str(value)) if isinstance(value, (int, float, str)) else None
        except InvalidOperation:
            price = None
        if price is None or not price.is_finite() or price < 0:
            raise ValidationError("Expected a non-negative decimal price such as \"2.50\".")
        return price


class StatusField(fields.Field):
    """An HTTP status, a class like '5xx', or a list of them."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item.isdigit():
                item = int(item)  # a status written as text, as JSON keys are
            ok = (isinstance(item, int) and not isinstance(item, bool) and 100 <= item <= 599) or (
                isinstance(item, str) and len(item) == 3 and item[0] in "12345" and item[1:] == "xx"
            )
            if not ok:
                raise ValidationError("Expected an HTTP status (429), a class ('5xx') or a list of them.")
        return value


class OneOrMany(fields.Field):
    """One mapping checked by a schema, or a list of them (errors keyed by list position)."""

    def __init__(self, schema: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.schema = schema
        self.instance = schema()

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, dict):
            return self.instance.load(value)
        if not isinstance(value, list) or not value:
            raise ValidationError("Expected a mapping or a non-empty list of mappings.")
        out, errors = [], {}
        for index, item in enumerate(value):
            try:
                if not isinstance(item, dict):
                    raise ValidationError("Expected a mapping.")
                out.append(self.instance.load(item))
            except ValidationError as exc:
                errors[index] = exc.messages
        if errors:
            raise ValidationError(errors)
        return out


class UsageValue(fields.Field):
    """A token count's place: a path, a list of paths tried in order, or `{sum: [paths]}` added up."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, dict):
            if set(value) != {"sum"}:
                unknown = sorted(str(k) for k in set(value) - {"sum"})
                raise ValidationError(
                    f"Expected {{sum: [paths]}}; unknown key(s): {', '.join(unknown)}." if unknown
                    else "Expected {sum: [paths]}."
                )
            paths = value["sum"]
            if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
                raise ValidationError("sum: Expected a non-empty list of dotted paths.")
            return value
        return PathField()._deserialize(value, attr, data, **kwargs)


class PartRender(fields.Field):
    """How a message part renders: a template, a `{slot, template}` rule, or a list of such rules.

    A mapping with a `template` key is a slot rule, and may only have `template` and `slot`; a list in which
    any item is a slot rule is a list of slot rules. Anything else is a template for the `content` slot."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if is_slot_rule_list(value):
            errors = {}
            for index, item in enumerate(value):
                problem = _slot_rule_problem(item)
                if problem:
                    errors[index] = [problem]
            if errors:
                raise ValidationError(errors)
        elif isinstance(value, dict) and "template" in value:
            problem = _slot_rule_problem(value)
            if problem:
                raise ValidationError(problem)
        return value


def is_slot_rule(raw: Any) -> bool:
    """A part rendering `{slot, template}` (a mapping with a `template` key)."""
    return isinstance(raw, dict) and "template" in raw


def is_slot_rule_list(raw: Any) -> bool:
    """Whether a part's rendering is a list of `{slot, template}` rules (rather than a list template)."""
    return isinstance(raw, list) and any(is_slot_rule(r) for r in raw)


def _slot_rule_problem(rule: Any) -> str | None:
    if not isinstance(rule, dict) or "template" not in rule:
        return "Expected a slot rule {slot: name, template: ...} like the others in this list."
    unknown = sorted(str(k) for k in set(rule) - {"template", "slot"})
    if unknown:
        return f"A slot rule takes only slot and template; unknown key(s): {', '.join(unknown)}."
    if "slot" in rule and not isinstance(rule["slot"], str):
        return "slot: Not a valid string."
    return None


def without_disallowed_nulls(schema: Schema, data: Any) -> Any:
    """Data without the nulls the schema does not accept where they are (the same object when it has none).

    In a layered file null deletes a key; one left after merging (deleting what nothing defined) is dropped
    here, while a null the schema allows (`to: null`, a template's null) keeps its meaning."""
    if not isinstance(data, dict):
        return data
    by_key = {field.data_key or name: field for name, field in schema.fields.items()}
    out: dict[Any, Any] = {}
    changed = False
    for key, value in data.items():
        field = by_key.get(key)
        if value is None and not (field is not None and field.allow_none):
            changed = True
            continue
        out[key] = value if value is None else _strip_field(field, value)
        changed = changed or out[key] is not value
    return out if changed else data


def strip_field_nulls(field: Any, value: Any) -> Any:
    """A field's value without the nulls its schema does not accept (the same object when it has none)."""
    return _strip_field(field, value)


def _strip_field(field: Any, value: Any) -> Any:
    if isinstance(field, fields.Nested):
        return without_disallowed_nulls(field.schema, value)
    if isinstance(field, OneOrMany):
        schema = field.instance
        if isinstance(value, list):
            items = [without_disallowed_nulls(schema, v) for v in value]
            return value if all(a is b for a, b in zip(items, value)) else items
        return without_disallowed_nulls(schema, value)
    if isinstance(field, fields.List) and isinstance(value, list):
        items = [_strip_field(field.inner, v) for v in value if v is not None]
        return value if len(items) == len(value) and all(a is b for a, b in zip(items, value)) else items
    if isinstance(field, fields.Dict) and isinstance(value, dict) and field.value_field is not None:
        inner = field.value_field
        kept = {k: _strip_field(inner, v) for k, v in value.items() if v is not None or inner.allow_none}
        same = len(kept) == len(value) and all(kept[k] is value[k] for k in kept)
        return value if same else kept
    return value
