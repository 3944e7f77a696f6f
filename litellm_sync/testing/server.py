"""The fake provider's HTTP server: a threaded keep-alive server on a real socket, routing by path, plus the
command line that runs it in the foreground."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import signal
import socket
import socketserver
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from .wire import (
    CONVERSE_PATH,
    DEFAULT_MODELS,
    GENERATE_CONTENT_PATH,
    JSON_TYPE,
    RAW_PREDICT_PATH,
    SERVER_HEADERS,
    SSE_TYPE,
    TEXT_CHAT_PATH,
    Completion,
    RecordedRequest,
    Reply,
    chat_completions_reply,
    contents_texts,
    converse_reply,
    dumps,
    error,
    fixed_chunks,
    generate_content_reply,
    input_texts,
    messages_reply,
    messages_texts,
    native_chat_reply,
    request_model,
    responses_reply,
    role_texts,
    split_tokens,
    text_chat_reply,
    v2_chat_reply,
    word_count,
)


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
            body = self.rfile.read(int(length))
            if len(body) < int(length):  # the client went away mid-body: no request was made, record none
                raise ConnectionResetError(f"request body cut off after {len(body)} of {length} bytes")
            return body
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked_body()
        return b""

    def _read_chunked_body(self) -> bytes:
        chunks = []
        while size := int(self._line().split(b";")[0].strip() or b"0", 16):
            chunks.append(self.rfile.read(size))
            if len(chunks[-1]) < size:
                raise ConnectionResetError("chunked request body cut off")  # as above: not a request
            self._line()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailer lines
        return b"".join(chunks)

    def _line(self) -> bytes:
        line = self.rfile.readline()
        if not line:  # end of stream before the last chunk: cut off, as above
            raise ConnectionResetError("chunked request body cut off")
        return line

    def _send(self, reply: Reply) -> None:
        if reply.delay > 0:
            time.sleep(reply.delay)
        if reply.events is not None:
            self._send_events(reply, reply.events)
        else:
            self._send_body(reply)

    def _send_body(self, reply: Reply) -> None:
        if reply.json is not None:
            data = dumps(reply.json).encode()
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
            if name.lower() not in SERVER_HEADERS:
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
            return error(404, f"Unknown route: {request.method} {request.path}")
        if isinstance(request.json, dict):
            return route(request, request.json)
        if request.body.strip():
            return error(400, "Request body must be a JSON object")
        return route(request, {})

    def _listing_reply(self, path: str) -> Reply:
        if path.endswith("/api/tags"):
            return Reply(json={"models": [{"name": m, "model": m} for m in self.models]})
        if path.endswith("/models"):
            data = [{"id": m, "object": "model", "owned_by": "fake"} for m in self.models]
            return Reply(json={"object": "list", "data": data})
        return error(404, f"Unknown route: GET {path}")

    def _post_route(self, path: str) -> Callable[[RecordedRequest, dict[str, object]], Reply] | None:
        if GENERATE_CONTENT_PATH.search(path):
            return self._generate_content
        if path.endswith("/chat/completions"):
            return self._chat_completions
        if path.endswith("/v2/chat"):
            return self._v2_chat
        if path.endswith("/api/chat"):
            return self._native_chat
        if path.endswith("/messages") or RAW_PREDICT_PATH.search(path):  # Anthropic, also on Vertex AI
            return self._messages
        if path.endswith("/responses"):
            return lambda request, body: responses_reply(
                self._completion(request, input_texts(body), request_model(body)), stream=body.get("stream") is True
            )
        if CONVERSE_PATH.search(path):
            return self._converse
        if TEXT_CHAT_PATH.search(path):  # watsonx.ai: the model is model_id
            return lambda request, body: text_chat_reply(self._completion(
                request, role_texts(body), str(body.get("model_id") or request_model(body))), path.endswith("_stream"))
        if path.endswith("/embeddings"):
            return self._embeddings
        return None

    def _embeddings(self, request: RecordedRequest, body: dict[str, object]) -> Reply:
        """OpenAI's /embeddings: each input's vector is [characters, words] (floats), usage the words."""
        given = body.get("input")
        texts = [given] if isinstance(given, str) else [str(t) for t in given] if isinstance(given, list) else []
        data = [{"object": "embedding", "index": i, "embedding": [float(len(t)), float(len(t.split()))]}
                for i, t in enumerate(texts)]
        tokens = sum(len(t.split()) for t in texts)
        return Reply(json={"object": "list", "data": data, "model": request_model(body),
                           "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    def _completion(self, request: RecordedRequest, texts: tuple[str, list[str]], model: str) -> Completion:
        user_text, prompt_texts = texts
        chunks = fixed_chunks(request.headers)
        if chunks is not None:
            text, tokens = "x" * chunks, ["x"] * chunks
        else:
            text = self._default_text if self._default_text is not None else "Echo: " + user_text
            tokens = split_tokens(text)
        return Completion(
            number=next(self._ids),
            model=model,
            text=text,
            tokens=tokens,
            prompt_tokens=word_count(prompt_texts),
            created=int(time.time()),
        )

    def _chat_completions(self, request: RecordedRequest, body: dict[str, object]) -> Reply:
        completion = self._completion(request, role_texts(body), request_model(body))
        return chat_completions_reply(completion, stream=body.get("stream") is True)

    def _messages(self, request: RecordedRequest, body: dict[str, object]) -> Reply:
        completion = self._completion(request, messages_texts(body), request_model(body))
        return messages_reply(completion, stream=body.get("stream") is True)

    def _converse(self, request: RecordedRequest, body: dict[str, object]) -> Reply:
        match = CONVERSE_PATH.search(request.path)
        assert match is not None  # routed here only on a match
        completion = self._completion(request, messages_texts(body), match["model"])
        return converse_reply(completion, stream=match["method"] == "converse-stream")

    def _generate_content(self, request: RecordedRequest, body: dict[str, object]) -> Reply:
        match = GENERATE_CONTENT_PATH.search(request.path)
        assert match is not None  # routed here only on a match
        completion = self._completion(request, contents_texts(body), match["model"])
        stream = match["method"] == "streamGenerateContent"
        return generate_content_reply(completion, stream, sse=request.query.get("alt") == "sse")

    def _v2_chat(self, request: RecordedRequest, body: dict[str, object]) -> Reply:
        completion = self._completion(request, role_texts(body), request_model(body))
        return v2_chat_reply(completion, stream=body.get("stream") is True)

    def _native_chat(self, request: RecordedRequest, body: dict[str, object]) -> Reply:
        completion = self._completion(request, role_texts(body), request_model(body))
        return native_chat_reply(completion, stream=body.get("stream") is not False)


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
