"""What reaches the wire, seen by `responses` at the requests layer: every golden request case sent through
`completion()` arrives with the hand-written method, URL, headers and body; plus the transport's own rules
(no cookies kept, no redirects followed, unsafe headers refused before anything is sent)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import responses

import litellm_sync
from litellm_sync.testing import mock_completion
from litellm_sync.testing.mock import make_answer, written_reply

CASES = sorted((Path(__file__).parent / "cases" / "golden").glob("*/*.json"))
SENDABLE = [path for path in CASES if "error" not in json.loads(path.read_text(encoding="utf-8"))["expect"]]
MESSAGES = [{"role": "user", "content": "Hello"}]



@pytest.fixture(autouse=True)
def _no_token_exchange(monkeypatch: pytest.MonkeyPatch) -> None:
    # token_exchange providers (watsonx) trade the key at an outside endpoint (tested in test_watsonx.py).
    monkeypatch.setattr("litellm_sync._engine.auth_token.TokenCache.current", lambda self: "test-token")

@pytest.fixture(autouse=True)
def _no_base_url_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL", "GEMINI_API_BASE",
                 "OLLAMA_API_BASE", "OLLAMA_HOST", "AZURE_API_VERSION", "OPENAI_API_VERSION", "AWS_REGION",
                 "AWS_DEFAULT_REGION", "BEDROCK_API_BASE", "VERTEXAI_API_BASE", "VERTEXAI_LOCATION",
                 "VERTEX_LOCATION", "GOOGLE_CLOUD_LOCATION"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def client() -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(max_retries=0) as made:
        yield made


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


@pytest.mark.parametrize("path", SENDABLE, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_request_on_the_wire(client: litellm_sync.Client, rsps: responses.RequestsMock, path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    expect = case["expect"]
    provider, model, _ = client.resolve(f"{case['provider']}/{case['model']}")
    data, content_type = written_reply(provider, make_answer(model, "ok"), case["stream"])
    rsps.add(expect["method"], without_query(expect["url"]), body=data, content_type=content_type)
    answer = client.completion(f"{case['provider']}/{case['model']}", case["messages"], stream=case["stream"],
                               api_key="sk-test", api_base=case.get("api_base"), **case["params"])
    if case["stream"]:
        answer = answer.response()
    assert answer.content == "ok"
    sent = rsps.calls[0].request
    assert (sent.method, sent.url) == (expect["method"], expect["url"])
    for name, value in expect["headers"].items():
        assert sent.headers.get(name) == value, name
    assert json.loads(sent.body) == expect["body"]
    assert len(rsps.calls) == 1


def test_extra_headers_reach_the_wire_and_the_key_stays_out_of_the_url(
    client: litellm_sync.Client, rsps: responses.RequestsMock
) -> None:
    mock_completion(rsps, "anthropic/claude-sonnet-4-5", "hi", client=client)
    client.completion("anthropic/claude-sonnet-4-5", MESSAGES, api_key="sk-ant-secret",
                      extra_headers={"anthropic-beta": "prompt-caching-2024-07-31", "X-Trace": "t-1"})
    sent = rsps.calls[0].request
    assert sent.headers["anthropic-beta"] == "prompt-caching-2024-07-31"
    assert sent.headers["x-trace"] == "t-1"
    assert sent.headers["x-api-key"] == "sk-ant-secret"
    assert "sk-ant-secret" not in sent.url
    assert "authorization" not in {name.lower() for name in sent.headers}


@pytest.mark.parametrize(
    "headers", [{"X-Evil": "a\r\nInjected: 1"}, {"Bad\nName": "v"}], ids=["value", "name"]
)
def test_header_injection_is_refused_before_sending(
    client: litellm_sync.Client, rsps: responses.RequestsMock, headers: dict[str, str]
) -> None:
    with pytest.raises(litellm_sync.ConfigurationError, match="was not sent"):
        client.completion("openai/gpt-4o-mini", MESSAGES, api_key="sk-x", extra_headers=headers)
    assert len(rsps.calls) == 0


def test_a_cookie_set_by_a_provider_is_never_sent_back(
    client: litellm_sync.Client, rsps: responses.RequestsMock
) -> None:
    for _ in range(2):
        mock_completion(rsps, "openai/gpt-4o-mini", "hi", headers={"Set-Cookie": "session=alice; Path=/"},
                        client=client)
    client.completion("openai/gpt-4o-mini", MESSAGES, api_key="sk-alice")
    client.completion("openai/gpt-4o-mini", MESSAGES, api_key="sk-bob")
    assert "cookie" not in {name.lower() for name in rsps.calls[1].request.headers}


@pytest.mark.parametrize("status", [301, 307, 308])
def test_redirects_are_not_followed(client: litellm_sync.Client, rsps: responses.RequestsMock, status: int) -> None:
    rsps.add("POST", "https://api.openai.com/v1/chat/completions", status=status,
             headers={"Location": "https://elsewhere.example/v1/chat/completions"})
    with pytest.raises(litellm_sync.APIStatusError, match=r"elsewhere\.example") as caught:
        client.completion("openai/gpt-4o-mini", MESSAGES, api_key="sk-x")
    assert caught.value.status_code == status
    assert len(rsps.calls) == 1


def test_each_call_sends_its_own_key(client: litellm_sync.Client, rsps: responses.RequestsMock) -> None:
    mocked = mock_completion(rsps, "gemini/gemini-2.5-flash", "hi", client=client)
    for key in ("key-one", "key-two"):
        client.completion("gemini/gemini-2.5-flash", MESSAGES, api_key=key)
    assert [c.request.headers["x-goog-api-key"] for c in rsps.calls] == ["key-one", "key-two"]
    assert mocked.call_count == 2


def test_a_users_session_sees_the_request(rsps: responses.RequestsMock) -> None:
    import requests

    seen: list[Any] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, *args, **kwargs: seen.append(response.request.url))
    with litellm_sync.Client(session=session, max_retries=0) as own:
        mock_completion(rsps, "openai/gpt-4o-mini", "hi", client=own)
        assert own.completion("openai/gpt-4o-mini", MESSAGES, api_key="sk-x").content == "hi"
    assert seen == ["https://api.openai.com/v1/chat/completions"]
