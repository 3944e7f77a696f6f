"""The transport seam: ChatStream sees only a minimal response (no urllib3, requests or web imports), SSE
re-encoding lives in `litellm_sync.web`, and an abandoned stream closes its connection without running hooks."""

from __future__ import annotations

import ast
import base64
import gc
import http.server
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import requests.adapters
import responses
import trustme
from faultserver import FaultServer, Send, chunk, chunked_head, sse_chat

import litellm_sync
from litellm_sync.testing import FakeProviderServer, Reply
from litellm_sync.web import sse

MESSAGES = [{"role": "user", "content": "one two three"}]
STREAM_SOURCE = Path(litellm_sync.__file__).parent / "stream.py"


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(("." * node.level) + (node.module or ""))
    return found


def test_chat_stream_imports_no_transport_and_no_web_layer() -> None:
    modules = _imported_modules(STREAM_SOURCE)
    assert modules, "the import scan found nothing: the test itself is broken"
    for forbidden in ("urllib3", "requests", ".web", "._engine.transport", "litellm_sync.web", "http.client"):
        assert not any(m == forbidden or m.startswith(forbidden + ".") for m in modules), (forbidden, modules)


def test_web_sse_reencodes_a_stream_and_ends_with_done(server: FakeProviderServer) -> None:
    with litellm_sync.Client(max_retries=0) as client:
        stream = client.completion("openai/gpt-4o-mini", MESSAGES, stream=True, api_key="k", api_base=server.url)
        events = list(sse(stream))
    assert events[-1] == b"data: [DONE]\n\n"
    payloads = [json.loads(e[len(b"data: "):]) for e in events[:-1]]
    assert "".join(p["choices"][0]["delta"].get("content") or "" for p in payloads if p["choices"]) == (
        "Echo: one two three"
    )


def test_web_sse_turns_a_mid_stream_error_into_an_error_event(server: FakeProviderServer) -> None:
    first = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
             "choices": [{"index": 0, "delta": {"content": "partial"}, "finish_reason": None}]}
    server.enqueue(Reply(events=[f"data: {json.dumps(first)}\n\n",
                                 'data: {"error": {"message": "overloaded now", "type": "server_error"}}\n\n']))
    with litellm_sync.Client(max_retries=0) as client:
        stream = client.completion("openai/gpt-4o-mini", MESSAGES, stream=True, api_key="k", api_base=server.url)
        events = list(sse(stream))
    assert events[-1] == b"data: [DONE]\n\n"
    error = json.loads(events[-2][len(b"data: "):])["error"]
    assert "overloaded now" in error["message"] and error["type"].endswith("Error")


# The stream and its generator form a reference cycle: the collector may finalize the socket (with a
# ResourceWarning) before the stream's __del__ closes it. Either way the connection closes, which is asserted.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_abandoned_stream_closes_its_connection_without_hooks(server: FakeProviderServer) -> None:
    seen: list[Any] = []
    many = [f'data: {{"choices": [{{"index": 0, "delta": {{"content": "t{i} "}}}}]}}\n\n' for i in range(50)]
    server.enqueue(Reply(events=[*many, "data: [DONE]\n\n"], chunk_delay=0.05))
    with litellm_sync.Client(max_retries=0, hooks=[seen.append]) as client:
        stream = client.completion("openai/gpt-4o-mini", MESSAGES, stream=True, api_key="k", api_base=server.url)
        next(iter(stream))
        assert server.open_connections == 1
        del stream
        gc.collect()
        assert server.wait_for_open_connections(0, timeout=5.0), "the abandoned stream's connection stayed open"
        assert seen == []  # no hook ran from __del__
        # A stream that is closed is reported as usual.
        closed = client.completion("openai/gpt-4o-mini", MESSAGES, stream=True, api_key="k", api_base=server.url)
        closed.close()
    assert len(seen) == 1 and seen[0].complete is False


# -- requests is the transport: responses, the caller's Session, proxies with credentials, certificates -------

ANSWER = {"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
          "choices": [{"index": 0, "message": {"role": "assistant", "content": "mocked"}, "finish_reason": "stop"}],
          "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


@responses.activate
def test_responses_intercepts_a_completion_and_a_stream() -> None:
    url = "https://api.openai.com/v1/chat/completions"
    responses.add(responses.POST, url, json=ANSWER)
    delta = {"id": "c2", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
             "choices": [{"index": 0, "delta": {"content": "streamed"}, "finish_reason": "stop"}]}
    responses.add(responses.POST, url, body=f"data: {json.dumps(delta)}\n\ndata: [DONE]\n\n",
                  content_type="text/event-stream")
    with litellm_sync.Client(max_retries=0) as client:
        answer = client.completion("openai/gpt-4o-mini", MESSAGES, api_key="sk-mock")
        with client.completion("openai/gpt-4o-mini", MESSAGES, api_key="sk-mock", stream=True) as stream:
            streamed = stream.response()
    assert answer.content == "mocked" and streamed.content == "streamed"
    assert [c.request.headers["Authorization"] for c in responses.calls] == ["Bearer sk-mock"] * 2
    assert json.loads(responses.calls[1].request.body)["stream"] is True


class RecordingAdapter(requests.adapters.HTTPAdapter):
    """A mounted adapter as instrumentation adds one: it records every request it sends."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)
        self.sent: list[str] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.sent.append(str(request.url))
        return super().send(request, *args, **kwargs)


def test_a_callers_session_is_used_with_its_mounted_adapter_and_auth(server: FakeProviderServer) -> None:
    session = requests.Session()
    adapter = RecordingAdapter()
    session.mount(server.url, adapter)

    def sign(request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["X-Signature"] = f"signed:{len(request.body or b'')}"  # signs the final body
        return request

    with litellm_sync.Client(session=session, max_retries=0) as client:
        answer = client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base=server.url, auth=sign)
        streamed = client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base=server.url,
                                     stream=True).response()
    assert answer.content == streamed.content == "Echo: one two three"
    assert adapter.sent == [f"{server.url}/chat/completions"] * 2
    first, second = server.requests
    assert first.headers["x-signature"] == f"signed:{len(first.body)}"
    assert "x-signature" not in second.headers  # the per-call auth applied to its call only


class ProxyRecorder:
    """A tiny socket 'proxy' that records each request head it receives and answers 407 / a chat answer."""

    def __init__(self) -> None:
        self.heads: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except (socket.timeout, OSError):
                continue
            with sock:
                sock.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    more = sock.recv(65536)
                    if not more:
                        break
                    data += more
                head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
                self.heads.append(head)
                if head.startswith("CONNECT"):
                    sock.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                else:
                    body = json.dumps(ANSWER).encode()
                    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.listener.close()


@pytest.fixture
def proxy_recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[ProxyRecorder]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    recorder = ProxyRecorder()
    yield recorder
    recorder.close()


def _proxy_authorization(head: str) -> str | None:
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "proxy-authorization":
            return value.strip()
    return None


EXPECTED_BASIC = "Basic " + base64.b64encode(b"alice:s3cret").decode()


def test_https_proxy_credentials_reach_the_proxy(
    proxy_recorder: ProxyRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", f"http://alice:s3cret@127.0.0.1:{proxy_recorder.port}")
    with litellm_sync.Client(max_retries=0) as client, pytest.raises(litellm_sync.APIConnectionError) as info:
        client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base="https://provider.invalid/v1")
    assert proxy_recorder.heads and proxy_recorder.heads[0].startswith("CONNECT provider.invalid:443")
    assert _proxy_authorization(proxy_recorder.heads[0]) == EXPECTED_BASIC
    assert "proxy" in str(info.value) and "s3cret" not in str(info.value) and "s3cret" not in repr(info.value)


def test_explicit_proxy_credentials_reach_the_proxy(proxy_recorder: ProxyRecorder) -> None:
    proxy = f"http://alice:s3cret@127.0.0.1:{proxy_recorder.port}"
    with litellm_sync.Client(max_retries=0, proxy=proxy) as client:
        answer = client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base="http://provider.invalid/v1")
    assert answer.content == "mocked"
    assert proxy_recorder.heads[0].startswith("POST http://provider.invalid/v1/chat/completions")
    assert _proxy_authorization(proxy_recorder.heads[0]) == EXPECTED_BASIC


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """An HTTPS chat server on 127.0.0.1 with a certificate from a private CA: (base URL, CA file)."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    body = json.dumps(ANSWER).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}/v1", str(ca_file)
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_self_signed_server_fails_by_default_and_works_with_verify(
    tls_server: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca_file = tls_server
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    with litellm_sync.Client(max_retries=0) as client, pytest.raises(litellm_sync.APIConnectionError) as info:
        client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base=url)
    assert "TLS" in str(info.value) and "verify=" in str(info.value)
    with litellm_sync.Client(max_retries=0, verify=ca_file) as client:
        assert client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base=url).content == "mocked"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)  # as in requests: the environment's CA bundle
    with litellm_sync.Client(max_retries=0) as client:
        assert client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base=url).content == "mocked"


# -- pooling through the requests Response -------------------------------------------------------------------


def _stream_script(text: str) -> list[Any]:
    return [Send(chunked_head() + b"".join(chunk(e) for e in sse_chat(text.split(" "))) + chunk(b""))]


def test_connection_reused_after_a_complete_stream_and_closed_after_an_abandoned_one() -> None:
    with FaultServer() as fault, litellm_sync.Client(max_retries=0) as client:
        fault.enqueue(_stream_script("a b"), _stream_script("c d"), _stream_script("e f g h"), _stream_script("i"))
        for _ in range(2):
            with client.completion("openai/gpt-4o", MESSAGES, api_key="k", api_base=fault.url, stream=True) as s:
                list(s)
        assert fault.accepted == 1  # the second stream reused the first one's connection
        with client.completion("openai/gpt-4o", MESSAGES, api_key="k", api_base=fault.url, stream=True) as s:
            next(iter(s))  # stop early: the connection is closed, not returned with unread bytes
        assert fault.wait_idle(5.0)
        with client.completion("openai/gpt-4o", MESSAGES, api_key="k", api_base=fault.url, stream=True) as s:
            assert "".join(c.choices[0].delta.content or "" for c in s if c.choices) == "i"
        assert fault.accepted == 2


def test_cookies_are_never_kept() -> None:
    body = json.dumps(ANSWER).encode()
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nSet-Cookie: session=user-one; Path=/\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))
    with FaultServer() as fault, litellm_sync.Client(max_retries=0) as client:
        fault.enqueue([Send(head + body)], [Send(head + body)])
        for _ in range(2):
            client.completion("openai/gpt-4o", MESSAGES, api_key="k", api_base=fault.url)
        assert [r.headers.get("cookie") for r in fault.requests] == [None, None]
        assert len(client.transport.session.cookies) == 0


@responses.activate
def test_a_spec_named_auth_mechanism_signs_the_request_the_transport_sends() -> None:
    # The builder puts the spec's mechanism (here aws_sigv4) on PreparedRequest.auth; requests applies it to
    # the final request, so the signature covers exactly the bytes sent.
    base = "https://bedrock-runtime.us-east-1.amazonaws.com"
    responses.add(responses.POST, f"{base}/chat/completions", json=ANSWER)
    spec = {"providers": {"signed": {"extends": "openai_chat", "base_url": base,
                                      "auth": {"mechanism": "aws_sigv4", "service": "bedrock"}}}}
    with litellm_sync.Client(providers=spec, max_retries=0) as client:
        answer = client.completion("signed/m", MESSAGES, aws_access_key_id="AKIDTRANSPORT",
                                   aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                   aws_region_name="us-east-1")
    assert answer.content == "mocked"
    sent = responses.calls[0].request
    assert sent.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDTRANSPORT/")
    assert "/us-east-1/bedrock/aws4_request" in sent.headers["Authorization"]
    assert "x-amz-date" in {name.lower() for name in sent.headers}


def test_netrc_never_replaces_the_key_header(
    server: FakeProviderServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password other-tool-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with litellm_sync.Client(max_retries=0) as client:
        client.completion("openai/gpt-4o-mini", MESSAGES, api_key="sk-the-key", api_base=server.url)
    assert server.requests[-1].headers["authorization"] == "Bearer sk-the-key"


def test_environment_changes_apply_to_the_next_call(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests' environment lookup is cached per host; the cache key holds the variables it reads.
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with litellm_sync.Client(max_retries=0) as client:
        assert client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base=server.url).content
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
        with pytest.raises(litellm_sync.APIConnectionError, match="proxy"):
            client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base=server.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base=server.url).content
