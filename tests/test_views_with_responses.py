"""The Flask and Django example views tested the way a user tests their own: `responses` with
`litellm_sync.testing.mock_completion` (the provider's own reply at its real URL), and `mock_response=`
passed through the view's call options. No server, no socket: every request is answered by `responses`."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("flask")
pytest.importorskip("django")

import responses

import litellm_sync
from litellm_sync.testing import mock_completion

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
KEY = "sk-views-test-0123456789abcdef"
MODELS = ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5", "gemini/gemini-2.5-flash"]


def load_example(name: str, path: Path) -> ModuleType:
    """Import an example file under a fixed module name (Django's ROOT_URLCONF is that name)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


flask_app = load_example("flask_chat_example", EXAMPLES / "flask_app.py")
django_app = load_example("django_chat_example", EXAMPLES / "django_app" / "app.py")


class FlaskViews:
    def __init__(self, client: litellm_sync.Client, model: str) -> None:
        self.app = flask_app.create_app(client, model, None, KEY)
        self.http = self.app.test_client()

    def options(self) -> dict[str, Any]:
        return self.app.config["CHAT_OPTIONS"]  # type: ignore[no-any-return]

    def post(self, url: str, payload: Any) -> tuple[int, dict[str, str], bytes]:
        response = self.http.post(url, data=json.dumps(payload), content_type="application/json")
        try:
            return response.status_code, dict(response.headers), response.get_data()
        finally:
            response.close()

    def get(self, url: str) -> tuple[int, dict[str, str], bytes]:
        response = self.http.get(url)
        try:
            return response.status_code, dict(response.headers), response.get_data()
        finally:
            response.close()


class DjangoViews:
    def __init__(self, client: litellm_sync.Client, model: str) -> None:
        from django.test import Client as DjangoClient

        django_app.configure(client, model, None, KEY)
        self.http = DjangoClient()

    def options(self) -> dict[str, Any]:
        return django_app.CHAT["options"]  # type: ignore[no-any-return]

    @staticmethod
    def unpack(response: Any) -> tuple[int, dict[str, str], bytes]:
        try:
            body = b"".join(response.streaming_content) if response.streaming else response.content
            return response.status_code, dict(response.items()), body
        finally:
            response.close()

    def post(self, url: str, payload: Any) -> tuple[int, dict[str, str], bytes]:
        return self.unpack(self.http.post(url, data=json.dumps(payload), content_type="application/json"))

    def get(self, url: str) -> tuple[int, dict[str, str], bytes]:
        return self.unpack(self.http.get(url))


@pytest.fixture
def client() -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(max_retries=0) as made:
        yield made


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture(params=[FlaskViews, DjangoViews], ids=["flask", "django"])
def views_for(request: pytest.FixtureRequest, client: litellm_sync.Client) -> Any:
    return lambda model: request.param(client, model)


def streamed_text(body: bytes) -> str:
    """The text of an OpenAI-format SSE body, as a browser's EventSource code would assemble it."""
    text = []
    for block in body.decode().split("\n\n"):
        if block.startswith("data: ") and block != "data: [DONE]":
            for choice in json.loads(block[len("data: "):]).get("choices", []):
                text.append(choice.get("delta", {}).get("content") or "")
    return "".join(text)


@pytest.mark.parametrize("model", MODELS)
def test_json_endpoint(views_for: Any, model: str, client: litellm_sync.Client, rsps: responses.RequestsMock) -> None:
    views = views_for(model)
    mock_completion(rsps, model, "Paris is sunny.", usage={"prompt_tokens": 8, "completion_tokens": 4}, client=client)
    status, _, body = views.post("/chat", {"message": "Weather in Paris?"})
    assert status == 200
    data = json.loads(body)
    assert data["content"] == "Paris is sunny."
    assert (data["usage"]["prompt_tokens"], data["usage"]["total_tokens"]) == (8, 12)
    assert data["cost"] is not None  # the mocked usage is priced like a real one
    sent = rsps.calls[0].request
    assert "Weather in Paris?" in sent.body.decode()  # what the view sent upstream
    assert any(KEY in value for value in sent.headers.values())  # the key the view configured


@pytest.mark.parametrize("model", MODELS)
def test_sse_endpoint(views_for: Any, model: str, client: litellm_sync.Client, rsps: responses.RequestsMock) -> None:
    views = views_for(model)
    mock_completion(rsps, model, stream=True, chunks=["Par", "is is ", "sunny."], client=client)
    status, headers, body = views.get("/stream?q=Weather%20in%20Paris%3F")
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    assert streamed_text(body) == "Paris is sunny."
    assert body.endswith(b"data: [DONE]\n\n")


@pytest.mark.parametrize("endpoint", ["chat", "stream"])
def test_rate_limit_becomes_429_with_retry_after(
    views_for: Any, endpoint: str, client: litellm_sync.Client, rsps: responses.RequestsMock
) -> None:
    model = "anthropic/claude-sonnet-4-5"
    views = views_for(model)
    mock_completion(rsps, model, status=429, message="rate limited", headers={"Retry-After": "12"},
                    stream=endpoint == "stream", client=client)
    if endpoint == "chat":
        status, headers, body = views.post("/chat", {"message": "hi"})
    else:
        status, headers, body = views.get("/stream?q=hi")
    assert status == 429 and headers["Retry-After"] == "12"
    assert json.loads(body)["error"]["type"] == "RateLimitError"


def test_provider_outage_becomes_502(views_for: Any, client: litellm_sync.Client, rsps: responses.RequestsMock) -> None:
    views = views_for("openai/gpt-4o-mini")
    mock_completion(rsps, "openai/gpt-4o-mini", status=503, message=f"down (key {KEY})", client=client)
    status, _, body = views.post("/chat", {"message": "hi"})
    assert status == 502
    assert json.loads(body)["error"]["type"] == "ServiceUnavailableError"
    assert KEY not in body.decode()


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
def test_mock_response_through_the_views_options(
    views_for: Any, stream: bool, rsps: responses.RequestsMock
) -> None:
    views = views_for("gemini/gemini-2.5-flash")
    views.options()["mock_response"] = "No network needed."
    if stream:
        status, _, body = views.get("/stream?q=hi")
        text = streamed_text(body)
    else:
        status, _, body = views.post("/chat", {"message": "hi"})
        text = json.loads(body)["content"]
    assert (status, text) == (200, "No network needed.")
    assert len(rsps.calls) == 0


def test_mock_response_error_through_the_views_options(views_for: Any) -> None:
    views = views_for("openai/gpt-4o-mini")
    views.options()["mock_response"] = litellm_sync.ContextWindowExceededError("prompt too long", provider="openai")
    status, _, body = views.post("/chat", {"message": "hi"})
    assert status == 400
    assert json.loads(body)["error"]["type"] == "ContextWindowExceededError"
