"""The marshmallow schema of providers YAML: every key, its type, unknown keys rejected."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from .._engine.framing import FRAMINGS
from .._engine.messages import PART_FIELDS
from ..exceptions import ERROR_CLASSES
from .fields import (
    OneOrMany,
    PartRender,
    PathField,
    Price,
    StatusField,
    StrList,
    UsageValue,
)

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
    "adaptive_thinking",
    "fixed_sampling",
)


#: The named operations beside chat the engine knows (each a public function: embedding(), rerank()).
OPERATIONS = ("embeddings", "rerank")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


PART_KINDS = tuple(PART_FIELDS)


DEFAULT_BODY = {"model": "$model", "messages": "$messages"}
_Template = fields.Raw(allow_none=True)
_Mapping = fields.Dict(keys=fields.Str())


class AuthSchema(_Strict):
    env = StrList(load_default=list)
    header = fields.Str(load_default=None)
    value = fields.Str(load_default="${api_key}")
    query = fields.Str(load_default=None)
    optional = fields.Bool(load_default=False)


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
    path = fields.Str(load_default="")
    stream_path = fields.Str(load_default=None)
    method = fields.Str(validate=validate.OneOf(["GET", "POST"]), load_default="POST")
    query = fields.Dict(keys=fields.Str(), values=fields.Str(), load_default=dict)
    stream_query = fields.Dict(keys=fields.Str(), values=fields.Str(), load_default=dict)
    list = PathField(load_default=None)
    id = PathField(load_default=None)
    strip_prefix = fields.Str(load_default="")
    path_encoding = fields.Str(validate=validate.OneOf(["segment", "strict"]), load_default="segment")


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
    tool_result_sep = fields.Str(load_default="\n")
    message_by_role = fields.Dict(keys=fields.Str(), values=fields.Raw(), load_default=dict)


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


class ModelParamsSchema(_Strict):
    """One `model_params` block: parameter rules for the models it selects, over the provider's own."""

    description = fields.Str(load_default=None)
    models = StrList(load_default=list)  # name patterns (fnmatch: `claude-opus-4-[78]*`)
    features = fields.List(fields.Str(validate=validate.OneOf(FEATURES)), load_default=list)
    without = fields.List(fields.Str(validate=validate.OneOf(FEATURES)), load_default=list)
    params = fields.Dict(keys=fields.Str(), values=fields.Nested(ParamRuleSchema), required=True)

    @validates_schema
    def _has_selector(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not (data.get("models") or data.get("features") or data.get("without")):
            raise ValidationError(
                "a model_params block needs a selector: models (name patterns), features or without "
                "(registry features), or several of them"
            )


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
    parts = PathField(load_default=None)  # the part holds a nested list of parts, read with the same rules


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
    answer_tool = fields.Str(load_default=None)  # calls to this tool are the answer text (see _engine/answer.py)


class StreamErrorSchema(_Strict):
    types = StrList(load_default=list)
    has = fields.Str(load_default=None)
    when = fields.Dict(keys=fields.Str(), load_default=None)


class StreamSchema(_Strict):
    format = fields.Str(validate=validate.OneOf(sorted(FRAMINGS)), load_default="sse")
    supported = fields.Bool(load_default=True)
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
    headers = fields.Dict(keys=fields.Str(), values=StrList(), load_default=None)
    event_types = StrList(load_default=list)
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
    per_query = Price(allow_none=True, load_default=None)  # rerank: USD per query (search unit)


class ModelSchema(_Strict):
    context_window = fields.Int(allow_none=True, validate=validate.Range(min=1), load_default=None)
    max_output_tokens = fields.Int(allow_none=True, validate=validate.Range(min=1), load_default=None)
    features = fields.List(fields.Str(validate=validate.OneOf(FEATURES)), load_default=list)
    pricing = fields.Nested(PricingSchema, load_default=dict)
    aliases = StrList(load_default=list)
    deprecation_date = fields.Str(allow_none=True, load_default=None)
    description = fields.Str(load_default=None)
    route = fields.Str(allow_none=True, load_default=None)  # a provider that serves this model instead
    mode = fields.Str(validate=validate.OneOf(["chat", "embedding", "rerank"]), load_default="chat")
    output_vector_size = fields.Int(allow_none=True, validate=validate.Range(min=1), load_default=None)
    tokenizer = fields.Str(allow_none=True, load_default=None)  # a tiktoken encoding for token_counter (tokens.py)


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


def _base_url(value: Any) -> bool:
    if not isinstance(value, (str, dict)):
        raise ValidationError("Expected a URL string, or a template mapping (a $map or $first) that gives one")
    return True


RESERVED_VARIABLES = frozenset({"model", "messages", "stream", "api_key", "api_version", "model_info", "body"})


def _variable_name(name: str) -> bool:
    if not name.isidentifier() or name in RESERVED_VARIABLES:
        raise ValidationError(f"{name!r} is not a free variable name (an identifier, not one of the request's own)")
    return True


class VariableSchema(_Strict):
    args = StrList(load_default=list)
    env = StrList(load_default=list)
    default = fields.Str(allow_none=True, load_default=None)
    required = fields.Bool(load_default=False)


class RouteSchema(_Strict):
    prefix = fields.Str(required=True, validate=validate.Length(min=1))
    provider = fields.Str(required=True)


class ProviderSchema(_Strict):
    extends = fields.Str()
    description = fields.Str(load_default="")
    docs = fields.Str(load_default=None)
    base_url = fields.Raw(allow_none=True, load_default=None, validate=_base_url)
    base_url_env = StrList(load_default=list)
    variables = fields.Dict(
        keys=fields.Str(validate=_variable_name), values=fields.Nested(VariableSchema), load_default=dict
    )
    auth = AuthField(load_default=dict)
    headers = fields.Dict(keys=fields.Str(), values=fields.Str(allow_none=True), load_default=dict)
    api_version = fields.Nested(ApiVersionSchema, load_default=dict)
    endpoints = fields.Nested(EndpointsSchema, load_default=dict)
    body = fields.Raw(allow_none=True, load_default=lambda: dict(DEFAULT_BODY))
    stream_body = fields.Raw(allow_none=True, load_default=None)
    messages = fields.Nested(MessagesSchema, load_default=dict)
    params = fields.Dict(keys=fields.Str(), values=fields.Nested(ParamRuleSchema, allow_none=True), load_default=dict)
    unknown_params = fields.Str(validate=validate.OneOf(["forward", "refuse"]), load_default="forward")
    model_params = fields.Dict(
        keys=fields.Str(), values=fields.Nested(ModelParamsSchema, allow_none=True), load_default=dict
    )
    response = fields.Nested(ReaderSchema, load_default=None)
    stream = fields.Nested(StreamSchema, load_default=dict)
    errors = fields.Nested(ErrorsSchema, load_default=dict)
    models = fields.Dict(keys=fields.Str(), values=fields.Nested(ModelSchema, allow_none=True), load_default=dict)
    pricing_source = fields.Nested(PricingSourceSchema, load_default=dict)
    health = fields.Nested(HealthSchema, load_default=dict)
    bare_names = fields.Bool(load_default=True)
    models_from = fields.Str(allow_none=True, load_default=None)  # share another provider's registry
    responses_via = fields.Str(allow_none=True, load_default=None)  # the provider responses() sends to
    tokenizer = fields.Str(allow_none=True, load_default=None)  # its models' default tokenizer (tokens.py)
    routes = fields.List(fields.Nested(RouteSchema), load_default=list)
    operations = fields.Dict(  # named operations beside chat: see op_schema.py
        keys=fields.Str(validate=validate.OneOf(OPERATIONS)),
        values=fields.Nested(lambda: _operation_schema(), allow_none=True),
        load_default=dict,
    )


def _operation_schema() -> Schema:
    from .op_schema import OperationSchema

    return OperationSchema()


class SpecFileSchema(_Strict):
    version = fields.Int(validate=validate.Equal(1))
    http_errors = fields.Dict(keys=StatusField(), values=fields.Str(validate=validate.OneOf(sorted(ERROR_CLASSES))))
    dialects = fields.Dict(keys=fields.Str(), values=fields.Nested(ProviderSchema, allow_none=True))
    providers = fields.Dict(keys=fields.Str(), values=fields.Nested(ProviderSchema, allow_none=True))
