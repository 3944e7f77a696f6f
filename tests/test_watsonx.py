"""IBM watsonx.ai and the generic `token_exchange` auth mechanism: the API key is traded once at IBM Cloud IAM
for a bearer token (cached per key, refreshed before it expires, by one thread for all), then the OpenAI-shaped
chat API is called with model_id, project_id and the version date. Shapes from the watsonx.ai API reference
(text chat, text chat stream) and IBM Cloud IAM (token from an API key)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses

import litellm_sync
from litellm_sync._engine import auth_token
from litellm_sync.exceptions import AuthenticationError, MissingAPIKeyError, SpecError
from litellm_sync.retry import RetryPolicy

IAM = "https://iam.cloud.ibm.com/identity/token"
CHAT = "https://us-south.ml.cloud.ibm.com/ml/v1/text/chat?version=2025-02-11"
MODEL = "ibm/granite-3-3-8b-instruct"
MESSAGES = [{"role": "user", "content": "Hi"}]
KEY = "ibm-cloud-api-key-0123456789"
ANSWER = {"id": "chat-1", "model_id": MODEL, "created": 1, "choices": [{"index": 0, "message": {
    "role": "assistant", "content": "Hello"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}


def _token(value: str = "iam-token-1", expires_in: int = 3600) -> dict[str, Any]:
    return {"access_token": value, "refresh_token": "not_supported", "token_type": "Bearer",
            "expires_in": expires_in, "expiration": 1_900_000_000, "scope": "ibm openid"}


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WATSONX_APIKEY", "WATSONX_API_KEY", "WATSONX_URL", "WATSONX_API_BASE", "WATSONX_REGION",
                 "WATSONX_PROJECT_ID", "WATSONX_PROJECT", "WATSONX_API_VERSION"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def _client() -> litellm_sync.Client:
    return litellm_sync.Client(max_retries=0)


def test_the_key_is_exchanged_once_and_the_token_authorizes_each_call(
    rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATSONX_APIKEY", KEY)
    monkeypatch.setenv("WATSONX_PROJECT_ID", "proj-1")
    rsps.add("POST", IAM, json=_token())
    rsps.add("POST", CHAT, json=ANSWER)
    rsps.add("POST", CHAT, json=ANSWER)
    with _client() as client:
        first = client.completion(f"watsonx/{MODEL}", MESSAGES, tool_choice="required", temperature=0.2)
        client.completion(f"watsonx/{MODEL}", MESSAGES)
    assert first.content == "Hello" and first.model == MODEL
    exchange = rsps.calls[0].request
    assert parse_qs(exchange.body) == {"grant_type": ["urn:ibm:params:oauth:grant-type:apikey"], "apikey": [KEY]}
    assert exchange.headers["Content-Type"] == "application/x-www-form-urlencoded"
    chats = [call.request for call in rsps.calls[1:]]
    assert [r.headers["Authorization"] for r in chats] == ["Bearer iam-token-1"] * 2
    assert json.loads(chats[0].body) == {"model_id": MODEL, "messages": MESSAGES, "project_id": "proj-1",
                                         "tool_choice_option": "required", "temperature": 0.2}
    assert all(KEY.encode() not in r.body and KEY not in str(r.headers) for r in chats)  # the key stays with IAM


def test_an_expiring_token_is_exchanged_again(rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(auth_token.time, "monotonic", lambda: now[0])
    rsps.add("POST", IAM, json=_token("iam-token-1", 3600))
    rsps.add("POST", IAM, json=_token("iam-token-2", 3600))
    for _ in range(3):
        rsps.add("POST", CHAT, json=ANSWER)
    with _client() as client:
        client.completion(f"watsonx/{MODEL}", MESSAGES, api_key=KEY, project_id="p")
        now[0] += 3600 - 300 - 1  # still inside its life minus the refresh margin (a tenth, at most 5 min)
        client.completion(f"watsonx/{MODEL}", MESSAGES, api_key=KEY, project_id="p")
        now[0] += 2  # within the margin: refreshed before use
        client.completion(f"watsonx/{MODEL}", MESSAGES, api_key=KEY, project_id="p")
    sent = [c.request.headers.get("Authorization") for c in rsps.calls if c.request.url.startswith(CHAT)]
    assert sent == ["Bearer iam-token-1", "Bearer iam-token-1", "Bearer iam-token-2"]


def test_threads_share_one_exchange(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", IAM, json=_token())
    for _ in range(8):
        rsps.add("POST", CHAT, json=ANSWER)
    errors: list[BaseException] = []
    with _client() as client:
        def call() -> None:
            try:
                client.completion(f"watsonx/{MODEL}", MESSAGES, api_key=KEY, space_id="s")
            except BaseException as exc:
                errors.append(exc)
        threads = [threading.Thread(target=call) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert sum(1 for c in rsps.calls if c.request.url == IAM) == 1


def test_a_refused_key_is_an_authentication_error_that_never_shows_the_key(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", IAM, status=400, json={"errorCode": "BXNIM0415E", "errorMessage":
                                             f"Provided API key could not be found: {KEY}"})
    with _client() as client, pytest.raises(AuthenticationError) as caught:
        client.completion(f"watsonx/{MODEL}", MESSAGES, api_key=KEY, project_id="p")
    message = str(caught.value)
    assert "Provided API key could not be found" in message and "WATSONX_APIKEY" in message
    assert KEY not in message and KEY not in repr(caught.value)


def test_no_key_says_which_variables_to_set() -> None:
    with _client() as client, pytest.raises(MissingAPIKeyError, match="WATSONX_APIKEY"):
        client.completion(f"watsonx/{MODEL}", MESSAGES, project_id="p")


def test_a_stream_reads_to_the_end_without_a_done_marker(rsps: responses.RequestsMock) -> None:
    chunks = [
        {"id": "c", "model_id": MODEL, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]},
        {"id": "c", "model_id": MODEL, "choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}],
         "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}},
    ]
    body = "".join(f"id: {i}\nevent: message\ndata: {json.dumps(c)}\n\n" for i, c in enumerate(chunks, 1))
    rsps.add("POST", IAM, json=_token())
    rsps.add("POST", CHAT.replace("/chat?", "/chat_stream?"), body=body, content_type="text/event-stream")
    with _client() as client:
        response = client.completion(f"watsonx/{MODEL}", MESSAGES, api_key=KEY, project_id="p",
                                     stream=True).response()
    assert (response.content, response.usage.total_tokens) == ("Hello", 5)
    assert "stream" not in json.loads(rsps.calls[1].request.body)


def test_token_exchange_options_are_checked_when_the_spec_loads() -> None:
    spec = {"providers": {"t": {"extends": "openai_chat", "base_url": "https://t.example",
                                "auth": {"mechanism": "token_exchange", "form": {"k": "${api_key}"}, "tokn": "x"}}}}
    with pytest.raises(SpecError) as caught:
        litellm_sync.Client(providers=spec)
    assert "auth.tokn" in str(caught.value) and "auth.url" in str(caught.value)


def test_a_json_exchange_with_custom_token_path_and_header(rsps: responses.RequestsMock) -> None:
    spec = {"providers": {"gw": {
        "extends": "openai_chat", "base_url": "https://llm.example/v1",
        "auth": {"env": ["GW_KEY"], "mechanism": "token_exchange", "url": "https://login.example/token",
                 "json": {"client_secret": "${api_key}"}, "token": "data.jwt", "expires_in": "data.ttl",
                 "token_header": "X-Session", "token_value": "${token}"},
    }}}
    rsps.add("POST", "https://login.example/token", json={"data": {"jwt": "jwt-1", "ttl": 60}})
    rsps.add("POST", "https://llm.example/v1/chat/completions", json=ANSWER)
    with litellm_sync.Client(providers=spec, max_retries=0) as client:
        client.completion("gw/m", MESSAGES, api_key="secret-1")
    assert json.loads(rsps.calls[0].request.body) == {"client_secret": "secret-1"}
    sent = rsps.calls[1].request
    assert sent.headers["X-Session"] == "jwt-1" and "Authorization" not in sent.headers


def test_an_error_event_in_a_stream_is_a_typed_error(rsps: responses.RequestsMock) -> None:
    body = ('event: message\ndata: {"id": "c", "choices": [{"index": 0, "delta": {"content": "Hel"}}]}\n\n'
            'event: error\ndata: {"errors": [{"code": "token_quota_reached", "message": "Quota exceeded"}], '
            '"trace": "t-1", "status_code": 429}\n\n')
    rsps.add("POST", IAM, json=_token())
    rsps.add("POST", CHAT.replace("/chat?", "/chat_stream?"), body=body, content_type="text/event-stream")
    with _client() as client, pytest.raises(litellm_sync.RateLimitError, match="Quota exceeded"):
        list(client.completion(f"watsonx/{MODEL}", MESSAGES, api_key=KEY, project_id="p", stream=True))


def test_a_token_endpoint_outage_is_retryable_and_retried(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", IAM, status=503, body="upstream unavailable")
    rsps.add("POST", IAM, json=_token())
    rsps.add("POST", CHAT, json=ANSWER)
    with litellm_sync.Client(retry_policy=RetryPolicy(max_retries=1, sleep=lambda _s: None)) as client:
        assert client.completion(f"watsonx/{MODEL}", MESSAGES, api_key=KEY, project_id="p").content == "Hello"
    with _client() as client:
        rsps.add("POST", IAM, status=503, body="upstream unavailable")
        with pytest.raises(litellm_sync.ServiceUnavailableError, match="try again") as caught:
            client.completion(f"watsonx/{MODEL}", MESSAGES, api_key=KEY + "x", project_id="p")
    assert caught.value.retryable
