"""Secrets: with every logger at DEBUG, API keys appear in no log record, exception message or repr, and a
key that could split the request (CR, LF, NUL) is refused before anything is sent."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from faultserver import (
    FaultServer,
    Request,
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
from litellm_sync.web import sse as web_sse

OPENAI_KEY = "sk-proj-SECRETsecret0123456789abcdef"
PLAIN_KEY = "plainSecretWithoutPrefix42"  # not key-shaped: only exact-value redaction can catch it
OTHER_KEY = "sk-live-ANOTHERkey9876543210zyxw"  # a key-shaped string the provider echoes back
MESSAGES = [{"role": "user", "content": "hello"}]
# A provider that takes its key in the query string, as some gateways do: urllib3 logs that URL at DEBUG.
QUERY_KEY_SPEC = {
    "providers": {
        "querykey": {
            "extends": "openai_chat",
            "base_url": "http://127.0.0.1:9",
            "auth": {"query": "key", "env": ["QUERYKEY_API_KEY"]},
        }
    }
}
GEMINI_BODY = {
    "candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP", "index": 0}],
    "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
}


def _handler(request: Request) -> list[Any]:
    if ":generateContent" in request.target:
        return [Send(response(200, json.dumps(GEMINI_BODY)))]
    return [Send(response(200, chat_json("ok")))]


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer(_handler) as fault:
        yield fault


@pytest.fixture
def client() -> Iterator[litellm_sync.Client]:
    policy = RetryPolicy(max_retries=2, sleep=lambda _seconds: None)
    with litellm_sync.Client(QUERY_KEY_SPEC, timeout=5.0, retry_policy=policy) as shared:
        yield shared


class Records:
    """The records captured during the test's call phase (caplog swaps its list between phases)."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    def __iter__(self) -> Iterator[logging.LogRecord]:
        return iter(self.caplog.records)

    def __len__(self) -> int:
        return len(self.caplog.records)


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> Records:
    caplog.set_level(logging.DEBUG)
    for name in ("litellm_sync", "urllib3", "urllib3.connectionpool"):
        caplog.set_level(logging.DEBUG, logger=name)
    return Records(caplog)


def assert_secret_free(*texts: Any, keys: tuple[str, ...] = (OPENAI_KEY, PLAIN_KEY, OTHER_KEY)) -> None:
    for text in texts:
        for key in keys:
            assert key not in str(text), f"a key leaked into: {str(text)[:300]}"


def assert_records_clean(records: Records) -> None:
    assert records, "expected DEBUG records (the check would be vacuous)"
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in records:
        assert_secret_free(formatter.format(record), record.getMessage(), record.msg, record.args)


def assert_error_clean(error: BaseException) -> None:
    rendered = "".join(traceback.format_exception_only(type(error), error))
    assert_secret_free(str(error), repr(error), error.args, rendered, getattr(error, "message", ""))


def test_successful_calls_log_no_key(
    client: litellm_sync.Client, server: FaultServer, records: Records
) -> None:
    client.completion("openai/gpt-4o", MESSAGES, api_base=server.url, api_key=OPENAI_KEY)
    result = client.completion("gemini/gemini-2.0-flash", MESSAGES, api_base=server.url, api_key=PLAIN_KEY)
    assert result.choices[0].message.content == "ok"
    client.completion("querykey/some-model", MESSAGES, api_base=server.url, api_key=PLAIN_KEY)
    client.completion("querykey/some-model", MESSAGES, api_base=server.url, api_key=OPENAI_KEY, stream=True).close()
    assert any(f"key={PLAIN_KEY}" in r.target for r in server.requests)  # it was sent, in the URL
    assert any(r.name.startswith("urllib3") for r in records)
    assert_records_clean(records)
    assert_secret_free(repr(result), repr(client))


def test_error_echoing_the_key(
    client: litellm_sync.Client, server: FaultServer, records: Records
) -> None:
    message = f"Incorrect API key provided: {OPENAI_KEY}. Also tried {OTHER_KEY}."
    server.enqueue([Send(response(401, json.dumps({"error": {"message": message, "code": "invalid_api_key"}})))])
    with pytest.raises(litellm_sync.AuthenticationError) as info:
        client.completion("openai/gpt-4o", MESSAGES, api_base=server.url, api_key=OPENAI_KEY)
    assert "Incorrect API key provided" in str(info.value)
    assert_error_clean(info.value)
    assert_records_clean(records)


def test_plain_key_echoed_in_an_error(
    client: litellm_sync.Client, server: FaultServer, records: Records
) -> None:
    body = {"error": {"code": 400, "message": f"API key not valid: {PLAIN_KEY}", "status": "INVALID_ARGUMENT"}}
    server.enqueue([Send(response(400, json.dumps(body)))])
    with pytest.raises(litellm_sync.APIStatusError) as info:
        client.completion("gemini/gemini-2.0-flash", MESSAGES, api_base=server.url, api_key=PLAIN_KEY)
    assert "API key not valid" in str(info.value)
    assert_error_clean(info.value)
    assert_records_clean(records)


def test_in_band_stream_error_echoing_the_key(
    client: litellm_sync.Client, server: FaultServer, records: Records
) -> None:
    events = [*sse_chat(["hi"], done=False)[:1], f'data: {{"error": {{"message": "key {OPENAI_KEY} revoked"}}}}\n\n']
    server.enqueue([Send(chunked_head() + b"".join(chunk(e) for e in events) + chunk(b""))])
    stream = client.completion("openai/gpt-4o", MESSAGES, stream=True, api_base=server.url, api_key=OPENAI_KEY)
    with pytest.raises(litellm_sync.APIError) as info:
        list(stream)
    assert "revoked" in str(info.value)
    assert_error_clean(info.value)
    assert_records_clean(records)


def test_retried_call_logs_no_key(
    client: litellm_sync.Client, server: FaultServer, records: Records
) -> None:
    busy = response(503, json.dumps({"error": {"message": f"overloaded for {OPENAI_KEY}"}}))
    server.enqueue([Send(busy)], [Send(busy)])
    result = client.completion("openai/gpt-4o", MESSAGES, api_base=server.url, api_key=OPENAI_KEY)
    assert result.choices[0].message.content == "ok"
    assert len(server.requests) == 3
    assert any("retrying" in r.getMessage() for r in records)
    assert_records_clean(records)

    server.enqueue(*([Send(busy)] for _ in range(3)))
    with pytest.raises(litellm_sync.ServiceUnavailableError) as info:
        client.completion("gemini/gemini-2.0-flash", MESSAGES, api_base=server.url, api_key=PLAIN_KEY)
    assert info.value.attempts == 3
    assert_error_clean(info.value)
    assert_records_clean(records)


def test_connection_error_with_key_in_url(client: litellm_sync.Client, records: Records) -> None:
    base = f"http://127.0.0.1:{closed_port()}/v1"
    with pytest.raises(litellm_sync.APIConnectionError) as info:
        client.completion("querykey/some-model", MESSAGES, api_base=base, api_key=PLAIN_KEY, max_retries=1)
    assert_error_clean(info.value)
    assert_records_clean(records)


def test_timeout_with_key_in_url(client: litellm_sync.Client, server: FaultServer, records: Records) -> None:
    server.enqueue([Stall(5.0)])
    with pytest.raises(litellm_sync.Timeout) as info:
        client.completion(
            "querykey/some-model", MESSAGES, api_base=server.url, api_key=PLAIN_KEY, timeout=0.3, max_retries=0
        )
    assert_error_clean(info.value)
    assert_records_clean(records)


@pytest.mark.parametrize("bad", ["sk-abc\r\nX-Injected: 1", "sk-abc\ndef", "sk-abc\rdef", "sk-abc\x00def"])
def test_key_with_line_break_is_refused_before_sending(
    client: litellm_sync.Client, server: FaultServer, bad: str
) -> None:
    with pytest.raises(litellm_sync.ConfigurationError) as info:
        client.completion("openai/gpt-4o", MESSAGES, api_base=server.url, api_key=bad)
    assert_error_clean(info.value)
    assert bad not in str(info.value) and "sk-abc" not in str(info.value)
    with pytest.raises(litellm_sync.ConfigurationError):
        client.completion("gemini/gemini-2.0-flash", MESSAGES, api_base=server.url, api_key=bad, stream=True)
    assert server.requests == []
    assert server.accepted == 0


def test_key_from_environment_with_line_break_is_refused(
    client: litellm_sync.Client, server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env\r\nEvil: yes")
    with pytest.raises(litellm_sync.ConfigurationError):
        client.completion("openai/gpt-4o", MESSAGES, api_base=server.url)
    with pytest.raises(litellm_sync.ConfigurationError):
        client.completion(
            "openai/gpt-4o", MESSAGES, api_base=server.url, api_key=OPENAI_KEY, extra_headers={"x-a": "1\r\nB: 2"}
        )
    assert server.accepted == 0


def test_error_body_attribute_is_redacted_too() -> None:
    """`exc.body` keeps the provider's parsed error body for inspection, with the key masked in it."""
    from litellm_sync.testing import FakeProviderServer, Reply

    key = "plainkey-0123456789abcdef"
    echoed = {"error": {"message": f"Incorrect API key provided: {key}", "code": "invalid_api_key"}}
    with FakeProviderServer() as fake, litellm_sync.Client(max_retries=0) as client:
        fake.enqueue(Reply(status=401, json=echoed))
        with pytest.raises(litellm_sync.AuthenticationError) as info:
            client.completion("openai/gpt-4o-mini", [{"role": "user", "content": "x"}], api_key=key, api_base=fake.url)
    masked = {"error": {"message": "Incorrect API key provided: [REDACTED]", "code": "invalid_api_key"}}
    assert info.value.body == masked
    assert key not in repr(info.value) and key not in str(info.value.body)


def test_credentials_in_api_base_stay_out_of_errors() -> None:
    with litellm_sync.Client(max_retries=0) as client, pytest.raises(litellm_sync.APIConnectionError) as info:
        client.completion("openai/gpt-4o-mini", [{"role": "user", "content": "x"}], api_key="k",
                          api_base="http://admin:S3cretPass@127.0.0.1:9/v1", timeout=2)
    assert "S3cretPass" not in str(info.value) and "S3cretPass" not in repr(info.value)
    assert "127.0.0.1:9" in str(info.value)


def test_a_header_name_with_a_line_break_is_refused_before_sending() -> None:
    with litellm_sync.Client(max_retries=0) as client, pytest.raises(litellm_sync.ConfigurationError):
        client.completion("openai/gpt-4o-mini", [{"role": "user", "content": "x"}], api_key="k",
                          api_base="http://127.0.0.1:9/v1", extra_headers={"X-Bad\r\nInjected": "v"})


# -- redaction by value (issue 10, item 8): keys that do not look like keys, in every string we produce ------

PLAIN = "plainsecretvalue42"
HEX_KEY = "0123456789abcdef0123456789abcdef"  # an Azure-style key: 32 hex digits, nothing key-shaped about it


def _all_texts(error: BaseException) -> list[Any]:
    from litellm_sync.web import error_payload

    rendered = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return [
        str(error), repr(error), error.args, rendered, getattr(error, "message", ""), getattr(error, "code", ""),
        getattr(error, "request_id", ""), json.dumps(getattr(error, "body", None)), json.dumps(error_payload(error)),
    ]


def assert_nowhere(error: BaseException, *keys: str) -> None:
    for text in _all_texts(error):
        for key in keys:
            assert key not in str(text), f"{key} leaked into: {str(text)[:300]}"
            assert key[:10] not in str(text), f"half of {key} leaked into: {str(text)[:300]}"


@pytest.fixture
def plain_client() -> Iterator[tuple[litellm_sync.Client, list[Any]]]:
    events: list[Any] = []
    with litellm_sync.Client(retry_policy=RetryPolicy(max_retries=0), hooks=[events.append], timeout=5) as shared:
        yield shared, events


def test_code_request_id_and_body_echoing_a_plain_key(
    plain_client: tuple[litellm_sync.Client, list[Any]], server: FaultServer
) -> None:
    client, events = plain_client
    body = {"error": {"message": f"key {PLAIN} is not valid", "code": f"bad_key_{PLAIN}", "type": "x"}}
    server.enqueue([Send(response(401, json.dumps(body), headers={"x-request-id": f"req-{PLAIN}"}))])
    with pytest.raises(litellm_sync.AuthenticationError) as info:
        client.completion("openai/gpt-4o", MESSAGES, api_base=server.url, api_key=PLAIN)
    assert info.value.code == "bad_key_[REDACTED]" and info.value.request_id == "req-[REDACTED]"
    assert_nowhere(info.value, PLAIN)
    (event,) = events
    assert event.error is info.value
    assert_nowhere(event.error, PLAIN)


def test_a_non_json_2xx_excerpt_echoing_the_key(
    plain_client: tuple[litellm_sync.Client, list[Any]], server: FaultServer
) -> None:
    client, _events = plain_client
    straddling = "<html>" + "x" * 180 + f"your key {PLAIN} was logged</html>"  # the key straddles the 200-char cut
    for page in (f"<html>your key {PLAIN} was logged</html>", straddling):
        server.enqueue([Send(response(200, page, content_type="text/html"))])
        with pytest.raises(litellm_sync.APIResponseValidationError) as info:
            client.completion("openai/gpt-4o", MESSAGES, api_base=server.url, api_key=PLAIN)
        assert "not JSON" in str(info.value)
        assert_nowhere(info.value, PLAIN)
        assert PLAIN[:5] not in str(info.value)


def test_a_redirect_location_echoing_the_key(
    plain_client: tuple[litellm_sync.Client, list[Any]], server: FaultServer
) -> None:
    client, events = plain_client
    server.enqueue([Send(response(302, "", headers={"Location": f"https://elsewhere.example/v1?k={PLAIN}"}))])
    with pytest.raises(litellm_sync.APIStatusError) as info:
        client.completion("openai/gpt-4o", MESSAGES, api_base=server.url, api_key=PLAIN)
    assert "elsewhere.example" in str(info.value)
    assert_nowhere(info.value, PLAIN)
    assert_nowhere(events[0].error, PLAIN)


def test_a_stream_event_that_is_not_json_echoing_the_key(
    plain_client: tuple[litellm_sync.Client, list[Any]], server: FaultServer
) -> None:
    client, events = plain_client
    bad = f"data: {{not json, but the key {PLAIN} for all to see\n\n"
    script = [Send(chunked_head() + chunk(sse_chat(["hi"], done=False)[0]) + chunk(bad) + chunk(b""))]
    server.enqueue(script, script)
    stream = client.completion("openai/gpt-4o", MESSAGES, stream=True, api_base=server.url, api_key=PLAIN)
    with pytest.raises(litellm_sync.APIResponseValidationError) as info:
        list(stream)
    assert "not valid JSON" in str(info.value)
    assert_nowhere(info.value, PLAIN)
    assert_nowhere(events[-1].error, PLAIN)
    # The same error through web.sse(), which reaches a browser.
    again = client.completion("openai/gpt-4o", MESSAGES, stream=True, api_base=server.url, api_key=PLAIN)
    sse = b"".join(web_sse(again))
    assert b"not valid JSON" in sse and PLAIN.encode() not in sse and PLAIN[:10].encode() not in sse


def test_an_azure_style_hex_key_echoed(
    plain_client: tuple[litellm_sync.Client, list[Any]], server: FaultServer
) -> None:
    client, _events = plain_client
    body = {"error": {"code": "401", "message": f"Access denied due to invalid subscription key {HEX_KEY}."}}
    server.enqueue([Send(response(401, json.dumps(body)))])
    with pytest.raises(litellm_sync.AuthenticationError) as info:
        client.completion("azure/my-deployment", MESSAGES, api_base=server.url, api_key=HEX_KEY, api_version="v1")
    assert "invalid subscription key [REDACTED]" in str(info.value)
    assert_nowhere(info.value, HEX_KEY)
    server.enqueue([Send(response(200, f"gateway says: subscription {HEX_KEY} suspended", content_type="text/plain"))])
    with pytest.raises(litellm_sync.APIResponseValidationError) as info:
        client.completion("azure/my-deployment", MESSAGES, api_base=server.url, api_key=HEX_KEY, api_version="v1")
    assert "suspended" in str(info.value)
    assert_nowhere(info.value, HEX_KEY)


def test_a_key_from_the_environment_is_masked_even_when_another_was_sent(
    plain_client: tuple[litellm_sync.Client, list[Any]], server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _events = plain_client
    monkeypatch.setenv("OPENAI_API_KEY", HEX_KEY)
    server.enqueue([Send(response(400, json.dumps({"error": {"message": f"mixed up {HEX_KEY} and the key sent"}})))])
    with pytest.raises(litellm_sync.BadRequestError) as info:
        client.completion("openai/gpt-4o", MESSAGES, api_base=server.url, api_key=PLAIN)
    assert_nowhere(info.value, HEX_KEY, PLAIN)


def test_redact_secrets_covers_every_field() -> None:
    error = litellm_sync.RateLimitError(
        f"slow down {PLAIN}", code=f"c-{PLAIN}", request_id=f"r-{PLAIN}", body={PLAIN: [f"x {PLAIN}"]}
    )
    assert error.redact_secrets((None, PLAIN)) is error
    assert_nowhere(error, PLAIN)
    assert error.body == {"[REDACTED]": ["x [REDACTED]"]}
