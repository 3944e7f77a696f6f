"""Fake LLM provider HTTP server for tests, examples and benchmarks.

`FakeProviderServer` listens on a real socket (127.0.0.1 by default), keeps HTTP/1.1 connections alive and
speaks five wire formats, chosen only by the request path:

* ``POST .../chat/completions`` - Chat Completions style (SSE with ``data: [DONE]`` when ``"stream": true``).
* ``POST .../messages`` - Messages style (SSE with ``event:`` lines when ``"stream": true``).
* ``POST .../models/<model>:generateContent`` and ``:streamGenerateContent`` (SSE with ``?alt=sse``,
  otherwise a streamed JSON array).
* ``POST .../v2/chat`` - v2 chat style (SSE with ``event:`` lines when ``"stream": true``).
* ``POST .../api/chat`` - native chat style (NDJSON stream unless ``"stream": false``).
* ``GET .../models`` and ``GET .../api/tags`` - model listings.

By default the reply text is ``"Echo: " + <last user text>``; prompt tokens are the whitespace-separated words
of all the request's message texts, system text included (at least 1); completion tokens are the number of
streamed tokens (the text split on single spaces).
Tests script exact behaviour with `FakeProviderServer.enqueue` and inspect `FakeProviderServer.requests`.
A request header ``x-fake-chunks: N`` makes the default reply exactly N tokens of ``"x"``.

Run ``python -m litellm_sync.testing [--port N]`` to serve in the foreground; it prints
``FAKE_PROVIDER_URL=http://127.0.0.1:N`` on one line.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import re
import signal
import socket
import socketserver
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

__all__ = ["DEFAULT_MODELS", "FakeProviderServer", "RecordedRequest", "Reply", "main"]

DEFAULT_MODELS: tuple[str, ...] = ("fake-model", "fake-model-2")

JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream"
NDJSON_TYPE = "application/x-ndjson"

_GENERATE_CONTENT_PATH = re.compile(
    r"/models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)$"
)
# The server computes these itself; scripted values would corrupt the framing.
_SERVER_HEADERS = frozenset({"content-length", "transfer-encoding", "content-type"})


@dataclass(frozen=True)
class Reply:
    """A scripted response; give at most one of `json`, `body` and `events`.

    `events` pieces are written one by one, each flushed as its own HTTP chunk (chunked transfer-encoding).
    Without `content_type` the default is application/json for `json` and `body`, text/event-stream for
    `events`; a Content-Type in `headers` is also honoured.
    """

    status: int = 200
    json: object | None = None
    body: bytes | str | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    events: list[str] | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0

    def __post_init__(self) -> None:
        if sum(part is not None for part in (self.json, self.body, self.events)) > 1:
            raise ValueError("Reply takes at most one of json, body and events")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: object | None
    body: bytes


@dataclass(frozen=True)
class _Completion:
    """The default generated answer to one request."""

    number: int
    model: str
    text: str
    tokens: list[str]
    prompt_tokens: int
    created: int

    @property
    def completion_tokens(self) -> int:
        return len(self.tokens)


# ---------------------------------------------------------------------------------------------------------
# Request text extraction


def _content_text(content: object) -> str:
    """Text of a message content: a string, or a list of parts whose text parts are concatenated."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_part_text(part) for part in content)
    return ""


def _part_text(part: object) -> str:
    # Generate-content parts carry no "type"; every other format tags text parts with type "text".
    if isinstance(part, dict) and part.get("type", "text") == "text":
        text = part.get("text")
        return text if isinstance(text, str) else ""
    return ""


def _dicts(value: object) -> list[dict[str, object]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _role_texts(body: dict[str, object]) -> tuple[str, list[str]]:
    """(last user text, all message texts) of a role/content ``messages`` list."""
    messages = _dicts(body.get("messages"))
    users = [_content_text(m.get("content")) for m in messages if m.get("role") == "user"]
    return (users[-1] if users else ""), [_content_text(m.get("content")) for m in messages]


def _messages_texts(body: dict[str, object]) -> tuple[str, list[str]]:
    messages = _dicts(body.get("messages"))
    last = _content_text(messages[-1].get("content")) if messages else ""
    return last, [_content_text(body.get("system"))] + [_content_text(m.get("content")) for m in messages]


def _contents_texts(body: dict[str, object]) -> tuple[str, list[str]]:
    contents = _dicts(body.get("contents"))
    last = _content_text(contents[-1].get("parts")) if contents else ""
    system = body.get("systemInstruction") or body.get("system_instruction")
    system_text = _content_text(system.get("parts")) if isinstance(system, dict) else ""
    return last, [system_text] + [_content_text(c.get("parts")) for c in contents]


def _split_tokens(text: str) -> list[str]:
    """Split on single spaces so that concatenating the tokens gives `text` back exactly."""
    if not text:
        return []
    words = text.split(" ")
    return [words[0]] + [" " + word for word in words[1:]]


def _word_count(texts: Iterable[str]) -> int:
    return max(1, sum(len(text.split()) for text in texts))


def _fixed_chunks(headers: dict[str, str]) -> int | None:
    value = headers.get("x-fake-chunks", "").strip()
    return int(value) if value.isdigit() else None


# ---------------------------------------------------------------------------------------------------------
# Response builders, one per wire format


def _dumps(data: object) -> str:
    return json.dumps(data, separators=(",", ":"))


def _sse(data: object, event: str | None = None) -> str:
    if event is None:
        return f"data: {_dumps(data)}\n\n"
    return f"event: {event}\ndata: {_dumps(data)}\n\n"


def _typed_sse(data: dict[str, object]) -> str:
    """An SSE event whose ``event:`` name is the data's ``type``."""
    return _sse(data, str(data["type"]))


def _error(status: int, message: str) -> Reply:
    return Reply(status=status, json={"error": {"message": message, "type": "invalid_request_error"}})


def _openai_usage(c: _Completion) -> dict[str, int]:
    total = c.prompt_tokens + c.completion_tokens
    return {"prompt_tokens": c.prompt_tokens, "completion_tokens": c.completion_tokens, "total_tokens": total}


def _chat_completions_reply(c: _Completion, stream: bool) -> Reply:
    kind = "chat.completion.chunk" if stream else "chat.completion"
    head = {"id": f"chatcmpl-fake-{c.number}", "object": kind, "created": c.created, "model": c.model}
    if not stream:
        choice = {"index": 0, "message": {"role": "assistant", "content": c.text}, "finish_reason": "stop"}
        return Reply(json={**head, "choices": [choice], "usage": _openai_usage(c)})

    def chunk(delta: dict[str, str], finish_reason: str | None = None) -> str:
        return _sse({**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]})

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": token}) for token in c.tokens]
    events.append(chunk({}, "stop"))
    events.append(_sse({**head, "choices": [], "usage": _openai_usage(c)}))
    events.append("data: [DONE]\n\n")
    return Reply(events=events)


def _messages_reply(c: _Completion, stream: bool) -> Reply:
    message = {
        "id": f"msg_fake_{c.number}",
        "type": "message",
        "role": "assistant",
        "model": c.model,
        "content": [{"type": "text", "text": c.text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": c.prompt_tokens, "output_tokens": c.completion_tokens},
    }
    if not stream:
        return Reply(json=message)
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": c.prompt_tokens, "output_tokens": 1},
    }
    block = {"type": "text", "text": ""}
    events = [
        _typed_sse({"type": "message_start", "message": start}),
        _typed_sse({"type": "content_block_start", "index": 0, "content_block": block}),
        _typed_sse({"type": "ping"}),
    ]
    events += [
        _typed_sse(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": token}}
        )
        for token in c.tokens
    ]
    delta = {"stop_reason": "end_turn", "stop_sequence": None}
    events += [
        _typed_sse({"type": "content_block_stop", "index": 0}),
        _typed_sse(
            {"type": "message_delta", "delta": delta, "usage": {"output_tokens": c.completion_tokens}}
        ),
        _typed_sse({"type": "message_stop"}),
    ]
    return Reply(events=events)


def _generate_content_event(c: _Completion, text: str, last: bool) -> dict[str, object]:
    candidate: dict[str, object] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
    event: dict[str, object] = {"candidates": [candidate]}
    if last:
        candidate["finishReason"] = "STOP"
        total = c.prompt_tokens + c.completion_tokens
        event["usageMetadata"] = {
            "promptTokenCount": c.prompt_tokens,
            "candidatesTokenCount": c.completion_tokens,
            "totalTokenCount": total,
        }
    return {**event, "modelVersion": c.model, "responseId": f"fake-{c.number}"}


def _generate_content_reply(c: _Completion, stream: bool, sse: bool) -> Reply:
    if not stream:
        return Reply(json=_generate_content_event(c, c.text, last=True))
    tokens = c.tokens or [""]
    bodies = [_generate_content_event(c, token, i == len(tokens) - 1) for i, token in enumerate(tokens)]
    if sse:
        return Reply(events=[_sse(body) for body in bodies])
    # Without alt=sse the stream is one JSON array, delivered element by element.
    pieces = [("[" if i == 0 else ",\r\n") + _dumps(body) for i, body in enumerate(bodies)]
    return Reply(events=[*pieces, "]"], content_type=JSON_TYPE)


def _v2_chat_usage(c: _Completion) -> dict[str, dict[str, int]]:
    counts = {"input_tokens": c.prompt_tokens, "output_tokens": c.completion_tokens}
    return {"billed_units": dict(counts), "tokens": dict(counts)}


def _v2_chat_reply(c: _Completion, stream: bool) -> Reply:
    reply_id = f"fake-{c.number}"
    if not stream:
        message = {"role": "assistant", "content": [{"type": "text", "text": c.text}]}
        body = {"id": reply_id, "finish_reason": "COMPLETE", "message": message, "usage": _v2_chat_usage(c)}
        return Reply(json=body)
    start_delta = {"message": {"content": {"type": "text", "text": ""}}}
    events = [
        _typed_sse({"type": "message-start", "id": reply_id, "delta": {"message": {"role": "assistant"}}}),
        _typed_sse({"type": "content-start", "index": 0, "delta": start_delta}),
    ]
    events += [
        _typed_sse({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": token}}}})
        for token in c.tokens
    ]
    end_delta = {"finish_reason": "COMPLETE", "usage": _v2_chat_usage(c)}
    events += [
        _typed_sse({"type": "content-end", "index": 0}),
        _typed_sse({"type": "message-end", "delta": end_delta}),
    ]
    return Reply(events=events)


def _native_chat_reply(c: _Completion, stream: bool) -> Reply:
    created_at = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    final = {
        "model": c.model,
        "created_at": created_at,
        "message": {"role": "assistant", "content": "" if stream else c.text},
        "done": True,
        "done_reason": "stop",
        "prompt_eval_count": c.prompt_tokens,
        "eval_count": c.completion_tokens,
    }
    if not stream:
        return Reply(json=final)
    head = {"model": c.model, "created_at": created_at}
    lines = [
        _dumps({**head, "message": {"role": "assistant", "content": token}, "done": False}) + "\n"
        for token in c.tokens
    ]
    return Reply(events=[*lines, _dumps(final) + "\n"], content_type=NDJSON_TYPE)


def _request_model(body: dict[str, object]) -> str:
    model = body.get("model")
    return model if isinstance(model, str) else DEFAULT_MODELS[0]


# ---------------------------------------------------------------------------------------------------------
# HTTP plumbing


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, Nagle + delayed ACK stall keep-alive clients.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.fake._connection_opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._connection_closed(self.connection)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        try:
            self._send(self.server.fake._respond(self._read_request()))
        except ConnectionError:
            self.close_connection = True

    def _read_request(self) -> RecordedRequest:
        url = urlsplit(self.path)
        body = self._read_body()
        return RecordedRequest(
            method=self.command,
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
            json=_parse_json(body),
            body=body,
        )

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length:
            return self.rfile.read(int(length))
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked_body()
        return b""

    def _read_chunked_body(self) -> bytes:
        chunks = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailer lines
        return b"".join(chunks)

    def _send(self, reply: Reply) -> None:
        if reply.delay > 0:
            time.sleep(reply.delay)
        if reply.events is not None:
            self._send_events(reply, reply.events)
        else:
            self._send_body(reply)

    def _send_body(self, reply: Reply) -> None:
        if reply.json is not None:
            data = _dumps(reply.json).encode()
        elif isinstance(reply.body, str):
            data = reply.body.encode()
        else:
            data = reply.body or b""
        self._send_head(reply, JSON_TYPE, ("Content-Length", str(len(data))))
        self.wfile.write(data)

    def _send_events(self, reply: Reply, events: list[str]) -> None:
        chunked = self.request_version != "HTTP/1.0"
        if chunked:
            self._send_head(reply, SSE_TYPE, ("Transfer-Encoding", "chunked"))
        else:  # HTTP/1.0 has no chunked encoding: the body ends when the connection closes
            self.close_connection = True
            self._send_head(reply, SSE_TYPE, ("Connection", "close"))
        for i, piece in enumerate(events):
            if i and reply.chunk_delay > 0:
                time.sleep(reply.chunk_delay)
            data = piece.encode() if isinstance(piece, str) else piece
            if data:  # an empty chunk would end the body early
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _send_head(self, reply: Reply, default_type: str, framing: tuple[str, str]) -> None:
        scripted_type = next((v for k, v in reply.headers.items() if k.lower() == "content-type"), None)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type or scripted_type or default_type)
        self.send_header(*framing)
        for name, value in reply.headers.items():
            if name.lower() not in _SERVER_HEADERS:
                self.send_header(name, value)
        self.end_headers()


def _parse_json(body: bytes) -> object | None:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # benchmarks open many connections at once; the default backlog is 5

    def __init__(self, address: tuple[str, int], fake: FakeProviderServer) -> None:
        self.fake = fake
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can be slow; it is not needed here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # clients hanging up mid-response are routine in tests and benchmarks
        super().handle_error(request, client_address)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------
# Public server


class FakeProviderServer:
    """A threaded fake LLM provider on a real local socket; see the module docstring for the formats.

    The socket is bound on construction (so `port` and `url` are known at once); `start` serves it from a
    daemon thread and `stop` shuts it down, closing any open client connections. A server is single-use.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, models: Iterable[str] | None = None) -> None:
        self.models: list[str] = list(models) if models is not None else list(DEFAULT_MODELS)
        self._lock = threading.Lock()
        self._connections_changed = threading.Condition(self._lock)
        self._queue: deque[Reply] = deque()
        self._records: list[RecordedRequest] = []
        self._connections: set[socket.socket] = set()
        self._default_text: str | None = None
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._httpd = _HTTPServer((host, port), self)

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> FakeProviderServer:
        """Serve from a daemon thread; returns self. Calling it again is a no-op."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},  # bounds how long stop() waits
                name=f"fake-provider-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open client connections and the listening socket. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
        self._close_connections()
        self._httpd.server_close()

    def __enter__(self) -> FakeProviderServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- scripting and inspection ------------------------------------------------------------------------

    def enqueue(self, *replies: Reply) -> None:
        """Queue replies served FIFO, one per request on any path, before the default behaviour resumes."""
        with self._lock:
            self._queue.extend(replies)

    def set_default_text(self, text: str | None) -> None:
        """Reply with `text` instead of echoing; None restores the echo."""
        self._default_text = text

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the requests received so far, oldest first."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        """Forget recorded requests and drop queued replies."""
        with self._lock:
            self._queue.clear()
            self._records.clear()

    @property
    def open_connections(self) -> int:
        """Client connections currently open (accepted and not yet closed)."""
        with self._lock:
            return len(self._connections)

    def wait_for_open_connections(self, count: int, timeout: float = 2.0) -> bool:
        """Wait until exactly `count` client connections are open; False on timeout."""
        with self._connections_changed:
            return self._connections_changed.wait_for(lambda: len(self._connections) == count, timeout)

    # -- called from handler threads ---------------------------------------------------------------------

    def _connection_opened(self, sock: socket.socket) -> None:
        with self._connections_changed:
            self._connections.add(sock)
            self._connections_changed.notify_all()

    def _connection_closed(self, sock: socket.socket) -> None:
        with self._connections_changed:
            self._connections.discard(sock)
            self._connections_changed.notify_all()

    def _close_connections(self) -> None:
        with self._lock:
            sockets = list(self._connections)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _respond(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self._records.append(request)
            scripted = self._queue.popleft() if self._queue else None
        return scripted if scripted is not None else self._default_reply(request)

    # -- default behaviour -------------------------------------------------------------------------------

    def _default_reply(self, request: RecordedRequest) -> Reply:
        if request.method == "GET":
            return self._listing_reply(request.path)
        route = self._post_route(request.path) if request.method == "POST" else None
        if route is None:
            return _error(404, f"Unknown route: {request.method} {request.path}")
        if isinstance(request.json, dict):
            return route(request, request.json)
        if request.body.strip():
            return _error(400, "Request body must be a JSON object")
        return route(request, {})

    def _listing_reply(self, path: str) -> Reply:
        if path.endswith("/api/tags"):
            return Reply(json={"models": [{"name": m, "model": m} for m in self.models]})
        if path.endswith("/models"):
            data = [{"id": m, "object": "model", "owned_by": "fake"} for m in self.models]
            return Reply(json={"object": "list", "data": data})
        return _error(404, f"Unknown route: GET {path}")

    def _post_route(self, path: str) -> Callable[[RecordedRequest, dict[str, object]], Reply] | None:
        if _GENERATE_CONTENT_PATH.search(path):
            return self._generate_content
        if path.endswith("/chat/completions"):
            return self._chat_completions
        if path.endswith("/v2/chat"):
            return self._v2_chat
        if path.endswith("/api/chat"):
            return self._native_chat
        if path.endswith("/messages"):
            return self._messages
        return None

    def _completion(self, request: RecordedRequest, texts: tuple[str, list[str]], model: str) -> _Completion:
        user_text, prompt_texts = texts
        chunks = _fixed_chunks(request.headers)
        if chunks is not None:
            text, tokens = "x" * chunks, ["x"] * chunks
        else:
            text = self._default_text if self._default_text is not None else "Echo: " + user_text
            tokens = _split_tokens(text)
        return _Completion(
            number=next(self._ids),
            model=model,
            text=text,
            tokens=tokens,
            prompt_tokens=_word_count(prompt_texts),
            created=int(time.time()),
        )

    def _chat_completions(self, request: RecordedRequest, body: dict[str, object]) -> Reply:
        completion = self._completion(request, _role_texts(body), _request_model(body))
        return _chat_completions_reply(completion, stream=body.get("stream") is True)

    def _messages(self, request: RecordedRequest, body: dict[str, object]) -> Reply:
        completion = self._completion(request, _messages_texts(body), _request_model(body))
        return _messages_reply(completion, stream=body.get("stream") is True)

    def _generate_content(self, request: RecordedRequest, body: dict[str, object]) -> Reply:
        match = _GENERATE_CONTENT_PATH.search(request.path)
        assert match is not None  # routed here only on a match
        completion = self._completion(request, _contents_texts(body), match["model"])
        stream = match["method"] == "streamGenerateContent"
        return _generate_content_reply(completion, stream, sse=request.query.get("alt") == "sse")

    def _v2_chat(self, request: RecordedRequest, body: dict[str, object]) -> Reply:
        completion = self._completion(request, _role_texts(body), _request_model(body))
        return _v2_chat_reply(completion, stream=body.get("stream") is True)

    def _native_chat(self, request: RecordedRequest, body: dict[str, object]) -> Reply:
        completion = self._completion(request, _role_texts(body), _request_model(body))
        return _native_chat_reply(completion, stream=body.get("stream") is not False)


# ---------------------------------------------------------------------------------------------------------
# Command line


def main(argv: list[str] | None = None) -> int:
    """Serve in the foreground until Ctrl-C or SIGTERM, printing ``FAKE_PROVIDER_URL=<url>`` first."""
    parser = argparse.ArgumentParser(
        prog="python -m litellm_sync.testing", description="Run the fake provider."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM raises KeyboardInterrupt too
    with FakeProviderServer(host=args.host, port=args.port) as server:
        print(f"FAKE_PROVIDER_URL={server.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
