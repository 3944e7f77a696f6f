"""The fake provider: `FakeProviderServer` (scripted replies, recorded requests, open connections) and its
default answers routed by path, plus the command line that runs it in the foreground; the HTTP layer is handler.py."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from types import TracebackType

from .handler import HTTPServer
from .wire import (
    CONVERSE_PATH,
    DEFAULT_MODELS,
    GENERATE_CONTENT_PATH,
    RAW_PREDICT_PATH,
    TEXT_CHAT_PATH,
    Completion,
    RecordedRequest,
    Reply,
    chat_completions_reply,
    contents_texts,
    converse_reply,
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
        self._httpd = HTTPServer((host, port), self)

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
