"""The exception tree: every error litellm_sync raises, named as OpenAI's and LiteLLM's clients name them.

    LiteLLMSyncError
    ├── ConfigurationError
    │   ├── SpecError                    a providers YAML file is malformed (lists every problem with its path)
    │   ├── MissingAPIKeyError           no key passed and none in the provider's environment variables
    │   ├── UnknownModelError            the model string names no provider or model the spec knows
    │   └── AmbiguousModelError          a bare model name that several providers serve
    └── APIError                         the provider (or the road to it) failed the call
        ├── APIConnectionError           no HTTP response: refused, reset, DNS, TLS
        │   └── Timeout                  connect or read timed out
        ├── APIResponseValidationError   a 2xx whose body cannot be read (malformed JSON, broken stream)
        │   └── ResponseTooLargeError    a body, line or event over one of the Client's `Limits`
        └── APIStatusError               the provider answered with an error (status >= 400 or in-band)
            ├── BadRequestError                      400
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

Each API error carries provider, model, status_code, code (the provider's own error code), message,
request_id, retryable, retry_after (seconds) and attempts. No API key ever appears in a message or repr:
messages pass through `redact` before they are stored.
"""

from __future__ import annotations

from typing import Any

from ._engine.redact import redact


class LiteLLMSyncError(Exception):
    """Base of every exception raised by litellm_sync."""


class ConfigurationError(LiteLLMSyncError):
    """The call or the spec is set up wrongly; retrying will not help."""


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

    def redact_secrets(self, secrets: tuple[str | None, ...]) -> APIError:
        """Mask the given secrets (the call's key, by value, whatever it looks like) in every text this
        error carries; returns self so a call site can `raise error.redact_secrets(secrets)`."""
        self.message = redact(self.message, secrets)
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
