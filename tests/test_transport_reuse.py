"""Connection reuse: a connection goes back to the pool only when its body was read to the end (every byte of
a Content-Length body, a chunked body's terminator), and is closed otherwise, even when the reader asked for
reuse. Counted at a raw-socket server, so it holds whatever urllib3 (1.26, 2.0-2.7, 2.8+) decides itself."""

from __future__ import annotations

import gzip
import random
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
import urllib3.response
from faultserver import FaultServer, Pause, Send, Stall, chunk, chunked_head, response, sse_chat

import litellm_sync
from litellm_sync._engine.request import PreparedRequest
from litellm_sync._engine.transport import Reply, Transport

MESSAGES = [{"role": "user", "content": "hello"}]
BODY = random.Random(26).randbytes(300_000)  # incompressible: gzip keeps it big
FINAL = b'{"final": true}'


@pytest.fixture
def fault() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture
def transport() -> Iterator[Transport]:
    own = Transport(pool_size=4)
    try:
        yield own
    finally:
        own.close()


def send(transport: Transport, fault: FaultServer) -> Reply:
    return transport.send(PreparedRequest("GET", fault.url + "/x", {}, None, None), 5.0, provider="test")


def length_body(body: bytes, *, gzipped: bool = False) -> list[Any]:
    data = gzip.compress(body) if gzipped else body
    return [Send(response(200, data, content_type="application/octet-stream",
                          headers={"Content-Encoding": "gzip"} if gzipped else None))]


def chunked_body(body: bytes, *, gzipped: bool = False, terminator: bool = True) -> list[Any]:
    """`body` in 10 kB chunks; without the terminator the server then waits (until the client hangs up)."""
    data = gzip.compress(body) if gzipped else body
    head = chunked_head(content_type="application/octet-stream")
    if gzipped:
        head = head.replace(b"\r\n\r\n", b"\r\nContent-Encoding: gzip\r\n\r\n")
    pieces = b"".join(chunk(data[i : i + 10_000]) for i in range(0, len(data), 10_000))
    return [Send(head + pieces + chunk(b""))] if terminator else [Send(head + pieces), Stall(10.0)]


def final_answer(transport: Transport, fault: FaultServer) -> None:
    """The next request gets its own whole answer (not bytes left over from the previous body)."""
    fault.enqueue([Send(response(200, FINAL))])
    reply = send(transport, fault)
    assert reply.read() == FINAL


BODIES = {
    "content-length": lambda **kw: length_body(BODY, **kw),
    "chunked": lambda **kw: chunked_body(BODY, **kw),
}


@pytest.mark.parametrize("gzipped", [False, True], ids=["identity", "gzip"])
@pytest.mark.parametrize("framing", sorted(BODIES))
def test_a_body_read_to_its_end_returns_the_connection_to_the_pool(
    transport: Transport, fault: FaultServer, framing: str, gzipped: bool
) -> None:
    fault.enqueue(BODIES[framing](gzipped=gzipped))
    reply = send(transport, fault)
    assert b"".join(reply.chunks()) == BODY
    reply.close(reuse=True)
    final_answer(transport, fault)
    assert fault.accepted == 1 and len(fault.requests) == 2  # the second request rode the first connection
    assert fault.open_connections == 1  # and it is still open, idle in the pool
    (pool,) = transport.connection_pools()
    assert pool.pool.qsize() == pool.pool.maxsize


@pytest.mark.parametrize("gzipped", [False, True], ids=["identity", "gzip"])
@pytest.mark.parametrize("framing", sorted(BODIES))
def test_a_body_closed_mid_way_closes_its_connection_even_when_reuse_is_asked(
    transport: Transport, fault: FaultServer, framing: str, gzipped: bool
) -> None:
    fault.enqueue(BODIES[framing](gzipped=gzipped))
    reply = send(transport, fault)
    first = next(reply.chunks())
    assert 0 < len(first) < len(BODY)
    reply.close(reuse=True)
    assert fault.wait_idle(5.0), "the connection with an unread body was not closed"
    final_answer(transport, fault)
    assert fault.accepted == 2  # a new connection, not the one standing mid-body


@pytest.mark.parametrize("gzipped", [False, pytest.param(True, marks=pytest.mark.skipif(
    not hasattr(urllib3.response.HTTPResponse, "read1"),
    reason="urllib3 1.26 has no read1: a compressed body's read waits for the whole size asked, never returning "
    "the payload before the (withheld) terminator",
))], ids=["identity", "gzip"])
def test_a_chunked_body_without_its_terminator_read_is_not_pooled(
    transport: Transport, fault: FaultServer, gzipped: bool
) -> None:
    """Every payload byte was read but not the last chunk (0 CRLF CRLF): the connection still stands mid-body."""
    fault.enqueue(chunked_body(BODY, gzipped=gzipped, terminator=False))
    reply = send(transport, fault)
    got = b""
    for data in reply.chunks():
        got += data
        if len(got) >= len(BODY):
            break
    assert got == BODY
    reply.close(reuse=True)
    assert fault.wait_idle(5.0), "the connection waiting for its terminator was not closed"
    final_answer(transport, fault)
    assert fault.accepted == 2


def test_a_content_length_body_read_whole_without_the_last_empty_read_is_not_pooled(
    transport: Transport, fault: FaultServer
) -> None:
    """Reuse needs the reader to have seen the end (a read returning nothing), not just a byte count."""
    small = b"x" * 1000
    fault.enqueue(length_body(small))
    reply = send(transport, fault)
    assert next(reply.chunks()) == small
    reply.close(reuse=True)
    assert fault.wait_idle(5.0)
    final_answer(transport, fault)
    assert fault.accepted == 2


def _stream(text: str, *, pause: bool = False) -> list[Any]:
    """A chat stream; with `pause` its terminator comes in a later write, after the [DONE] event."""
    events = b"".join(chunk(e) for e in sse_chat(text.split(" ")))
    if pause:
        return [Send(chunked_head() + events), Pause(0.05), Send(chunk(b""))]
    return [Send(chunked_head() + events + chunk(b""))]


def _text(stream: Any) -> str:
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


def test_a_stream_whose_terminator_comes_after_done_is_read_to_it_and_pooled(fault: FaultServer) -> None:
    fault.enqueue(_stream("a b", pause=True), _stream("c d", pause=True), _stream("e f"))
    with litellm_sync.Client(max_retries=0, timeout=5.0) as client:
        for expected in ("ab", "cd", "ef"):
            with client.completion("openai/gpt-4o", MESSAGES, api_key="k", api_base=fault.url, stream=True) as s:
                assert _text(s) == expected
        assert fault.accepted == 1


def test_a_stream_closed_mid_body_is_not_pooled(fault: FaultServer) -> None:
    fault.enqueue(_stream(" ".join(f"w{i}" for i in range(500))), _stream("next"))
    with litellm_sync.Client(max_retries=0, timeout=5.0) as client:
        with client.completion("openai/gpt-4o", MESSAGES, api_key="k", api_base=fault.url, stream=True) as s:
            next(iter(s))
        assert fault.wait_idle(5.0)
        with client.completion("openai/gpt-4o", MESSAGES, api_key="k", api_base=fault.url, stream=True) as s:
            assert _text(s) == "next"
        assert fault.accepted == 2


@responses.activate
def test_replies_mocked_with_responses_read_and_release() -> None:
    """requests' own response objects (no socket, no http.client underneath) read whole and close cleanly."""
    responses.add(responses.GET, "http://mocked.test/x", body=BODY, content_type="application/octet-stream")
    responses.add(responses.GET, "http://mocked.test/x", body=gzip.compress(BODY),
                  headers={"Content-Encoding": "gzip"}, content_type="application/octet-stream")
    transport = Transport(session=requests.Session())
    request = PreparedRequest("GET", "http://mocked.test/x", {}, None, None)
    for _ in range(2):
        reply = transport.send(request, 5.0, provider="test")
        assert reply.read() == BODY
        assert reply.at_eof
    partial = transport.send(request, 5.0, provider="test")
    assert next(partial.chunks())
    partial.close(reuse=True)  # mid-body: closed, and no error
    assert partial._response.raw.closed
