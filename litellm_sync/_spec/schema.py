"""The marshmallow schema of providers YAML: every key, its type, unknown keys rejected."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from .._engine.messages import PART_FIELDS
from ..exceptions import ERROR_CLASSES

FEATURES = (
    "tools",
    "parallel_tool_calls",
    "tool_choice",
    "vision",
    "json_mode",
    "json_schema",
    "reasoning",
    "streaming",
    "system_messages",
    "prompt_caching",
    "audio_input",
    "pdf_input",
    "web_search",
)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


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


PART_KINDS = tuple(PART_FIELDS)


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


DEFAULT_BODY = {"model": "$model", "messages": "$messages"}
_Template = fields.Raw(allow_none=True)
_Mapping = fields.Dict(keys=fields.Str())


class AuthSchema(_Strict):
    env = StrList(load_default=list)
    header = fields.Str(load_default=None)
    value = fields.Str(load_default="${api_key}")
    query = fields.Str(load_default=None)
    optional = fields.Bool(load_default=False)


class EndpointSchema(_Strict):
    path = fields.Str(load_default="")
    stream_path = fields.Str(load_default=None)
    method = fields.Str(validate=validate.OneOf(["GET", "POST"]), load_default="POST")
    query = fields.Dict(keys=fields.Str(), values=fields.Str(), load_default=dict)
    stream_query = fields.Dict(keys=fields.Str(), values=fields.Str(), load_default=dict)
    list = PathField(load_default=None)
    id = PathField(load_default=None)
    strip_prefix = fields.Str(load_default="")


class EndpointsSchema(_Strict):
    chat = fields.Nested(EndpointSchema, load_default=None)
    models = fields.Nested(EndpointSchema, allow_none=True, load_default=None)


class LiftSchema(_Strict):
    roles = StrList(required=True)
    into = fields.Str(required=True)
    as_ = fields.Str(data_key="as", validate=validate.OneOf(["text", "parts"]), load_default="text")
    sep = fields.Str(load_default="\n\n")


class MessagesSchema(_Strict):
    mode = fields.Str(validate=validate.OneOf(["passthrough", "render"]), load_default="passthrough")
    strip_fields = StrList(load_default=list)
    lift = fields.List(fields.Nested(LiftSchema), load_default=list)
    roles = fields.Dict(keys=fields.Str(), values=fields.Str(), load_default=dict)
    merge_consecutive = fields.Bool(load_default=False)
    parts = fields.Dict(
        keys=fields.Str(validate=validate.OneOf(PART_KINDS)), values=PartRender(allow_none=True), load_default=dict
    )
    message = fields.Raw(allow_none=True, load_default=lambda: {"role": "$role", "content": "$content"})


class ParamRuleSchema(_Strict):
    to = fields.Str(allow_none=True)  # absent: the parameter's own name
    map = fields.Dict(keys=fields.Raw(), values=fields.Raw(allow_none=True), load_default=dict)
    template = _Template  # absent: the value as given; null: a JSON null
    switch = fields.Str(load_default=None)
    cases = fields.Dict(keys=fields.Str(), values=fields.Nested(lambda: ParamRuleSchema()), load_default=dict)
    set = fields.Dict(keys=fields.Str(), values=fields.Raw(allow_none=True), load_default=dict)
    headers = fields.Dict(keys=fields.Str(), values=fields.Raw(), load_default=dict)
    refuse = fields.Str(load_default=None)
    drop = fields.Str(load_default=None)
    default = _Template  # absent: no default
    required = fields.Bool(load_default=False)
    feature = fields.Str(validate=validate.OneOf(FEATURES), load_default=None)


class ToolCallsSchema(_Strict):
    path = PathField(load_default=None)
    when = fields.Dict(keys=fields.Str(), load_default=None)
    has = fields.Str(load_default=None)
    index = fields.Str(load_default="$next")
    id = PathField(load_default=None)
    name = PathField(load_default=None)
    arguments = PathField(load_default=None)
    extra = fields.Dict(keys=fields.Str(), values=PathField(), load_default=dict)


class BlocksSchema(_Strict):
    path = PathField(load_default=".")
    when = fields.Dict(keys=fields.Str(), load_default=None)
    has = fields.Str(load_default=None)
    index = fields.Str(load_default="$next")
    fields_ = fields.Dict(data_key="fields", keys=fields.Str(), values=PathField(), load_default=None)


class PartRuleSchema(_Strict):
    when = fields.Dict(keys=fields.Str(), load_default=None)
    has = fields.Str(load_default=None)
    text = PathField(load_default=None)
    reasoning = PathField(load_default=None)
    tool_call = fields.Nested(ToolCallsSchema, load_default=None)
    keep_block = fields.Bool(load_default=False)


class ChoiceSchema(_Strict):
    index = PathField(load_default=None)
    role = PathField(load_default=None)
    content = PathField(load_default=None)
    reasoning = PathField(load_default=None)
    refusal = PathField(load_default=None)
    finish_reason = PathField(load_default=None)
    tool_calls = OneOrMany(ToolCallsSchema, load_default=list)
    blocks = fields.Nested(BlocksSchema, load_default=None)


class UsageSchema(_Strict):
    from_ = PathField(data_key="from", load_default=".")
    prompt_tokens = UsageValue()
    completion_tokens = UsageValue()
    total_tokens = UsageValue()
    cached_tokens = UsageValue()
    cache_creation_tokens = UsageValue()
    reasoning_tokens = UsageValue()


class ReaderSchema(_Strict):
    id = PathField(load_default=None)
    model = PathField(load_default=None)
    created = PathField(load_default=None)
    choices = fields.Str(load_default=None)
    choice = fields.Nested(ChoiceSchema, load_default=dict)
    parts = fields.List(fields.Nested(PartRuleSchema), load_default=list)
    usage = fields.Nested(UsageSchema, load_default=dict)
    finish_reasons = fields.Dict(keys=fields.Str(), values=fields.Str(), load_default=dict)
    tool_calls_finish_reason = fields.Str(load_default=None)


class StreamErrorSchema(_Strict):
    types = StrList(load_default=list)
    has = fields.Str(load_default=None)
    when = fields.Dict(keys=fields.Str(), load_default=None)


class StreamSchema(_Strict):
    format = fields.Str(validate=validate.OneOf(["sse", "ndjson"]), load_default="sse")
    done = fields.Str(allow_none=True, load_default=None)
    type = fields.Str(allow_none=True, load_default=None)
    end_types = StrList(load_default=list)
    end_when = fields.Dict(keys=fields.Str(), load_default=None)
    ignore = StrList(load_default=list)
    error = fields.Nested(StreamErrorSchema, load_default=dict)
    events = fields.Dict(keys=fields.Str(), values=fields.Nested(ReaderSchema), load_default=dict)


class ErrorRuleSchema(_Strict):
    status = StatusField(load_default=None)
    match = fields.Dict(keys=fields.Str(), load_default=None)
    has = fields.Str(load_default=None)
    contains = StrList(load_default=list)
    class_ = fields.Str(data_key="class", required=True, validate=validate.OneOf(sorted(ERROR_CLASSES)))
    retryable = fields.Bool(load_default=None)


class ErrorsSchema(_Strict):
    message = PathField(load_default=lambda: ["error.message", "message", "error"])
    code = PathField(load_default=lambda: ["error.code", "error.type", "code", "type"])
    status = PathField(load_default=None)
    request_id = PathField(load_default=None)
    request_id_headers = StrList(load_default=lambda: ["x-request-id"])
    rules = fields.List(fields.Nested(ErrorRuleSchema), load_default=list)


class PricingSchema(_Strict):
    input = Price(allow_none=True, load_default=None)
    output = Price(allow_none=True, load_default=None)
    cached_input = Price(allow_none=True, load_default=None)
    cache_write = Price(allow_none=True, load_default=None)
    reasoning_output = Price(allow_none=True, load_default=None)


class ModelSchema(_Strict):
    context_window = fields.Int(allow_none=True, validate=validate.Range(min=1), load_default=None)
    max_output_tokens = fields.Int(allow_none=True, validate=validate.Range(min=1), load_default=None)
    features = fields.List(fields.Str(validate=validate.OneOf(FEATURES)), load_default=list)
    pricing = fields.Nested(PricingSchema, load_default=dict)
    aliases = StrList(load_default=list)
    deprecation_date = fields.Str(allow_none=True, load_default=None)
    description = fields.Str(load_default=None)


class PricingSourceSchema(_Strict):
    checked = fields.Str(load_default=None)
    url = fields.Str(load_default=None)
    note = fields.Str(load_default=None)


class ApiVersionSchema(_Strict):
    env = StrList(load_default=list)
    default = fields.Str(allow_none=True, load_default=None)


class HealthSchema(_Strict):
    probe = fields.Str(validate=validate.OneOf(["models", "chat"]), load_default=None)
    model = fields.Str(load_default=None)


class ProviderSchema(_Strict):
    extends = fields.Str()
    description = fields.Str(load_default="")
    docs = fields.Str(load_default=None)
    base_url = fields.Str(allow_none=True, load_default=None)
    base_url_env = StrList(load_default=list)
    auth = fields.Nested(AuthSchema, load_default=dict)
    headers = fields.Dict(keys=fields.Str(), values=fields.Str(allow_none=True), load_default=dict)
    api_version = fields.Nested(ApiVersionSchema, load_default=dict)
    endpoints = fields.Nested(EndpointsSchema, load_default=dict)
    body = fields.Raw(allow_none=True, load_default=lambda: dict(DEFAULT_BODY))
    stream_body = fields.Raw(allow_none=True, load_default=None)
    messages = fields.Nested(MessagesSchema, load_default=dict)
    params = fields.Dict(keys=fields.Str(), values=fields.Nested(ParamRuleSchema, allow_none=True), load_default=dict)
    unknown_params = fields.Str(validate=validate.OneOf(["forward", "refuse"]), load_default="forward")
    response = fields.Nested(ReaderSchema, load_default=None)
    stream = fields.Nested(StreamSchema, load_default=dict)
    errors = fields.Nested(ErrorsSchema, load_default=dict)
    models = fields.Dict(keys=fields.Str(), values=fields.Nested(ModelSchema, allow_none=True), load_default=dict)
    pricing_source = fields.Nested(PricingSourceSchema, load_default=dict)
    health = fields.Nested(HealthSchema, load_default=dict)
    bare_names = fields.Bool(load_default=True)


class SpecFileSchema(_Strict):
    version = fields.Int(validate=validate.Equal(1))
    http_errors = fields.Dict(keys=StatusField(), values=fields.Str(validate=validate.OneOf(sorted(ERROR_CLASSES))))
    dialects = fields.Dict(keys=fields.Str(), values=fields.Nested(ProviderSchema, allow_none=True))
    providers = fields.Dict(keys=fields.Str(), values=fields.Nested(ProviderSchema, allow_none=True))


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
