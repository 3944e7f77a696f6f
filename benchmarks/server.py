"""A lean loopback LLM server for benchmarks: chat-completions and Messages dialects, JSON and SSE, with
precomputed bodies so the server costs as little as possible.

Run `python benchmarks/server.py [--port N]`; it prints `PORT=<n>` and serves until killed. Routes:
`POST .../chat/completions` (OpenAI) and `POST .../messages` (Anthropic); a body with `"stream":true`
streams, each event in its own HTTP chunk; the `x-chunks: N` header sets the number of content chunks
(default 5). Every connection is kept alive and served by its own thread.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sys
import threading
from functools import lru_cache

_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncontent-length: %d\r\nx-request-id: req_bench\r\n\r\n"
)
_STREAM_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def _dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


@lru_cache(maxsize=64)
def openai_reply(stream: bool, chunks: int) -> bytes:
    """A whole chat-completions response (head and body) with `chunks` content pieces."""
    head = {"id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini"}
    if not stream:
        body = _dumps(
            {
                **head,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": "x" * chunks}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": chunks, "total_tokens": 5 + chunks},
            }
        )
        return _HEAD % (b"application/json", len(body)) + body
    head["object"] = "chat.completion.chunk"
    piece = _chunk(
        b"data: " + _dumps({**head, "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": None}]})
        + b"\n\n"
    )
    first = _chunk(
        b"data: "
        + _dumps({**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
        + b"\n\n"
    )
    last = _chunk(
        b"data: " + _dumps({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}) + b"\n\n"
    )
    usage = _chunk(
        b"data: "
        + _dumps({**head, "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": chunks}})
        + b"\n\n"
    )
    return _STREAM_HEAD + first + piece * chunks + last + usage + _chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n"


@lru_cache(maxsize=64)
def anthropic_reply(stream: bool, chunks: int) -> bytes:
    """A whole Messages response (head and body) with `chunks` content pieces."""
    message = {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": "claude-bench",
        "content": [{"type": "text", "text": "x" * chunks}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 5, "output_tokens": chunks},
    }
    if not stream:
        body = _dumps(message)
        return _HEAD % (b"application/json", len(body)) + body

    def event(data: dict) -> bytes:
        return _chunk(b"event: " + data["type"].encode() + b"\ndata: " + _dumps(data) + b"\n\n")

    start = {**message, "content": [], "stop_reason": None, "usage": {"input_tokens": 5, "output_tokens": 1}}
    piece = event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x"}})
    return (
        _STREAM_HEAD
        + event({"type": "message_start", "message": start})
        + event({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
        + piece * chunks
        + event({"type": "content_block_stop", "index": 0})
        + event({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": chunks}})
        + event({"type": "message_stop"})
        + b"0\r\n\r\n"
    )


def _serve(sock: socket.socket) -> None:
    buffer = b""
    try:
        while True:
            while b"\r\n\r\n" not in buffer:
                data = sock.recv(65536)
                if not data:
                    return
                buffer += data
            head, _, rest = buffer.partition(b"\r\n\r\n")
            lower = head.lower()
            length = 0
            chunks = 5
            for line in lower.split(b"\r\n")[1:]:
                if line.startswith(b"content-length:"):
                    length = int(line[15:])
                elif line.startswith(b"x-chunks:"):
                    chunks = int(line[9:])
            while len(rest) < length:
                data = sock.recv(65536)
                if not data:
                    return
                rest += data
            body, buffer = rest[:length], rest[length:]
            stream = b'"stream":true' in body or b'"stream": true' in body
            target = head.split(b" ", 2)[1].split(b"?", 1)[0]
            if target.endswith(b"/messages"):
                sock.sendall(anthropic_reply(stream, chunks))
            else:
                sock.sendall(openai_reply(stream, chunks))
    except OSError:
        return
    finally:
        sock.close()


def serve(port: int = 0) -> None:
    """Accept forever, one thread per connection; print PORT=<n> once listening."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(512)
    print(f"PORT={listener.getsockname()[1]}", flush=True)
    while True:
        sock, _ = listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_serve, args=(sock,), daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
