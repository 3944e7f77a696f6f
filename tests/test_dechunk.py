"""The transport's own chunked-transfer decoder (`_engine.chunked.Dechunker`): the same bytes and the same failures
as http.client's, a whole socket read at a time, and connections reused only after a body's last chunk."""

from __future__ import annotations

import http.client
import http.server
import io
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from faultserver import Close, Drip, FaultServer, Send, chunk, chunked_head, sse_chat
from hypothesis import given, settings
from hypothesis import strategies as st

import litellm_sync
from litellm_sync._engine.chunked import Dechunker
from litellm_sync.retry import RetryPolicy

MESSAGES = [{"role": "user", "content": "hello"}]
KEY = "sk-dechunk-test-0123456789"


class _Pieces:
    """A socket file whose reads return the given pieces (each cut to the size asked)."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = [p for p in pieces if p]

    def read1(self, size: int) -> bytes:
        if not self.pieces:
            return b""
        piece = self.pieces.pop(0)
        if len(piece) > size:
            self.pieces.insert(0, piece[size:])
            piece = piece[:size]
        return piece


class _Inner:
    """The parts of http.client.HTTPResponse the decoder uses."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.fp: Any = _Pieces(pieces)
        self.closed_conn = False

    def _close_conn(self) -> None:
        self.closed_conn = True
        self.fp = None


def _decode(pieces: list[bytes], size: int = 65536) -> tuple[bytes, _Inner]:
    inner = _Inner(pieces)
    dechunker = Dechunker(inner)  # type: ignore[arg-type]
    out = []
    while True:
        data = dechunker.read(size)
        if not data:
            break
        assert len(data) <= size
        out.append(data)
    return b"".join(out), inner


def _http_client_decode(raw: bytes) -> bytes:
    """What http.client itself makes of the same body."""
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    response = http.client.HTTPResponse(_Socket(head + raw))  # type: ignore[arg-type]
    response.begin()
    return response.read()


class _Socket:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(io.BytesIO(self.data))  # type: ignore[arg-type]


def _split(raw: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(raw)) for c in cuts})
    return [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)])]


payloads = st.lists(st.binary(min_size=1, max_size=40), max_size=8)
size_lines = st.sampled_from(["%x", "%X", "%04x", "%x;name=value", "%x ; ext", "%x "])
trailers = st.sampled_from([b"\r\n", b"X-Trailer: 1\r\n\r\n", b"\n", b"A: b\r\nC: d\r\n\r\n"])


@settings(max_examples=200, deadline=None)
@given(payloads, size_lines, trailers, st.lists(st.integers(0, 600), max_size=12), st.integers(1, 64))
def test_same_payload_as_http_client_however_the_bytes_arrive(
    parts: list[bytes], size_line: str, trailer: bytes, cuts: list[int], read_size: int
) -> None:
    raw = b"".join((size_line % len(p)).encode() + b"\r\n" + p + b"\r\n" for p in parts) + b"0\r\n" + trailer
    raw += b"next response, never read"
    wanted = _http_client_decode(raw)
    assert wanted == b"".join(parts)
    got, inner = _decode(_split(raw, cuts), read_size)
    assert got == wanted
    assert inner.closed_conn  # finished as http.client finishes: the response closed after the last chunk


@pytest.mark.parametrize(
    "raw",
    [
        b"zz\r\nhello\r\n0\r\n\r\n",  # not hex
        b"-5\r\nhello\r\n0\r\n\r\n",  # negative
        b"\r\n",  # an empty size line
        b"5\r\nhel",  # cut inside a chunk's data
        b"5\r\nhello\r\n",  # cut before the last chunk
        b"5\r\nhello\r",  # cut inside the CRLF after the data
        b"5",  # cut inside a size line
    ],
)
def test_broken_or_cut_bodies_fail_as_incomplete_reads(raw: bytes) -> None:
    with pytest.raises(http.client.IncompleteRead):
        _decode(_split(raw, [1, 3]))


def test_an_endless_size_line_is_refused() -> None:
    with pytest.raises(http.client.LineTooLong):
        _decode([b"1" * 70000])


@pytest.mark.parametrize("ending", [b"0\r\nX-Trailer: 1\r\n", b"0\r\n", b"0", b"0;x", b"00"])
def test_eof_instead_of_the_last_crlfs_ends_the_body_as_in_http_client(ending: bytes) -> None:
    raw = b"2\r\nok\r\n" + ending
    assert _http_client_decode(raw) == b"ok"
    got, inner = _decode(_split(raw, [3, 8]))
    assert got == b"ok" and inner.closed_conn


def test_each_read_returns_what_arrived_at_once() -> None:
    """A read hands over the payload of every chunk it brought, and the part of an unfinished one."""
    inner = _Inner([b"3\r\nabc\r\n3\r\ndef\r\n5\r\ngh", b"ijk\r\n0\r\n\r\n"])
    dechunker = Dechunker(inner)  # type: ignore[arg-type]
    assert dechunker.read(65536) == b"abcdefgh"
    assert not dechunker.done
    assert dechunker.read(65536) == b"ijk"
    assert dechunker.done and dechunker.read(65536) == b""


# -- over a socket ---------------------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[FaultServer]:
    fault = FaultServer().start()
    try:
        yield fault
    finally:
        fault.stop()


@pytest.fixture
def client() -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(timeout=5.0, retry_policy=RetryPolicy(max_retries=0)) as shared:
        yield shared


def _odd_chunks(data: bytes) -> bytes:
    """`data` as a chunked body with extensions, uneven chunk sizes across event boundaries and a trailer."""
    out, step, pos = [], 1, 0
    while pos < len(data):
        piece = data[pos : pos + step]
        out.append(b"%X;ext=1\r\n%s\r\n" % (len(piece), piece))
        pos, step = pos + len(piece), step * 3 % 97 + 1
    return b"".join(out) + b"0\r\nX-Checksum: abc\r\n\r\n"


def test_streams_and_bodies_read_through_odd_chunking_and_reuse_the_connection(
    client: litellm_sync.Client, server: FaultServer
) -> None:
    tokens = [f" t{i}" for i in range(40)]
    events = b"".join(sse_chat(tokens))
    answer = json.dumps(
        {"id": "c", "model": "gpt-4o", "choices": [{"index": 0, "message": {"role": "assistant", "content": "whole"},
                                                    "finish_reason": "stop"}]}
    ).encode()
    server.enqueue(
        [Send(chunked_head()), Drip(_odd_chunks(events), size=7)],
        [Send(chunked_head(content_type="application/json") + _odd_chunks(answer))],
        [Send(chunked_head() + b"".join(chunk(e) for e in sse_chat(["again"])) + chunk(b""))],
    )
    call: dict[str, Any] = {"api_base": server.url, "api_key": KEY}
    with client.completion("openai/gpt-4o", MESSAGES, stream=True, **call) as stream:
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "".join(tokens)
    assert client.completion("openai/gpt-4o", MESSAGES, **call).content == "whole"
    stream = client.completion("openai/gpt-4o", MESSAGES, stream=True, **call)
    assert stream.response().content == "again"
    assert server.accepted == 1  # one connection served all three: each body ended where http.client ends it


def test_a_stream_closed_midway_does_not_hand_its_connection_back(
    client: litellm_sync.Client, server: FaultServer
) -> None:
    events = sse_chat([f" t{i}" for i in range(20)])
    server.enqueue(
        [Send(chunked_head() + b"".join(chunk(e) for e in events[:3]))],  # the rest never comes
        [Send(chunked_head() + b"".join(chunk(e) for e in sse_chat(["fresh"])) + chunk(b""))],
    )
    call: dict[str, Any] = {"api_base": server.url, "api_key": KEY}
    stream = client.completion("openai/gpt-4o", MESSAGES, stream=True, **call)
    next(stream)
    stream.close()
    assert client.completion("openai/gpt-4o", MESSAGES, stream=True, **call).response().content == "fresh"
    assert server.accepted == 2  # the half-read connection was closed, not reused


def test_a_body_cut_inside_a_chunk_is_a_connection_error(client: litellm_sync.Client, server: FaultServer) -> None:
    server.enqueue([Send(chunked_head() + b"40\r\n" + sse_chat(["cut"])[0][:20]), Close()])
    with pytest.raises(litellm_sync.APIConnectionError) as info:
        list(client.completion("openai/gpt-4o", MESSAGES, stream=True, api_base=server.url, api_key=KEY))
    assert "closed early" in str(info.value)


def test_a_bad_chunk_size_is_a_connection_error(client: litellm_sync.Client, server: FaultServer) -> None:
    server.enqueue([Send(chunked_head() + b"zz\r\n{}\r\n0\r\n\r\n")])
    with pytest.raises(litellm_sync.APIConnectionError) as info:
        client.completion("openai/gpt-4o", MESSAGES, api_base=server.url, api_key=KEY)
    assert "closed early" in str(info.value)


def test_a_chunked_stream_over_tls_reads_whole_and_reuses_the_connection(tmp_path: Path) -> None:
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    tokens = [f" t{i}" for i in range(300)]
    body = b"".join(chunk(e) for e in sse_chat(tokens)) + b"0\r\n\r\n"
    connections: list[int] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            connections.append(1)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"https://127.0.0.1:{httpd.server_address[1]}/v1"
    try:
        with litellm_sync.Client(max_retries=0, verify=str(ca_file)) as tls_client:
            for _ in range(2):
                with tls_client.completion("openai/gpt-4o", MESSAGES, stream=True, api_base=url, api_key=KEY) as s:
                    assert "".join(c.choices[0].delta.content or "" for c in s if c.choices) == "".join(tokens)
        assert len(connections) == 1
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
