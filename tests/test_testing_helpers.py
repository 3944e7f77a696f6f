"""litellm_sync.testing's mocks: `mock_completion` registers each provider's own reply (written from its spec)
at the URL `completion()` uses, for every provider in providers.yaml and for a user's own dialect; and
`completion(..., mock_response=...)` sends nothing, reads its text through the real reader, and tells hooks."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
import yaml

import litellm_sync
from litellm_sync.hooks import CallEvent
from litellm_sync.retry import RetryPolicy
from litellm_sync.testing import MockAnswer, MockSpecError, mock_completion, tool_call
from litellm_sync.testing.mock import request_url

KEY = "sk-mock-test-0123456789"
MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]
TOOL_CALLS = [
    {"id": "call_a", "name": "get_weather", "arguments": {"city": "Paris", "unit": "C"}},
    {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": '{"tz": "CET"}'}},
]
EXPECTED_CALLS = [("call_a", "get_weather", {"city": "Paris", "unit": "C"}), ("call_b", "get_time", {"tz": "CET"})]
CLIENT = litellm_sync.Client(max_retries=0)
PROVIDERS = sorted(name for name, spec in CLIENT.spec.providers.items() if spec.builder.chat is not None)  # chat ones
TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "providers-yaml.md"


def model_of(provider: str) -> str:
    listed = CLIENT.spec.registry.list(provider, mode="chat")
    return f"{provider}/{listed[0].name if listed else 'mock-model'}"


def base_of(provider: str) -> str | None:
    """An api_base for providers whose spec has none (the user must give one) or builds it from variables (a
    project, an account id: the user must give those); None keeps the spec's."""
    base = CLIENT.spec.provider(provider).entry.get("base_url")
    return None if isinstance(base, str) and "${" not in base else "https://mocked.example/v1"



@pytest.fixture(autouse=True)
def _no_token_exchange(monkeypatch: pytest.MonkeyPatch) -> None:
    # token_exchange providers (watsonx) trade the key at an outside endpoint (tested in test_watsonx.py).
    monkeypatch.setattr("litellm_sync._engine.auth_token.TokenCache.current", lambda self: "test-token")

@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture(autouse=True)
def no_provider_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Base-URL and version variables of the machine running the tests must not move the URLs."""
    for name in list(os.environ):
        if re.search(r"(API_BASE|BASE_URL|_ENDPOINT|API_VERSION|_HOST)$", name):
            monkeypatch.delenv(name)


def read_calls(calls: Any) -> list[tuple[str, str, Any]]:
    return [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls or ()]


def call(model: str, api_base: str | None, **kwargs: Any) -> Any:
    return CLIENT.completion(model, MESSAGES, api_key=KEY, api_base=api_base, **kwargs)


# -- every provider: text, tool calls and streams read back through completion() ----------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_text_reply_every_provider(provider: str, rsps: responses.RequestsMock) -> None:
    model, base = model_of(provider), base_of(provider)
    mocked = mock_completion(rsps, model, "Bonjour, Paris", usage={"prompt_tokens": 12, "completion_tokens": 3},
                             api_base=base, client=CLIENT)
    answer = call(model, base)
    assert answer.content == "Bonjour, Paris"
    assert answer.choices[0].finish_reason == "stop"
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (12, 3)
    assert answer.provider == provider
    assert mocked.call_count == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_tool_call_reply_every_provider(provider: str, rsps: responses.RequestsMock) -> None:
    model, base = model_of(provider), base_of(provider)
    mock_completion(rsps, model, tool_calls=TOOL_CALLS, api_base=base, client=CLIENT)
    choice = call(model, base).choices[0]
    assert read_calls(choice.message.tool_calls) == EXPECTED_CALLS
    assert choice.finish_reason == "tool_calls"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_text_stream_every_provider(provider: str, rsps: responses.RequestsMock) -> None:
    model, base = model_of(provider), base_of(provider)
    mock_completion(rsps, model, chunks=["Bon", "jour", ", Paris"], stream=True,
                    usage={"prompt_tokens": 9, "completion_tokens": 3}, api_base=base, client=CLIENT)
    with call(model, base, stream=True) as stream:
        chunks = list(stream)
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert texts == ["Bon", "jour", ", Paris"]
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert (stream.usage.prompt_tokens, stream.usage.completion_tokens) == (9, 3)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_tool_call_stream_every_provider(provider: str, rsps: responses.RequestsMock) -> None:
    model, base = model_of(provider), base_of(provider)
    mock_completion(rsps, model, "Let me check.", tool_calls=TOOL_CALLS, stream=True, api_base=base, client=CLIENT)
    whole = call(model, base, stream=True).response()
    assert whole.content == "Let me check."
    assert read_calls(whole.choices[0].message.tool_calls) == EXPECTED_CALLS
    assert whole.choices[0].finish_reason == "tool_calls"


# -- where the mock is registered: the URL the call uses, per the spec --------------------------------


def test_the_mock_is_at_the_providers_real_url(rsps: responses.RequestsMock) -> None:
    mock_completion(rsps, "anthropic/claude-sonnet-4-5", text="hi", stream=True, client=CLIENT)
    assert call("anthropic/claude-sonnet-4-5", None, stream=True).response().content == "hi"
    sent = rsps.calls[0].request
    assert sent.url == "https://api.anthropic.com/v1/messages"
    assert sent.headers["x-api-key"] == KEY
    assert json.loads(sent.body)["stream"] is True


def test_stream_and_plain_urls_differ_where_the_spec_says(rsps: responses.RequestsMock) -> None:
    mock_completion(rsps, "gemini/gemini-2.5-flash", text="streamed", stream=True, client=CLIENT)
    mock_completion(rsps, "gemini/gemini-2.5-flash", text="whole", client=CLIENT)
    assert call("gemini/gemini-2.5-flash", None).content == "whole"
    assert call("gemini/gemini-2.5-flash", None, stream=True).response().content == "streamed"
    urls = [c.request.url for c in rsps.calls]
    assert urls == [
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    ]


@pytest.mark.parametrize("model", ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5", "ollama/llama3.2"])
def test_stream_and_plain_mocks_at_one_url_answer_their_own_calls(model: str, rsps: responses.RequestsMock) -> None:
    mock_completion(rsps, model, "streamed", stream=True, client=CLIENT)  # registered first, called second
    mock_completion(rsps, model, "whole", client=CLIENT)
    assert call(model, None).content == "whole"
    assert call(model, None, stream=True).response().content == "streamed"
    assert len({c.request.url for c in rsps.calls}) == 1


def test_a_stream_mock_does_not_answer_a_plain_call() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock_completion(mock, "openai/gpt-4o-mini", "streamed", stream=True, client=CLIENT)
        with pytest.raises(litellm_sync.APIConnectionError):
            call("openai/gpt-4o-mini", None)


def test_base_url_variable_moves_the_mock_too(rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_BASE", "https://llm-gateway.corp.example/anthropic")
    mock_completion(rsps, "anthropic/claude-sonnet-4-5", text="via gateway", client=CLIENT)
    assert call("anthropic/claude-sonnet-4-5", None).content == "via gateway"
    assert rsps.calls[0].request.url == "https://llm-gateway.corp.example/anthropic/v1/messages"


def test_query_of_the_url_is_matched(rsps: responses.RequestsMock) -> None:
    base = "https://my-resource.openai.azure.com"
    method, url, query = request_url(CLIENT.spec.provider("azure"), "my-deployment", False, base, "2025-01-01")
    assert (method, url, query) == ("POST", f"{base}/openai/deployments/my-deployment/chat/completions",
                                    {"api-version": "2025-01-01"})
    mock_completion(rsps, "azure/my-deployment", text="azure says hi", api_base=base, api_version="2025-01-01",
                    client=CLIENT)
    with pytest.raises(litellm_sync.APIConnectionError):  # another api-version is another URL: not mocked
        call("azure/my-deployment", base, api_version="2024-10-21")
    assert call("azure/my-deployment", base, api_version="2025-01-01").content == "azure says hi"


@responses.activate
def test_with_responses_activate_and_the_module() -> None:
    mock_completion(responses, "openai/gpt-4o-mini", "module-level", client=CLIENT)
    assert call("openai/gpt-4o-mini", None).content == "module-level"
    assert len(responses.calls) == 1


def test_streams_are_in_the_dialects_own_framing() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        typed = mock_completion(mock, "anthropic/claude-sonnet-4-5", "a b", tool_calls=TOOL_CALLS[:1], stream=True,
                                client=CLIENT)
        done = mock_completion(mock, "openai/gpt-4o-mini", "a b", stream=True, client=CLIENT)
        ndjson = mock_completion(mock, "ollama/llama3.2", "a b", stream=True, client=CLIENT)
    assert re.findall(r"^event: (\S+)$", typed.body.decode(), re.M) == [
        "message_start", "content_block_delta", "content_block_delta", "content_block_start", "content_block_delta",
        "message_delta", "message_stop",
    ]
    assert typed.content_type == "text/event-stream"
    assert '"partial_json":"{\\"city\\":\\"Paris\\",\\"unit\\":\\"C\\"}"' in typed.body.decode()  # text
    assert done.body.decode().endswith("data: [DONE]\n\n")
    lines = [json.loads(line) for line in ndjson.body.decode().splitlines()]
    assert ndjson.content_type == "application/x-ndjson"
    assert [line.get("done") for line in lines] == [None, None, True]


# -- error replies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_rate_limit_every_provider(provider: str, stream: bool, rsps: responses.RequestsMock) -> None:
    model, base = model_of(provider), base_of(provider)
    mock_completion(rsps, model, status=429, message="slow down", headers={"Retry-After": "7"}, stream=stream,
                    api_base=base, client=CLIENT)
    with pytest.raises(litellm_sync.RateLimitError) as caught:
        call(model, base, stream=stream)
    assert "slow down" in str(caught.value)
    assert (caught.value.status_code, caught.value.retry_after, caught.value.retryable) == (429, 7.0, True)


@pytest.mark.parametrize(
    ("model", "error", "status"),
    [
        ("openai/gpt-4o-mini", litellm_sync.ContextWindowExceededError, 400),
        ("anthropic/claude-sonnet-4-5", litellm_sync.ContextWindowExceededError, 400),
        ("anthropic/claude-sonnet-4-5", litellm_sync.ServiceUnavailableError, 529),
        ("gemini/gemini-2.5-flash", litellm_sync.AuthenticationError, 400),
        ("openai/gpt-4o-mini", litellm_sync.ContentPolicyViolationError, 400),
    ],
)
def test_error_class_picks_a_body_the_error_table_maps_to_it(
    model: str, error: type[Exception], status: int, rsps: responses.RequestsMock
) -> None:
    mocked = mock_completion(rsps, model, error=error, client=CLIENT)
    assert mocked.status == status
    with pytest.raises(error) as caught:
        call(model, None)
    assert type(caught.value) is error


def test_quota_exhausted_is_a_429_that_is_not_retried(rsps: responses.RequestsMock) -> None:
    mock_completion(rsps, "openai/gpt-4o-mini", status=429, code="insufficient_quota", message="add credits",
                    client=CLIENT)
    with pytest.raises(litellm_sync.RateLimitError) as caught:
        call("openai/gpt-4o-mini", None)
    assert caught.value.retryable is False and caught.value.code == "insufficient_quota"


def test_unknown_error_class_is_refused() -> None:
    with responses.RequestsMock() as mock, pytest.raises(litellm_sync.ConfigurationError, match="NoSuchError"):
        mock_completion(mock, "openai/gpt-4o-mini", error="NoSuchError", client=CLIENT)


# -- a user's own dialect ----------------------------------------------------------------------------------

ACME = """
providers:
  acme:
    base_url: https://acme.example
    auth: {env: [ACME_KEY], header: X-Acme-Key, value: "${api_key}"}
    endpoints: {chat: {path: /v3/generate}}
    body: {engine: $model, dialogue: $messages, live: $stream}
    response:
      id: meta.ref
      choice:
        content: output.words
        finish_reason: output.reason
        tool_calls: {path: output.actions, id: ref, name: verb, arguments: detail}
      finish_reasons: {COMPLETE: stop, ACT: tool_calls}
      usage: {from: meta.tally, prompt_tokens: heard, completion_tokens: said}
    stream:
      format: ndjson
      type: kind
      end_types: [bye]
      events:
        hello: {id: ref}
        words: {choice: {content: text}}
        act: {choice: {tool_calls: {path: action, when: {form: call}, index: $next, id: ref, name: verb}}}
        act-more: {choice: {tool_calls: {path: action, index: $current, arguments: json}}}
        done:
          choice: {finish_reason: reason}
          finish_reasons: {COMPLETE: stop, ACT: tool_calls}
          usage: {from: tally, prompt_tokens: heard, completion_tokens: said}
    errors:
      message: trouble.text
      code: trouble.kind
      rules:
        - {match: {trouble.kind: SLOW_DOWN}, class: RateLimitError}
"""


@pytest.fixture(scope="module")
def custom() -> Iterator[litellm_sync.Client]:
    parrot = yaml.safe_load(re.findall(r"```yaml\n(.*?)```", TUTORIAL.read_text(encoding="utf-8"), re.S)[1])
    with litellm_sync.Client(providers=[yaml.safe_load(ACME), parrot], max_retries=0) as made:
        yield made


def test_a_users_own_typed_ndjson_dialect(custom: litellm_sync.Client, rsps: responses.RequestsMock) -> None:
    mocked = mock_completion(rsps, "acme/acme-1", "On it.", tool_calls=TOOL_CALLS[:1], stream=True,
                             usage={"prompt_tokens": 5, "completion_tokens": 2}, client=custom)
    lines = [json.loads(line) for line in mocked.body.decode().splitlines()]
    assert [line["kind"] for line in lines] == ["hello", "words", "words", "act", "act-more", "done", "bye"]
    assert lines[3]["action"] == {"form": "call", "ref": "call_a", "verb": "get_weather"}
    whole = custom.completion("acme/acme-1", MESSAGES, api_key=KEY, stream=True).response()
    assert (whole.content, whole.choices[0].finish_reason) == ("On it.", "tool_calls")
    assert read_calls(whole.choices[0].message.tool_calls) == EXPECTED_CALLS[:1]
    assert (whole.usage.prompt_tokens, whole.usage.completion_tokens) == (5, 2)
    assert json.loads(rsps.calls[0].request.body)["live"] is True


def test_a_users_own_dialect_body_and_error(custom: litellm_sync.Client, rsps: responses.RequestsMock) -> None:
    mocked = mock_completion(rsps, "acme/acme-1", "Done.", client=custom)
    assert json.loads(mocked.body) == {
        "meta": {"ref": "mock-acme-1", "tally": {"heard": 10, "said": 20}},
        "output": {"words": "Done.", "reason": "COMPLETE"},
    }
    assert custom.completion("acme/acme-1", MESSAGES, api_key=KEY).content == "Done."
    rsps.reset()
    mock_completion(rsps, "acme/acme-1", error="RateLimitError", client=custom)
    with pytest.raises(litellm_sync.RateLimitError):
        custom.completion("acme/acme-1", MESSAGES, api_key=KEY)


def test_the_docs_tutorial_dialect(custom: litellm_sync.Client, rsps: responses.RequestsMock) -> None:
    mock_completion(rsps, "parrot/parrot-1", "Hello there", stream=True, client=custom)
    with custom.completion("parrot/parrot-1", MESSAGES, api_key=KEY, stream=True) as stream:
        assert stream.response().content == "Hello there"
    assert rsps.calls[0].request.url == "https://api.parrot.example/v1/speak"


def test_a_spec_that_cannot_carry_the_answer_says_so() -> None:
    spec = {"providers": {"plain": {"base_url": "https://plain.example", "endpoints": {"chat": {"path": "/say"}},
                                    "response": {"choice": {"content": "text", "finish_reason": "end"}}}}}
    with litellm_sync.Client(providers=[spec]) as plain, responses.RequestsMock() as mock:
        with pytest.raises(MockSpecError, match=r"cannot mock provider 'plain'.*tool call"):
            mock_completion(mock, "plain/m", tool_calls=TOOL_CALLS, client=plain)
        assert mock.registered() == []


# -- completion(mock_response=...) ----------------------------------------------------------------------


@pytest.fixture
def events() -> list[CallEvent]:
    return []


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def hooked(events: list[CallEvent], sleeps: list[float]) -> Iterator[litellm_sync.Client]:
    policy = RetryPolicy(max_retries=3, sleep=sleeps.append)
    with litellm_sync.Client(hooks=[events.append], retry_policy=policy) as made:
        yield made


@pytest.fixture
def nothing_sent(rsps: responses.RequestsMock) -> responses.RequestsMock:
    """Any request would fail: responses answers none (ConnectionError, i.e. APIConnectionError)."""
    return rsps


@pytest.mark.parametrize("provider", PROVIDERS)
def test_mock_response_sends_nothing_and_needs_no_key(
    provider: str, hooked: litellm_sync.Client, events: list[CallEvent], nothing_sent: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in CLIENT.spec.provider(provider).builder.connection.key_env:
        monkeypatch.delenv(name, raising=False)
    answer = hooked.completion(model_of(provider), MESSAGES, api_base=base_of(provider), mock_response="It is sunny.")
    assert (answer.content, answer.choices[0].finish_reason, answer.provider) == ("It is sunny.", "stop", provider)
    assert len(nothing_sent.calls) == 0
    assert [(e.provider, e.stream, e.complete, e.error) for e in events] == [(provider, False, True, None)]
    assert events[0].response is answer


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini", "cohere", "ollama"])
def test_mock_response_stream(provider: str, hooked: litellm_sync.Client, events: list[CallEvent]) -> None:
    with hooked.completion(model_of(provider), MESSAGES, stream=True, mock_response="It is sunny.") as stream:
        texts = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert texts == ["It", " is", " sunny."]
    assert [(e.stream, e.complete, e.response.content) for e in events] == [(True, True, "It is sunny.")]


def test_mock_response_exception_is_raised_once_and_hooks_see_it(
    hooked: litellm_sync.Client, events: list[CallEvent], sleeps: list[float]
) -> None:
    error = litellm_sync.RateLimitError("mocked rate limit", provider="openai", retryable=True)
    with pytest.raises(litellm_sync.RateLimitError) as caught:
        hooked.completion("openai/gpt-4o-mini", MESSAGES, mock_response=error)
    assert caught.value is error
    assert [(e.error, e.complete) for e in events] == [(error, False)]
    assert sleeps == []  # raised at once, not retried


def test_mock_response_through_the_module_function(nothing_sent: responses.RequestsMock) -> None:
    answer = litellm_sync.completion("anthropic/claude-sonnet-4-5", MESSAGES, mock_response="hi")
    assert answer.content == "hi" and answer.model == "claude-sonnet-4-5"


def test_mock_response_with_tool_calls(hooked: litellm_sync.Client) -> None:
    mock = MockAnswer(tool_calls=[tool_call("get_weather", {"city": "Paris"}, id="call_1")],
                      finish_reason="tool_calls", usage={"prompt_tokens": 3, "completion_tokens": 4})
    answer = hooked.completion("gemini/gemini-2.5-flash", MESSAGES, mock_response=mock)
    assert read_calls(answer.choices[0].message.tool_calls) == [("call_1", "get_weather", {"city": "Paris"})]
    assert answer.usage.total_tokens == 7 and answer.cost is not None


def test_mock_response_still_checks_the_call(hooked: litellm_sync.Client) -> None:
    with pytest.raises(litellm_sync.UnsupportedParamsError):
        hooked.completion("anthropic/claude-sonnet-4-5", MESSAGES, mock_response="hi", seed=1)
    with pytest.raises(litellm_sync.ConfigurationError, match="mock_response must be"):
        hooked.completion("openai/gpt-4o-mini", MESSAGES, mock_response=42)
