"""Tests for the Flask and Django example apps: JSON and SSE endpoints, error mapping, and a real threaded
WSGI server with concurrent streams and a client that hangs up mid-stream."""

from __future__ import annotations

import http.client
import importlib.util
import json
import socket
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import pytest

pytest.importorskip("flask")
pytest.importorskip("django")

from werkzeug.serving import make_server

import litellm_sync
from litellm_sync.testing import FakeProviderServer, Reply

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SECRET = "sk-web-test-secret-0123456789abcdef"
MODEL = "openai/gpt-4o-mini"


def load_example(name: str, path: Path) -> ModuleType:
    """Import an example file under a module name of our choosing (Django's ROOT_URLCONF is that name)."""
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


# -- adapters: one interface over both test clients -----------------------------------------------------


class FlaskAdapter:
    name = "flask"

    def __init__(self, client: litellm_sync.Client, api_base: str, api_key: str | None) -> None:
        self.app = flask_app.create_app(client, MODEL, api_base, api_key)
        self.test_client = self.app.test_client()

    def wsgi(self) -> Callable[..., Any]:
        return self.app  # type: ignore[no-any-return]

    def post_chat(self, payload: Any) -> tuple[int, bytes]:
        response = self.test_client.post("/chat", data=json.dumps(payload), content_type="application/json")
        try:
            return response.status_code, response.get_data()
        finally:
            response.close()

    def get(self, url: str) -> tuple[int, str, bytes]:
        response = self.test_client.get(url)
        try:
            return response.status_code, response.headers.get("Content-Type", ""), response.get_data()
        finally:
            response.close()


class DjangoAdapter:
    name = "django"

    def __init__(self, client: litellm_sync.Client, api_base: str, api_key: str | None) -> None:
        from django.test import Client as DjangoClient

        django_app.configure(client, MODEL, api_base, api_key)
        self.test_client = DjangoClient()

    def wsgi(self) -> Callable[..., Any]:
        from django.core.handlers.wsgi import WSGIHandler

        return WSGIHandler()

    def post_chat(self, payload: Any) -> tuple[int, bytes]:
        response = self.test_client.post("/chat", data=json.dumps(payload), content_type="application/json")
        return response.status_code, response.content

    def get(self, url: str) -> tuple[int, str, bytes]:
        response = self.test_client.get(url)
        try:
            body = b"".join(response.streaming_content) if response.streaming else response.content
            return response.status_code, response["Content-Type"], body
        finally:
            response.close()


Adapter = Any


@pytest.fixture
def client() -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(max_retries=0, timeout=10.0) as chat_client:
        yield chat_client


@pytest.fixture(params=[FlaskAdapter, DjangoAdapter], ids=["flask", "django"])
def web(request: pytest.FixtureRequest, server: FakeProviderServer, client: litellm_sync.Client) -> Adapter:
    return request.param(client, server.url, SECRET)


def sse_events(body: bytes) -> list[str]:
    """The data fields of an SSE body, in order."""
    return [block[len("data: ") :] for block in body.decode().split("\n\n") if block.startswith("data: ")]


def streamed_text(body: bytes) -> str:
    text = []
    for data in sse_events(body):
        if data != "[DONE]":
            for choice in json.loads(data).get("choices", []):
                text.append(choice.get("delta", {}).get("content") or "")
    return "".join(text)


def openai_error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status=status, json={"error": {"message": message, "type": "test_error"}}, headers=headers or {})


# -- endpoints ------------------------------------------------------------------------------------------


def test_index_page(web: Adapter) -> None:
    status, content_type, body = web.get("/")
    assert status == 200 and content_type.startswith("text/html")
    assert b"EventSource" in body and b"[DONE]" in body


def test_chat_json(web: Adapter, server: FakeProviderServer) -> None:
    status, body = web.post_chat({"message": "hello web"})
    assert status == 200
    data = json.loads(body)
    assert data["content"] == "Echo: hello web"
    assert data["usage"]["completion_tokens"] == 3
    assert server.requests[-1].headers["authorization"] == f"Bearer {SECRET}"


def test_stream_sse(web: Adapter) -> None:
    status, content_type, body = web.get("/stream?q=hi%20there%20stream")
    assert status == 200 and content_type.startswith("text/event-stream")
    assert body.endswith(b"data: [DONE]\n\n")
    assert streamed_text(body) == "Echo: hi there stream"


@pytest.mark.parametrize("payload", [{}, {"message": ""}, {"message": 3}, "text", None])
def test_chat_bad_input_400(web: Adapter, payload: Any) -> None:
    status, body = web.post_chat(payload)
    assert status == 400
    assert json.loads(body)["error"]["type"] == "invalid_request"


def test_stream_bad_input_400(web: Adapter) -> None:
    status, _, body = web.get("/stream")
    assert status == 400
    assert json.loads(body)["error"]["type"] == "invalid_request"


@pytest.mark.parametrize(
    ("upstream", "expected_status", "expected_type"),
    [
        (429, 429, "RateLimitError"),
        (400, 400, "BadRequestError"),
        (500, 502, "InternalServerError"),
        (503, 502, "ServiceUnavailableError"),
        (401, 502, "AuthenticationError"),
    ],
)
@pytest.mark.parametrize("endpoint", ["chat", "stream"])
def test_error_mapping(
    web: Adapter, server: FakeProviderServer, upstream: int, expected_status: int, expected_type: str, endpoint: str
) -> None:
    # Providers sometimes echo the key back; the app must not pass it on.
    server.enqueue(openai_error(upstream, f"failed for key {SECRET}"))
    if endpoint == "chat":
        status, body = web.post_chat({"message": "hi"})
    else:
        status, _, body = web.get("/stream?q=hi")
    assert status == expected_status
    error = json.loads(body)["error"]
    assert error["type"] == expected_type
    assert SECRET not in body.decode()
    assert "Traceback" not in body.decode()


def test_rate_limit_retry_after(web: Adapter, server: FakeProviderServer) -> None:
    server.enqueue(openai_error(429, "slow down", {"Retry-After": "7"}))
    if web.name == "flask":
        response = web.test_client.post("/chat", json={"message": "hi"})
        retry_after = response.headers.get("Retry-After")
        response.close()
    else:
        response = web.test_client.post("/chat", data={"message": "hi"}, content_type="application/json")
        retry_after = response.get("Retry-After")
    assert response.status_code == 429
    assert retry_after == "7"


def test_missing_key_is_server_error(
    server: FakeProviderServer, client: litellm_sync.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("LITELLM_SYNC_API_KEY", raising=False)
    for adapter in (FlaskAdapter(client, server.url, None), DjangoAdapter(client, server.url, None)):
        status, body = adapter.post_chat({"message": "hi"})
        assert status == 500
        assert json.loads(body)["error"]["type"] == "MissingAPIKeyError"


def test_error_mid_stream_becomes_event(web: Adapter, server: FakeProviderServer) -> None:
    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m",
             "choices": [{"index": 0, "delta": {"content": "partial"}, "finish_reason": None}]}
    failure = {"error": {"message": f"overloaded {SECRET}", "type": "server_error", "code": "overloaded"}}
    server.enqueue(Reply(events=[f"data: {json.dumps(chunk)}\n\n", f"data: {json.dumps(failure)}\n\n"]))
    status, _, body = web.get("/stream?q=hi")
    assert status == 200
    events = sse_events(body)
    assert json.loads(events[0])["choices"][0]["delta"]["content"] == "partial"
    assert "error" in json.loads(events[-2])
    assert events[-1] == "[DONE]"
    assert SECRET not in body.decode()


# -- a real threaded WSGI server ------------------------------------------------------------------------


def serve(app: Callable[..., Any]) -> tuple[Any, threading.Thread]:
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return httpd, thread


def fetch_stream(port: int, question: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/stream?q=" + question.replace(" ", "%20"))
        response = conn.getresponse()
        assert response.status == 200
        return response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("adapter_class", [FlaskAdapter, DjangoAdapter], ids=["flask", "django"])
def test_threaded_server_streams_and_disconnect(
    adapter_class: type, server: FakeProviderServer, client: litellm_sync.Client
) -> None:
    web = adapter_class(client, server.url, SECRET)
    httpd, thread = serve(web.wsgi())
    port = httpd.server_port
    try:
        # Eight concurrent streams, each answer complete and belonging to its own request.
        questions = [f"question number {n}" for n in range(8)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            bodies = list(pool.map(lambda q: fetch_stream(port, q), questions))
        for question, body in zip(questions, bodies):
            assert body.endswith(b"data: [DONE]\n\n")
            assert streamed_text(body) == f"Echo: {question}"

        # A client that hangs up mid-stream: the app closes the stream, which releases the upstream connection.
        client.close()  # drop idle pooled connections so the count below is this stream's alone
        assert server.wait_for_open_connections(0, timeout=5)
        chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                 "choices": [{"index": 0, "delta": {"content": "tick "}, "finish_reason": None}]}
        events = [f"data: {json.dumps(chunk)}\n\n"] * 400 + ["data: [DONE]\n\n"]
        server.enqueue(Reply(events=events, chunk_delay=0.01))
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            sock.sendall(b"GET /stream?q=long HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            received = b""
            while b"tick" not in received:
                received += sock.recv(4096)
            assert received.startswith(b"HTTP/1.1 200")
            assert server.open_connections == 1
        finally:
            sock.close()
        assert server.wait_for_open_connections(0, timeout=5), "upstream connection not released"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
