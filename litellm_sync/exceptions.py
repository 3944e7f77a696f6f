"""The exception tree: every error litellm_sync raises, named as OpenAI's and LiteLLM's clients name them.

    LiteLLMSyncError
    ├── ConfigurationError               the call or the spec is set up wrongly (never sent; request_sent=False)
    │   ├── SpecError                    a providers YAML file is malformed (lists every problem with its path)
    │   ├── MissingAPIKeyError           no key passed and none in the provider's environment variables
    │   ├── UnknownModelError            the model string names no provider or model the spec knows
    │   ├── AmbiguousModelError          a bare model name that several providers serve
    │   └── StreamUsageError             a ChatStream iterated from two threads at once
    ├── BudgetExceededError              a spend budget (budgets.py) is used up; refused before sending
    └── APIError                         the provider (or the road to it) failed the call
        ├── APIConnectionError           no HTTP response: refused, reset, DNS, TLS
        │   └── Timeout                  connect or read timed out
        ├── APIResponseValidationError   a 2xx whose body cannot be read (malformed JSON, not the dialect's shape)
        │   ├── ResponseTooLargeError    a body, line or event over one of the Client's `Limits`
        │   └── StructuredOutputError    a reply that does not load into the response_format type (.raw, .errors)
        └── APIStatusError               the provider answered with an error (status >= 400 or in-band)
            ├── BadRequestError                      400; also raised before sending, for malformed messages
            │   ├── ContextWindowExceededError
            │   ├── ContentPolicyViolationError
            │   ├── UnsupportedParamsError           also raised before sending, for a refused param
            │   └── UnprocessableEntityError         422
            ├── AuthenticationError                  401
            ├── PermissionDeniedError                403
            ├── NotFoundError                        404
            ├── ConflictError                        409
            ├── RateLimitError                       429
            ├── InternalServerError                  500 and other 5xx
            │   └── ServiceUnavailableError          502, 503, 504, 529 (overloaded)
            └── ...

Refused before sending: every exception has `request_sent`. It is False when litellm_sync refused the call
before anything went on the wire (every ConfigurationError; a BadRequestError or UnsupportedParamsError for
malformed messages, a refused parameter or text that cannot be encoded): the provider never saw it, and
`status_code` is None. It is True for everything the provider (or the network) answered.

Each API error carries provider, model, status_code, code (the provider's own error code), message,
request_id, retryable, retry_after (seconds), attempts, body and request_sent. No API key ever appears in
any of them or in a repr: key-shaped text is masked when an error is built, and every error a call raises
passes through `redact_secrets` with the call's own key (and the provider's keys from the environment),
masked by value whatever it looks like.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._engine.redact import redact, redact_value


class LiteLLMSyncError(Exception):
    """Base of every exception raised by litellm_sync."""

    #: False when litellm_sync refused the call before sending anything (the provider never saw it).
    request_sent = False
    #: The call's correlation id (metadata={"request_id": ...} or generated), as in its log lines and hook event.
    correlation_id: str | None = None


class ConfigurationError(LiteLLMSyncError):
    """The call or the spec is set up wrongly; retrying will not help. Always raised before sending."""


class SpecError(ConfigurationError):
    """One or more problems in providers YAML, each given as 'file: path: message'."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        header = f"{len(self.problems)} problem(s) in the provider spec:" if len(self.problems) > 1 else ""
        text = "\n  ".join([header, *self.problems]) if header else self.problems[0]
        super().__init__(text)


class MissingAPIKeyError(ConfigurationError):
    """No API key was given for a provider that needs one."""

    def __init__(self, provider: str, env_vars: tuple[str, ...]) -> None:
        self.provider = provider
        self.env_vars = env_vars
        where = " or ".join(env_vars) if env_vars else "an API key"
        super().__init__(f"No API key for provider '{provider}': set {where} or pass api_key=.")


class UnknownModelError(ConfigurationError):
    """The model string names no known provider or model."""

    def __init__(self, message: str, suggestions: tuple[str, ...] = ()) -> None:
        self.suggestions = suggestions
        if suggestions:
            message += " Did you mean: " + ", ".join(suggestions) + "?"
        super().__init__(message)


class AmbiguousModelError(UnknownModelError):
    """A bare model name that several providers serve: prefix it with the provider."""


class StreamUsageError(ConfigurationError):
    """A ChatStream was used in a way it cannot serve (iterated from two threads at once)."""


class BudgetExceededError(LiteLLMSyncError):
    """A spend budget (`Client(budgets=...)`) has been reached: nothing was sent; raise the limit or wait."""

    def __init__(
        self, message: str, *, key: str, period: str, limit: Any = None, spent: Any = None
    ) -> None:
        self.key = key  # e.g. "user=alice", "client=*"
        self.period = period
        self.limit = limit
        self.spent = spent
        super().__init__(message)


class APIError(LiteLLMSyncError):
    """The call to the provider failed; attributes say where and whether a retry may help."""

    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        body: Any = None,
        request_sent: bool = True,
    ) -> None:
        self.message = redact(message)
        self.provider = provider
        self.model = model
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after
        self.body = body
        self.attempts = 1
        self.request_sent = request_sent
        super().__init__(self.message)

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                self.provider and f"provider={self.provider}",
                self.model and f"model={self.model}",
                self.status_code is not None and f"status={self.status_code}",
                self.code and f"code={self.code}",
                self.request_id and f"request_id={self.request_id}",
                self.attempts > 1 and f"after {self.attempts} attempts",
            )
            if part
        )
        return f"{self.message} ({where})" if where else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def redact_secrets(self, secrets: Iterable[str | None]) -> APIError:
        """Mask the given secrets (the call's key, by value, whatever it looks like) in every text this
        error carries: message, code, request_id, body and args; returns self so a call site can
        `raise error.redact_secrets(secrets)`. Idempotent, and cheap when there is nothing to mask."""
        secrets = tuple(secrets)
        self.message = redact(self.message, secrets)
        if isinstance(self.code, str):
            self.code = redact(self.code, secrets)
        if isinstance(self.request_id, str):
            self.request_id = redact(self.request_id, secrets)
        if self.body is not None:
            self.body = redact_value(self.body, secrets)
        self.args = (self.message,)
        return self


class APIConnectionError(APIError):
    """No usable HTTP response: connection refused or reset, DNS or TLS failure."""

    default_retryable = True


class Timeout(APIConnectionError):
    """The connect or read timeout fired."""


class APIResponseValidationError(APIError):
    """A successful status whose body could not be read as the dialect says (malformed JSON, broken stream)."""


class ResponseTooLargeError(APIResponseValidationError):
    """The response went over a size limit (body, decoded body, stream line or event); the message names the
    limit and how to raise it (`Client(limits=Limits(...))`). The connection is closed, never reused."""

    def __init__(self, message: str, *, limit: str, value: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.limit = limit
        self.value = value


class StructuredOutputError(APIResponseValidationError):
    """A reply to `completion(..., response_format=<schema or model>)` that is not JSON or does not validate.

    `raw`: the reply text as received; `errors`: the validation messages (marshmallow's dict of field ->
    messages, pydantic's list of {loc, msg, type}, or why the text is not JSON); `response`: the ChatResponse
    (usage and cost included: the call was made and is billed)."""

    def __init__(self, message: str, *, raw: str, errors: Any, response: Any = None, **kwargs: Any) -> None:
        super().__init__(message, body=raw, **kwargs)
        self.errors = errors
        self.response = response

    @property
    def raw(self) -> str:
        """The reply text (with the call's key masked, as every error text is)."""
        return self.body if isinstance(self.body, str) else ""


class APIStatusError(APIError):
    """The provider answered with an error status or an in-band error event."""


class BadRequestError(APIStatusError):
    """The provider rejected the request as malformed (400)."""


class ContextWindowExceededError(BadRequestError):
    """The prompt (plus max tokens) is longer than the model's context window."""


class ContentPolicyViolationError(BadRequestError):
    """The provider refused the content under its usage policy."""


class UnsupportedParamsError(BadRequestError):
    """A parameter the provider or model does not support; pass drop_params=True to drop it instead."""


class UnprocessableEntityError(BadRequestError):
    """The request was well-formed but semantically invalid (422)."""


class AuthenticationError(APIStatusError):
    """The API key was missing, invalid or revoked (401)."""


class PermissionDeniedError(APIStatusError):
    """The key is valid but may not use this resource (403)."""


class NotFoundError(APIStatusError):
    """The model or endpoint does not exist (404)."""


class ConflictError(APIStatusError):
    """The request conflicts with the resource's state (409)."""


class RateLimitError(APIStatusError):
    """Too many requests or tokens (429); retryable unless the quota is exhausted."""

    default_retryable = True


class InternalServerError(APIStatusError):
    """The provider failed internally (5xx)."""

    default_retryable = True


class ServiceUnavailableError(InternalServerError):
    """The provider is overloaded or unavailable (502, 503, 504, 529)."""


#: Classes the YAML error table may name, by their Python name.
ERROR_CLASSES: dict[str, type[APIError]] = {
    cls.__name__: cls
    for cls in (
        APIError,
        APIConnectionError,
        Timeout,
        APIResponseValidationError,
        ResponseTooLargeError,
        APIStatusError,
        BadRequestError,
        ContextWindowExceededError,
        ContentPolicyViolationError,
        UnsupportedParamsError,
        UnprocessableEntityError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        ConflictError,
        RateLimitError,
        InternalServerError,
        ServiceUnavailableError,
    )
}
