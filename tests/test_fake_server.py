"""Tests for the fake LLM provider server in litellm_sync.testing."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from litellm_sync.testing import FakeProviderServer, RecordedRequest, Reply

REPO_ROOT = Path(__file__).resolve().parent.parent
USER_MESSAGES = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "hello there world"},
]
ECHO = "Echo: hello there world"


def request(
    server: FakeProviderServer,
    method: str,
    path: str,
    payload: object | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        body = None if payload is None else json.dumps(payload)
        conn.request(method, path, body=body, headers={"content-type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def post_json(server: FakeProviderServer, path: str, payload: object) -> dict[str, object]:
    status, _, body = request(server, "POST", path, payload)
    assert status == 200, body
    return json.loads(body)


def post_stream(
    server: FakeProviderServer, path: str, payload: object, headers: dict[str, str] | None = None
) -> tuple[http.client.HTTPMessage, str]:
    status, response_headers, body = request(server, "POST", path, payload, headers)
    assert status == 200, body
    assert response_headers["transfer-encoding"] == "chunked"
    assert response_headers["content-length"] is None
    return response_headers, body.decode()


def sse_events(raw: str) -> list[tuple[str | None, str]]:
    """(event name, data) per SSE event; asserts the blank-line framing."""
    assert raw.endswith("\n\n")
    events = []
    for block in raw[:-2].split("\n\n"):
        name = None
        data = []
        for line in block.split("\n"):
            field, _, value = line.partition(": ")
            assert field in ("event", "data"), line
            if field == "event":
                name = value
            else:
                data.append(value)
        events.append((name, "\n".join(data)))
    return events


def raw_chunks(server: FakeProviderServer, path: str, payload: object, headers: str = "") -> list[bytes]:
    """Send one request on a raw socket and return the HTTP chunks of the response body as sent."""
    body = json.dumps(payload).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head.encode() + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    response_head, _, rest = data.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in response_head.lower()
    chunks = []
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert rest == b"\r\n"
            return chunks
        chunks.append(rest[:size])
        assert rest[size : size + 2] == b"\r\n"
        rest = rest[size + 2 :]


# ---------------------------------------------------------------------------------------------------------
# Chat Completions style


def test_chat_completions_non_stream(server: FakeProviderServer) -> None:
    body = post_json(server, "/v1/chat/completions", {"model": "my-model", "messages": USER_MESSAGES})
    assert body["id"].startswith("chatcmpl-fake-")
    assert body["object"] == "chat.completion"
    assert isinstance(body["created"], int)
    assert body["model"] == "my-model"
    assert body["choices"] == [
        {"index": 0, "message": {"role": "assistant", "content": ECHO}, "finish_reason": "stop"}
    ]
    # 5 prompt words over both messages; "Echo:", " hello", " there", " world"
    assert body["usage"] == {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}


def test_chat_completions_any_prefix_query_and_content_parts(server: FakeProviderServer) -> None:
    messages = [
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "an answer"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look at"},
                {"type": "image_url", "image_url": {"url": "data:,"}},
                {"type": "text", "text": " this"},
            ],
        },
    ]
    path = "/openai/deployments/dep/chat/completions?api-version=2024-10-21"
    body = post_json(server, path, {"model": "m", "messages": messages})
    assert body["choices"][0]["message"]["content"] == "Echo: look at this"
    assert body["usage"]["prompt_tokens"] == 7
    recorded = server.requests[-1]
    assert recorded.path == "/openai/deployments/dep/chat/completions"
    assert recorded.query == {"api-version": "2024-10-21"}


def test_chat_completions_stream(server: FakeProviderServer) -> None:
    payload = {"model": "m", "stream": True, "messages": USER_MESSAGES}
    headers, raw = post_stream(server, "/v1/chat/completions", payload)
    assert headers["content-type"] == "text/event-stream"
    events = sse_events(raw)
    assert all(name is None for name, _ in events)
    assert events[-1][1] == "[DONE]"
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "m" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    content = [c["choices"][0]["delta"]["content"] for c in chunks[1:-2]]
    assert content == ["Echo:", " hello", " there", " world"]
    assert "".join(content) == ECHO
    assert chunks[-2]["choices"] == [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}


def test_each_default_stream_event_is_its_own_http_chunk(server: FakeProviderServer) -> None:
    payload = {"model": "m", "stream": True, "messages": USER_MESSAGES}
    chunks = raw_chunks(server, "/v1/chat/completions", payload)
    assert len(chunks) == 1 + 4 + 1 + 1 + 1
    assert all(c.startswith(b"data: ") and c.endswith(b"\n\n") and c.count(b"\n\n") == 1 for c in chunks)
    assert chunks[-1] == b"data: [DONE]\n\n"


# ---------------------------------------------------------------------------------------------------------
# Messages style


def test_messages_non_stream(server: FakeProviderServer) -> None:
    payload = {
        "model": "claude-x",
        "system": "be brief",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hello there world"}]}],
    }
    body = post_json(server, "/v1/messages", payload)
    assert body["id"].startswith("msg_fake_")
    assert body == {
        "id": body["id"],
        "type": "message",
        "role": "assistant",
        "model": "claude-x",
        "content": [{"type": "text", "text": ECHO}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 4},
    }


def test_messages_stream(server: FakeProviderServer) -> None:
    payload = {"model": "claude-x", "stream": True, "messages": [{"role": "user", "content": "hi you"}]}
    headers, raw = post_stream(server, "/v1/messages", payload)
    assert headers["content-type"] == "text/event-stream"
    assert "[DONE]" not in raw
    events = sse_events(raw)
    data = [json.loads(d) for _, d in events]
    assert [name for name, _ in events] == [d["type"] for d in data]
    assert [name for name, _ in events] == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * 3,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = data[0]["message"]
    assert start["content"] == []
    assert start["model"] == "claude-x"
    assert start["usage"] == {"input_tokens": 2, "output_tokens": 1}
    assert data[1] == {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    deltas = [d["delta"] for d in data[3:6]]
    assert all(d["type"] == "text_delta" for d in deltas)
    assert "".join(d["text"] for d in deltas) == "Echo: hi you"
    assert data[7]["delta"]["stop_reason"] == "end_turn"
    assert data[7]["usage"] == {"output_tokens": 3}


# ---------------------------------------------------------------------------------------------------------
# generateContent style


GEMINI_PAYLOAD = {
    "systemInstruction": {"parts": [{"text": "be brief"}]},
    "contents": [{"role": "user", "parts": [{"text": "hello "}, {"text": "there world"}]}],
}


def test_generate_content_non_stream(server: FakeProviderServer) -> None:
    body = post_json(server, "/v1beta/models/gem-1:generateContent", GEMINI_PAYLOAD)
    assert body == {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": ECHO}]}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 4, "totalTokenCount": 9},
        "modelVersion": "gem-1",
        "responseId": body["responseId"],
    }
    assert body["responseId"].startswith("fake-")


def test_generate_content_stream_sse(server: FakeProviderServer) -> None:
    path = "/v1/projects/p/locations/l/publishers/google/models/gem-2:streamGenerateContent?alt=sse"
    headers, raw = post_stream(server, path, GEMINI_PAYLOAD)
    assert headers["content-type"] == "text/event-stream"
    assert "[DONE]" not in raw
    events = [json.loads(data) for name, data in sse_events(raw) if name is None]
    assert len(events) == 4
    parts = [e["candidates"][0]["content"]["parts"] for e in events]
    assert all(len(p) == 1 for p in parts)
    assert "".join(p[0]["text"] for p in parts) == ECHO
    assert all("finishReason" not in e["candidates"][0] and "usageMetadata" not in e for e in events[:-1])
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"
    assert events[-1]["usageMetadata"] == {
        "promptTokenCount": 5,
        "candidatesTokenCount": 4,
        "totalTokenCount": 9,
    }
    assert {e["modelVersion"] for e in events} == {"gem-2"}


def test_generate_content_stream_without_sse_is_a_json_array(server: FakeProviderServer) -> None:
    _, raw = post_stream(server, "/v1beta/models/gem-1:streamGenerateContent", GEMINI_PAYLOAD)
    items = json.loads(raw)
    assert "".join(i["candidates"][0]["content"]["parts"][0]["text"] for i in items) == ECHO
    assert items[-1]["usageMetadata"]["totalTokenCount"] == 9


# ---------------------------------------------------------------------------------------------------------
# v2 chat style


def test_v2_chat_non_stream(server: FakeProviderServer) -> None:
    body = post_json(server, "/v2/chat", {"model": "cmd", "messages": USER_MESSAGES})
    counts = {"input_tokens": 5, "output_tokens": 4}
    assert body["finish_reason"] == "COMPLETE"
    assert body["message"] == {"role": "assistant", "content": [{"type": "text", "text": ECHO}]}
    assert body["usage"] == {"billed_units": counts, "tokens": counts}
    assert isinstance(body["id"], str)


def test_v2_chat_stream(server: FakeProviderServer) -> None:
    _, raw = post_stream(server, "/v2/chat", {"model": "cmd", "stream": True, "messages": USER_MESSAGES})
    assert "[DONE]" not in raw
    events = sse_events(raw)
    data = [json.loads(d) for _, d in events]
    assert [name for name, _ in events] == [d["type"] for d in data]
    assert [d["type"] for d in data] == [
        "message-start",
        "content-start",
        *["content-delta"] * 4,
        "content-end",
        "message-end",
    ]
    assert data[0]["delta"] == {"message": {"role": "assistant"}}
    assert data[1]["delta"]["message"]["content"] == {"type": "text", "text": ""}
    assert "".join(d["delta"]["message"]["content"]["text"] for d in data[2:6]) == ECHO
    assert all(d["index"] == 0 for d in data[1:7])
    counts = {"input_tokens": 5, "output_tokens": 4}
    assert data[-1]["delta"] == {
        "finish_reason": "COMPLETE",
        "usage": {"billed_units": counts, "tokens": counts},
    }


# ---------------------------------------------------------------------------------------------------------
# native chat style


def test_native_chat_streams_ndjson_by_default(server: FakeProviderServer) -> None:
    headers, raw = post_stream(server, "/api/chat", {"model": "llama", "messages": USER_MESSAGES})
    assert headers["content-type"] == "application/x-ndjson"
    assert raw.endswith("}\n")
    assert "data:" not in raw
    lines = [json.loads(line) for line in raw.splitlines()]
    assert all(line["done"] is False for line in lines[:-1])
    assert "".join(line["message"]["content"] for line in lines) == ECHO
    final = lines[-1]
    assert final["done"] is True
    assert final["done_reason"] == "stop"
    assert final["message"] == {"role": "assistant", "content": ""}
    assert (final["prompt_eval_count"], final["eval_count"]) == (5, 4)
    assert len(lines) == 5


def test_native_chat_non_stream(server: FakeProviderServer) -> None:
    payload = {"model": "llama", "stream": False, "messages": USER_MESSAGES}
    body = post_json(server, "/api/chat", payload)
    assert body["model"] == "llama"
    assert body["message"] == {"role": "assistant", "content": ECHO}
    assert body["done"] is True
    assert body["done_reason"] == "stop"
    assert (body["prompt_eval_count"], body["eval_count"]) == (5, 4)
    assert body["created_at"].endswith("Z")


# ---------------------------------------------------------------------------------------------------------
# Listings and errors


def test_models_listing() -> None:
    with FakeProviderServer(models=["a", "b", "c"]) as custom:
        status, _, body = request(custom, "GET", "/v1/models")
        assert status == 200
        assert json.loads(body) == {
            "object": "list",
            "data": [{"id": m, "object": "model", "owned_by": "fake"} for m in "abc"],
        }
        status, _, body = request(custom, "GET", "/api/tags")
        assert json.loads(body) == {"models": [{"name": m, "model": m} for m in "abc"]}


def test_default_models(server: FakeProviderServer) -> None:
    with urllib.request.urlopen(f"{server.url}/models", timeout=5) as response:
        ids = [m["id"] for m in json.load(response)["data"]]
    assert ids == ["fake-model", "fake-model-2"]


def test_malformed_json_is_400(server: FakeProviderServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request(
        "POST", "/v1/chat/completions", body=b"{not json", headers={"content-type": "application/json"}
    )
    response = conn.getresponse()
    assert response.status == 400
    error = json.loads(response.read())["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"]
    conn.close()
    assert server.requests[-1].json is None
    assert server.requests[-1].body == b"{not json"


@pytest.mark.parametrize(("method", "path"), [("POST", "/v1/completely/unknown"), ("GET", "/v1/nothing")])
def test_unknown_path_is_404(server: FakeProviderServer, method: str, path: str) -> None:
    status, _, body = request(server, method, path, {} if method == "POST" else None)
    assert status == 404
    assert json.loads(body)["error"]["type"] == "invalid_request_error"


# ---------------------------------------------------------------------------------------------------------
# Scripting


def test_scripted_replies_are_fifo_then_default_resumes(server: FakeProviderServer) -> None:
    server.enqueue(
        Reply(status=429, json={"error": {"message": "slow down"}}, headers={"Retry-After": "2"}),
        Reply(body="<html>bad gateway</html>", status=502, content_type="text/html"),
    )
    status, headers, body = request(server, "POST", "/v1/messages", {"messages": []})
    assert (status, headers["retry-after"], headers["content-type"]) == (429, "2", "application/json")
    assert json.loads(body) == {"error": {"message": "slow down"}}
    status, headers, body = request(server, "GET", "/anything/at/all")
    assert (status, headers["content-type"], body) == (502, "text/html", b"<html>bad gateway</html>")
    assert headers["content-length"] == str(len(body))
    body = post_json(server, "/v1/chat/completions", {"messages": USER_MESSAGES})
    assert body["choices"][0]["message"]["content"] == ECHO
    assert body["model"] == "fake-model"


def test_scripted_events_are_sent_as_separate_chunks(server: FakeProviderServer) -> None:
    pieces = ['data: {"a": 1}\n\n', "data: {partial", ' "b": 2}\n\n', "", "data: [DONE]\n\n"]
    server.enqueue(Reply(events=pieces, headers={"x-extra": "yes"}))
    assert raw_chunks(server, "/v1/chat/completions", {}) == [p.encode() for p in pieces if p]
    server.enqueue(Reply(events=['{"x": 1}\n'], content_type="application/x-ndjson", status=201))
    status, headers, body = request(server, "POST", "/api/chat", {})
    assert (status, headers["content-type"], body) == (201, "application/x-ndjson", b'{"x": 1}\n')


def test_scripted_delays(server: FakeProviderServer) -> None:
    server.enqueue(Reply(json={}, delay=0.1), Reply(events=["a", "b", "c"], chunk_delay=0.05))
    started = time.perf_counter()
    request(server, "GET", "/v1/models")
    assert time.perf_counter() - started >= 0.1
    started = time.perf_counter()
    _, _, body = request(server, "GET", "/v1/models")
    assert body == b"abc"
    assert time.perf_counter() - started >= 0.1


def test_empty_scripted_reply(server: FakeProviderServer) -> None:
    server.enqueue(Reply(status=500))
    status, headers, body = request(server, "POST", "/v1/chat/completions", {})
    assert (status, headers["content-length"], body) == (500, "0", b"")


def test_reply_rejects_two_bodies() -> None:
    with pytest.raises(ValueError, match="at most one"):
        Reply(json={}, body="x")


def test_set_default_text(server: FakeProviderServer) -> None:
    server.set_default_text("fixed  answer here")
    payload = {"stream": True, "messages": USER_MESSAGES}
    _, raw = post_stream(server, "/v1/chat/completions", payload)
    chunks = [json.loads(d) for _, d in sse_events(raw)[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:-1]) == "fixed  answer here"
    assert chunks[-1]["usage"]["completion_tokens"] == 4  # "fixed", " ", " answer", " here"
    server.set_default_text(None)
    assert post_json(server, "/v2/chat", {"messages": USER_MESSAGES})["message"]["content"][0]["text"] == ECHO


def test_x_fake_chunks(server: FakeProviderServer) -> None:
    payload = {"stream": True, "messages": USER_MESSAGES}
    _, raw = post_stream(server, "/v1/chat/completions", payload, {"x-fake-chunks": "7"})
    chunks = [json.loads(d) for _, d in sse_events(raw)[:-1]]
    assert [c["choices"][0]["delta"]["content"] for c in chunks[1:-2]] == ["x"] * 7
    assert chunks[-1]["usage"] == {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
    _, raw = post_stream(server, "/api/chat", {"messages": USER_MESSAGES}, {"x-fake-chunks": "3"})
    lines = [json.loads(line) for line in raw.splitlines()]
    assert [line["message"]["content"] for line in lines] == ["x", "x", "x", ""]
    assert lines[-1]["eval_count"] == 3


# ---------------------------------------------------------------------------------------------------------
# Recording, connections, lifecycle


def test_recorded_requests_and_clear(server: FakeProviderServer) -> None:
    payload = {"model": "m", "messages": USER_MESSAGES}
    request(server, "POST", "/v1/chat/completions?a=1&b=", payload, {"Authorization": "Bearer k"})
    request(server, "GET", "/v1/models")
    first, second = server.requests
    assert isinstance(first, RecordedRequest)
    assert (first.method, first.path, first.query) == ("POST", "/v1/chat/completions", {"a": "1", "b": ""})
    assert first.headers["authorization"] == "Bearer k"
    assert first.headers["content-type"] == "application/json"
    assert first.json == payload
    assert json.loads(first.body) == payload
    assert (second.method, second.json, second.body) == ("GET", None, b"")
    server.requests.clear()  # a copy: the server's record is untouched
    assert len(server.requests) == 2
    server.enqueue(Reply(status=500))
    server.clear()
    assert server.requests == []
    assert request(server, "GET", "/v1/models")[0] == 200


def test_chunked_request_body_is_read(server: FakeProviderServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    body = iter([b'{"messages": [{"role": "user", ', b'"content": "hi"}]}'])
    conn.request("POST", "/v1/chat/completions", body=body, encode_chunked=True)
    assert json.loads(conn.getresponse().read())["choices"][0]["message"]["content"] == "Echo: hi"
    conn.close()


def test_keep_alive_reuses_one_connection() -> None:
    with FakeProviderServer() as fresh:
        conn = http.client.HTTPConnection("127.0.0.1", fresh.port, timeout=5)
        payload = json.dumps({"stream": True, "messages": USER_MESSAGES})
        conn.request("POST", "/v1/chat/completions", body=payload)
        first = conn.getresponse()
        assert first.read().endswith(b"data: [DONE]\n\n")
        sock = conn.sock
        conn.request("POST", "/v1/messages", body=json.dumps({"messages": USER_MESSAGES}))
        second = conn.getresponse()
        assert json.loads(second.read())["content"][0]["text"] == ECHO
        assert conn.sock is sock
        assert sock is not None
        assert fresh.open_connections == 1
        conn.close()
        assert fresh.wait_for_open_connections(0)


def test_open_connections_are_counted_and_closed_on_stop() -> None:
    fresh = FakeProviderServer().start()
    try:
        sockets = [socket.create_connection(("127.0.0.1", fresh.port), timeout=5) for _ in range(3)]
        assert fresh.wait_for_open_connections(3)
        sockets.pop().close()
        assert fresh.wait_for_open_connections(2)
    finally:
        fresh.stop()
    assert fresh.wait_for_open_connections(0)
    assert all(s.recv(1) == b"" for s in sockets)  # the server closed the idle keep-alive connections
    for s in sockets:
        s.close()
    fresh.stop()  # idempotent


def test_url_and_port(server: FakeProviderServer) -> None:
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"


def test_command_line_entry_point() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "litellm_sync.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        name, _, url = line.partition("=")
        assert name == "FAKE_PROVIDER_URL"
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{url}/v1/models", timeout=5) as response:
            assert json.load(response)["object"] == "list"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
