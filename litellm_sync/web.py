"""Serving calls from web views: the HTTP status, JSON body and Retry-After header an exception becomes,
and a stream re-encoded as OpenAI-format SSE bytes.

    try:
        answer = client.completion(model, messages)
    except litellm_sync.LiteLLMSyncError as exc:
        return JsonResponse(error_payload(exc), status=http_status(exc))

    return StreamingHttpResponse(sse(client.completion(model, messages, stream=True)),
                                 content_type="text/event-stream")

Messages are the exceptions' own text, which never holds an API key; no traceback is included.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

from ._engine.errors import clamp_retry_after
from ._engine.redact import redact
from .exceptions import (
    APIError,
    BadRequestError,
    BudgetExceededError,
    ConfigurationError,
    RateLimitError,
    UnknownModelError,
)


def http_status(exc: BaseException) -> int:
    """429 for rate limits and used-up budgets, 400 for input the provider or the library refused, 500 for
    server-side configuration (a missing key, a broken spec), 502 for any other provider or network failure."""
    if isinstance(exc, (RateLimitError, BudgetExceededError)):
        return 429
    if isinstance(exc, (BadRequestError, UnknownModelError)):
        return 400
    if isinstance(exc, ConfigurationError):
        return 500
    return 502


def error_payload(exc: BaseException, secrets: Iterable[str | None] = ()) -> dict[str, Any]:
    """`{"error": {"type", "message", "code"}}`, the shape OpenAI clients read (also used in SSE streams).
    Message and code are redacted again here (key-shaped text, plus any `secrets` given), so even an
    exception that did not come from a call cannot put a key in a browser."""
    message = exc.message if isinstance(exc, APIError) else str(exc)
    code = getattr(exc, "code", None)
    return {
        "error": {
            "type": type(exc).__name__,
            "message": redact(message, secrets),
            "code": redact(code, secrets) if isinstance(code, str) else code,
        }
    }


def retry_after_header(exc: BaseException) -> str | None:
    """The Retry-After value to pass on: whole seconds, rounded up, at most MAX_RETRY_AFTER (60); None when
    the exception has none or it is not a usable number (nan)."""
    retry_after = clamp_retry_after(getattr(exc, "retry_after", None))
    return None if retry_after is None else str(math.ceil(retry_after))


def sse(stream: Iterable[Any]) -> Iterator[bytes]:
    """A `ChatStream` re-encoded as OpenAI-format SSE bytes ending with `data: [DONE]`; an error mid-stream
    becomes an `error` event (`error_payload`). Closes upstream when the web server closes the generator."""
    try:
        for chunk in stream:
            yield b"data: " + json.dumps(chunk.to_dict(), separators=(",", ":")).encode() + b"\n\n"
    except APIError as exc:
        # The stream already masked its call's key in the error; its secrets mask it again here.
        yield b"data: " + json.dumps(error_payload(exc, getattr(stream, "_secrets", ()))).encode() + b"\n\n"
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    yield b"data: [DONE]\n\n"
