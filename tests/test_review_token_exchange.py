"""Review regressions for token_exchange: many keys hold no sockets open, and the key never reaches a message."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from litellm_sync._engine.auth_token import TokenExchangeMechanism
from litellm_sync.exceptions import APIConnectionError, AuthenticationError


class _TokenHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a pooled connection would stay open after the answer
    answer = {"access_token": "tok", "expires_in": 3600}

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps(self.answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def token_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def _sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed since it was listed
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return count


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts sockets through /proc")
def test_many_keys_keep_no_sockets_open(token_url: str) -> None:
    mechanism = TokenExchangeMechanism("p", {"url": f"{token_url}/token", "form": {"apikey": "${api_key}"}})
    mechanism.prepare({"api_key": "warm-up"}, {}).cache.current()
    before = _sockets()
    for index in range(40):
        assert mechanism.prepare({"api_key": f"key-{index}"}, {}).cache.current() == "tok"
    # Before the fix each key's cache kept a Session with an idle connection: 40 more client sockets.
    assert _sockets() - before < 10


def test_a_key_in_the_token_url_is_masked_when_the_endpoint_is_unreachable() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    mechanism = TokenExchangeMechanism("p", {"url": f"http://127.0.0.1:{port}/keys/${{api_key}}/token"})
    with pytest.raises(APIConnectionError) as caught:
        mechanism.prepare({"api_key": "plainkey0987654321"}, {}).cache.current()
    assert "plainkey0987654321" not in str(caught.value) and "token endpoint" in str(caught.value)


def test_a_key_in_the_token_url_is_masked_when_the_answer_has_no_token(token_url: str) -> None:
    mechanism = TokenExchangeMechanism("p", {"url": f"{token_url}/keys/${{api_key}}", "token": "missing"})
    with pytest.raises(AuthenticationError) as caught:
        mechanism.prepare({"api_key": "plainkey0987654321"}, {}).cache.current()
    assert "plainkey0987654321" not in str(caught.value) and "usable token" in str(caught.value)
