"""AWS Bedrock Converse and ConverseStream, end to end at the requests layer (`responses`): answers read with
reasoning, tool calls and cache usage; a binary ConverseStream transcript read with SigV4 and with a Bedrock
API key; the region from the call, the environment or the default; errors by x-amzn-ErrorType and in-band
exceptions. Transcripts are written from the Converse API reference (shapes, event names, exception names)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import responses

import litellm_sync
from litellm_sync._engine.framing.eventstream import encode_message
from litellm_sync.exceptions import (
    AuthenticationError,
    BadRequestError,
    ContextWindowExceededError,
    InternalServerError,
    RateLimitError,
    UnsupportedParamsError,
)

MODEL = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
PATH = "/model/global.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
MESSAGES = [{"role": "user", "content": "Weather in Paris?"}]
ANSWER = {
    "output": {"message": {"role": "assistant", "content": [
        {"reasoningContent": {"reasoningText": {"text": "Use the tool.", "signature": "c2lnbmF0dXJl"}}},
        {"text": "Let me check."},
        {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}},
    ]}},
    "stopReason": "tool_use",
    "usage": {"inputTokens": 100, "outputTokens": 20, "totalTokens": 420, "cacheReadInputTokens": 200,
              "cacheWriteInputTokens": 100},
    "metrics": {"latencyMs": 812},
}


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_BEARER_TOKEN_BEDROCK", "AWS_REGION", "AWS_DEFAULT_REGION", "BEDROCK_API_BASE", "AWS_PROFILE",
                 "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture(scope="module")
def client() -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(max_retries=0) as made:
        yield made


def _event(kind: str, payload: dict[str, Any]) -> bytes:
    return encode_message({":event-type": kind, ":content-type": "application/json", ":message-type": "event"},
                          json.dumps(payload).encode())


STREAM = b"".join([
    _event("messageStart", {"role": "assistant", "p": "abcd"}),
    _event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "Use the tool."}}}),
    _event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": "c2ln"}}}),
    _event("contentBlockStop", {"contentBlockIndex": 0}),
    _event("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"text": "Let me "}}),
    _event("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"text": "check."}}),
    _event("contentBlockStop", {"contentBlockIndex": 1}),
    _event("contentBlockStart", {"contentBlockIndex": 2,
                                 "start": {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather"}}}),
    _event("contentBlockDelta", {"contentBlockIndex": 2, "delta": {"toolUse": {"input": "{\"city\": "}}}),
    _event("contentBlockDelta", {"contentBlockIndex": 2, "delta": {"toolUse": {"input": "\"Paris\"}"}}}),
    _event("contentBlockStop", {"contentBlockIndex": 2}),
    _event("messageStop", {"stopReason": "tool_use"}),
    _event("metadata", {"usage": {"inputTokens": 100, "outputTokens": 20, "totalTokens": 120},
                        "metrics": {"latencyMs": 500}}),
])


def test_converse_answer_with_reasoning_tool_call_and_cache_usage(client: Any, rsps: responses.RequestsMock) -> None:
    rsps.add("POST", "https://bedrock-runtime.us-east-1.amazonaws.com" + PATH, json=ANSWER)
    answer = client.completion(f"bedrock/{MODEL}", MESSAGES, api_key="bedrock-key")
    message = answer.choices[0].message
    assert (message.content, message.reasoning_content) == ("Let me check.", "Use the tool.")
    assert message.thinking_blocks == [ANSWER["output"]["message"]["content"][0]]  # sent back verbatim next turn
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls] == [
        ("tooluse_1", "get_weather", {"city": "Paris"})]
    assert answer.choices[0].finish_reason == "tool_calls"
    usage = answer.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (400, 20, 200)
    assert rsps.calls[0].request.headers["authorization"] == "Bearer bedrock-key"
    # 100 input at $3, 200 cache reads at $0.30, 100 cache writes at $3.75, 20 output at $15 (per million)
    assert answer.cost == (100 * 3 + 200 * Decimal("0.30") + 100 * Decimal("3.75") + 20 * 15) / 1_000_000


def test_converse_stream_signed_with_sigv4_in_the_region_of_the_call(
    client: Any, rsps: responses.RequestsMock
) -> None:
    url = "https://bedrock-runtime.eu-west-3.amazonaws.com" + PATH + "-stream"
    rsps.add("POST", url, body=STREAM, content_type="application/vnd.amazon.eventstream")
    stream = client.completion(f"bedrock/{MODEL}", MESSAGES, stream=True, aws_region_name="eu-west-3")
    chunks = list(stream)
    response = litellm_sync.stream_chunk_builder(chunks)
    message = response.choices[0].message
    assert (message.content, message.reasoning_content) == ("Let me check.", "Use the tool.")
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls] == [
        ("tooluse_1", "get_weather", {"city": "Paris"})]
    assert response.choices[0].finish_reason == "tool_calls"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (100, 20)
    assert [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content] == [
        "Let me ", "check."]
    sent = rsps.calls[0].request
    assert sent.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-3/bedrock/aws4_request" in sent.headers["authorization"]
    assert "aws_region_name" not in json.loads(sent.body)


def test_converse_stream_with_a_bedrock_api_key_from_the_environment(
    client: Any, rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key")
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    rsps.add("POST", "https://bedrock-runtime.ap-southeast-2.amazonaws.com" + PATH + "-stream", body=STREAM,
             content_type="application/vnd.amazon.eventstream")
    text = "".join(chunk.choices[0].delta.content or "" for chunk in
                   client.completion(f"bedrock/{MODEL}", MESSAGES, stream=True) if chunk.choices)
    assert text == "Let me check."
    assert rsps.calls[0].request.headers["authorization"] == "Bearer bedrock-api-key"


def test_the_region_falls_back_to_aws_default_region_then_us_east_1(
    client: Any, rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    rsps.add("POST", "https://bedrock-runtime.us-east-1.amazonaws.com" + PATH, json=ANSWER)
    rsps.add("POST", "https://bedrock-runtime.eu-central-1.amazonaws.com" + PATH, json=ANSWER)
    client.completion(f"bedrock/{MODEL}", MESSAGES)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    client.completion(f"bedrock/{MODEL}", MESSAGES)
    assert "/us-east-1/bedrock/" in rsps.calls[0].request.headers["authorization"]
    assert "/eu-central-1/bedrock/" in rsps.calls[1].request.headers["authorization"]


@pytest.mark.parametrize(
    ("error_type", "status", "message", "expected"),
    [
        ("ThrottlingException", 429, "Too many requests, please wait before trying again.", RateLimitError),
        ("ValidationException", 400, "Input is too long for requested model.", ContextWindowExceededError),
        ("ValidationException", 400, "The model returned the following errors: max_tokens: Field required",
         BadRequestError),
        ("UnrecognizedClientException", 403, "The security token included in the request is invalid.",
         AuthenticationError),
        ("ModelErrorException", 424, "The model failed to process the request.", InternalServerError),
    ],
)
def test_errors_are_classed_by_x_amzn_errortype(
    client: Any, rsps: responses.RequestsMock, error_type: str, status: int, message: str, expected: type
) -> None:
    rsps.add("POST", "https://bedrock-runtime.us-east-1.amazonaws.com" + PATH, status=status,
             json={"message": message},
             headers={"x-amzn-ErrorType": f"{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/",
                      "x-amzn-RequestId": "req-123"})
    with pytest.raises(expected) as caught:
        client.completion(f"bedrock/{MODEL}", MESSAGES, api_key="k")
    assert type(caught.value) is expected
    assert (caught.value.message, caught.value.request_id) == (message, "req-123")


@pytest.mark.parametrize(
    ("exception", "message", "expected"),
    [
        ("throttlingException", "Too many tokens, please wait.", RateLimitError),
        ("validationException", "Input is too long for requested model.", ContextWindowExceededError),
        ("modelStreamErrorException", "The model stream failed.", InternalServerError),
    ],
)
def test_in_band_stream_exceptions_are_typed(
    client: Any, rsps: responses.RequestsMock, exception: str, message: str, expected: type
) -> None:
    body = _event("messageStart", {"role": "assistant"}) + encode_message(
        {":message-type": "exception", ":exception-type": exception, ":content-type": "application/json"},
        json.dumps({"message": message}).encode())
    rsps.add("POST", "https://bedrock-runtime.us-east-1.amazonaws.com" + PATH + "-stream", body=body,
             content_type="application/vnd.amazon.eventstream")
    stream = client.completion(f"bedrock/{MODEL}", MESSAGES, stream=True, api_key="k")
    with pytest.raises(expected, match=message) as caught:
        list(stream)
    assert type(caught.value) is expected


def test_a_damaged_stream_is_a_typed_error(client: Any, rsps: responses.RequestsMock) -> None:
    damaged = bytearray(STREAM)
    damaged[40] ^= 0xFF
    rsps.add("POST", "https://bedrock-runtime.us-east-1.amazonaws.com" + PATH + "-stream", body=bytes(damaged),
             content_type="application/vnd.amazon.eventstream")
    with pytest.raises(litellm_sync.APIResponseValidationError, match="CRC32"):
        list(client.completion(f"bedrock/{MODEL}", MESSAGES, stream=True, api_key="k"))


def test_unknown_parameters_are_refused_not_sent(client: Any) -> None:
    with pytest.raises(UnsupportedParamsError, match="top_k"):
        client.completion(f"bedrock/{MODEL}", MESSAGES, api_key="k", top_k=5)


def test_streamed_reasoning_goes_back_with_its_signature_in_the_next_request(
    client: Any, rsps: responses.RequestsMock
) -> None:
    base = "https://bedrock-runtime.us-east-1.amazonaws.com" + PATH
    rsps.add("POST", base + "-stream", body=STREAM, content_type="application/vnd.amazon.eventstream")
    rsps.add("POST", base, json={"output": {"message": {"role": "assistant", "content": [{"text": "21C"}]}},
                                 "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 1}})
    chunks = list(client.completion(f"bedrock/{MODEL}", MESSAGES, stream=True, api_key="k"))
    message = litellm_sync.stream_chunk_builder(chunks).choices[0].message
    assert message.thinking_blocks == [{"thinking": "Use the tool.", "signature": "c2ln"}]
    call = message.tool_calls[0]
    history = [*MESSAGES, message.to_dict(), {"role": "tool", "tool_call_id": call.id, "content": "21C"}]
    client.completion(f"bedrock/{MODEL}", history, api_key="k")
    sent = json.loads(rsps.calls[1].request.body)["messages"][1]
    assert sent == {"role": "assistant", "content": [
        {"reasoningContent": {"reasoningText": {"text": "Use the tool.", "signature": "c2ln"}}},
        {"text": "Let me check."},
        {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}},
    ]}


def test_redacted_and_anthropic_style_reasoning_blocks_go_back_as_reasoning_content(client: Any) -> None:
    provider, name, info = client.resolve(f"bedrock/{MODEL}")
    assistant = {"role": "assistant", "content": "Hi", "thinking_blocks": [
        {"data": "cmVkYWN0ZWQ="}, {"type": "thinking", "thinking": "Hmm.", "signature": "c2ln"}]}
    request = provider.builder.build(name, [*MESSAGES, assistant, {"role": "user", "content": "Go on"}], {},
                                     stream=False, api_key="k", api_base=None, api_version=None,
                                     extra_headers=None, drop_params=False, info=info)
    assert json.loads(request.body)["messages"][1]["content"] == [
        {"reasoningContent": {"redactedContent": "cmVkYWN0ZWQ="}},
        {"reasoningContent": {"reasoningText": {"text": "Hmm.", "signature": "c2ln"}}},
        {"text": "Hi"},
    ]
