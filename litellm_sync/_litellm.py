"""LiteLLM's names for the registry and its helpers: the `model_cost` view, `register_model`'s entries, per-token
costs that unpack as LiteLLM's pair, `validate_environment`, `get_supported_openai_params`, and token counts for
costs computed from text."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from ._observe.context import ForkSafeLock
from .exceptions import ConfigurationError
from .registry import ModelInfo
from .types import ChatChunk, ChatResponse, Usage

if TYPE_CHECKING:
    from .client import Client

_MILLION = Decimal(1_000_000)
#: LiteLLM's `supports_*` keys and the registry feature each one reads.
FEATURES: Mapping[str, str] = {
    "supports_function_calling": "tools",
    "supports_parallel_function_calling": "parallel_tool_calls",
    "supports_tool_choice": "tool_choice",
    "supports_vision": "vision",
    "supports_response_schema": "json_schema",
    "supports_reasoning": "reasoning",
    "supports_prompt_caching": "prompt_caching",
    "supports_system_messages": "system_messages",
    "supports_native_streaming": "streaming",
    "supports_audio_input": "audio_input",
    "supports_pdf_input": "pdf_input",
    "supports_web_search": "web_search",
}
#: LiteLLM's per-token price keys and the ModelInfo field (USD per million tokens) each one is.
PRICES: Mapping[str, str] = {
    "input_cost_per_token": "input_price",
    "output_cost_per_token": "output_price",
    "cache_read_input_token_cost": "cached_input_price",
    "cache_creation_input_token_cost": "cache_write_price",
    "output_cost_per_reasoning_token": "reasoning_output_price",
}
_REGISTER = ForkSafeLock()
#: OpenAI's chat parameters, as a provider that forwards unmapped parameters receives them.
OPENAI_PARAMS = (
    "stream", "stream_options", "temperature", "top_p", "n", "stop", "max_tokens", "max_completion_tokens",
    "presence_penalty", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "seed", "user",
    "response_format", "tools", "tool_choice", "parallel_tool_calls", "reasoning_effort",
)


def litellm_entry(info: ModelInfo) -> dict[str, Any]:
    """A model's registry entry under LiteLLM's key names (prices in USD per token, as floats; None = unknown)."""
    entry: dict[str, Any] = {
        "key": info.name,
        "litellm_provider": info.provider,
        "mode": getattr(info, "mode", None) or "chat",
        "max_tokens": info.max_output_tokens,
        "max_input_tokens": info.context_window,
        "max_output_tokens": info.max_output_tokens,
    }
    for key, attribute in PRICES.items():
        price = getattr(info, attribute)
        entry[key] = None if price is None else float(price / _MILLION)
    for key, feature in FEATURES.items():
        entry[key] = feature in info.features
    entry["deprecation_date"] = info.deprecation_date
    entry["source"] = info.pricing_url
    return entry


class ModelCostView(Mapping[str, dict[str, Any]]):
    """`litellm_sync.model_cost`: LiteLLM's `model_cost` as a read-only view of a Client's registry (the default
    Client's unless given). Keys are 'provider/model' for every model, and the bare name for models the spec lets
    you call without a prefix ('gpt-4o-mini'); each value is a fresh dict in LiteLLM's key names. Built lazily on
    first use and again only when the registry changes (register_model)."""

    def __init__(self, client: Callable[[], Client]) -> None:
        self._client = client
        self._built: tuple[Any, dict[str, tuple[str, str]]] | None = None

    def _index(self) -> tuple[Any, dict[str, tuple[str, str]]]:
        registry = self._client().spec.registry
        built = self._built
        if built is not None and built[0] is registry:
            return built
        index = {f"{provider}/{name}": (provider, name) for provider, name in registry.models}
        for name, providers in registry.bare.items():
            if len(providers) == 1:
                index.setdefault(name, (providers[0], name))
        built = (registry, index)
        self._built = built  # one reference swap: a concurrent reader sees the old index or the new one
        return built

    def __getitem__(self, key: str) -> dict[str, Any]:
        registry, index = self._index()
        return litellm_entry(registry.models[index[key]])

    def __iter__(self) -> Iterator[str]:
        return iter(self._index()[1])

    def __len__(self) -> int:
        return len(self._index()[1])

    def __contains__(self, key: object) -> bool:
        return key in self._index()[1]

    def __setitem__(self, key: str, value: Any) -> None:
        raise ConfigurationError(
            "model_cost is a read-only view of the registry: add or change models with "
            "litellm_sync.register_model({name: {...}}) (or in providers YAML)"
        )

    __delitem__ = __setitem__

    def __repr__(self) -> str:
        return f"<model_cost: {len(self)} models, LiteLLM's key names>"


# -- register_model ------------------------------------------------------------------------------------------------


def register(client: Client, model_cost: Any) -> None:
    """Add or update models on this Client's registry from LiteLLM's `{name: {litellm_provider, max_tokens,
    input_cost_per_token, ...}}` (or a local JSON file of it). The registry is replaced whole, under a lock: calls
    in flight keep the one they started with."""
    data = _load(model_cost)
    with _REGISTER:
        spec = client.spec
        registry = spec.registry
        infos, bare = [], []
        for key, entry in data.items():
            info, is_bare = _info_from_entry(key, entry, client, registry)
            infos.append(info)
            if is_bare:
                bare.append(info)
        client.spec = dataclasses.replace(spec, registry=registry.with_models(infos, bare))


def _load(model_cost: Any) -> Mapping[str, Any]:
    if isinstance(model_cost, (str, os.PathLike)):
        text = os.fspath(model_cost)
        if text.startswith(("http://", "https://")):
            raise ConfigurationError(
                "register_model: a URL is not fetched (no network at import or call time): download the JSON "
                "yourself and pass the dict, or the path of the file"
            )
        try:
            with open(text, encoding="utf-8") as handle:
                model_cost = json.load(handle)
        except (OSError, ValueError) as error:
            raise ConfigurationError(f"register_model: cannot read {text!r} as JSON: {error}") from None
    if not isinstance(model_cost, Mapping):
        raise ConfigurationError(
            f"register_model: expected {{model name: {{litellm_provider, input_cost_per_token, ...}}}}, "
            f"got {type(model_cost).__name__}"
        )
    return model_cost


def _info_from_entry(key: Any, entry: Any, client: Client, registry: Any) -> tuple[ModelInfo, bool]:
    if not isinstance(key, str) or not key or not isinstance(entry, Mapping):
        raise ConfigurationError(f"register_model: {key!r}: expected a model name mapped to a dict of its details")
    prefix, slash, rest = key.partition("/")
    provider = entry.get("litellm_provider") or entry.get("custom_llm_provider")
    if provider is None and slash and prefix in client.spec.providers:
        provider = prefix
    if not isinstance(provider, str) or provider not in client.spec.providers:
        known = "" if provider is None else f" ('{provider}' is not one the spec knows)"
        raise ConfigurationError(
            f"register_model: {key!r}: name its provider with 'litellm_provider' or a 'provider/' prefix{known}; "
            "a provider itself is added in providers YAML"
        )
    name = rest if slash and prefix == provider else key
    changes: dict[str, Any] = {}
    for source, attribute in (("max_input_tokens", "context_window"), ("max_output_tokens", "max_output_tokens")):
        if entry.get(source) is not None:
            changes[attribute] = _count(entry[source], key, source)
    if "max_output_tokens" not in changes and entry.get("max_tokens") is not None:
        changes["max_output_tokens"] = _count(entry["max_tokens"], key, "max_tokens")
    for source, attribute in PRICES.items():
        if entry.get(source) is not None:
            changes[attribute] = _per_million(entry[source], key, source)
    existing = registry.get(provider, name)
    features = set(existing.features) if existing is not None else set()
    for source, feature in FEATURES.items():
        if source in entry:
            (features.add if entry[source] else features.discard)(feature)
    changes["features"] = frozenset(features)
    if isinstance(entry.get("deprecation_date"), str):
        changes["deprecation_date"] = entry["deprecation_date"]
    if isinstance(entry.get("mode"), str) and "mode" in {f.name for f in dataclasses.fields(ModelInfo)}:
        changes["mode"] = entry["mode"]
    base = existing if existing is not None else ModelInfo(provider, name)
    return dataclasses.replace(base, **changes), not (slash and prefix == provider)


def _count(value: Any, key: str, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0 or value != int(value):
        raise ConfigurationError(f"register_model: {key!r}.{field}={value!r}: expected a whole number > 0")
    return int(value)


def _per_million(value: Any, key: str, field: str) -> Decimal:
    try:
        price = None if isinstance(value, bool) else Decimal(str(value))
    except InvalidOperation:
        price = None
    if price is None or not price.is_finite() or price < 0:
        raise ConfigurationError(f"register_model: {key!r}.{field}={value!r}: expected USD per token, a number >= 0")
    return price * _MILLION


# -- costs -----------------------------------------------------------------------------------------------------------


class TokenCost(Decimal):
    """USD for some tokens: a Decimal (the total, as `cost_per_token` has always returned) that also unpacks as
    LiteLLM's `(prompt_cost, completion_cost)` pair of floats."""

    parts: tuple[Decimal, Decimal]

    def __new__(cls, prompt: Decimal, completion: Decimal) -> TokenCost:
        total = super().__new__(cls, prompt + completion)
        total.parts = (prompt, completion)
        return total

    def __iter__(self) -> Iterator[float]:
        return iter((float(self.parts[0]), float(self.parts[1])))

    def __reduce__(self) -> tuple[Any, ...]:
        return TokenCost, self.parts

    def __copy__(self) -> TokenCost:
        return self

    def __deepcopy__(self, memo: Any) -> TokenCost:
        return self


def token_cost(info: ModelInfo, prompt: int, completion: int, cached: int, written: int, reasoning: int) -> Any:
    """A TokenCost for the counts, or None when the model is unpriced."""
    prompt_cost = info.cost(prompt, 0, cached, written, 0)
    completion_cost = info.cost(0, completion, 0, 0, reasoning)
    if prompt_cost is None or completion_cost is None:
        return None
    return TokenCost(prompt_cost, completion_cost)


def count_tokens(model: str, text: str | None = None, messages: Sequence[Any] | None = None) -> int:
    """Tokens in text or messages for costs from text: `token_counter` (exact with tiktoken, else its estimate)."""
    from .tokens import token_counter

    return int(token_counter(model, messages, None if messages is not None else text))


def stream_chunk_builder(chunks: Iterable[ChatChunk], messages: Sequence[Any] | None = None) -> ChatResponse:
    """Rebuild a ChatResponse from stream chunks the way OpenAI clients accumulate them. As in LiteLLM,
    `messages=` fills in usage when the chunks carried none (a provider or a call that reported no usage): the
    prompt's tokens and the rebuilt text's, counted by `count_tokens`; `completion_cost()` then prices it."""
    from ._engine.response import stream_chunk_builder as build

    response = build(chunks)
    if messages is not None and response.usage is None and response.choices:
        model = f"{response.provider}/{response.model}" if response.provider else response.model
        text = "".join(choice.message.content or "" for choice in response.choices)
        response.usage = Usage(count_tokens(model, messages=messages), count_tokens(model, text=text))
    return response


# -- environment and parameters ----------------------------------------------------------------------------------


def environment(client: Client, model: str, api_key: Any, api_base: Any) -> dict[str, Any]:
    """LiteLLM's `validate_environment` answer: whether the call has what it needs from the environment, and the
    variables to set when it does not (alternatives for one setting are all listed)."""
    provider = client.resolve(model)[0]
    connection = provider.builder.connection
    missing: list[str] = []
    if api_key is None and not connection.key_optional and not any(os.environ.get(v) for v in connection.key_env):
        missing.extend(connection.key_env)
    if not api_base and not connection.base_url and not any(os.environ.get(v) for v in connection.base_url_env):
        missing.extend(connection.base_url_env)
    return {"keys_in_environment": not missing, "missing_keys": missing}


def supported_params(client: Client, model: str) -> list[str]:
    """The OpenAI parameters the model's provider takes: those its rules in YAML map (the model's own rules
    included) and, for a provider that forwards parameters it has no rule for, OpenAI's other chat parameters;
    a parameter a rule refuses, or that needs a feature the model lacks, is left out."""
    provider, name, info = client.resolve(model)
    features = info.features if info is not None else None
    param_rules = provider.builder.params
    rules = param_rules.for_model(name, info.name if info is not None else None, features).rules
    candidates = [*OPENAI_PARAMS, *rules] if param_rules.forward_unknown else [*rules]
    names = []
    for param in dict.fromkeys(candidates):
        rule = rules.get(param)
        if param == "stream" and not provider.builder.streams:
            continue
        if rule is None or (rule.refuse is None and (rule.feature is None or features is None or rule.feature in
                                                     features)):  # fmt: skip
            names.append(param)
    if provider.builder.streams and "stream" not in names:
        names.insert(0, "stream")
    return names
