"""A misbehaving loopback HTTP server for fault-injection tests: each request is answered by a script of raw
socket steps (send bytes, drip them, pause, stall, reset, close).

`FaultServer` binds 127.0.0.1 on an ephemeral port and serves every connection from its own thread,
keeping HTTP/1.1 connections alive between requests. Queue scripts with `enqueue`; when the queue is empty
the `handler` (a function of the parsed request) decides, by default a normal chat-completions answer.
`open_connections` and `wait_idle` let a test prove that the client returned or closed every socket, and
`stop` closes everything and joins every thread it started, so a test can also check for leaked threads.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Callable, Union

__all__ = [
    "Close",
    "Drip",
    "FaultServer",
    "Pause",
    "Repeat",
    "Request",
    "Reset",
    "Send",
    "Stall",
    "chat_json",
    "chunk",
    "chunked_head",
    "closed_port",
    "response",
    "sse_chat",
]


@dataclass(frozen=True)
class Send:
    """Write these bytes at once."""

    data: bytes


@dataclass(frozen=True)
class Drip:
    """Write these bytes `size` bytes per write, pausing `gap` seconds between writes."""

    data: bytes
    size: int = 1
    gap: float = 0.0


@dataclass(frozen=True)
class Pause:
    """Sleep, then go on with the script."""

    seconds: float


@dataclass(frozen=True)
class Stall:
    """Send nothing more until the client hangs up or the server stops (at most `limit` seconds)."""

    limit: float = 30.0


@dataclass(frozen=True)
class Repeat:
    """Write `data` over and over (each time as one chunk of a chunked body if `chunked`) until the client
    hangs up, the server stops, `most` bytes were written or `limit` seconds passed; `gap` between writes."""

    data: bytes
    chunked: bool = False
    most: int = 512 * 2**20
    limit: float = 30.0
    gap: float = 0.0


@dataclass(frozen=True)
class Reset:
    """Abort the connection with a TCP RST (SO_LINGER 0, then close)."""


@dataclass(frozen=True)
class Close:
    """Close the connection cleanly (FIN) after the script."""


Step = Union[Send, Drip, Pause, Stall, Repeat, Reset, Close]


@dataclass
class Request:
    """One request as received: method, target, lower-cased headers, body and its JSON (or None)."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    json: object = field(default=None)


Handler = Callable[[Request], list[Step]]

# -- response builders -----------------------------------------------------------------------------------


def response(
    status: int = 200,
    body: bytes | str = b"",
    *,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    length: int | None = None,
) -> bytes:
    """A whole HTTP/1.1 response; `length` overrides Content-Length (to promise more than is sent)."""
    data = body.encode() if isinstance(body, str) else body
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", f"Content-Type: {content_type}"]
    lines.append(f"Content-Length: {len(data) if length is None else length}")
    lines.extend(f"{k}: {v}" for k, v in (headers or {}).items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def chunked_head(status: int = 200, content_type: str = "text/event-stream") -> bytes:
    """The status line and headers of a chunked response."""
    return (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
        f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()


def chunk(data: bytes | str) -> bytes:
    """One chunk of a chunked body; an empty one ends the body."""
    raw = data.encode() if isinstance(data, str) else data
    return b"%x\r\n%s\r\n" % (len(raw), raw)


def chat_json(text: str, model: str = "gpt-4o", number: int = 1) -> bytes:
    """A chat-completions JSON body answering `text`."""
    return json.dumps(
        {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion",
            "created": 1700000000,
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        },
        separators=(",", ":"),
    ).encode()


def sse_chat(tokens: Iterable[str], done: bool = True, model: str = "gpt-4o") -> list[bytes]:
    """Chat-completions SSE events, one per token, then a finish event and (if `done`) `data: [DONE]`."""
    head = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1700000000, "model": model}
    events = [
        b"data: "
        + json.dumps({**head, "choices": [{"index": 0, "delta": {"content": t}, "finish_reason": None}]}).encode()
        + b"\n\n"
        for t in tokens
    ]
    finish = {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    events.append(b"data: " + json.dumps(finish).encode() + b"\n\n")
    if done:
        events.append(b"data: [DONE]\n\n")
    return events


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _default_handler(request: Request) -> list[Step]:
    return [Send(response(200, chat_json("ok")))]


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 429: "Too Many Requests", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Unavailable"}


# -- the server ------------------------------------------------------------------------------------------


class FaultServer:
    """A loopback server that answers each request with a scripted sequence of raw socket steps."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.handler = handler or _default_handler
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(256)
        self._listener.settimeout(0.05)
        self._lock = threading.Condition()
        self._queue: deque[list[Step]] = deque()
        self._open: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self.requests: list[Request] = []
        self.accepted = 0
        self._acceptor = threading.Thread(target=self._accept_loop, name="faultserver-accept", daemon=True)

    # -- lifecycle

    def start(self) -> FaultServer:
        """Start accepting connections; returns self."""
        self._acceptor.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close every connection and join every thread this server started."""
        self._stopping.set()
        if self._acceptor.is_alive():
            self._acceptor.join(5)
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(5)
        self._listener.close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    # -- scripting and inspection

    def enqueue(self, *scripts: list[Step]) -> None:
        """Queue scripts, one per request, served before the handler takes over again."""
        with self._lock:
            self._queue.extend(scripts)

    @property
    def open_connections(self) -> int:
        """Client connections accepted and not yet closed by either side."""
        with self._lock:
            return len(self._open)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no client connection is open; False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._open, timeout)

    # -- internals

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except (socket.timeout, BlockingIOError):
                continue
            except OSError:
                return
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._open.add(sock)
                self.accepted += 1
            thread = threading.Thread(target=self._serve, args=(sock,), name="faultserver-conn", daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        buffer = b""
        try:
            while not self._stopping.is_set():
                request, buffer = _read_request(sock, buffer)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                    script = self._queue.popleft() if self._queue else None
                if script is None:
                    script = self.handler(request)
                if not self._run(sock, script):
                    return
        except OSError:
            return
        finally:
            with self._lock:
                self._open.discard(sock)
                self._lock.notify_all()
            with contextlib.suppress(OSError):
                sock.close()

    def _run(self, sock: socket.socket, script: list[Step]) -> bool:
        """Play a script; False when the connection is finished."""
        for step in script:
            if isinstance(step, Send):
                sock.sendall(step.data)
            elif isinstance(step, Drip):
                for i in range(0, len(step.data), step.size):
                    sock.sendall(step.data[i : i + step.size])
                    if step.gap:
                        time.sleep(step.gap)
            elif isinstance(step, Pause):
                self._stopping.wait(step.seconds)
            elif isinstance(step, Stall):
                _wait_for_hangup(sock, step.limit, self._stopping)
                return False
            elif isinstance(step, Repeat):
                piece = chunk(step.data) if step.chunked else step.data
                sent, deadline = 0, time.monotonic() + step.limit
                while sent < step.most and time.monotonic() < deadline and not self._stopping.is_set():
                    sock.sendall(piece)  # an OSError (the client hung up) ends the connection
                    sent += len(piece)
                    if step.gap:
                        self._stopping.wait(step.gap)
            elif isinstance(step, Reset):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return False
            elif isinstance(step, Close):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_WR)
                _wait_for_hangup(sock, 5.0, self._stopping)
                return False
        return True


def _wait_for_hangup(sock: socket.socket, limit: float, stopping: threading.Event) -> None:
    """Read and discard until the peer closes, the server stops, or `limit` seconds pass."""
    deadline = time.monotonic() + limit
    sock.settimeout(0.05)
    while not stopping.is_set() and time.monotonic() < deadline:
        try:
            if not sock.recv(65536):
                return
        except socket.timeout:
            continue
        except OSError:
            return


def _read_request(sock: socket.socket, buffer: bytes) -> tuple[Request | None, bytes]:
    """Read one request (Content-Length bodies only); None when the client closed the connection."""
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        if not data:
            return None, b""
        buffer += data
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length:
        data = sock.recv(65536)
        if not data:
            return None, b""
        rest += data
    body, buffer = rest[:length], rest[length:]
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    return Request(method, target, headers, body, parsed), buffer
