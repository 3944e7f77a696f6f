"""Google Vertex AI (Gemini models through the Gemini dialect): the URL built from project and location (call
arguments, VERTEXAI_* and Google's variables, the `global` location's host), google_oauth with a fake
credentials object standing in for google-auth, and an access token passed as api_key=."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import responses
from auth_support import FakeCredentials

import litellm_sync
from litellm_sync.exceptions import ConfigurationError, RateLimitError

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
ANSWER = {
    "candidates": [{"content": {"role": "model", "parts": [{"text": "Hello"}]}, "finishReason": "STOP"}],
    "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 1, "totalTokenCount": 5},
    "modelVersion": "gemini-2.5-flash",
}
REGIONAL = ("https://europe-west4-aiplatform.googleapis.com/v1/projects/my-project/locations/europe-west4/"
            "publishers/google/models/gemini-2.5-flash:generateContent")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VERTEXAI_PROJECT", "VERTEX_PROJECT", "GOOGLE_CLOUD_PROJECT", "VERTEXAI_LOCATION", "VERTEX_LOCATION",
                 "GOOGLE_CLOUD_LOCATION", "VERTEXAI_API_BASE", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture(scope="module")
def client() -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(max_retries=0) as made:
        yield made


def test_gemini_on_vertex_with_google_oauth_credentials(client: Any, rsps: responses.RequestsMock) -> None:
    rsps.add("POST", REGIONAL, json=ANSWER)
    fake = FakeCredentials()
    answer = client.completion("vertex_ai/gemini-2.5-flash", MESSAGES, vertex_project="my-project",
                               vertex_location="europe-west4", vertex_credentials=fake, temperature=0.5)
    assert (answer.content, answer.usage.total_tokens) == ("Hello", 5)
    sent = rsps.calls[0].request
    assert sent.headers["authorization"] == "Bearer ya29.fresh-1"
    assert fake.refreshes == 1
    assert json.loads(sent.body) == {  # the Gemini body: no Vertex call argument leaks into it
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "generationConfig": {"temperature": 0.5},
    }


def test_project_and_location_from_the_environment_and_the_default_location(
    client: Any, rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "google-project")
    rsps.add("POST", "https://us-central1-aiplatform.googleapis.com/v1/projects/google-project/locations/us-central1/"
             "publishers/google/models/gemini-2.5-pro:generateContent", json=ANSWER)
    client.completion("vertex_ai/gemini-2.5-pro", MESSAGES, api_key="ya29.token")
    monkeypatch.setenv("VERTEXAI_PROJECT", "my-project")  # VERTEXAI_* come first
    monkeypatch.setenv("VERTEXAI_LOCATION", "europe-west4")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "asia-east1")
    rsps.add("POST", REGIONAL, json=ANSWER)
    client.completion("vertex_ai/gemini-2.5-flash", MESSAGES, api_key="ya29.token")
    assert rsps.calls[1].request.headers["authorization"] == "Bearer ya29.token"


def test_the_global_location_uses_the_global_host(client: Any, rsps: responses.RequestsMock) -> None:
    rsps.add("POST", "https://aiplatform.googleapis.com/v1/projects/p-1/locations/global/publishers/google/models/"
             "gemini-2.5-flash:streamGenerateContent?alt=sse",
             body=b'data: {"candidates": [{"content": {"parts": [{"text": "Hel"}]}}]}\n\n'
                  b'data: {"candidates": [{"content": {"parts": [{"text": "lo"}]}, "finishReason": "STOP"}]}\n\n',
             content_type="text/event-stream")
    stream = client.completion("vertex_ai/gemini-2.5-flash", MESSAGES, api_key="ya29.t", stream=True,
                               vertex_project="p-1", vertex_location="global")
    assert stream.response().content == "Hello"


def test_a_missing_project_says_what_to_set(client: Any) -> None:
    with pytest.raises(ConfigurationError, match="needs its project: pass vertex_project= or set VERTEXAI_PROJECT"):
        client.completion("vertex_ai/gemini-2.5-flash", MESSAGES, api_key="ya29.t")


def test_a_location_cannot_change_the_host(client: Any) -> None:
    with pytest.raises(ConfigurationError, match="not a valid host name"):
        client.completion("vertex_ai/gemini-2.5-flash", MESSAGES, api_key="ya29.t", vertex_project="p",
                          vertex_location="evil.example/x")


def test_vertex_errors_use_the_gemini_table(client: Any, rsps: responses.RequestsMock) -> None:
    rsps.add("POST", REGIONAL, status=429,
             json={"error": {"code": 429, "message": "Resource exhausted.", "status": "RESOURCE_EXHAUSTED"}})
    with pytest.raises(RateLimitError, match="Resource exhausted"):
        client.completion("vertex_ai/gemini-2.5-flash", MESSAGES, api_key="ya29.t", vertex_project="my-project",
                          vertex_location="europe-west4")


# -- Anthropic Claude on Vertex AI: vertex_ai/claude-... routes to the Messages dialect -----------------------

CLAUDE = ("https://us-east5-aiplatform.googleapis.com/v1/projects/my-project/locations/us-east5/publishers/anthropic/"
          "models/claude-sonnet-4-5@20250929")
CLAUDE_ANSWER = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
                 "content": [{"type": "text", "text": "Hello"}], "stop_reason": "end_turn",
                 "usage": {"input_tokens": 4, "output_tokens": 1}}


def test_claude_on_vertex_uses_raw_predict_and_the_version_in_the_body(
    client: Any, rsps: responses.RequestsMock
) -> None:
    rsps.add("POST", CLAUDE + ":rawPredict", json=CLAUDE_ANSWER)
    fake = FakeCredentials()
    answer = client.completion("vertex_ai/claude-sonnet-4-5@20250929", MESSAGES, vertex_project="my-project",
                               vertex_credentials=fake, max_tokens=64)
    assert (answer.content, answer.usage.total_tokens) == ("Hello", 5)
    sent = rsps.calls[0].request
    assert sent.headers["authorization"] == "Bearer ya29.fresh-1"
    assert "anthropic-version" not in sent.headers
    assert json.loads(sent.body) == {
        "anthropic_version": "vertex-2023-10-16",
        "system": [{"type": "text", "text": "Be brief."}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        "max_tokens": 64,
    }


def test_claude_on_vertex_streams_with_stream_raw_predict(client: Any, rsps: responses.RequestsMock) -> None:
    events = [
        ("message_start", {"type": "message_start", "message": {"id": "msg_1", "role": "assistant",
                                                                "usage": {"input_tokens": 4, "output_tokens": 0}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": "Hel"}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": "lo"}}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                           "usage": {"output_tokens": 2}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    body = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events).encode()
    rsps.add("POST", CLAUDE + ":streamRawPredict", body=body, content_type="text/event-stream")
    stream = client.completion("vertex_ai/claude-sonnet-4-5@20250929", MESSAGES, api_key="ya29.t", stream=True,
                               vertex_project="my-project", max_tokens=64)
    response = stream.response()
    assert (response.content, response.choices[0].finish_reason) == ("Hello", "stop")
    assert json.loads(rsps.calls[0].request.body)["stream"] is True


def test_a_route_to_an_unknown_provider_is_a_spec_error() -> None:
    spec = {"providers": {"a": {"extends": "openai_chat", "base_url": "https://a.test",
                                "routes": [{"prefix": "x-", "provider": "nowhere"}]}}}
    with pytest.raises(litellm_sync.SpecError, match=r"providers.a.routes\[0\].provider: no provider named 'nowhere'"):
        litellm_sync.Client(providers=spec)


def test_claude_on_the_global_endpoint_is_priced_from_the_registry(client: Any, rsps: responses.RequestsMock) -> None:
    rsps.add("POST", "https://aiplatform.googleapis.com/v1/projects/my-project/locations/global/publishers/anthropic/"
             "models/claude-sonnet-4-5@20250929:rawPredict", json=CLAUDE_ANSWER)
    answer = client.completion("vertex_ai/claude-sonnet-4-5@20250929", MESSAGES, api_key="ya29.t",
                               vertex_project="my-project", vertex_location="global")
    assert answer.cost == (4 * Decimal("3.00") + 1 * Decimal("15.00")) / 1_000_000
    # No max_tokens given: the registry's limit for the model is sent (Anthropic's Messages API requires one).
    assert json.loads(rsps.calls[0].request.body)["max_tokens"] == 64000


def test_gemini_on_vertex_is_priced_and_an_unlisted_model_costs_none(client: Any, rsps: responses.RequestsMock) -> None:
    rsps.add("POST", REGIONAL, json=ANSWER)
    rsps.add("POST", REGIONAL.replace("gemini-2.5-flash", "gemini-9-experimental"), json=ANSWER)
    priced = client.completion("vertex_ai/gemini-2.5-flash", MESSAGES, api_key="ya29.t", vertex_project="my-project",
                               vertex_location="europe-west4")
    assert priced.cost == (4 * Decimal("0.30") + 1 * Decimal("2.50")) / 1_000_000
    unlisted = client.completion("vertex_ai/gemini-9-experimental", MESSAGES, api_key="ya29.t",
                                 vertex_project="my-project", vertex_location="europe-west4")
    assert unlisted.content == "Hello" and unlisted.cost is None  # unknown price: None, never 0
