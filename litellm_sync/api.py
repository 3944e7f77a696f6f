"""Module-level functions over a lazily built default `Client` (created once, under a lock)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, overload

from ._engine.keywords import with_provider
from ._litellm import ModelCostView, TokenCost, count_tokens, environment, register, supported_params, token_cost
from .client import Client
from .exceptions import (
    AmbiguousModelError,
    AuthenticationError,
    ConfigurationError,
    PermissionDeniedError,
    UnknownModelError,
)
from .native import ResponsesObject, ResponsesStream, create_response
from .registry import ModelInfo
from .stream import ChatStream
from .types import ChatResponse, EmbeddingResponse, RerankResponse

_default_client: Client | None = None
_default_lock = threading.Lock()


def get_default_client() -> Client:
    """The shared default Client, built on first use from the bundled spec and LITELLM_SYNC_PROVIDERS."""
    global _default_client
    client = _default_client
    if client is None:
        with _default_lock:
            if _default_client is None:
                _default_client = Client()
            client = _default_client
    return client


@overload
def completion(
    model: str,
    messages: Sequence[Any],
    *,
    stream: Literal[False] = False,
    api_key: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    timeout: float | tuple[float, float] | None = None,
    max_retries: int | None = None,
    drop_params: bool | None = None,
    extra_headers: Mapping[str, str] | None = None,
    **params: Any,
) -> ChatResponse: ...


@overload
def completion(
    model: str,
    messages: Sequence[Any],
    *,
    stream: Literal[True],
    api_key: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    timeout: float | tuple[float, float] | None = None,
    max_retries: int | None = None,
    drop_params: bool | None = None,
    extra_headers: Mapping[str, str] | None = None,
    **params: Any,
) -> ChatStream: ...


@overload
def completion(
    model: str,
    messages: Sequence[Any],
    *,
    stream: bool,
    api_key: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    timeout: float | tuple[float, float] | None = None,
    max_retries: int | None = None,
    drop_params: bool | None = None,
    extra_headers: Mapping[str, str] | None = None,
    **params: Any,
) -> ChatResponse | ChatStream: ...


def completion(
    model: str,
    messages: Sequence[Any],
    *,
    stream: bool = False,
    api_key: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    timeout: float | tuple[float, float] | None = None,
    max_retries: int | None = None,
    drop_params: bool | None = None,
    extra_headers: Mapping[str, str] | None = None,
    **params: Any,
) -> ChatResponse | ChatStream:
    """Call a chat model through the default client; see `Client.completion`.

    A `ChatResponse`, or with `stream=True` a `ChatStream` of `ChatChunk`s (typed so with overloads)."""
    return get_default_client().completion(
        model,
        messages,
        stream=stream,
        api_key=api_key,
        api_base=api_base,
        api_version=api_version,
        timeout=timeout,
        max_retries=max_retries,
        drop_params=drop_params,
        extra_headers=extra_headers,
        **params,
    )


def responses(
    model: str, input: Any, *, client: Client | None = None, **params: Any
) -> ResponsesObject | ResponsesStream:
    """Call OpenAI's Responses API natively: `input` (a string or a list of input items) is sent as given and
    the provider's Responses object comes back as a dict (`ResponsesObject`: plus `output_text`, `cost`,
    `chat`), with completion()'s errors, retries, hooks and costs; `stream=True` gives a `ResponsesStream`
    of the API's events instead. `client=` uses that Client instead of the default one. See
    docs/responses-api.md."""
    return create_response(client or get_default_client(), model, input, **params)


def batch_completion(model: str, list_of_messages: Any, *, max_workers: int = 8, **params: Any) -> list[Any]:
    """Call the model once per message list on `max_workers` threads of the default client; each call's
    ChatResponse or exception, in input order. See `litellm_sync.batch`."""
    from .batch import batch_completion as run_all

    return run_all(model, list_of_messages, max_workers=max_workers, **params)


def get_model_info(model: str, custom_llm_provider: str | None = None) -> ModelInfo:
    """What the spec knows about a model (context window, features, prices). The ModelInfo also answers LiteLLM's
    dict access in its key names: `get_model_info("gpt-4o-mini")["max_input_tokens"]`."""
    return get_default_client().get_model_info(_named(model, custom_llm_provider))


def supports(model: str, feature: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the spec lists the feature for the model.

    False for a model the spec does not list (an unknown provider prefix, a bare name no provider lists, or
    a provider's model missing from its `models:`). Raises `AmbiguousModelError` for a bare name that several
    providers list (the answer depends on which one you mean), and `SpecError` when the spec itself cannot
    be loaded: a broken providers file is never reported as "unsupported"."""
    client = get_default_client()
    try:
        info = client.get_model_info(_named(model, custom_llm_provider))
    except AmbiguousModelError:
        raise
    except UnknownModelError:
        return False
    return info.supports(feature)


def supports_function_calling(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model takes tools."""
    return supports(model, "tools", custom_llm_provider)


def supports_parallel_function_calling(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model can call several tools in one turn."""
    return supports(model, "parallel_tool_calls", custom_llm_provider)


def supports_tool_choice(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model honours tool_choice."""
    return supports(model, "tool_choice", custom_llm_provider)


def supports_vision(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model accepts images."""
    return supports(model, "vision", custom_llm_provider)


def supports_reasoning(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model produces reasoning."""
    return supports(model, "reasoning", custom_llm_provider)


def supports_response_schema(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model honours response_format with a JSON schema."""
    return supports(model, "json_schema", custom_llm_provider)


def supports_prompt_caching(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model caches prompt prefixes (cache_control, or automatically)."""
    return supports(model, "prompt_caching", custom_llm_provider)


def supports_system_messages(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model takes system messages."""
    return supports(model, "system_messages", custom_llm_provider)


def supports_audio_input(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model accepts audio."""
    return supports(model, "audio_input", custom_llm_provider)


def supports_pdf_input(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model accepts PDF documents."""
    return supports(model, "pdf_input", custom_llm_provider)


def supports_web_search(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model can search the web."""
    return supports(model, "web_search", custom_llm_provider)


def get_max_tokens(model: str) -> int | None:
    """The model's maximum output tokens."""
    return get_default_client().get_model_info(model).max_output_tokens


def list_models(provider: str | None = None, feature: str | None = None, mode: str | None = None) -> list[ModelInfo]:
    """Models the spec lists, optionally of one provider, with one feature, or of one mode ("chat",
    "embedding", "rerank")."""
    return get_default_client().spec.registry.list(provider, feature, mode)


def cost_per_token(
    model: str,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    cached_tokens: int = 0,
    cache_creation_tokens: int = 0,
    reasoning_tokens: int = 0,
    *,
    custom_llm_provider: str | None = None,
    cache_read_input_tokens: int | None = None,
    cache_creation_input_tokens: int | None = None,
) -> TokenCost | None:
    """USD for the given token counts (prompt_tokens includes cached ones); None when the model is unpriced.

    The result is a Decimal (the total) that also unpacks as LiteLLM's pair of floats:
    `prompt_usd, completion_usd = cost_per_token(model="gpt-4o-mini", prompt_tokens=5, completion_tokens=10)`.
    cache_read_input_tokens / cache_creation_input_tokens are LiteLLM's names for cached_tokens /
    cache_creation_tokens."""
    info = get_default_client().get_model_info(_named(model, custom_llm_provider))
    cached = cache_read_input_tokens if cache_read_input_tokens is not None else cached_tokens
    written = cache_creation_input_tokens if cache_creation_input_tokens is not None else cache_creation_tokens
    return token_cost(info, prompt_tokens, completion_tokens, cached, written, reasoning_tokens)


def completion_cost(
    completion_response: Any = None,
    model: str | None = None,
    prompt: str = "",
    messages: Sequence[Any] | None = None,
    completion: str = "",
    *,
    custom_llm_provider: str | None = None,
    response: Any = None,
    **unsupported: Any,
) -> Decimal | None:
    """USD for a ChatResponse (or a rebuilt stream); None when unpriced or without usage.

    As in LiteLLM: `completion_cost(completion_response=r)`; `model=` prices the response's usage as that model;
    without a response, `completion_cost(model=..., prompt="..." or messages=[...], completion="...")` counts the
    tokens of the text (`token_counter` when there is one, else an estimate) and prices them."""
    client = get_default_client()
    answer = completion_response if completion_response is not None else response
    if unsupported:
        raise ConfigurationError(
            f"completion_cost: {', '.join(sorted(unsupported))} not supported here (prices are per token; "
            "see docs/migrating-from-litellm.md)"
        )
    if answer is not None and model is None:
        return client.completion_cost(answer)
    if model is None:
        raise ConfigurationError("completion_cost: pass completion_response=, or model= with prompt=/messages=")
    name = _named(model, custom_llm_provider)
    usage = getattr(answer, "usage", None) if answer is not None else None
    if usage is not None:
        info = client.get_model_info(name)
        return info.cost(usage.prompt_tokens or 0, usage.completion_tokens or 0, usage.cached_tokens or 0,
                         usage.cache_creation_tokens or 0, usage.reasoning_tokens or 0)  # fmt: skip
    if answer is not None:
        return None
    prompt_tokens = count_tokens(name, messages=messages) if messages else count_tokens(name, text=prompt)
    return client.cost_per_token(name, prompt_tokens, count_tokens(name, text=completion))


def embedding(
    model: str,
    input: Any,
    *,
    dimensions: int | None = None,
    encoding_format: str | None = None,
    input_type: str | None = None,
    client: Client | None = None,
    **params: Any,
) -> EmbeddingResponse:
    """Embed a string or a list of strings: an `EmbeddingResponse` in OpenAI's shape (`data[i].embedding`,
    `usage`, `cost`). `input_type` is "query" or "document" (or the provider's own value); `client=` uses
    that Client instead of the default one. See docs/embeddings.md."""
    from .embeddings import create_embedding

    return create_embedding(
        client or get_default_client(), model, input, dimensions=dimensions, encoding_format=encoding_format,
        input_type=input_type, **params,
    )


def rerank(
    model: str,
    query: str,
    documents: Sequence[Any],
    *,
    top_n: int | None = None,
    return_documents: bool | None = None,
    client: Client | None = None,
    **params: Any,
) -> RerankResponse:
    """Rank documents by relevance to query: a `RerankResponse` in Cohere's shape (`results[i].index`,
    `.relevance_score`, `.document` when return_documents=True). See docs/embeddings.md."""
    from .embeddings import create_rerank

    return create_rerank(
        client or get_default_client(), model, query, documents, top_n=top_n, return_documents=return_documents,
        **params,
    )


def register_model(model_cost: Any, *, client: Client | None = None) -> ModelCostView:
    """Add or update models in LiteLLM's shape, `{"my-model": {"litellm_provider": "openai", "max_tokens": 8192,
    "input_cost_per_token": 2e-06, "output_cost_per_token": 8e-06, "supports_vision": True}}` (or the path of such
    a JSON file), on the default Client (or `client=`): there is no global model map to mutate, so a Client you
    build yourself keeps its own registry. Thread-safe; returns the updated `model_cost` view of that Client."""
    target = client or get_default_client()
    register(target, model_cost)
    return ModelCostView(lambda: target)


def validate_environment(
    model: str | None = None, api_key: str | None = None, api_base: str | None = None, api_version: str | None = None
) -> dict[str, Any]:
    """LiteLLM's check: `{"keys_in_environment": bool, "missing_keys": [...]}` for the model's provider: its key
    variables (unless api_key= is given or the provider needs none) and its base-URL variables (when the spec
    has no base URL). Every variable that could provide a missing setting is listed."""
    if model is None:
        return {"keys_in_environment": False, "missing_keys": []}
    return environment(get_default_client(), model, api_key, api_base)


def get_supported_openai_params(
    model: str, custom_llm_provider: str | None = None, request_type: str = "chat_completion"
) -> list[str]:
    """The OpenAI parameters the model's provider maps (its rules in providers YAML), `stream` first when it
    streams; what it refuses, or what needs a feature the model lacks, is left out."""
    if request_type != "chat_completion":
        raise ConfigurationError(f"get_supported_openai_params: request_type={request_type!r}: only 'chat_completion'")
    return supported_params(get_default_client(), _named(model, custom_llm_provider))


def check_valid_key(model: str, api_key: str) -> bool:
    """Whether the provider accepts the key: one small call (max_tokens=1, no retries); False when it answers
    401 or 403. Other failures (the network, the provider's 5xx) raise: they say nothing about the key."""
    try:
        get_default_client().completion(
            model, [{"role": "user", "content": "ping"}], api_key=api_key, max_tokens=1, max_retries=0
        )
    except (AuthenticationError, PermissionDeniedError):
        return False
    return True


def _named(model: str, custom_llm_provider: str | None) -> str:
    return model if custom_llm_provider is None else with_provider(model, custom_llm_provider)
