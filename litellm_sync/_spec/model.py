"""The typed spec model: what the marshmallow schema loads a resolved provider entry into (frozen, defaults
filled, templates compiled). Compile and the engine read these objects, not raw YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

from .._engine.template import compile_template

PathSpec = Any  # a dotted path, or a list of paths tried in order (validated by the schema's PathField)


class Tpl:
    """A template, compiled when the spec is loaded; `fn` is the compiled function of a context.

    It pickles as its YAML value (the validated-spec cache) and is compiled again when unpickled."""

    __slots__ = ("fn", "raw")

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.fn: Callable[[Mapping[str, Any]], Any] = compile_template(raw)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Tpl, (self.raw,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tpl) and type(self.raw) is type(other.raw) and self.raw == other.raw

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Tpl({self.raw!r})"


@dataclass(frozen=True)
class AuthModel:
    env: tuple[str, ...]
    header: str | None
    value: Tpl
    query: str | None
    optional: bool
    mechanism: Mapping[str, Any] | None = None  # `auth: {mechanism: ...}` as written (see _engine/auth.py)


@dataclass(frozen=True)
class ApiVersionModel:
    env: tuple[str, ...]
    default: str | None


@dataclass(frozen=True)
class EndpointModel:
    path: Tpl
    stream_path: Tpl | None
    method: str
    query: tuple[tuple[str, Tpl], ...]
    stream_query: tuple[tuple[str, Tpl], ...]
    list: PathSpec
    id: PathSpec
    strip_prefix: str
    path_encoding: str = "segment"  # "strict": ':' and '@' in path values are percent-encoded too


@dataclass(frozen=True)
class EndpointsModel:
    chat: EndpointModel | None
    models: EndpointModel | None


@dataclass(frozen=True)
class ToolCallsModel:
    path: PathSpec
    when: Mapping[str, Any] | None
    has: str | None
    index: str  # "$next", "$current" or a path
    id: PathSpec
    name: PathSpec
    arguments: PathSpec
    extra: tuple[tuple[str, PathSpec], ...]


@dataclass(frozen=True)
class BlocksModel:
    path: PathSpec
    when: Mapping[str, Any] | None
    has: str | None
    index: str
    fields: tuple[tuple[str, PathSpec], ...] | None  # None: the whole matching object is the fragment


@dataclass(frozen=True)
class PartRuleModel:
    when: Mapping[str, Any] | None
    has: str | None
    text: PathSpec
    reasoning: PathSpec
    tool_call: ToolCallsModel | None
    keep_block: bool
    parts: PathSpec = None  # a nested list of parts (an item holding content parts), read with the same rules


@dataclass(frozen=True)
class ChoiceModel:
    index: PathSpec
    role: PathSpec
    content: PathSpec
    reasoning: PathSpec
    refusal: PathSpec
    finish_reason: PathSpec
    tool_calls: tuple[ToolCallsModel, ...]
    blocks: BlocksModel | None


@dataclass(frozen=True)
class ReaderModel:
    """A `response:` block, or one stream event's reader."""

    id: PathSpec
    model: PathSpec
    created: PathSpec
    choices: str | None  # path to the list of choices; None: the body is the one choice
    choice: ChoiceModel
    parts: tuple[PartRuleModel, ...]
    usage_from: PathSpec
    usage: tuple[tuple[str, tuple[PathSpec, ...]], ...]  # field -> one path (or a first-of list), or paths summed
    finish_reasons: Mapping[str, str]
    tool_calls_finish_reason: str | None
    answer_tool: str | None = None  # calls to this tool are read as the message text (a forced-tool JSON mode)


@dataclass(frozen=True)
class StreamErrorModel:
    types: tuple[str, ...]
    has: str | None
    when: Mapping[str, Any] | None


@dataclass(frozen=True)
class StreamModel:
    format: str
    done: str | None
    type: str | None
    end_types: tuple[str, ...]
    end_when: Mapping[str, Any] | None
    ignore: tuple[str, ...]
    error: StreamErrorModel
    events: Mapping[str, ReaderModel]  # event type -> reader ("*": the rest; default: the response reader)
    supported: bool = True  # False: stream=True sends a plain request and streams its answer as one chunk


@dataclass(frozen=True)
class ErrorRuleModel:
    status: Any  # an HTTP status, a class like "5xx", or a list of them; None: any status
    match: Mapping[str, Any] | None
    has: str | None
    contains: tuple[str, ...]
    headers: tuple[tuple[str, frozenset[str]], ...]  # (lower-cased header name, values any of which matches)
    event_types: frozenset[str]
    class_name: str
    retryable: bool | None


@dataclass(frozen=True)
class ErrorsModel:
    message: PathSpec
    code: PathSpec
    status: PathSpec
    request_id: PathSpec
    request_id_headers: tuple[str, ...]
    rules: tuple[ErrorRuleModel, ...]


@dataclass(frozen=True)
class PricingModel:
    input: Decimal | None = None
    output: Decimal | None = None
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None
    reasoning_output: Decimal | None = None
    per_query: Decimal | None = None  # rerank: USD per query (search unit), not per million tokens


@dataclass(frozen=True)
class ModelEntry:
    context_window: int | None
    max_output_tokens: int | None
    features: frozenset[str]
    pricing: PricingModel
    aliases: tuple[str, ...]
    deprecation_date: str | None
    description: str | None
    route: str | None = None  # calls to this model go through this provider (its dialect, URL and key)
    mode: str = "chat"  # chat, embedding or rerank (LiteLLM's `mode`)
    output_vector_size: int | None = None  # embedding models: the vector's default dimensions
    tokenizer: str | None = None  # the tiktoken encoding token_counter uses for it (tokens.py); None: estimate


@dataclass(frozen=True)
class PricingSourceModel:
    checked: str | None
    url: str | None
    note: str | None


@dataclass(frozen=True)
class HealthModel:
    probe: str | None
    model: str | None


@dataclass(frozen=True)
class ParamRuleModel:
    """How one parameter lands in the request (see the engine's params module for each key's meaning)."""

    to: str | None  # dotted target path; None or "": write only `set` and `headers`
    map: Mapping[Any, Tpl]  # scalar value (as YAML wrote it: true stays a bool) -> template
    template: Tpl | None
    switch: str | None
    cases: Mapping[str, ParamRuleModel]
    set: tuple[tuple[str, Tpl], ...]
    headers: tuple[tuple[str, Tpl], ...]
    refuse: str | None
    drop: str | None
    default: Tpl | None
    required: bool
    feature: str | None


@dataclass(frozen=True)
class ModelParamsModel:
    """A `model_params` block: rules for the models it selects (name patterns, registry features present,
    registry features absent: all given selectors must hold), applied over the provider's rules."""

    models: tuple[str, ...]
    features: frozenset[str]
    without: frozenset[str]
    params: Mapping[str, ParamRuleModel]


@dataclass(frozen=True)
class LiftModel:
    roles: frozenset[str]
    into: str
    as_: str  # "text" or "parts"
    sep: str


@dataclass(frozen=True)
class MessagesModel:
    mode: str  # "passthrough" or "render"
    strip_fields: tuple[str, ...]
    lift: tuple[LiftModel, ...]
    roles: Mapping[str, str]
    merge_consecutive: bool
    parts: Mapping[str, tuple[tuple[str, Tpl], ...]]  # part type -> (slot, template) targets
    message: Tpl
    tool_result_sep: str = "\n"  # joins a tool result's text parts into one string
    message_by_role: Mapping[str, Tpl] = field(default_factory=dict)  # (wire) role -> its message template


@dataclass(frozen=True)
class VariableModel:
    """A provider variable (`variables: {name: ...}`): the first of a call argument, an environment variable
    and a default; `required` makes its absence a ConfigurationError before sending."""

    args: tuple[str, ...]
    env: tuple[str, ...]
    default: str | None
    required: bool


@dataclass(frozen=True)
class ProviderModel:
    """One provider entry after `extends` and the schema: every key typed, every default filled."""

    description: str
    docs: str | None
    base_url: str | Mapping[str, Any] | None  # a URL, a URL template, or a template mapping ($map...)
    base_url_env: tuple[str, ...]
    auth: AuthModel
    headers: tuple[tuple[str, Tpl], ...]
    api_version: ApiVersionModel
    endpoints: EndpointsModel
    body: Tpl
    stream_body: Tpl | None
    unknown_params: str
    stream: StreamModel
    errors: ErrorsModel
    models: Mapping[str, ModelEntry]
    pricing_source: PricingSourceModel
    health: HealthModel
    bare_names: bool
    messages: MessagesModel
    params: Mapping[str, ParamRuleModel]  # in spec order: rules run in that order
    response: ReaderModel | None
    model_params: Mapping[str, ModelParamsModel] = field(default_factory=dict)  # in spec order
    variables: Mapping[str, VariableModel] = field(default_factory=dict)
    routes: tuple[tuple[str, str], ...] = ()  # (model-name prefix, provider that serves those models)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)  # the resolved entry, for tools that list it
    models_from: str | None = None  # another provider whose `models:` this one's registry also lists
    responses_via: str | None = None  # the provider `litellm_sync.responses()` sends this one's models to
    operations: Mapping[str, OperationModel] = field(default_factory=dict)  # embeddings, rerank (op_schema.py)
    tokenizer: str | None = None  # the default tokenizer of its models (a model's own `tokenizer:` wins)


@dataclass(frozen=True)
class OperationReaderModel:
    """An operation's `response:` reader: where the items are and what each holds (see op_schema.py)."""

    items: PathSpec
    embedding: PathSpec
    index: PathSpec
    score: PathSpec
    document: PathSpec
    id: PathSpec
    model: PathSpec
    usage_from: PathSpec
    usage: tuple[tuple[str, tuple[PathSpec, ...]], ...]  # field -> one path (or a first-of list), or paths summed
    item_tokens: PathSpec


@dataclass(frozen=True)
class OperationModel:
    """A named operation beside chat (`operations.embeddings`, `operations.rerank`), sharing the provider's
    base URL, auth, variables, headers and error table; `variants` are its `by_model` blocks, merged over it."""

    endpoint: EndpointModel
    body: Tpl
    params: Mapping[str, ParamRuleModel]
    template_params: frozenset[str]
    unknown_params: str
    batch_size: int | None
    response: OperationReaderModel
    variants: tuple[tuple[tuple[str, ...], OperationModel], ...] = ()
    base_url: str | Mapping[str, Any] | None = None  # the operation's own host (a template like the provider's)
