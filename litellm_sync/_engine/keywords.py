"""LiteLLM's call-level keywords in one table (what `completion()` does with each; `responses()`, `embedding()`
and `rerank()` read the same table), applied once, before the provider's parameter rules run: none of them ever
reaches a provider's request body.

Kinds:

- ``ours``: a keyword of `Client.completion` itself (listed so the table documents every LiteLLM name);
- ``alias``: LiteLLM's name for one of ours (``num_retries`` -> ``max_retries``); giving both with different
  values is a ConfigurationError;
- ``call``: handled by the call itself (fallbacks, the provider prefix, the price of this call, ...);
- ``pipeline``: taken by the Client's pipeline (`_observe/pipeline.py`) before the request is built;
- ``param``: an OpenAI parameter, mapped (or refused) by each provider's rules in YAML;
- ``unsupported``: UnsupportedParamsError naming it, or dropped with a warning under ``drop_params``.

docs/migrating-from-litellm.md renders this table; a test checks that every name in it is there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ..exceptions import ERROR_CLASSES, ConfigurationError, UnsupportedParamsError
from .redact import get_logger

log = get_logger()

OURS, ALIAS, CALL, PIPELINE, PARAM, UNSUPPORTED = "ours", "alias", "call", "pipeline", "param", "unsupported"


@dataclass(frozen=True)
class Keyword:
    """One LiteLLM keyword: its kind, our name for it (aliases) and what we do with it, in a sentence."""

    name: str
    kind: str
    does: str
    target: str | None = None


TABLE: tuple[Keyword, ...] = (
    Keyword("api_key", OURS, "the key for this call, masked in every error and log line"),
    Keyword("api_base", OURS, "the base URL for this call"),
    Keyword("api_version", OURS, "the API version (Azure and others that take one)"),
    Keyword("timeout", OURS, "seconds for one attempt, or a (connect, read) pair"),
    Keyword("max_retries", OURS, "retries of retryable errors (rate limits, 5xx, connection errors)"),
    Keyword("extra_headers", OURS, "headers added to this request"),
    Keyword("drop_params", OURS, "drop (with a warning) what the provider refuses, instead of raising"),
    Keyword("mock_response", OURS, "send nothing: text, an exception (or 'litellm.RateLimitError'-style name), "
            "or a ModelResponse-like dict is read back through the provider's own reader; embedding(): a vector "
            "(every input gets it) or one per input; rerank(): a relevance score per document"),
    Keyword("num_retries", ALIAS, "same as max_retries", "max_retries"),
    Keyword("request_timeout", ALIAS, "same as timeout", "timeout"),
    Keyword("base_url", ALIAS, "same as api_base", "api_base"),
    Keyword("headers", ALIAS, "same as extra_headers (merged with it)", "extra_headers"),
    Keyword("fallbacks", CALL, "models (or dicts of model and keys) tried in order when the call fails with an "
            "APIError; the Router's retry and fallback machinery runs them (completion() only: responses(), "
            "embedding() and rerank() refuse it, route them through a Router)"),
    Keyword("context_window_fallback_dict", CALL, "{model: bigger model}: tried when the model raises "
            "ContextWindowExceededError (through the Router's context_window_fallbacks; completion() only)"),
    Keyword("custom_llm_provider", CALL, "forces the provider: the model is called as 'provider/model'"),
    Keyword("additional_drop_params", CALL, "names of parameters removed from this call before mapping"),
    Keyword("input_cost_per_token", CALL, "USD per prompt token for this call's cost (with output_cost_per_token)"),
    Keyword("output_cost_per_token", CALL, "USD per completion token for this call's cost"),
    Keyword("caching", CALL, "True: use the Client's cache (an error when it has none); False: neither read nor "
            "write it for this call"),
    Keyword("litellm_call_id", CALL, "the call's correlation id (metadata['request_id']) in logs and hooks"),
    Keyword("tags", CALL, "metadata['tags']: to hooks, logs and per-tag budgets"),
    Keyword("cache", PIPELINE, "{'no-cache': True} skips the lookup, {'no-store': True} the write, {'ttl': s} "
            "sets the entry's lifetime; 's-maxage' and 'namespace' are not supported"),
    Keyword("metadata", PIPELINE, "given to hooks (CallEvent.metadata), logs and budgets; never sent"),
    Keyword("user", PARAM, "sent where the provider has an end-user field (a rule in providers.yaml), refused "
            "(or dropped under drop_params) where it has none"),
    Keyword("input_cost_per_second", UNSUPPORTED, "prices here are per token (register_model for per-model prices)"),
    Keyword("output_cost_per_second", UNSUPPORTED, "prices here are per token"),
    Keyword("initial_prompt_value", UNSUPPORTED, "custom prompt templates are not supported: every provider "
            "here takes chat messages"),
    Keyword("final_prompt_value", UNSUPPORTED, "custom prompt templates are not supported"),
    Keyword("roles", UNSUPPORTED, "custom prompt templates are not supported"),
    Keyword("bos_token", UNSUPPORTED, "custom prompt templates are not supported"),
    Keyword("eos_token", UNSUPPORTED, "custom prompt templates are not supported"),
    Keyword("hf_model_name", UNSUPPORTED, "custom prompt templates are not supported"),
    Keyword("litellm_logging_obj", UNSUPPORTED, "use hooks on a Client (litellm_sync.hooks)"),
    Keyword("logger_fn", UNSUPPORTED, "use hooks on a Client (litellm_sync.hooks)"),
    Keyword("verbose", UNSUPPORTED, "use the 'litellm_sync' logger (logging.getLogger('litellm_sync'))"),
    Keyword("model_list", UNSUPPORTED, "use litellm_sync.Router(model_list=...)"),
    Keyword("acompletion", UNSUPPORTED, "litellm_sync is synchronous: call it from threads"),
    Keyword("client", UNSUPPORTED, "call the method on your litellm_sync.Client instead (client.completion(...), "
            "client.embedding(...))"),
    Keyword("ssl_verify", UNSUPPORTED, "pass verify= to litellm_sync.Client"),
    Keyword("max_parallel_requests", UNSUPPORTED, "use a Router deployment's rpm/tpm limits"),
    Keyword("rpm", UNSUPPORTED, "use a Router deployment's rpm limit"),
    Keyword("tpm", UNSUPPORTED, "use a Router deployment's tpm limit"),
    Keyword("mock_tool_calls", UNSUPPORTED, "pass mock_response=litellm_sync.testing.MockAnswer(tool_calls=[...])"),
    Keyword("mock_timeout", UNSUPPORTED, "pass mock_response=litellm_sync.Timeout('...')"),
    Keyword("mock_delay", UNSUPPORTED, "use litellm_sync.testing.FakeProviderServer for timing"),
    Keyword("no-log", UNSUPPORTED, "build a Client without hooks for calls that must not be reported"),
    Keyword("deployment_id", UNSUPPORTED, "name the Azure deployment in the model: 'azure/<deployment>'"),
    Keyword("api_type", UNSUPPORTED, "the provider prefix of the model says which API is used"),
    Keyword("organization", UNSUPPORTED, "pass extra_headers={'OpenAI-Organization': ...}"),
)
KEYWORDS: Mapping[str, Keyword] = {keyword.name: keyword for keyword in TABLE}
#: The names `Client.completion` finds among its **params and must take out (not its own keyword arguments).
INTERCEPTED = frozenset(k.name for k in TABLE if k.kind in (ALIAS, CALL, UNSUPPORTED)) | {"cache"}
CACHE_CONTROLS = frozenset({"no-cache", "no-store", "ttl"})
_UNSUPPORTED_CACHE_CONTROLS = {"s-maxage": "entries carry no age to compare", "namespace": "use a cache per "
                               "namespace (e.g. RedisCache(namespace=...)) on its own Client"}


@dataclass
class CallKeywords:
    """A call after its LiteLLM keywords were read: the model to call, our own keyword arguments, the params left
    for the provider's rules, and what the call itself must do (fallbacks, prices)."""

    model: str
    options: dict[str, Any]
    params: dict[str, Any]
    fallbacks: list[Any] | None = None
    context_window: Mapping[str, str] | None = None
    prices: tuple[Decimal, Decimal] | None = None
    dropped: list[str] = field(default_factory=list)


def take_keywords(
    model: str, params: dict[str, Any], options: dict[str, Any], drop_params: bool, has_cache: bool,
    quiet: bool = False,
) -> CallKeywords:
    """Read LiteLLM's keywords out of `params` (a fresh dict the caller owns) into a CallKeywords; `options` holds
    the call's own keyword arguments (api_key, timeout, ...), updated from the aliases. quiet: no warning for what
    drop_params drops (a look-ahead, such as the Router's cache lookup, before the call that warns)."""
    call = CallKeywords(model, options, params)
    unsupported = [name for name in params if KEYWORDS.get(name, _NONE).kind == UNSUPPORTED]
    if unsupported:
        _refuse(unsupported, params, drop_params, model, quiet)
    for name in [name for name in params if KEYWORDS.get(name, _NONE).kind == ALIAS]:
        _alias(KEYWORDS[name], params.pop(name), options)
    provider = params.pop("custom_llm_provider", None)
    if provider is not None:
        call.model = with_provider(model, provider)
    drop = params.pop("additional_drop_params", None)
    if drop is not None:
        _drop_named(drop, params, call)
    fallbacks = params.pop("fallbacks", None)
    if fallbacks is not None:
        if not isinstance(fallbacks, (list, tuple)):
            raise ConfigurationError(
                f"fallbacks={fallbacks!r}: expected a list of models (or of dicts with 'model' and keys), e.g. "
                "fallbacks=['anthropic/claude-haiku-4-5']"
            )
        call.fallbacks = list(fallbacks)
    window = params.pop("context_window_fallback_dict", None)
    if window is not None:
        if not isinstance(window, Mapping) or not all(isinstance(v, str) for v in window.values()):
            raise ConfigurationError(
                f"context_window_fallback_dict={window!r}: expected {{model: bigger model}}, e.g. "
                "{'openai/gpt-4o-mini': 'openai/gpt-4.1-mini'}"
            )
        call.context_window = dict(window)
    call.prices = _prices(params.pop("input_cost_per_token", None), params.pop("output_cost_per_token", None))
    _metadata(params)
    _cache(params, drop_params, has_cache, model, quiet)
    return call


class _NoKeyword:
    kind = ""


_NONE: Any = _NoKeyword()


def _refuse(names: Sequence[str], params: dict[str, Any], drop_params: bool, model: str, quiet: bool) -> None:
    reasons = "; ".join(f"{name}: {KEYWORDS[name].does}" for name in names)
    if not drop_params:
        raise UnsupportedParamsError(
            f"LiteLLM's {', '.join(names)} {'is' if len(names) == 1 else 'are'} not supported here ({reasons}). "
            "Remove it, or pass drop_params=True to drop it with a warning.",
            model=model,
            request_sent=False,
        )
    if not quiet:
        log.warning("dropping LiteLLM keyword(s) %s for %s: %s", ", ".join(names), model, reasons)
    for name in names:
        params.pop(name, None)


def _alias(keyword: Keyword, value: Any, options: dict[str, Any]) -> None:
    target = keyword.target
    assert target is not None
    current = options.get(target)
    if target == "extra_headers" and value is not None:
        if not isinstance(value, Mapping):
            raise ConfigurationError(f"headers={value!r}: expected a dict of header names to values")
        options[target] = {**value, **(current or {})}
        return
    if value is None:
        return
    if current is not None and current != value:
        raise ConfigurationError(
            f"{keyword.name}={value!r} and {target}={current!r} disagree: {keyword.name} is LiteLLM's name for "
            f"{target}; pass one of them"
        )
    options[target] = value


def with_provider(model: str, provider: Any) -> str:
    """The model named with its provider forced (custom_llm_provider=): 'provider/model' unless it says so."""
    if not isinstance(provider, str) or not provider:
        raise ConfigurationError(f"custom_llm_provider={provider!r}: expected a provider name such as 'openai'")
    return model if model.startswith(f"{provider}/") else f"{provider}/{model}"


def _drop_named(names: Any, params: dict[str, Any], call: CallKeywords) -> None:
    if isinstance(names, str) or not isinstance(names, (list, tuple, set, frozenset)):
        raise ConfigurationError(
            f"additional_drop_params={names!r}: expected a list of parameter names, e.g. ['response_format']"
        )
    for name in names:
        if not isinstance(name, str):
            raise ConfigurationError(f"additional_drop_params: {name!r} is not a parameter name")
        if params.pop(name, None) is not None:
            call.dropped.append(name)
    if call.dropped:
        log.debug("additional_drop_params: not sending %s", ", ".join(call.dropped))


def _prices(prompt: Any, completion: Any) -> tuple[Decimal, Decimal] | None:
    if prompt is None and completion is None:
        return None
    if prompt is None or completion is None:
        raise ConfigurationError(
            "input_cost_per_token= and output_cost_per_token= go together: pass both (USD per token)"
        )
    return _price(prompt, "input_cost_per_token"), _price(completion, "output_cost_per_token")


def _price(value: Any, name: str) -> Decimal:
    try:
        price = Decimal(str(value)) if isinstance(value, (int, float, str, Decimal)) else None
    except InvalidOperation:
        price = None
    if price is None or isinstance(value, bool) or not price.is_finite() or price < 0:
        raise ConfigurationError(f"{name}={value!r}: expected USD per token as a number >= 0, e.g. 0.0000025")
    return price * 1_000_000  # per million tokens, as the registry keeps prices


def _metadata(params: dict[str, Any]) -> None:
    call_id = params.pop("litellm_call_id", None)
    tags = params.pop("tags", None)
    if call_id is None and tags is None:
        return
    given = params.get("metadata") or {}
    if not isinstance(given, Mapping):
        return  # the pipeline reports it, with what to pass instead
    merged = dict(given)
    if call_id is not None:
        merged.setdefault("request_id", str(call_id))
    if tags is not None:
        merged.setdefault("tags", tags)
    params["metadata"] = merged


def _cache(params: dict[str, Any], drop_params: bool, has_cache: bool, model: str, quiet: bool) -> None:
    caching = params.pop("caching", None)
    controls = params.pop("cache", None)
    if caching is None and controls is None:
        return
    merged: dict[str, Any] = {}
    if controls is not None:
        if not isinstance(controls, Mapping):
            raise ConfigurationError(
                f"cache={controls!r}: expected a dict with 'no-cache', 'no-store' or 'ttl', e.g. cache={{'ttl': 60}}"
            )
        odd = [name for name in controls if name not in CACHE_CONTROLS]
        known = [name for name in odd if name in _UNSUPPORTED_CACHE_CONTROLS]
        if known and not drop_params:
            raise UnsupportedParamsError(
                "cache: " + "; ".join(f"'{n}' is not supported ({_UNSUPPORTED_CACHE_CONTROLS[n]})" for n in known)
                + ". Remove it, or pass drop_params=True to drop it with a warning.",
                model=model, request_sent=False,
            )  # fmt: skip
        if known and not quiet:
            log.warning("dropping cache controls %s for %s", ", ".join(known), model)
        merged.update((k, v) for k, v in controls.items() if k not in known)
    if caching is not None:
        if not isinstance(caching, bool):
            raise ConfigurationError(f"caching={caching!r}: expected True or False")
        if caching and not has_cache:
            raise ConfigurationError(
                "caching=True, but this Client has no cache: build one with "
                "litellm_sync.Client(cache=MemoryCache()) (from litellm_sync.cache) and call client.completion(...) "
                "(there is no global litellm.cache to set)"
            )
        if not caching:
            merged.setdefault("no-cache", True)
            merged.setdefault("no-store", True)
    params["cache"] = merged


# -- mock_response ---------------------------------------------------------------------------------------------


def mock_value(mock: Any, model: str) -> Any:
    """mock_response as `Client.completion` takes it: text, an exception instance or a MockAnswer; LiteLLM's other
    forms are converted: an exception's name ('litellm.RateLimitError') becomes that exception, a ModelResponse-like
    dict (or an object with to_dict()/model_dump()) becomes the MockAnswer it describes."""
    if isinstance(mock, str):
        name = mock[len("litellm."):] if mock.startswith("litellm.") else None
        if name is not None and name in ERROR_CLASSES:
            try:
                return ERROR_CLASSES[name](f"mock_response={mock!r}: a mocked {name}", model=model)
            except TypeError:  # an error class that needs more than a message (ResponseTooLargeError's limit)
                raise ConfigurationError(
                    f"mock_response={mock!r}: {name} cannot be built from its name alone; pass an instance, "
                    f"mock_response=litellm_sync.{name}(...)"
                ) from None
        return mock
    if isinstance(mock, BaseException):
        return mock
    converter = getattr(mock, "to_dict", None) or getattr(mock, "model_dump", None)
    if not isinstance(mock, Mapping) and callable(converter):
        mock = converter()
    if isinstance(mock, Mapping):
        return _answer_from_dict(mock, model)
    return mock  # a MockAnswer, or something the mock reply refuses with a clear message


def _answer_from_dict(data: Mapping[str, Any], model: str) -> Any:
    from ..testing.mock import make_answer

    choices = data.get("choices")
    first = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], Mapping) else {}
    message = first.get("message") or first.get("delta") or {}
    if not isinstance(message, Mapping):
        raise ConfigurationError("mock_response: choices[0].message must be a dict with content / tool_calls")
    usage = data.get("usage")
    counts = None
    if isinstance(usage, Mapping):
        counts = {k: int(usage[k]) for k in ("prompt_tokens", "completion_tokens") if isinstance(usage.get(k), int)}
    text = message.get("content")
    if text is not None and not isinstance(text, str):
        raise ConfigurationError("mock_response: choices[0].message.content must be text (or None)")
    named = data.get("model")
    return make_answer(
        named if isinstance(named, str) and named else model,
        text,
        message.get("tool_calls") or None,
        usage=counts,
        finish_reason=first.get("finish_reason") if isinstance(first.get("finish_reason"), str) else None,
    )
