"""Observability hooks: one CallEvent per call, for successes, errors, streams (finished or abandoned)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import litellm_sync
from litellm_sync.testing import FakeProviderServer, Reply

MESSAGES = [{"role": "user", "content": "count the events"}]


@pytest.fixture()
def events() -> list[litellm_sync.CallEvent]:
    return []


@pytest.fixture()
def client(events: list[litellm_sync.CallEvent]) -> Any:
    with litellm_sync.Client(max_retries=0, hooks=[events.append]) as made:
        yield made


def test_a_successful_call(client: litellm_sync.Client, server: FakeProviderServer, events: list[Any]) -> None:
    answer = client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base=server.url)
    (event,) = events
    assert (event.provider, event.model, event.stream, event.complete, event.error) == (
        "openai", "gpt-4o-mini", False, True, None,
    )
    assert event.response is answer and event.usage is answer.usage and event.cost == answer.cost
    assert event.cost is not None and event.latency_ms >= 0


def test_a_failed_call(client: litellm_sync.Client, server: FakeProviderServer, events: list[Any]) -> None:
    server.enqueue(Reply(status=429, json={"error": {"message": "slow down", "code": "rate_limit"}}))
    with pytest.raises(litellm_sync.RateLimitError) as info:
        client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base=server.url)
    (event,) = events
    assert event.error is info.value and event.response is None and not event.complete


def test_streams_report_when_they_end(
    client: litellm_sync.Client, server: FakeProviderServer, events: list[Any]
) -> None:
    with client.completion("anthropic/claude-haiku-4-5", MESSAGES, stream=True, api_key="k",
                           api_base=server.url) as stream:
        first = next(iter(stream))
        assert events == []  # the call is still going
        text = (first.choices[0].delta.content or "") + "".join(stream.text())
    (event,) = events
    assert event.stream and event.complete and event.error is None
    assert event.response.content == text == "Echo: count the events"
    assert event.usage.completion_tokens == 4


def test_an_abandoned_stream_reports_once_as_incomplete(
    client: litellm_sync.Client, server: FakeProviderServer, events: list[Any]
) -> None:
    stream = client.completion("openai/gpt-4o-mini", MESSAGES, stream=True, api_key="k", api_base=server.url)
    next(iter(stream))
    stream.close()
    stream.close()
    (event,) = events
    assert not event.complete and event.error is None and event.response is not None


def test_a_stream_closed_before_iterating_reports_once(
    client: litellm_sync.Client, server: FakeProviderServer, events: list[Any]
) -> None:
    with client.completion("openai/gpt-4o-mini", MESSAGES, stream=True, api_key="k", api_base=server.url):
        pass
    (event,) = events
    assert not event.complete and event.error is None


def test_a_stream_that_breaks_reports_its_error(
    client: litellm_sync.Client, server: FakeProviderServer, events: list[Any]
) -> None:
    server.enqueue(Reply(events=['data: {"choices":[{"index":0,"delta":{"content":"par"}}]}\n\n',
                                 'data: {"error":{"message":"upstream died","code":502}}\n\n']))
    with pytest.raises(litellm_sync.ServiceUnavailableError):
        list(client.completion("openai/gpt-4o-mini", MESSAGES, stream=True, api_key="k", api_base=server.url))
    (event,) = events
    assert isinstance(event.error, litellm_sync.ServiceUnavailableError) and not event.complete
    assert event.response.content == "par"


def test_a_broken_hook_never_breaks_the_call(server: FakeProviderServer, caplog: pytest.LogCaptureFixture) -> None:
    def broken(event: litellm_sync.CallEvent) -> None:
        raise RuntimeError("metrics backend down")

    with litellm_sync.Client(hooks=[broken]) as client, caplog.at_level(logging.WARNING, logger="litellm_sync"):
        answer = client.completion("openai/gpt-4o-mini", MESSAGES, api_key="k", api_base=server.url)
    assert answer.content == "Echo: count the events"
    assert "metrics backend down" in caplog.text
