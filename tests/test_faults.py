"""Fault injection: one test per way the network or the provider can misbehave, each asserting the typed
outcome and that nothing leaks (pooled sockets returned or closed, no thread left blocked)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from faultserver import (
    Close,
    Drip,
    FaultServer,
    Pause,
    Reset,
    Send,
    Stall,
    chat_json,
    chunk,
    chunked_head,
    closed_port,
    response,
    sse_chat,
)

import litellm_sync
from litellm_sync.retry import RetryPolicy

MESSAGES = [{"role": "user", "content": "hello"}]
KEY = "sk-fault-test-0123456789"
CALL_BOUND = 10.0  # no single call in this file may take longer than this


class Sleeps:
    """An injected sleep that records the waits and does not wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    before = set(threading.enumerate())
    fault = FaultServer().start()
    try:
        yield fault
    finally:
        fault.stop()
    leftover = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leftover, f"threads left running: {leftover}"


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(sleeps: Sleeps) -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(timeout=5.0, retry_policy=RetryPolicy(max_retries=0, sleep=sleeps)) as shared:
        yield shared


def run_bounded(function: Callable[[], Any], bound: float = CALL_BOUND) -> Any:
    """Run in a worker thread; fail if it is still blocked after `bound` seconds; return or re-raise."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = function()
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=target, name="fault-call", daemon=True)
    worker.start()
    worker.join(bound)
    assert not worker.is_alive(), f"the call was still blocked after {bound} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def call(client: litellm_sync.Client, server: FaultServer, *, model: str = "openai/gpt-4o", **kwargs: Any) -> Any:
    return run_bounded(
        lambda: client.completion(model, MESSAGES, api_base=server.url, api_key=KEY, **kwargs)
    )


def consume(stream: Any) -> list[Any]:
    return run_bounded(lambda: list(stream))


def stream_text(chunks: list[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def assert_no_leaks(client: litellm_sync.Client, server: FaultServer) -> None:
    """Every pooled connection is back in its pool (or closed), and closing the client closes every socket."""
    for pool in client.transport.connection_pools():
        assert pool.pool.qsize() == pool.pool.maxsize, "a connection was never returned to the pool"
    client.close()
    assert server.wait_idle(5.0), f"{server.open_connections} server-side connection(s) still open"


def ok_script(text: str = "ok") -> list[Any]:
    return [Send(response(200, chat_json(text)))]


# -- connection-level faults ------------------------------------------------------------------------


def test_connection_refused(client: litellm_sync.Client) -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(litellm_sync.APIConnectionError) as info:
        run_bounded(lambda: client.completion("openai/gpt-4o", MESSAGES, api_base=base, api_key=KEY))
    assert not isinstance(info.value, litellm_sync.Timeout)
    assert info.value.retryable
    assert "127.0.0.1" in str(info.value)
    for pool in client.transport.connection_pools():
        assert pool.pool.qsize() == pool.pool.maxsize


def test_reset_before_status_line(client: litellm_sync.Client, server: FaultServer) -> None:
    server.enqueue([Reset()])
    with pytest.raises(litellm_sync.APIConnectionError) as info:
        call(client, server)
    assert info.value.retryable
    assert_no_leaks(client, server)


def test_reset_mid_body(client: litellm_sync.Client, server: FaultServer) -> None:
    body = chat_json("a long answer " * 50)
    server.enqueue([Send(response(200, body)[: len(body) // 2]), Pause(0.05), Reset()])
    with pytest.raises(litellm_sync.APIConnectionError):
        call(client, server)
    assert_no_leaks(client, server)


def test_body_shorter_than_content_length(client: litellm_sync.Client, server: FaultServer) -> None:
    server.enqueue([Send(response(200, chat_json("x"), length=10_000)), Close()])
    with pytest.raises(litellm_sync.APIConnectionError):
        call(client, server)
    assert_no_leaks(client, server)


def test_reset_mid_stream(client: litellm_sync.Client, server: FaultServer) -> None:
    events = sse_chat(["one", " two", " three"])
    server.enqueue([Send(chunked_head() + chunk(events[0]) + chunk(events[1])), Pause(0.05), Reset()])
    stream = call(client, server, stream=True)
    received: list[Any] = []

    def drain() -> None:
        for item in stream:
            received.append(item)

    with pytest.raises(litellm_sync.APIConnectionError) as info:
        run_bounded(drain)
    assert stream_text(received) == "one two"
    assert "stream" in str(info.value)
    assert_no_leaks(client, server)


def test_stalled_read_times_out_within_bound(client: litellm_sync.Client, server: FaultServer) -> None:
    server.enqueue([Stall()])
    started = time.monotonic()
    with pytest.raises(litellm_sync.Timeout):
        call(client, server, timeout=0.5)
    assert time.monotonic() - started < 5.0
    assert_no_leaks(client, server)


def test_stalled_stream_times_out_within_bound(client: litellm_sync.Client, server: FaultServer) -> None:
    events = sse_chat(["first"])
    server.enqueue([Send(chunked_head() + chunk(events[0])), Stall()])
    stream = call(client, server, stream=True, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(litellm_sync.Timeout):
        consume(stream)
    assert time.monotonic() - started < 5.0
    assert_no_leaks(client, server)


# -- status-level faults and retries ----------------------------------------------------------------


def test_429_with_retry_after_then_200(client: litellm_sync.Client, server: FaultServer, sleeps: Sleeps) -> None:
    limited = json.dumps({"error": {"message": "slow down", "type": "rate_limit_error"}})
    server.enqueue([Send(response(429, limited, headers={"Retry-After": "3"}))], ok_script("after wait"))
    result = call(client, server, max_retries=2)
    assert result.choices[0].message.content == "after wait"
    assert sleeps.waits == [3.0]  # one retry, waiting exactly what the provider asked
    assert len(server.requests) == 2
    assert_no_leaks(client, server)


def test_503_twice_then_200(client: litellm_sync.Client, server: FaultServer, sleeps: Sleeps) -> None:
    busy = response(503, json.dumps({"error": {"message": "overloaded"}}))
    server.enqueue([Send(busy)], [Send(busy)], ok_script("third time"))
    result = call(client, server, max_retries=3)
    assert result.choices[0].message.content == "third time"
    assert len(sleeps.waits) == 2
    assert all(0 <= wait <= 8.0 for wait in sleeps.waits)
    assert len(server.requests) == 3
    assert_no_leaks(client, server)


def test_500_forever_gives_up_after_max_retries(
    client: litellm_sync.Client, server: FaultServer, sleeps: Sleeps
) -> None:
    server.handler = lambda request: [Send(response(500, json.dumps({"error": {"message": "boom"}})))]
    with pytest.raises(litellm_sync.InternalServerError) as info:
        call(client, server, max_retries=3)
    assert info.value.attempts == 4
    assert "after 4 attempts" in str(info.value)
    assert info.value.status_code == 500
    assert len(server.requests) == 4
    assert len(sleeps.waits) == 3
    assert_no_leaks(client, server)


def test_malformed_json(client: litellm_sync.Client, server: FaultServer) -> None:
    server.enqueue([Send(response(200, '{"id": "x", "choices": [ {"index": 0,'))])
    with pytest.raises(litellm_sync.APIResponseValidationError) as info:
        call(client, server)
    assert "not JSON" in str(info.value)
    assert_no_leaks(client, server)


def test_html_502_page(client: litellm_sync.Client, server: FaultServer) -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1>" + "x" * 2000 + "</body></html>"
    server.enqueue([Send(response(502, page, content_type="text/html"))])
    with pytest.raises(litellm_sync.ServiceUnavailableError) as info:
        call(client, server)
    assert info.value.status_code == 502
    assert "502 Bad Gateway" in str(info.value)
    assert "<html>" not in str(info.value)
    assert_no_leaks(client, server)


def test_empty_200(client: litellm_sync.Client, server: FaultServer) -> None:
    server.enqueue([Send(response(200, b""))])
    with pytest.raises(litellm_sync.APIResponseValidationError) as info:
        call(client, server)
    assert "empty" in str(info.value)
    assert_no_leaks(client, server)


def test_error_status_on_a_stream(client: litellm_sync.Client, server: FaultServer) -> None:
    server.enqueue([Send(response(401, json.dumps({"error": {"message": "bad key", "code": "invalid_api_key"}})))])
    with pytest.raises(litellm_sync.AuthenticationError):
        call(client, server, stream=True)
    assert_no_leaks(client, server)


def test_20_mb_response(client: litellm_sync.Client, server: FaultServer) -> None:
    text = "0123456789abcdef" * (20 * 1024 * 1024 // 16)
    server.enqueue([Send(response(200, chat_json(text)))])
    result = call(client, server)
    assert len(result.choices[0].message.content) == len(text)
    assert_no_leaks(client, server)


# -- stream-level faults ----------------------------------------------------------------------------


def test_stream_without_end_marker_chunked(client: litellm_sync.Client, server: FaultServer) -> None:
    events = sse_chat(["partial", " answer"], done=False)
    server.enqueue([Send(chunked_head() + b"".join(chunk(e) for e in events) + chunk(b""))])
    stream = call(client, server, stream=True)
    received: list[Any] = []
    with pytest.raises(litellm_sync.APIConnectionError) as info:
        run_bounded(lambda: received.extend(stream))
    assert "end marker" in str(info.value)
    assert stream_text(received) == "partial answer"
    assert_no_leaks(client, server)


def test_stream_without_end_marker_connection_closed(client: litellm_sync.Client, server: FaultServer) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
    server.enqueue([Send(head + b"".join(sse_chat(["cut"], done=False))), Close()])
    stream = call(client, server, stream=True)
    with pytest.raises(litellm_sync.APIConnectionError):
        consume(stream)
    assert_no_leaks(client, server)


def test_anthropic_stream_without_message_stop(client: litellm_sync.Client, server: FaultServer) -> None:
    events = [
        'event: message_start\ndata: {"type":"message_start","message":{"id":"m","model":"claude-x","usage":'
        '{"input_tokens":1,"output_tokens":1}}}\n\n',
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        '"delta":{"type":"text_delta","text":"hi"}}\n\n',
    ]
    server.enqueue([Send(chunked_head() + b"".join(chunk(e) for e in events) + chunk(b""))])
    stream = call(client, server, model="anthropic/claude-x", stream=True)
    with pytest.raises(litellm_sync.APIConnectionError):
        consume(stream)
    assert_no_leaks(client, server)


def test_in_band_error_event_openai(client: litellm_sync.Client, server: FaultServer) -> None:
    in_band = b'data: {"error": {"message": "upstream overloaded", "code": 502}}\n\n'
    events = [*sse_chat(["fine"], done=False)[:1], in_band]
    server.enqueue([Send(chunked_head() + b"".join(chunk(e) for e in events) + chunk(b""))])
    stream = call(client, server, stream=True)
    with pytest.raises(litellm_sync.APIStatusError) as info:
        consume(stream)
    assert "upstream overloaded" in str(info.value)
    assert info.value.status_code == 502
    assert_no_leaks(client, server)


def test_in_band_error_event_anthropic(client: litellm_sync.Client, server: FaultServer) -> None:
    events = [
        'event: message_start\ndata: {"type":"message_start","message":{"id":"m","model":"claude-x"}}\n\n',
        'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
    ]
    server.enqueue([Send(chunked_head() + b"".join(chunk(e) for e in events) + chunk(b""))])
    # Nothing reached the caller before the error, so completion() itself raises it (after its retries).
    with pytest.raises(litellm_sync.APIStatusError) as info:
        consume(call(client, server, model="anthropic/claude-x", stream=True, max_retries=0))
    assert "Overloaded" in str(info.value)
    assert_no_leaks(client, server)


def test_invalid_utf8_in_stream(client: litellm_sync.Client, server: FaultServer) -> None:
    good = sse_chat(["caf\u00e9 \U0001f600"])
    bad = b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"bad \xff\xfe byte"}}]}\n\n'
    events = [good[0], bad, *good[1:]]
    raw = b"".join(chunk(e) for e in events) + chunk(b"")
    server.enqueue([Send(chunked_head()), Drip(raw, size=3)])  # multi-byte characters split across writes
    stream = call(client, server, stream=True)
    text = stream_text(consume(stream))
    assert text.startswith("caf\u00e9 \U0001f600")
    assert "bad \ufffd\ufffd byte" in text
    assert_no_leaks(client, server)


def test_drip_fed_stream_one_byte_per_write(client: litellm_sync.Client, server: FaultServer) -> None:
    tokens = [f" t{i}" for i in range(40)]
    raw = chunked_head() + b"".join(chunk(e) for e in sse_chat(tokens)) + chunk(b"")
    server.enqueue([Drip(raw, size=1)])
    stream = call(client, server, stream=True)
    assert stream_text(consume(stream)) == "".join(tokens)
    assert_no_leaks(client, server)


def test_drip_fed_json_one_byte_per_write(client: litellm_sync.Client, server: FaultServer) -> None:
    server.enqueue([Drip(response(200, chat_json("slowly")), size=1)])
    assert call(client, server).choices[0].message.content == "slowly"
    assert_no_leaks(client, server)


# -- release paths ----------------------------------------------------------------------------------


def test_stream_break_early_releases(client: litellm_sync.Client, server: FaultServer) -> None:
    server.handler = lambda request: [
        Send(chunked_head() + b"".join(chunk(e) for e in sse_chat([f" {i}" for i in range(200)])) + chunk(b""))
    ]
    for _ in range(3):
        stream = call(client, server, stream=True)
        for _chunk in stream:
            break
        stream.close()
    assert_no_leaks(client, server)


def test_connection_reused_after_faults(client: litellm_sync.Client, server: FaultServer) -> None:
    server.enqueue([Send(response(500, "{}"))], ok_script("a"), ok_script("b"))
    with pytest.raises(litellm_sync.InternalServerError):
        call(client, server)
    assert call(client, server).choices[0].message.content == "a"
    assert call(client, server).choices[0].message.content == "b"
    assert server.accepted == 1  # the error response was read whole, so the connection stayed usable
    assert_no_leaks(client, server)


# -- honest errors: what happened, and at which stage ------------------------------------------------------


def test_html_page_answering_a_stream_request_is_not_retried(
    client: litellm_sync.Client, server: FaultServer, sleeps: Sleeps
) -> None:
    page = "<html><head><title>Sign in to the proxy</title></head><body>login</body></html>"
    server.enqueue(*([Send(response(200, page, content_type="text/html"))] for _ in range(3)))
    with pytest.raises(litellm_sync.APIResponseValidationError) as info:
        call(client, server, stream=True, max_retries=2)
    assert "HTML page" in str(info.value) and "Sign in to the proxy" in str(info.value)
    assert not info.value.retryable and len(server.requests) == 1 and sleeps.waits == []
    assert_no_leaks(client, server)


def test_bad_gzip_says_the_body_could_not_be_decompressed(client: litellm_sync.Client, server: FaultServer) -> None:
    garbage = b"\x1f\x8b\x08\x00" + b"this is not deflate data at all" * 4
    server.enqueue([Send(response(200, garbage, headers={"Content-Encoding": "gzip"}))])
    with pytest.raises(litellm_sync.APIResponseValidationError) as info:
        call(client, server)
    message = str(info.value)
    assert "reading the body" in message and "decompressed" in message and "could not reach" not in message
    assert_no_leaks(client, server)


def test_short_body_says_the_connection_closed_early_reading_the_body(
    client: litellm_sync.Client, server: FaultServer
) -> None:
    server.enqueue([Send(response(200, chat_json("x"), length=10_000)), Close()])
    with pytest.raises(litellm_sync.APIConnectionError) as info:
        call(client, server)
    message = str(info.value)
    assert "reading the body" in message and "closed early" in message and "could not reach" not in message
    assert_no_leaks(client, server)


def test_read_timeouts_name_their_stage(client: litellm_sync.Client, server: FaultServer) -> None:
    server.enqueue([Stall(limit=5)])
    with pytest.raises(litellm_sync.Timeout) as headers:
        call(client, server, timeout=(2.0, 0.3))
    assert "waiting for the response headers" in str(headers.value)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    server.enqueue([Send(head), Stall(limit=5)])
    with pytest.raises(litellm_sync.Timeout) as body:
        call(client, server, timeout=(2.0, 0.3))
    assert "reading the body" in str(body.value) and "timed out" in str(body.value)
    assert_no_leaks(client, server)


def test_stream_cut_mid_event_says_so(client: litellm_sync.Client, server: FaultServer) -> None:
    events = sse_chat(["one", " two"])
    cut = events[1][: len(events[1]) // 2]  # half an event, then the connection closes
    server.enqueue([Send(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                         + events[0] + cut), Close()])
    stream = call(client, server, stream=True)
    with pytest.raises(litellm_sync.APIConnectionError) as info:
        consume(stream)
    # The SSE decoder discards a half event at the end of the body (as the SSE spec says), so the stream
    # ends before its end marker: a connection closed early, not an event that is "not valid JSON".
    assert "closed early" in str(info.value) and "not valid JSON" not in str(info.value)
    assert info.value.retryable
    assert_no_leaks(client, server)


def test_openai_style_overloaded_first_event_is_retried(
    client: litellm_sync.Client, server: FaultServer, sleeps: Sleeps
) -> None:
    overloaded = b'data: {"error": {"code": "overloaded", "message": "Overloaded, try again"}}\n\n'
    events = sse_chat(["after retry"])
    server.enqueue(
        [Send(chunked_head() + chunk(overloaded) + chunk(b""))],
        [Send(chunked_head() + b"".join(chunk(e) for e in events) + chunk(b""))],
    )
    stream = call(client, server, stream=True, max_retries=2)
    assert stream_text(consume(stream)) == "after retry"
    assert len(server.requests) == 2 and len(sleeps.waits) == 1
    assert_no_leaks(client, server)


def test_ndjson_stream_cut_mid_record_says_so(client: litellm_sync.Client, server: FaultServer) -> None:
    first = b'{"model":"llama3","message":{"role":"assistant","content":"one"},"done":false}\n'
    cut = b'{"model":"llama3","message":{"role":"assistant","content":" tw'  # then the connection closes
    server.enqueue([Send(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n"
                         + first + cut), Close()])
    stream = call(client, server, model="ollama/llama3", stream=True)
    with pytest.raises(litellm_sync.APIConnectionError) as info:
        consume(stream)
    assert "closed early, in the middle of a stream event" in str(info.value)
    assert "not valid JSON" not in str(info.value) and info.value.retryable
    assert_no_leaks(client, server)
