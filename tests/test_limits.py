"""Bounded memory and a real deadline against hostile loopback servers: endless bodies (chunked or not), a
gzip bomb, an endless SSE line, an endless valid stream, a drip-fed body and keep-alive comments.

Memory is measured as the growth of the peak RSS of a subprocess that makes the one call (ru_maxrss after
the call minus before it), so nothing the test runner allocated earlier hides a blow-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from faultserver import FaultServer, Repeat, Send, Stall, chunk, chunked_head, response, sse_chat

import litellm_sync
from litellm_sync.retry import RetryPolicy

MiB = 2**20
MESSAGES = [{"role": "user", "content": "hello"}]
GROWTH_CAP = 48 * MiB  # far below what the servers below send (128 MiB and more)

_CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    import litellm_sync
    from litellm_sync.limits import Limits

    url, mode = sys.argv[1], sys.argv[2]
    client = litellm_sync.Client(max_retries=0, timeout=20,
                                 limits=Limits(max_body_bytes=4 * 2**20, max_line_bytes=2**20, max_event_bytes=2**20))
    client.completion("openai/gpt-4o", [{"role": "user", "content": "warm"}], api_key="k", api_base=url)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    outcome, chunks = "ok", 0
    try:
        if mode == "stream":
            with client.completion("openai/gpt-4o", [{"role": "user", "content": "x"}], api_key="k", api_base=url,
                                   stream=True) as stream:
                for _chunk in stream:
                    chunks += 1
                    if chunks >= 200000:
                        break
        else:
            client.completion("openai/gpt-4o", [{"role": "user", "content": "x"}], api_key="k", api_base=url,
                              stream=mode == "sse-line")
    except litellm_sync.LiteLLMSyncError as exc:
        outcome = type(exc).__name__ + ": " + str(exc)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"growth": after - before, "outcome": outcome, "chunks": chunks}))
    """
)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    fault = FaultServer().start()
    try:
        yield fault
    finally:
        fault.stop()


def _run_child(server: FaultServer, mode: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, server.url, mode], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _warm() -> list[Any]:
    return [Send(response(200, b'{"choices": [{"message": {"content": "warm"}}]}'))]


def _gzip_bomb(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip container
    block = bytes(MiB)
    return b"".join(packer.compress(block) for _ in range(size // MiB)) + packer.flush()


def test_endless_body_with_content_length_stops_at_the_limit(server: FaultServer) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n"
    server.enqueue(_warm(), [Send(head), Repeat(b"x" * 65536, most=256 * MiB)])
    result = _run_child(server, "body")
    assert result["outcome"].startswith("ResponseTooLargeError"), result
    assert "max_body_bytes" in result["outcome"] and "Limits(" in result["outcome"]
    assert result["growth"] < GROWTH_CAP, result


def test_endless_chunked_body_stops_at_the_limit(server: FaultServer) -> None:
    server.enqueue(_warm(), [Send(chunked_head(content_type="application/json")),
                             Repeat(b"y" * 65536, chunked=True, most=256 * MiB)])
    result = _run_child(server, "body")
    assert result["outcome"].startswith("ResponseTooLargeError"), result
    assert result["growth"] < GROWTH_CAP, result


def test_gzip_bomb_is_counted_after_decompression(server: FaultServer) -> None:
    bomb = _gzip_bomb(256 * MiB)  # about 250 KB on the wire, sent although we asked for identity
    assert len(bomb) < MiB
    server.enqueue(_warm(), [Send(response(200, bomb, headers={"Content-Encoding": "gzip"}))])
    result = _run_child(server, "body")
    assert result["outcome"].startswith("ResponseTooLargeError"), result
    assert "after decompression" in result["outcome"]
    assert result["growth"] < GROWTH_CAP, result


def test_endless_sse_line_stops_at_the_line_limit(server: FaultServer) -> None:
    server.enqueue(_warm(), [Send(chunked_head()), Send(chunk(b"data: {\"x\": \"")),
                             Repeat(b"z" * 65536, chunked=True, most=128 * MiB)])
    result = _run_child(server, "sse-line")
    assert result["outcome"].startswith("ResponseTooLargeError"), result
    assert result["growth"] < GROWTH_CAP, result


def test_endless_valid_stream_without_hooks_keeps_nothing(server: FaultServer) -> None:
    event = sse_chat(["token "], done=False)[0]
    server.enqueue(_warm(), [Send(chunked_head()), Repeat(event, chunked=True, most=1024 * MiB)])
    result = _run_child(server, "stream")
    assert result["chunks"] == 200000 and result["outcome"] == "ok", result
    assert result["growth"] < 16 * MiB, result  # keeping them all: about 100 MB


def test_response_after_unkept_iteration_says_how_to_rebuild(server: FaultServer) -> None:
    server.enqueue([Send(chunked_head()), *(Send(chunk(e)) for e in sse_chat(["a", "b"])), Send(chunk(b""))])
    with litellm_sync.Client(max_retries=0) as client:
        stream = client.completion("openai/gpt-4o", MESSAGES, api_key="k", api_base=server.url, stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in stream) == "ab"
        with pytest.raises(litellm_sync.LiteLLMSyncError, match="stream_chunk_builder"):
            stream.response()


# -- the deadline ---------------------------------------------------------------------------------------------


def _bounded(function: Any, bound: float) -> tuple[Any, float]:
    """Run in a thread; fail if still running after `bound` s; return (outcome or exception, seconds taken)."""
    outcome: dict[str, Any] = {}
    started = time.monotonic()

    def target() -> None:
        try:
            outcome["value"] = function()
        except BaseException as exc:
            outcome["value"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(bound)
    assert not worker.is_alive(), f"still running after {bound} s: the deadline did not hold"
    return outcome["value"], time.monotonic() - started


def test_drip_fed_body_fails_at_the_deadline(server: FaultServer) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    server.enqueue([Send(head), Repeat(b" ", gap=0.5, limit=20)])
    with litellm_sync.Client(max_retries=0, timeout=3) as client:
        error, took = _bounded(
            lambda: client.completion("openai/gpt-4o", MESSAGES, api_key="k", api_base=server.url), bound=8
        )
    assert isinstance(error, litellm_sync.Timeout), error
    assert "reading the body" in str(error) and "timeout" in str(error)
    assert took >= 2.5  # each read returned within the read timeout: only the deadline stopped it


def test_keep_alive_comments_do_not_extend_a_stream(server: FaultServer) -> None:
    server.enqueue([Send(chunked_head()), Send(chunk(sse_chat(["hi"], done=False)[0])),
                    Repeat(b": keep-alive\n\n", chunked=True, gap=0.3, limit=20)])
    with litellm_sync.Client(max_retries=0, timeout=2) as client:
        stream = client.completion("openai/gpt-4o", MESSAGES, api_key="k", api_base=server.url, stream=True)
        error, _took = _bounded(lambda: list(stream), bound=7)
    assert isinstance(error, litellm_sync.Timeout), error
    assert "reading the stream" in str(error)


def test_total_timeout_bounds_the_call_with_its_retries(server: FaultServer) -> None:
    server.enqueue(*([Stall(limit=10)] for _ in range(6)))
    policy = RetryPolicy(max_retries=5, sleep=lambda seconds: None)
    with litellm_sync.Client(timeout=1.0, total_timeout=2.5, retry_policy=policy) as client:
        error, _took = _bounded(
            lambda: client.completion("openai/gpt-4o", MESSAGES, api_key="k", api_base=server.url), bound=8
        )
    assert isinstance(error, litellm_sync.Timeout), error
    assert error.attempts == 3, error  # 1 s + 1 s + the 0.5 s left: then no retry, whatever max_retries says
    assert not error.retryable


@pytest.mark.parametrize("bad", [-1, 0, "5", float("nan"), (1, "x")])
def test_a_bad_timeout_is_a_configuration_error(bad: Any) -> None:
    with pytest.raises(litellm_sync.ConfigurationError, match="timeout"):
        litellm_sync.Client(timeout=bad)
