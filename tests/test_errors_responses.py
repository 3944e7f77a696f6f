"""The error table over HTTP: status + body (as each provider documents them) -> exception class, retryable,
code, message and request id, checked through `completion()` with `responses` answering. The bodies are
written by hand from the providers' API references, not generated from the spec."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses

import litellm_sync
from litellm_sync import exceptions as ex

URLS = {
    "openai/gpt-4o-mini": "https://api.openai.com/v1/chat/completions",
    "anthropic/claude-sonnet-4-5": "https://api.anthropic.com/v1/messages",
    "gemini/gemini-2.5-flash": "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
    "cohere/command-a-03-2025": "https://api.cohere.com/v2/chat",
    "ollama/llama3.2": "http://localhost:11434/api/chat",
}
MESSAGES = [{"role": "user", "content": "Hello"}]
KEY = "sk-errors-test-secret-0123456789"


def openai(message: str, type_: str | None, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def anthropic(type_: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": type_, "message": message}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}


def google(code: int, status: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


# (model, status, body, exception class, retryable, provider code or None)
TABLE: list[tuple[str, int, Any, type[Exception], bool, str | None]] = [
    ("openai/gpt-4o-mini", 401, openai("Incorrect API key provided: sk-proj-****abcd.", "invalid_request_error",
                                       "invalid_api_key"), ex.AuthenticationError, False, "invalid_api_key"),
    ("openai/gpt-4o-mini", 429, openai("Rate limit reached for gpt-4o-mini on tokens per min (TPM). Please try again "
                                       "in 300ms.", "tokens", "rate_limit_exceeded"), ex.RateLimitError, True,
     "rate_limit_exceeded"),
    ("openai/gpt-4o-mini", 429, openai("You exceeded your current quota, please check your plan and billing details.",
                                       "insufficient_quota", "insufficient_quota"), ex.RateLimitError, False,
     "insufficient_quota"),
    ("openai/gpt-4o-mini", 400, openai("This model's maximum context length is 128000 tokens. However, your "
                                       "messages resulted in 130000 tokens.", "invalid_request_error",
                                       "context_length_exceeded"),
     ex.ContextWindowExceededError, False, "context_length_exceeded"),
    ("openai/gpt-4o-mini", 400, openai("Unsupported parameter: 'max_tokens' is not supported with this model.",
                                       "invalid_request_error", "unsupported_parameter"),
     ex.UnsupportedParamsError, False, "unsupported_parameter"),
    ("openai/gpt-4o-mini", 400, openai("The response was filtered due to the prompt triggering the content "
                                       "management policy.", None, "content_filter"),
     ex.ContentPolicyViolationError, False, "content_filter"),
    ("openai/gpt-4o-mini", 404, openai("The model `gpt-9` does not exist or you do not have access to it.",
                                       "invalid_request_error", "model_not_found"), ex.NotFoundError, False,
     "model_not_found"),
    ("openai/gpt-4o-mini", 500, openai("The server had an error while processing your request.", "server_error", None),
     ex.InternalServerError, True, "server_error"),
    ("openai/gpt-4o-mini", 503, openai("The engine is currently overloaded, please try again later", "server_error",
                                       None), ex.ServiceUnavailableError, True, "server_error"),
    ("anthropic/claude-sonnet-4-5", 529, anthropic("overloaded_error", "Overloaded"), ex.ServiceUnavailableError, True,
     "overloaded_error"),
    ("anthropic/claude-sonnet-4-5", 400, anthropic("invalid_request_error", "prompt is too long: 210000 tokens > "
                                                   "200000 maximum"), ex.ContextWindowExceededError, False,
     "invalid_request_error"),
    ("anthropic/claude-sonnet-4-5", 400, anthropic("invalid_request_error", "max_tokens: Field required"),
     ex.BadRequestError, False, "invalid_request_error"),
    ("anthropic/claude-sonnet-4-5", 401, anthropic("authentication_error", "invalid x-api-key"),
     ex.AuthenticationError, False, "authentication_error"),
    ("anthropic/claude-sonnet-4-5", 403, anthropic("permission_error", "Your API key does not have permission"),
     ex.PermissionDeniedError, False, "permission_error"),
    ("anthropic/claude-sonnet-4-5", 404, anthropic("not_found_error", "model: claude-9"), ex.NotFoundError, False,
     "not_found_error"),
    ("anthropic/claude-sonnet-4-5", 413, anthropic("request_too_large", "Request exceeds the maximum allowed number "
                                                   "of bytes."), ex.BadRequestError, False, "request_too_large"),
    ("anthropic/claude-sonnet-4-5", 429, anthropic("rate_limit_error", "Number of request tokens has exceeded your "
                                                   "per-minute rate limit"), ex.RateLimitError, True,
     "rate_limit_error"),
    ("anthropic/claude-sonnet-4-5", 500, anthropic("api_error", "Internal server error"), ex.InternalServerError, True,
     "api_error"),
    ("gemini/gemini-2.5-flash", 400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API "
                                                "key.", "status": "INVALID_ARGUMENT", "details": [
                                                    {"reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}},
     ex.AuthenticationError, False, "INVALID_ARGUMENT"),
    ("gemini/gemini-2.5-flash", 429, google(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check "
                                            "quota)."), ex.RateLimitError, True, "RESOURCE_EXHAUSTED"),
    ("gemini/gemini-2.5-flash", 503, google(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
     ex.ServiceUnavailableError, True, "UNAVAILABLE"),
    ("gemini/gemini-2.5-flash", 400, google(400, "INVALID_ARGUMENT", "The input token count (1200000) exceeds the "
                                            "maximum number of tokens allowed (1048576)."),
     ex.ContextWindowExceededError, False, "INVALID_ARGUMENT"),
    ("gemini/gemini-2.5-flash", 404, google(404, "NOT_FOUND", "models/gemini-9 is not found for API version v1beta"),
     ex.NotFoundError, False, "NOT_FOUND"),
    ("cohere/command-a-03-2025", 400, {"message": "too many tokens: total number of tokens in the prompt cannot "
                                                  "exceed 128000"}, ex.ContextWindowExceededError, False, None),
    ("cohere/command-a-03-2025", 429, {"message": "You are using a Trial key, which is limited to 10 API calls / "
                                                  "minute."}, ex.RateLimitError, True, None),
    ("cohere/command-a-03-2025", 401, {"message": "invalid api token"}, ex.AuthenticationError, False, None),
    ("ollama/llama3.2", 404, {"error": "model \"llama3.2\" not found, try pulling it first"}, ex.NotFoundError, False,
     None),
    ("ollama/llama3.2", 500, {"error": "llama runner process has terminated: signal: killed"},
     ex.InternalServerError, True, None),
]


@pytest.fixture(autouse=True)
def _no_base_url_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL", "GEMINI_API_BASE",
                 "CO_API_URL", "COHERE_API_BASE", "OLLAMA_API_BASE", "OLLAMA_HOST"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def client() -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(max_retries=0) as made:
        yield made


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def strings(value: Any) -> list[str]:
    """Every string inside a parsed JSON value."""
    if isinstance(value, str):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [text for item in items for text in strings(item)]


def fail(client: litellm_sync.Client, model: str, stream: bool = False) -> ex.APIError:
    with pytest.raises(ex.APIError) as caught:
        client.completion(model, MESSAGES, api_key=KEY, stream=stream)
    return caught.value


@pytest.mark.parametrize(("model", "status", "body", "cls", "retryable", "code"), TABLE,
                         ids=[f"{row[0].split('/')[0]}-{row[1]}-{row[3].__name__}" for row in TABLE])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_error_table(
    client: litellm_sync.Client, rsps: responses.RequestsMock, model: str, status: int, body: Any,
    cls: type[Exception], retryable: bool, code: str | None, stream: bool,
) -> None:
    url = URLS[model].replace(":generateContent", ":streamGenerateContent") if stream else URLS[model]
    rsps.add("POST", url, json=body, status=status)
    error = fail(client, model, stream)
    assert type(error) is cls
    assert (error.status_code, error.retryable, error.code) == (status, retryable, code)
    assert (error.provider, error.model) == (model.split("/")[0], model.split("/")[1])
    assert error.message in strings(body)  # the provider's own words, not a generic text


def test_request_id_from_body_or_header(client: litellm_sync.Client, rsps: responses.RequestsMock) -> None:
    rsps.add("POST", URLS["anthropic/claude-sonnet-4-5"], status=500, json=anthropic("api_error", "boom"))
    rsps.add("POST", URLS["openai/gpt-4o-mini"], status=500, json=openai("boom", "server_error", None),
             headers={"x-request-id": "req_abc123"})
    assert fail(client, "anthropic/claude-sonnet-4-5").request_id == "req_011CSHoEeqs5C35K2UUqR7Fy"
    assert fail(client, "openai/gpt-4o-mini").request_id == "req_abc123"


def test_retry_after_headers(client: litellm_sync.Client, rsps: responses.RequestsMock) -> None:
    rsps.add("POST", URLS["openai/gpt-4o-mini"], status=429, json=openai("slow", "requests", "rate_limit_exceeded"),
             headers={"retry-after-ms": "1500", "Retry-After": "9"})
    rsps.add("POST", URLS["openai/gpt-4o-mini"], status=429, json=openai("slow", "requests", "rate_limit_exceeded"),
             headers={"Retry-After": "9"})
    rsps.add("POST", URLS["openai/gpt-4o-mini"], status=429, json=openai("slow", "requests", "rate_limit_exceeded"),
             headers={"Retry-After": "86400"})
    assert [fail(client, "openai/gpt-4o-mini").retry_after for _ in range(3)] == [1.5, 9.0, 60.0]


@pytest.mark.parametrize(
    ("status", "body", "content_type", "cls", "words"),
    [
        (502, "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>",
         "text/html", ex.ServiceUnavailableError, "502 Bad Gateway"),
        (500, "", "text/plain", ex.InternalServerError, "HTTP 500 with an empty body"),
        (504, "upstream request timeout", "text/plain", ex.ServiceUnavailableError, "upstream request timeout"),
        (418, '{"error": {"message": "I am a teapot"}}', "application/json", ex.BadRequestError, "I am a teapot"),
        (599, "{}", "application/json", ex.InternalServerError, "{}"),
    ],
    ids=["html-502", "empty-500", "text-504", "json-418", "json-599"],
)
def test_bodies_that_are_not_the_providers_json(
    client: litellm_sync.Client, rsps: responses.RequestsMock, status: int, body: str, content_type: str,
    cls: type[Exception], words: str,
) -> None:
    rsps.add("POST", URLS["openai/gpt-4o-mini"], status=status, body=body, content_type=content_type)
    error = fail(client, "openai/gpt-4o-mini")
    assert type(error) is cls and error.status_code == status
    assert words in str(error)


def test_a_key_echoed_in_an_error_is_redacted(client: litellm_sync.Client, rsps: responses.RequestsMock) -> None:
    rsps.add("POST", URLS["openai/gpt-4o-mini"], status=401,
             json=openai(f"Incorrect API key provided: {KEY}.", "invalid_request_error", "invalid_api_key"))
    error = fail(client, "openai/gpt-4o-mini")
    assert KEY not in str(error) and KEY not in repr(error) and KEY not in json.dumps(error.body)
    assert "Incorrect API key provided" in str(error)


@pytest.mark.parametrize(
    ("model", "transcript", "cls"),
    [
        ("anthropic/claude-sonnet-4-5",
         'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n',
         ex.ServiceUnavailableError),
        ("openai/gpt-4o-mini",
         'data: {"error": {"message": "Provider returned error", "code": 502}}\n\n', ex.ServiceUnavailableError),
    ],
    ids=["anthropic-error-event", "openai-shaped-error-in-200"],
)
def test_an_error_inside_a_200_stream(
    client: litellm_sync.Client, rsps: responses.RequestsMock, model: str, transcript: str, cls: type[Exception]
) -> None:
    rsps.add("POST", URLS[model], status=200, body=transcript, content_type="text/event-stream")
    error = fail(client, model, stream=True)
    assert type(error) is cls and error.retryable is True
