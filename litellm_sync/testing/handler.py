"""The fake provider's HTTP layer: a threaded keep-alive server and its handler, which read each request (a
Content-Length or chunked body) and write a scripted `Reply` (a JSON body, or events as a chunked stream); what
to answer is the `FakeProviderServer`'s choice (server.py)."""

from __future__ import annotations

import json
import socketserver
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from .wire import JSON_TYPE, SERVER_HEADERS, SSE_TYPE, RecordedRequest, Reply, dumps

if TYPE_CHECKING:
    from .server import FakeProviderServer


class Handler(BaseHTTPRequestHandler):
    """One client connection: each request is recorded and answered with the reply its server chooses."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, Nagle + delayed ACK stall keep-alive clients.
    disable_nagle_algorithm = True
    server: HTTPServer

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


class HTTPServer(ThreadingHTTPServer):
    """A threaded server on a real socket whose handlers ask `fake` what to answer."""

    daemon_threads = True
    request_queue_size = 128  # benchmarks open many connections at once; the default backlog is 5

    def __init__(self, address: tuple[str, int], fake: FakeProviderServer) -> None:
        self.fake = fake
        super().__init__(address, Handler)

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
