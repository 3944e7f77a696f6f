"""Hostile or careless input never escapes as a bare Python error and never reaches the wire half-checked:
keys that cannot be sent, model strings and api_base values that would break out of their URL position,
text JSON or UTF-8 cannot carry, bad timeouts, and one stream read from two threads. Every refusal happens
before anything is sent and says so (`request_sent=False`)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from faultserver import Close, FaultServer, Pause, Send, chunk, chunked_head, response, sse_chat
from hypothesis import given, settings
from hypothesis import strategies as st

import litellm_sync
from litellm_sync._engine.request import PreparedRequest
from litellm_sync.retry import RetryPolicy

MESSAGES = [{"role": "user", "content": "hello"}]
KEY = "sk-test-0123456789abcdef"


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as fault:
        yield fault


@pytest.fixture(scope="module")
def client() -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(timeout=5.0, retry_policy=RetryPolicy(max_retries=0)) as shared:
        yield shared


def build(client: litellm_sync.Client, model: str, **kwargs: Any) -> PreparedRequest:
    """The request a call would send (the engine's pure request builder, no transport)."""
    provider, name, info = client.resolve(model)
    options: dict[str, Any] = {"api_key": KEY, "api_base": None, "api_version": None, "extra_headers": None}
    options.update(kwargs)
    return provider.builder.build(name, MESSAGES, {}, stream=False, drop_params=False, info=info, **options)


def refused(client: litellm_sync.Client, server: FaultServer, kind: type[Exception], **kwargs: Any) -> Any:
    """Call, expect `kind` raised before sending, and return the exception."""
    kwargs.setdefault("api_base", server.url)
    model = kwargs.pop("model", "openai/gpt-4o-mini")
    with pytest.raises(kind) as info:
        client.completion(model, kwargs.pop("messages", MESSAGES), **kwargs)
    assert server.requests == [] and server.accepted == 0, "the request went out although it was refused"
    assert info.value.request_sent is False
    return info.value


# -- keys (issue 10, item 9; api_key=12345 and "" from items 10 and 14) -----------------------------------


@pytest.mark.parametrize(
    ("key", "said"),
    [
        ("sk-proj-abcdef\u200bghijkl", "U+200B"),  # a pasted zero-width space
        ("sk-proj-\u043a\u043b\u044e\u0447-abcdef", "U+043A"),  # Cyrillic: not latin-1 at all
        ("sk-proj-abc\u00a0defghij", "U+00A0"),  # a non-breaking space: latin-1, still never in a real key
    ],
)
def test_a_key_that_cannot_be_sent_as_a_header(
    client: litellm_sync.Client, server: FaultServer, key: str, said: str
) -> None:
    error = refused(client, server, litellm_sync.ConfigurationError, api_key=key)
    text = str(error) + repr(error) + repr(error.args)
    assert key not in text and "sk-proj" not in text
    assert said in str(error) and "copy the key again" in str(error)


def test_a_key_from_the_environment_names_its_variable(
    client: litellm_sync.Client, server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-abcdef\u200b")
    error = refused(client, server, litellm_sync.ConfigurationError)
    assert "OPENAI_API_KEY" in str(error) and "sk-env" not in str(error)


@pytest.mark.parametrize("key", ["", "   "])
def test_an_empty_key_is_refused_rather_than_sending_bearer_nothing(
    client: litellm_sync.Client, server: FaultServer, key: str
) -> None:
    error = refused(client, server, litellm_sync.ConfigurationError, api_key=key)
    assert "empty" in str(error) and "api_key=" in str(error)


@pytest.mark.parametrize("key", [12345, b"sk-bytes-0123456789", ["sk-a"]])
def test_a_key_that_is_not_a_string(client: litellm_sync.Client, server: FaultServer, key: Any) -> None:
    error = refused(client, server, litellm_sync.ConfigurationError, api_key=key)
    assert f"not {type(key).__name__}" in str(error) and "12345" not in str(error)


def test_a_header_value_that_cannot_be_encoded(client: litellm_sync.Client, server: FaultServer) -> None:
    error = refused(
        client, server, litellm_sync.ConfigurationError, api_key=KEY, extra_headers={"x-trace": "caf\u00e9 \u2603"}
    )
    assert "U+2603" in str(error)
    refused(client, server, litellm_sync.ConfigurationError, api_key=KEY, extra_headers={"x bad": "1"})


# -- URLs (issue 10, item 10) -------------------------------------------------------------------------------


def _segments(url: str) -> list[str]:
    return urlsplit(url).path.split("/")


@pytest.mark.parametrize("model", ["gemini/../../admin", "gemini/x?key=evil#", "gemini/a/b", "gemini/%2e%2e"])
def test_the_model_stays_inside_its_path_segment(client: litellm_sync.Client, model: str) -> None:
    url = build(client, model).url
    parts = urlsplit(url)
    assert parts.path.startswith("/v1beta/models/") and parts.path.endswith(":generateContent")
    assert len(_segments(url)) == 4, url  # '', 'v1beta', 'models', '<model>:generateContent'
    assert parts.fragment == "" and "#" not in url
    assert dict(parse_qsl(parts.query)) == {}  # nothing smuggled into the query


@settings(max_examples=300, deadline=None)
@given(name=st.text(min_size=1, max_size=40))
def test_any_model_string_stays_one_segment_or_is_refused(client: litellm_sync.Client, name: str) -> None:
    try:
        url = build(client, "gemini/" + name).url
    except litellm_sync.BadRequestError as error:  # text UTF-8 cannot carry (a lone surrogate): refused
        assert error.request_sent is False and any(0xD800 <= ord(ch) <= 0xDFFF for ch in name)
        return
    parts = urlsplit(url)
    segments = parts.path.split("/")
    assert segments[:3] == ["", "v1beta", "models"] and len(segments) == 4, url
    assert parts.query == "" and parts.fragment == ""
    assert unquote(segments[3]) == name + ":generateContent"  # encoded, not altered


def test_azure_deployment_cannot_swallow_the_path(client: litellm_sync.Client) -> None:
    base = "https://acme.openai.azure.com"
    for model in ("azure/../../../admin?x=", "azure/..", "azure/."):
        url = build(client, model, api_base=base, api_version="2024-10-21").url
        parts = urlsplit(url)
        segments = parts.path.split("/")
        assert segments[:3] == ["", "openai", "deployments"] and segments[4:] == ["chat", "completions"], url
        assert segments[3] not in (".", "..") and "/" not in segments[3]
        assert parse_qsl(parts.query) == [("api-version", "2024-10-21")]


def test_the_server_receives_the_escaped_path(client: litellm_sync.Client, server: FaultServer) -> None:
    server.enqueue([Send(response(404, '{"error": {"message": "no such model"}}'))])
    with pytest.raises(litellm_sync.NotFoundError):
        client.completion("gemini/../../admin", MESSAGES, api_key=KEY, api_base=server.url)
    (request,) = server.requests
    assert request.target == "/models/..%2F..%2Fadmin:generateContent"


def test_an_api_base_query_stays_a_query(client: litellm_sync.Client) -> None:
    url = build(client, "openai/gpt-4o-mini", api_base="https://gw.example/v1/?tenant=a&x=1").url
    assert url == "https://gw.example/v1/chat/completions?tenant=a&x=1"
    url = build(client, "azure/dep", api_base="https://gw.example/az?tenant=a", api_version="v1").url
    assert url == "https://gw.example/az/openai/deployments/dep/chat/completions?tenant=a&api-version=v1"


@pytest.mark.parametrize(
    ("base", "said"),
    [
        ("api.openai.com/v1", "add https://"),
        ("localhost:8080/v1", "add https://"),
        ("ftp://files.example/v1", "must start with https:// or http://"),
        ("https:///v1", "no host"),
        ("https://api.example/v1#frag", "#fragment"),
        ("http://api.example:99999/v1", "not a valid URL"),
        ("https://api.example/v 1", "whitespace"),
        (12345, "must be a URL string"),
    ],
)
def test_a_bad_api_base_is_a_configuration_error(
    client: litellm_sync.Client, server: FaultServer, base: Any, said: str
) -> None:
    error = refused(client, server, litellm_sync.ConfigurationError, api_key=KEY, api_base=base)
    assert said in str(error) and "api_base=" in str(error)


def test_api_base_credentials_stay_out_of_its_error(client: litellm_sync.Client, server: FaultServer) -> None:
    error = refused(
        client, server, litellm_sync.ConfigurationError, api_key=KEY, api_base="ftp://admin:S3cretPass@h.example/v1"
    )
    assert "S3cretPass" not in str(error) and "h.example" in str(error)


# -- timeouts (issue 10, item 14) ---------------------------------------------------------------------------


@pytest.mark.parametrize("timeout", [-1, 0, "5", math.nan, math.inf, True, (1, 2, 3), (5, -1), None])
def test_a_bad_client_timeout(timeout: Any) -> None:
    with pytest.raises(litellm_sync.ConfigurationError) as info:
        litellm_sync.Client(timeout=timeout)
    assert "timeout=" in str(info.value) and "greater than 0" in str(info.value)


@pytest.mark.parametrize("timeout", [-1, "5", math.nan, (5, "x")])
def test_a_bad_call_timeout(client: litellm_sync.Client, server: FaultServer, timeout: Any) -> None:
    refused(client, server, litellm_sync.ConfigurationError, api_key=KEY, timeout=timeout)


def test_good_timeouts_pass(client: litellm_sync.Client, server: FaultServer) -> None:
    assert litellm_sync.Client(timeout=(2, 30)).timeout == (2.0, 30.0)
    answer = client.completion("openai/gpt-4o-mini", MESSAGES, api_key=KEY, api_base=server.url, timeout=3)
    assert answer.choices[0].message.content == "ok"


# -- text the wire cannot carry (issue 10, item 14) ---------------------------------------------------------


def test_a_lone_surrogate_is_a_clear_pre_send_error(client: litellm_sync.Client, server: FaultServer) -> None:
    messages = [{"role": "user", "content": "half an emoji: \ud83d"}]
    error = refused(client, server, litellm_sync.BadRequestError, api_key=KEY, messages=messages)
    assert "U+D83D" in str(error) and "UTF-8" in str(error) and error.status_code is None


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"metadata": nested(100_000)}, "nested too deeply"),
        ({"temperature": math.nan}, "JSON cannot carry"),
        ({"metadata": {"when": object()}}, "JSON cannot carry"),
    ],
)
def test_values_json_cannot_carry(
    client: litellm_sync.Client, server: FaultServer, params: dict[str, Any], said: str
) -> None:
    error = refused(client, server, litellm_sync.BadRequestError, api_key=KEY, **params)
    assert said in str(error)


# -- refused before sending vs. answered by the provider (issue 11) -----------------------------------------


def test_pre_send_errors_are_distinguishable(client: litellm_sync.Client, server: FaultServer) -> None:
    refused_param = refused(client, server, litellm_sync.UnsupportedParamsError, model="gemini/gemini-2.0-flash",
                            api_key=KEY, logit_bias={"1": 1})
    malformed = refused(client, server, litellm_sync.BadRequestError, api_key=KEY, messages=[])
    missing = refused(client, server, litellm_sync.ConfigurationError, model="nosuchprovider/x", api_key=KEY)
    assert refused_param.status_code is None and malformed.status_code is None and missing.request_sent is False
    assert refused_param.provider == "gemini" and malformed.provider == "openai"

    server.enqueue([Send(response(400, '{"error": {"message": "bad param", "type": "invalid_request_error"}}'))])
    with pytest.raises(litellm_sync.BadRequestError) as info:
        client.completion("openai/gpt-4o-mini", MESSAGES, api_key=KEY, api_base=server.url)
    assert info.value.request_sent is True and info.value.status_code == 400
    assert litellm_sync.ContextWindowExceededError("too long").request_sent is True


# -- one stream, two threads (issue 10, item 14) ------------------------------------------------------------


def test_two_threads_on_one_stream(client: litellm_sync.Client, server: FaultServer) -> None:
    events = sse_chat(["one", "two"])
    server.enqueue(
        [
            Send(chunked_head() + chunk(events[0])),
            Pause(1.0),  # the first consumer waits inside the stream meanwhile
            Send(b"".join(chunk(e) for e in events[1:]) + chunk(b"")),
            Close(),
        ]
    )
    stream = client.completion("openai/gpt-4o-mini", MESSAGES, stream=True, api_key=KEY, api_base=server.url)
    received: list[Any] = []
    first = threading.Thread(target=lambda: received.extend(stream))
    first.start()
    deadline = time.monotonic() + 5
    while not stream._generator.gi_running and time.monotonic() < deadline:  # poll: the first thread is reading
        time.sleep(0.005)
    assert stream._generator.gi_running
    with pytest.raises(litellm_sync.StreamUsageError) as info:
        next(stream)
    assert "another thread" in str(info.value)
    first.join(5)
    assert [c.choices[0].delta.content for c in received if c.choices] == ["one", "two", None]
