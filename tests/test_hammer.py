"""Thread hammer: 64 threads share one Client for mixed streaming, plain, failing and retried calls; every
result must belong to its own request, and file descriptors must return to their baseline."""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any

import pytest
from faultserver import FaultServer, Request, Send, chat_json, chunk, chunked_head, response, sse_chat

import litellm_sync
from litellm_sync.retry import RetryPolicy

THREADS = 64
CALLS_PER_THREAD = 200
KINDS = ("json", "stream", "json", "bad_request", "stream", "stream_500", "retry", "json")


def open_fds() -> int:
    """File descriptors open in this process."""
    return len(os.listdir("/proc/self/fd"))


class EchoHandler:
    """Answers by the request's tag: `<id>:<kind>`; a `retry` request fails once with 503, then succeeds."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.retried: set[str] = set()

    def __call__(self, request: Request) -> list[Any]:
        body: Any = request.json
        tag = body["messages"][-1]["content"]
        ident, kind = tag.split(":")
        if kind == "bad_request":
            error = {"error": {"message": f"refused {ident}", "code": "invalid_request"}}
            return [Send(response(400, json.dumps(error)))]
        if kind == "stream_500":
            return [Send(response(500, json.dumps({"error": {"message": f"broken {ident}"}})))]
        if kind == "retry":
            with self.lock:
                first = ident not in self.retried
                self.retried.add(ident)
            if first:
                return [Send(response(503, json.dumps({"error": {"message": "busy"}})))]
        if body.get("stream"):
            events = sse_chat([ident, " a", " b"])
            return [Send(chunked_head() + b"".join(chunk(e) for e in events) + chunk(b""))]
        return [Send(response(200, chat_json(f"echo {ident}")))]


def one_call(client: litellm_sync.Client, base: str, ident: str, kind: str) -> tuple[str, Any]:
    messages = [{"role": "user", "content": f"{ident}:{kind}"}]
    stream = kind in ("stream", "stream_500")
    try:
        result = client.completion("openai/gpt-4o", messages, stream=stream, api_base=base, api_key="sk-hammer-key")
        if stream:
            with result:
                text = "".join(c.choices[0].delta.content or "" for c in result if c.choices)
            return "text", text
        return "text", result.choices[0].message.content
    except litellm_sync.APIError as exc:
        return type(exc).__name__, exc.message


def expected(ident: str, kind: str) -> tuple[str, Any]:
    if kind == "bad_request":
        return "BadRequestError", f"refused {ident}"
    if kind == "stream_500":
        return "InternalServerError", f"broken {ident}"
    if kind == "stream":
        return "text", f"{ident} a b"
    return "text", f"echo {ident}"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts descriptors in /proc/self/fd")
def test_hammer_64_threads_one_client() -> None:
    baseline_fds = open_fds()
    baseline_threads = set(threading.enumerate())
    server = FaultServer(EchoHandler()).start()
    client = litellm_sync.Client(
        timeout=10.0, pool_size=THREADS, retry_policy=RetryPolicy(max_retries=1, sleep=lambda _s: None)
    )
    mismatches: list[str] = []
    crashes: list[BaseException] = []
    counts: dict[str, int] = {}
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def worker(number: int) -> None:
        try:
            start.wait(10)
            local: dict[str, int] = {}
            for i in range(CALLS_PER_THREAD):
                kind = KINDS[(number + i) % len(KINDS)]
                ident = f"t{number}c{i}"
                got = one_call(client, server.url, ident, kind)
                want = expected(ident, kind)
                local[got[0]] = local.get(got[0], 0) + 1
                if got != want:
                    with lock:
                        mismatches.append(f"{ident} {kind}: got {got!r}, want {want!r}")
            with lock:
                for key, value in local.items():
                    counts[key] = counts.get(key, 0) + value
        except BaseException as exc:
            with lock:
                crashes.append(exc)

    threads = [threading.Thread(target=worker, args=(n,), name=f"hammer-{n}") for n in range(THREADS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        assert not any(t.is_alive() for t in threads), "a hammer thread is still blocked"
        assert not crashes, crashes[:3]
        assert not mismatches, mismatches[:5]
        assert sum(counts.values()) == THREADS * CALLS_PER_THREAD
        assert counts["BadRequestError"] > 0 and counts["InternalServerError"] > 0 and counts["text"] > 0
        retried = sum(1 for r in server.requests if r.json and r.json["messages"][-1]["content"].endswith(":retry"))
        assert retried == 2 * sum(1 for n in range(THREADS) for i in range(CALLS_PER_THREAD)
                                  if KINDS[(n + i) % len(KINDS)] == "retry")
        for pool in client.transport.connection_pools():
            assert pool.pool.qsize() == pool.pool.maxsize, "a connection was never returned to the pool"
    finally:
        client.close()
        idle = server.wait_idle(10)
        server.stop()
    assert idle, "server-side connections still open after Client.close()"
    assert open_fds() == baseline_fds
    assert set(threading.enumerate()) == baseline_threads
