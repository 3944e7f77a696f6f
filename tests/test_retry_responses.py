"""Retries with `responses` answering and the retry policy's sleep injected (no test waits): what is retried,
how often, how long each wait is (Retry-After, retry-after-ms, HTTP dates, the cap, jittered backoff), and
that a stream is retried only before its first chunk."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator

import pytest
import requests
import responses

import litellm_sync
from litellm_sync.retry import BackoffWait, RetryPolicy
from litellm_sync.testing import mock_completion

MODEL = "openai/gpt-4o-mini"
URL = "https://api.openai.com/v1/chat/completions"
MESSAGES = [{"role": "user", "content": "Hello"}]


@pytest.fixture(autouse=True)
def _no_base_url_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(retry_policy=RetryPolicy(max_retries=2, sleep=sleeps.append)) as made:
        yield made


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def error(rsps: responses.RequestsMock, status: int, headers: dict[str, str] | None = None, **kwargs: object) -> None:
    mock_completion(rsps, MODEL, status=status, headers=headers, **kwargs)  # type: ignore[arg-type]


def call(client: litellm_sync.Client, **kwargs: object) -> litellm_sync.ChatResponse:
    return client.completion(MODEL, MESSAGES, api_key="sk-x", **kwargs)  # type: ignore[no-any-return]


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 529])
def test_retryable_status_then_success(
    client: litellm_sync.Client, rsps: responses.RequestsMock, sleeps: list[float], status: int
) -> None:
    error(rsps, status, {"Retry-After": "0.25"})
    mock_completion(rsps, MODEL, "recovered")
    assert call(client).content == "recovered"
    assert len(rsps.calls) == 2
    assert sleeps == [0.25]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_are_not_retried(
    client: litellm_sync.Client, rsps: responses.RequestsMock, sleeps: list[float], status: int
) -> None:
    error(rsps, status)
    with pytest.raises(litellm_sync.APIStatusError) as caught:
        call(client)
    assert (len(rsps.calls), sleeps, caught.value.attempts) == (1, [], 1)


def test_exhausted_quota_is_not_retried(
    client: litellm_sync.Client, rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    error(rsps, 429, code="insufficient_quota")
    with pytest.raises(litellm_sync.RateLimitError):
        call(client)
    assert (len(rsps.calls), sleeps) == (1, [])


def test_gives_up_after_max_retries_and_counts_attempts(
    client: litellm_sync.Client, rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    error(rsps, 503, {"Retry-After": "1"})  # responses repeats the last registration for every later call
    with pytest.raises(litellm_sync.ServiceUnavailableError) as caught:
        call(client)
    assert (len(rsps.calls), sleeps, caught.value.attempts) == (3, [1.0, 1.0], 3)


@pytest.mark.parametrize(("max_retries", "attempts"), [(0, 1), (1, 2), (4, 5)])
def test_per_call_max_retries(
    client: litellm_sync.Client, rsps: responses.RequestsMock, sleeps: list[float], max_retries: int, attempts: int
) -> None:
    error(rsps, 500, {"Retry-After": "0"})
    with pytest.raises(litellm_sync.InternalServerError):
        call(client, max_retries=max_retries)
    assert len(rsps.calls) == attempts and len(sleeps) == attempts - 1


@pytest.mark.parametrize(
    ("headers", "low", "high"),
    [
        ({"retry-after-ms": "1500"}, 1.5, 1.5),
        ({"retry-after-ms": "250", "Retry-After": "30"}, 0.25, 0.25),  # the finer header wins
        ({"Retry-After": "12"}, 12.0, 12.0),
        ({"Retry-After": "100000"}, 60.0, 60.0),  # capped
        ({"Retry-After": "-5"}, 0.0, 0.0),
        ({"Retry-After": "in 30 s, as an HTTP date"}, 25.0, 30.5),
    ],
    ids=["ms", "ms-over-seconds", "seconds", "capped", "negative", "http-date"],
)
def test_retry_after_forms(
    client: litellm_sync.Client, rsps: responses.RequestsMock, sleeps: list[float], headers: dict[str, str],
    low: float, high: float,
) -> None:
    if headers.get("Retry-After", "").startswith("in 30 s"):  # made now, not at collection time
        headers = {"Retry-After": email.utils.formatdate(time.time() + 30, usegmt=True)}
    error(rsps, 429, headers)
    mock_completion(rsps, MODEL, "ok")
    assert call(client).content == "ok"
    assert len(sleeps) == 1 and low <= sleeps[0] <= high


def test_backoff_without_retry_after_is_jittered_exponential(rsps: responses.RequestsMock) -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(max_retries=4, wait=BackoffWait(initial=0.5, cap=1.5), sleep=sleeps.append)
    error(rsps, 500)
    with litellm_sync.Client(retry_policy=policy) as client, pytest.raises(litellm_sync.InternalServerError):
        call(client)
    bounds = [(0.25, 0.5), (0.5, 1.0), (0.75, 1.5), (0.75, 1.5)]  # 0.5 * 2**n, capped, times [0.5, 1]
    assert len(sleeps) == 4
    assert all(low <= slept <= high for slept, (low, high) in zip(sleeps, bounds)), sleeps


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (requests.exceptions.ConnectionError("connection reset by peer"), litellm_sync.APIConnectionError),
        (requests.exceptions.ReadTimeout("read timed out"), litellm_sync.Timeout),
        (requests.exceptions.ConnectTimeout("connect timed out"), litellm_sync.Timeout),
    ],
    ids=["reset", "read-timeout", "connect-timeout"],
)
def test_transport_failures_are_retried_then_reported(
    client: litellm_sync.Client, rsps: responses.RequestsMock, sleeps: list[float], failure: Exception,
    expected: type[Exception],
) -> None:
    rsps.add("POST", URL, body=failure)
    with pytest.raises(expected) as caught:
        call(client, timeout=5.0)  # an attempt's timeout well inside total_timeout: a timed-out attempt may retry
    assert type(caught.value) is expected and caught.value.attempts == 3
    assert len(rsps.calls) == 3 and len(sleeps) == 2
    rsps.replace("POST", URL, body=failure)
    rsps.add("POST", URL, json={"choices": [{"index": 0, "message": {"content": "back"}, "finish_reason": "stop"}]})
    assert call(client, timeout=5.0).content == "back"  # one failure, then the answer


def test_a_stream_is_retried_before_its_first_chunk(
    client: litellm_sync.Client, rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    error(rsps, 503, {"Retry-After": "0.5"}, stream=True)
    mock_completion(rsps, MODEL, "streamed fine", stream=True)
    with client.completion(MODEL, MESSAGES, api_key="sk-x", stream=True) as stream:
        assert stream.response().content == "streamed fine"
    assert sleeps == [0.5] and len(rsps.calls) == 2


def test_an_overloaded_event_before_any_content_is_retried(
    client: litellm_sync.Client, rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    model, url = "anthropic/claude-sonnet-4-5", "https://api.anthropic.com/v1/messages"
    rsps.add("POST", url, content_type="text/event-stream",
             body='event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n')
    mock_completion(rsps, model, "second try", stream=True)
    with client.completion(model, MESSAGES, api_key="sk-x", stream=True) as stream:
        assert stream.response().content == "second try"
    assert len(rsps.calls) == 2 and len(sleeps) == 1


def test_an_error_after_the_first_chunk_is_not_retried(
    client: litellm_sync.Client, rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    transcript = (
        'data: {"choices":[{"index":0,"delta":{"content":"partial"}}]}\n\n'
        'data: {"error":{"message":"upstream died","code":502}}\n\n'
    )
    rsps.add("POST", URL, body=transcript, content_type="text/event-stream")
    stream = client.completion(MODEL, MESSAGES, api_key="sk-x", stream=True)
    texts = []
    with pytest.raises(litellm_sync.ServiceUnavailableError), stream:
        for chunk in stream:
            texts.extend(c.delta.content for c in chunk.choices if c.delta.content)
    assert texts == ["partial"]
    assert len(rsps.calls) == 1 and sleeps == []
