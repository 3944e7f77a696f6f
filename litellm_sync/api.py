"""Module-level functions over a lazily built default `Client` (created once, under a lock)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, overload

from .client import Client
from .exceptions import AmbiguousModelError, UnknownModelError
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


def get_model_info(model: str) -> ModelInfo:
    """What the spec knows about a model (context window, features, prices)."""
    return get_default_client().get_model_info(model)


def supports(model: str, feature: str) -> bool:
    """Whether the spec lists the feature for the model.

    False for a model the spec does not list (an unknown provider prefix, a bare name no provider lists, or
    a provider's model missing from its `models:`). Raises `AmbiguousModelError` for a bare name that several
    providers list (the answer depends on which one you mean), and `SpecError` when the spec itself cannot
    be loaded: a broken providers file is never reported as "unsupported"."""
    client = get_default_client()
    try:
        info = client.get_model_info(model)
    except AmbiguousModelError:
        raise
    except UnknownModelError:
        return False
    return info.supports(feature)


def supports_function_calling(model: str) -> bool:
    """Whether the model takes tools."""
    return supports(model, "tools")


def supports_vision(model: str) -> bool:
    """Whether the model accepts images."""
    return supports(model, "vision")


def supports_reasoning(model: str) -> bool:
    """Whether the model produces reasoning."""
    return supports(model, "reasoning")


def supports_response_schema(model: str) -> bool:
    """Whether the model honours response_format with a JSON schema."""
    return supports(model, "json_schema")


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
) -> Decimal | None:
    """USD for the given token counts; None when the model is unpriced."""
    return get_default_client().cost_per_token(
        model, prompt_tokens, completion_tokens, cached_tokens, cache_creation_tokens, reasoning_tokens
    )


def completion_cost(response: Any) -> Decimal | None:
    """USD for a ChatResponse; None when unpriced."""
    return get_default_client().completion_cost(response)


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
