"""The marshmallow schema of providers YAML: every key, its type, unknown keys rejected."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

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


_Template = fields.Raw(allow_none=True)
_Mapping = fields.Dict(keys=fields.Str())


class AuthSchema(_Strict):
    env = StrList()
    header = fields.Str()
    value = fields.Str()
    query = fields.Str()
    optional = fields.Bool()


class AuthField(fields.Field):
    """`auth:`: the key form (AuthSchema), or a named mechanism with its options (checked by the mechanism)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, dict) and "mechanism" in value:
            from .._engine.auth import auth_problems

            problems = auth_problems(value)
            if problems:
                raise ValidationError(problems)
            return value
        if not isinstance(value, dict):
            raise ValidationError("Expected a mapping.")
        return AuthSchema().load(value)


class EndpointSchema(_Strict):
    path = fields.Str()
    stream_path = fields.Str()
    method = fields.Str(validate=validate.OneOf(["GET", "POST"]))
    query = fields.Dict(keys=fields.Str(), values=fields.Str())
    stream_query = fields.Dict(keys=fields.Str(), values=fields.Str())
    list = PathField()
    id = PathField()
    strip_prefix = fields.Str()


class EndpointsSchema(_Strict):
    chat = fields.Nested(EndpointSchema)
    models = fields.Nested(EndpointSchema, allow_none=True)


class LiftSchema(_Strict):
    roles = StrList(required=True)
    into = fields.Str(required=True)
    as_ = fields.Str(data_key="as", validate=validate.OneOf(["text", "parts"]))
    sep = fields.Str()


class MessagesSchema(_Strict):
    mode = fields.Str(validate=validate.OneOf(["passthrough", "render"]))
    strip_fields = StrList()
    lift = fields.List(fields.Nested(LiftSchema))
    roles = fields.Dict(keys=fields.Str(), values=fields.Str())
    merge_consecutive = fields.Bool()
    parts = fields.Dict(keys=fields.Str(), values=fields.Raw(allow_none=True))
    message = _Template


class ParamRuleSchema(_Strict):
    to = fields.Str(allow_none=True)
    map = fields.Dict(keys=fields.Raw(), values=fields.Raw(allow_none=True))
    template = _Template
    switch = fields.Str()
    cases = fields.Dict(keys=fields.Str(), values=fields.Nested(lambda: ParamRuleSchema()))
    set = fields.Dict(keys=fields.Str(), values=fields.Raw(allow_none=True))
    headers = fields.Dict(keys=fields.Str(), values=fields.Raw())
    refuse = fields.Str()
    drop = fields.Str()
    default = _Template
    required = fields.Bool()
    feature = fields.Str(validate=validate.OneOf(FEATURES))


class ToolCallsSchema(_Strict):
    path = PathField()
    when = _Mapping
    has = fields.Str()
    index = fields.Str()
    id = PathField()
    name = PathField()
    arguments = PathField()
    extra = fields.Dict(keys=fields.Str(), values=PathField())


class BlocksSchema(_Strict):
    path = PathField()
    when = _Mapping
    has = fields.Str()
    index = fields.Str()
    fields_ = fields.Dict(data_key="fields", keys=fields.Str(), values=PathField())


class PartRuleSchema(_Strict):
    when = _Mapping
    has = fields.Str()
    text = PathField()
    reasoning = PathField()
    tool_call = fields.Nested(ToolCallsSchema)
    keep_block = fields.Bool()


class ChoiceSchema(_Strict):
    index = PathField()
    role = PathField()
    content = PathField()
    reasoning = PathField()
    refusal = PathField()
    finish_reason = PathField()
    tool_calls = fields.Raw()  # one ToolCallsSchema or a list of them; checked in validate_tool_calls
    blocks = fields.Nested(BlocksSchema)


class UsageSchema(_Strict):
    from_ = PathField(data_key="from")
    prompt_tokens = fields.Raw()
    completion_tokens = fields.Raw()
    total_tokens = fields.Raw()
    cached_tokens = fields.Raw()
    cache_creation_tokens = fields.Raw()
    reasoning_tokens = fields.Raw()


class ReaderSchema(_Strict):
    id = PathField()
    model = PathField()
    created = PathField()
    choices = fields.Str()
    choice = fields.Nested(ChoiceSchema)
    parts = fields.List(fields.Nested(PartRuleSchema))
    usage = fields.Nested(UsageSchema)
    finish_reasons = fields.Dict(keys=fields.Str(), values=fields.Str())
    tool_calls_finish_reason = fields.Str()


class StreamErrorSchema(_Strict):
    types = StrList()
    has = fields.Str()
    when = _Mapping


class StreamSchema(_Strict):
    format = fields.Str(validate=validate.OneOf(["sse", "ndjson"]))
    done = fields.Str(allow_none=True)
    type = fields.Str(allow_none=True)
    end_types = StrList()
    end_when = _Mapping
    ignore = StrList()
    error = fields.Nested(StreamErrorSchema)
    events = fields.Dict(keys=fields.Str(), values=fields.Nested(ReaderSchema))


class ErrorRuleSchema(_Strict):
    status = StatusField()
    match = _Mapping
    has = fields.Str()
    contains = StrList()
    class_ = fields.Str(data_key="class", required=True, validate=validate.OneOf(sorted(ERROR_CLASSES)))
    retryable = fields.Bool()


class ErrorsSchema(_Strict):
    message = PathField()
    code = PathField()
    status = PathField()
    request_id = PathField()
    request_id_headers = StrList()
    rules = fields.List(fields.Nested(ErrorRuleSchema))


class PricingSchema(_Strict):
    input = Price(allow_none=True)
    output = Price(allow_none=True)
    cached_input = Price(allow_none=True)
    cache_write = Price(allow_none=True)
    reasoning_output = Price(allow_none=True)


class ModelSchema(_Strict):
    context_window = fields.Int(allow_none=True, validate=validate.Range(min=1))
    max_output_tokens = fields.Int(allow_none=True, validate=validate.Range(min=1))
    features = fields.List(fields.Str(validate=validate.OneOf(FEATURES)))
    pricing = fields.Nested(PricingSchema)
    aliases = StrList()
    deprecation_date = fields.Str(allow_none=True)
    description = fields.Str()


class PricingSourceSchema(_Strict):
    checked = fields.Str()
    url = fields.Str()
    note = fields.Str()


class ApiVersionSchema(_Strict):
    env = StrList()
    default = fields.Str(allow_none=True)


class HealthSchema(_Strict):
    probe = fields.Str(validate=validate.OneOf(["models", "chat"]))
    model = fields.Str()


class ProviderSchema(_Strict):
    extends = fields.Str()
    description = fields.Str()
    docs = fields.Str()
    base_url = fields.Str(allow_none=True)
    base_url_env = StrList()
    auth = AuthField()
    headers = fields.Dict(keys=fields.Str(), values=fields.Str(allow_none=True))
    api_version = fields.Nested(ApiVersionSchema)
    endpoints = fields.Nested(EndpointsSchema)
    body = _Template
    stream_body = _Template
    messages = fields.Nested(MessagesSchema)
    params = fields.Dict(keys=fields.Str(), values=fields.Nested(ParamRuleSchema, allow_none=True))
    unknown_params = fields.Str(validate=validate.OneOf(["forward", "refuse"]))
    response = fields.Nested(ReaderSchema)
    stream = fields.Nested(StreamSchema)
    errors = fields.Nested(ErrorsSchema)
    models = fields.Dict(keys=fields.Str(), values=fields.Nested(ModelSchema, allow_none=True))
    pricing_source = fields.Nested(PricingSourceSchema)
    health = fields.Nested(HealthSchema)
    bare_names = fields.Bool()


class SpecFileSchema(_Strict):
    version = fields.Int(validate=validate.Equal(1))
    http_errors = fields.Dict(keys=StatusField(), values=fields.Str(validate=validate.OneOf(sorted(ERROR_CLASSES))))
    dialects = fields.Dict(keys=fields.Str(), values=fields.Nested(ProviderSchema, allow_none=True))
    providers = fields.Dict(keys=fields.Str(), values=fields.Nested(ProviderSchema, allow_none=True))


def validate_tool_calls(value: Any) -> list[str]:
    """Problems in a choice's `tool_calls` (one rule or a list of rules), as path-prefixed messages."""
    problems: list[str] = []
    for index, item in enumerate(value if isinstance(value, list) else [value]):
        errors = ToolCallsSchema().validate(item) if isinstance(item, dict) else {"_schema": ["Expected a mapping."]}
        problems.extend(f"[{index}].{key}: {msgs}" for key, msgs in errors.items())
    return problems
