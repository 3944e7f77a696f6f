"""Correlation ids in log records, hook events and exceptions; opt-in payload logging with keys redacted; the JSON
log formatter."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import pytest

import litellm_sync
from litellm_sync.observability import PAYLOAD_LOGGER, JsonFormatter, current_correlation_id
from litellm_sync.retry import RetryPolicy
from litellm_sync.testing import FakeProviderServer, Reply

MODEL = "openai/gpt-4o-mini"
HI = [{"role": "user", "content": "trace me"}]
KEY = "sk-observed-secret-0123456789abcdef"


@pytest.fixture()
def events() -> list[litellm_sync.CallEvent]:
    return []


@pytest.fixture()
def client(events: list[Any]) -> Any:
    policy = RetryPolicy(max_retries=1, sleep=lambda seconds: None)
    with litellm_sync.Client(retry_policy=policy, hooks=[events.append]) as made:
        yield made


def records_of(caplog: pytest.LogCaptureFixture, name: str = "litellm_sync") -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == name]


def test_a_given_request_id_reaches_every_log_line_the_event_and_the_exception(
    client: litellm_sync.Client, server: FakeProviderServer, events: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    server.enqueue(Reply(status=503, json={"error": {"message": "busy"}}),
                   Reply(status=429, headers={"x-request-id": "prov-7"}, json={"error": {"message": "slow down"}}))
    with caplog.at_level(logging.DEBUG, logger="litellm_sync"), pytest.raises(litellm_sync.RateLimitError) as info:
        client.completion(MODEL, HI, api_key=KEY, api_base=server.url, metadata={"request_id": "req-123"})
    lines = records_of(caplog)
    assert len(lines) >= 3  # two request lines and the retry line
    assert any("retrying" in r.getMessage() for r in lines)
    assert {getattr(r, "correlation_id", None) for r in lines} == {"req-123"}
    assert info.value.correlation_id == "req-123" and info.value.request_id == "prov-7"
    (event,) = events
    assert event.correlation_id == "req-123" and event.error is info.value and event.outcome == "error"
    assert event.metadata == {"request_id": "req-123"}
    assert all("metadata" not in (r.json or {}) for r in server.requests)  # never sent to the provider
    assert current_correlation_id() is None  # the call's id does not outlive it


def test_generated_ids_are_unique_and_match_across_event_and_log(
    client: litellm_sync.Client, server: FakeProviderServer, events: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="litellm_sync"):
        for _ in range(3):
            client.completion(MODEL, HI, api_key=KEY, api_base=server.url)
    ids = [e.correlation_id for e in events]
    assert len(set(ids)) == 3 and all(ids)
    assert [getattr(r, "correlation_id", None) for r in records_of(caplog)] == ids
    logging.getLogger("litellm_sync").warning("outside any call")
    assert caplog.records[-1].correlation_id == "-"  # type: ignore[attr-defined]


def test_a_refused_call_carries_its_id(client: litellm_sync.Client) -> None:
    with pytest.raises(litellm_sync.BadRequestError) as info:
        client.completion(MODEL, ["hello"], api_key=KEY, metadata={"request_id": "r-9"})
    assert info.value.correlation_id == "r-9"
    with pytest.raises(litellm_sync.ConfigurationError, match="metadata"):
        client.completion(MODEL, HI, api_key=KEY, metadata="r-9")


def test_a_stream_reports_in_the_context_it_started_in(
    server: FakeProviderServer, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[tuple[str | None, str | None, float | None]] = []

    def hook(event: litellm_sync.CallEvent) -> None:
        seen.append((event.correlation_id, current_correlation_id(), event.time_to_first_token_ms))

    with litellm_sync.Client(max_retries=0, hooks=[hook]) as client:
        stream = client.completion(MODEL, HI, stream=True, api_key=KEY, api_base=server.url,
                                   metadata={"request_id": "stream-1"})
        assert current_correlation_id() is None  # the caller's context is left as it was
        with stream:
            list(stream)
    ((given, current, ttft),) = seen
    assert given == current == "stream-1"
    assert ttft is not None and ttft >= 0


def test_log_lines_written_while_a_stream_is_read_carry_its_id(
    server: FakeProviderServer, caplog: pytest.LogCaptureFixture
) -> None:
    # An in-band error after the finish reason is logged (not raised) while the stream is being read: that line
    # is written inside ChatStream.__next__, long after completion() returned.
    chunk = {"id": "c1", "object": "chat.completion.chunk", "model": "gpt-4o-mini",
             "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]}
    server.enqueue(Reply(events=[f"data: {json.dumps(chunk)}\n\n",
                                 'data: {"error": {"message": "token limit reached"}}\n\n', "data: [DONE]\n\n"]))
    with litellm_sync.Client(max_retries=0) as client:  # no hooks: the id is there all the same
        stream = client.completion(MODEL, HI, stream=True, api_key=KEY, api_base=server.url,
                                   metadata={"request_id": "stream-log-1"})
        assert current_correlation_id() is None
        with caplog.at_level(logging.WARNING, logger="litellm_sync"), stream:
            texts = [c.choices[0].delta.content for c in stream]
            assert current_correlation_id() is None  # set only while a chunk is read, not between chunks
    assert texts == ["hi"]
    (line,) = [r for r in records_of(caplog) if "in-band error" in r.getMessage()]
    assert line.correlation_id == "stream-log-1"  # type: ignore[attr-defined]


def test_closing_a_stream_runs_in_its_context(server: FakeProviderServer) -> None:
    seen: list[str | None] = []
    with litellm_sync.Client(max_retries=0, hooks=[lambda event: seen.append(current_correlation_id())]) as client:
        stream = client.completion(MODEL, HI, stream=True, api_key=KEY, api_base=server.url,
                                   metadata={"request_id": "closing-1"})
        next(stream)
        stream.close()  # stopped early: the end is reported from close()
    assert seen == ["closing-1"]
    assert current_correlation_id() is None


def test_payload_logging_is_opt_in_and_redacted(
    client: litellm_sync.Client, server: FakeProviderServer, caplog: pytest.LogCaptureFixture
) -> None:
    leaky = [{"role": "user", "content": f"my key is {KEY}"}]
    with caplog.at_level(logging.DEBUG, logger="litellm_sync"):
        client.completion(MODEL, leaky, api_key=KEY, api_base=server.url)
    assert records_of(caplog, PAYLOAD_LOGGER) == []  # litellm_sync at DEBUG does not turn it on
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger=PAYLOAD_LOGGER):
        client.completion(MODEL, leaky, api_key=KEY, api_base=server.url, temperature=0.2,
                          metadata={"request_id": "p-1"})
    request, response = records_of(caplog, PAYLOAD_LOGGER)
    assert "temperature" in request.getMessage() and "my key is" in request.getMessage()
    assert "Echo: my key is" in response.getMessage()
    for record in (request, response):
        assert KEY not in record.getMessage() and record.correlation_id == "p-1"  # type: ignore[attr-defined]


def test_json_formatter(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("litellm_sync")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        client.completion(MODEL, HI, api_key=KEY, api_base=server.url, metadata={"request_id": "json-1"})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
    (line,) = lines
    parsed = json.loads(line)
    assert parsed["correlation_id"] == "json-1" and parsed["level"] == "DEBUG"
    assert parsed["logger"] == "litellm_sync" and "200" in parsed["message"]
    assert parsed["time"].endswith("Z")


def test_old_style_call_events_still_work() -> None:
    event = litellm_sync.CallEvent("p", "m", False, 1.0, None, None, True)
    assert (event.correlation_id, event.cache_hit, event.outcome, dict(event.metadata)) == (None, False, "success", {})


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_in_background_in_a_forked_child_tells_only_the_childs_events() -> None:
    import threading

    from litellm_sync.observability import in_background

    release = threading.Event()
    told: list[str] = []

    def hook(event: litellm_sync.CallEvent) -> None:
        release.wait(10)
        told.append(event.correlation_id or "")

    background = in_background(hook)

    def event(name: str) -> litellm_sync.CallEvent:
        return litellm_sync.CallEvent("p", "m", False, 1.0, None, None, True, correlation_id=name)

    background(event("parent-1"))
    background(event("parent-2"))  # pending in the parent when it forks
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own worker, none of the parent's events
        try:
            release.set()
            background(event("child"))
            ok = background.flush(10)
            os.write(write, json.dumps([ok, told]).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = json.loads(pipe.read())
    os.waitpid(pid, 0)
    release.set()
    assert background.flush(10)
    assert child == [True, ["child"]]
    assert told == ["parent-1", "parent-2"]
