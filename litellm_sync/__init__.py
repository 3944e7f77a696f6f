"""litellm_sync: a synchronous, thread-safe client for any LLM provider, every provider declared in YAML."""

from __future__ import annotations

from typing import Any as _Any

from ._litellm import ModelCostView as _ModelCostView
from ._litellm import stream_chunk_builder
from .api import (
    batch_completion,
    check_valid_key,
    completion,
    completion_cost,
    cost_per_token,
    embedding,
    get_default_client,
    get_max_tokens,
    get_model_info,
    get_supported_openai_params,
    list_models,
    register_model,
    rerank,
    responses,
    supports,
    supports_audio_input,
    supports_function_calling,
    supports_parallel_function_calling,
    supports_pdf_input,
    supports_prompt_caching,
    supports_reasoning,
    supports_response_schema,
    supports_system_messages,
    supports_tool_choice,
    supports_vision,
    supports_web_search,
    validate_environment,
)
from .client import Client
from .exceptions import (
    AmbiguousModelError,
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ConfigurationError,
    ConflictError,
    ContentPolicyViolationError,
    ContextWindowExceededError,
    InternalServerError,
    LiteLLMSyncError,
    MissingAPIKeyError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    ServiceUnavailableError,
    SpecError,
    StreamUsageError,
    StructuredOutputError,
    Timeout,
    UnknownModelError,
    UnprocessableEntityError,
    UnsupportedParamsError,
)
from .health import HealthStatus, discover_models, health_check, health_check_all, list_live_models
from .helpers import assistant_message, system_message, tool_message, user_message
from .hooks import CallEvent
from .limits import Limits
from .native import ResponsesObject, ResponsesStream
from .registry import ModelInfo
from .retry import RetryPolicy
from .stream import ChatStream
from .tokens import decode, encode, token_counter
from .types import (
    ChatChunk,
    ChatResponse,
    Choice,
    ChunkChoice,
    Delta,
    Embedding,
    EmbeddingResponse,
    Function,
    Message,
    RerankResponse,
    RerankResult,
    ToolCall,
    Usage,
)

__version__ = "0.1.0"

#: LiteLLM's `model_cost`: a read-only view of the default Client's registry in LiteLLM's key names (built on first
#: use; `register_model` changes what it shows).
model_cost = _ModelCostView(get_default_client)
#: LiteLLM's exception names where they differ from ours (docs/migrating-from-litellm.md).
InvalidRequestError = BadRequestError
BadGatewayError = ServiceUnavailableError
OpenAIError = APIError
LiteLLMUnknownProvider = UnknownModelError

# The Router loads its config schema (marshmallow) when imported: it is imported on first use, so
# `import litellm_sync` stays as fast as before (about 35 ms saved).
_LAZY = {name: "router" for name in ("Router", "RouterConfigError", "RouterEvent", "RouterRateLimitError")}


def __getattr__(name: str) -> _Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'litellm_sync' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{module}", __name__), name)


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "AmbiguousModelError",
    "AuthenticationError",
    "BadGatewayError",
    "BadRequestError",
    "BudgetExceededError",
    "CallEvent",
    "ChatChunk",
    "ChatResponse",
    "ChatStream",
    "Choice",
    "ChunkChoice",
    "Client",
    "ConfigurationError",
    "ConflictError",
    "ContentPolicyViolationError",
    "ContextWindowExceededError",
    "Delta",
    "Embedding",
    "EmbeddingResponse",
    "Function",
    "HealthStatus",
    "InternalServerError",
    "InvalidRequestError",
    "Limits",
    "LiteLLMSyncError",
    "LiteLLMUnknownProvider",
    "Message",
    "MissingAPIKeyError",
    "ModelInfo",
    "NotFoundError",
    "OpenAIError",
    "PermissionDeniedError",
    "RateLimitError",
    "RerankResponse",
    "RerankResult",
    "ResponseTooLargeError",
    "ResponsesObject",
    "ResponsesStream",
    "RetryPolicy",
    "Router",
    "RouterConfigError",
    "RouterEvent",
    "RouterRateLimitError",
    "ServiceUnavailableError",
    "SpecError",
    "StreamUsageError",
    "StructuredOutputError",
    "Timeout",
    "ToolCall",
    "UnknownModelError",
    "UnprocessableEntityError",
    "UnsupportedParamsError",
    "Usage",
    "assistant_message",
    "batch_completion",
    "check_valid_key",
    "completion",
    "completion_cost",
    "cost_per_token",
    "decode",
    "discover_models",
    "embedding",
    "encode",
    "get_default_client",
    "get_max_tokens",
    "get_model_info",
    "get_supported_openai_params",
    "health_check",
    "health_check_all",
    "list_live_models",
    "list_models",
    "model_cost",
    "register_model",
    "rerank",
    "responses",
    "stream_chunk_builder",
    "supports",
    "supports_audio_input",
    "supports_function_calling",
    "supports_parallel_function_calling",
    "supports_pdf_input",
    "supports_prompt_caching",
    "supports_reasoning",
    "supports_response_schema",
    "supports_system_messages",
    "supports_tool_choice",
    "supports_vision",
    "supports_web_search",
    "system_message",
    "token_counter",
    "tool_message",
    "user_message",
    "validate_environment",
]
