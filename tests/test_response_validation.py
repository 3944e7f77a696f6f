"""Answers that are not answers, and errors that would lie: a 2xx whose body is not the shape the dialect
reads, negative token counts, JSON nested past the parser's depth, and Retry-After values that are not
numbers (nan, inf, negative, huge, garbage) all end as litellm_sync exceptions, never as bare Python errors
or as a "successful" response with no choices."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from faultserver import FaultServer, Send, chunk, chunked_head, response, sse_chat
from tenacity import RetryCallState

import litellm_sync
from litellm_sync._engine.errors import MAX_RETRY_AFTER, retry_after_seconds
from litellm_sync.retry import BackoffWait, RetryPolicy
from litellm_sync.web import retry_after_header

MESSAGES = [{"role": "user", "content": "hello"}]
KEY = "plainsecretvalue42"
GEMINI_BLOCKED = {  # a real answer without candidates: the prompt was blocked
    "promptFeedback": {"blockReason": "SAFETY"},
    "usageMetadata": {"promptTokenCount": 7, "totalTokenCount": 7},
    "modelVersion": "gemini-2.0-flash",
}


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as fault:
        yield fault


@pytest.fixture(scope="module")
def client() -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(timeout=5.0, retry_policy=RetryPolicy(max_retries=0)) as shared:
        yield shared


def call(client: litellm_sync.Client, server: FaultServer, model: str = "openai/gpt-4o-mini", **kwargs: Any) -> Any:
    return client.completion(model, MESSAGES, api_key=KEY, api_base=server.url, **kwargs)


# -- 2xx bodies that are not answers (issue 10, item 12) ----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("[]", "none of the fields"),
        ("null", "the body is null"),
        ('"hello"', "the body is a string"),
        ("42", "the body is a number"),
        ('{"choices": "x"}', "choices is a string"),
        ('{"choices": [1, 2]}', "choice 0 is a number"),
        ("{}", "none of the fields"),
        ('{"unrelated": true}', "none of the fields"),
    ],
)
def test_a_2xx_that_is_not_an_answer(client: litellm_sync.Client, server: FaultServer, body: str, said: str) -> None:
    server.enqueue([Send(response(200, body))])
    with pytest.raises(litellm_sync.APIResponseValidationError) as info:
        call(client, server)
    assert said in str(info.value) and "not an answer" in str(info.value)
    assert repr(body) in str(info.value)  # the excerpt
    assert info.value.provider == "openai" and info.value.request_sent is True


@pytest.mark.parametrize("model", ["gemini/gemini-2.0-flash", "anthropic/claude-3-5-haiku-latest", "cohere/command-r"])
def test_the_check_is_generic(client: litellm_sync.Client, server: FaultServer, model: str) -> None:
    for body in ("[]", '"hello"', "{}"):
        server.enqueue([Send(response(200, body))])
        with pytest.raises(litellm_sync.APIResponseValidationError):
            call(client, server, model)


@pytest.mark.parametrize("body", ["[]", '"hello"', '{"choices": "x"}'])
def test_a_json_answer_to_a_stream_request_that_is_not_an_answer(
    client: litellm_sync.Client, server: FaultServer, body: str
) -> None:
    server.enqueue([Send(response(200, body))])  # application/json, not an event stream
    with pytest.raises(litellm_sync.APIResponseValidationError) as info:
        list(call(client, server, stream=True))
    assert "not an answer" in str(info.value)


def test_the_excerpt_is_redacted(client: litellm_sync.Client, server: FaultServer) -> None:
    server.enqueue([Send(response(200, json.dumps({"choices": f"echo {KEY}"})))])
    with pytest.raises(litellm_sync.APIResponseValidationError) as info:
        call(client, server)
    assert KEY not in str(info.value) and "[REDACTED]" in str(info.value)


def test_a_blocked_prompt_is_still_an_answer(client: litellm_sync.Client, server: FaultServer) -> None:
    server.enqueue([Send(response(200, json.dumps(GEMINI_BLOCKED)))])
    answer = call(client, server, "gemini/gemini-2.0-flash")
    assert answer.choices == [] and answer.usage.prompt_tokens == 7


def test_negative_token_counts_are_refused(client: litellm_sync.Client, server: FaultServer) -> None:
    body = {"id": "x", "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
            "usage": {"prompt_tokens": -1000, "completion_tokens": 5, "total_tokens": -995}}
    server.enqueue([Send(response(200, json.dumps(body)))])
    with pytest.raises(litellm_sync.APIResponseValidationError) as info:
        call(client, server)
    assert "negative token counts" in str(info.value) and "prompt_tokens=-1000" in str(info.value)


def test_negative_token_counts_in_a_stream(client: litellm_sync.Client, server: FaultServer) -> None:
    usage = {"id": "s", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": -7, "total_tokens": -4}}
    events = [*sse_chat(["hi"], done=False), f"data: {json.dumps(usage)}\n\n", "data: [DONE]\n\n"]
    server.enqueue([Send(chunked_head() + b"".join(chunk(e) for e in events) + chunk(b""))])
    stream = call(client, server, stream=True)
    with pytest.raises(litellm_sync.APIResponseValidationError) as info:
        list(stream)
    assert "completion_tokens=-7" in str(info.value)


# -- JSON nested past the parser (issue 10, item 14) --------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


def test_deeply_nested_json_in_a_reply(client: litellm_sync.Client, server: FaultServer) -> None:
    server.enqueue([Send(response(200, '{"choices": ' + DEEP + "}"))])
    with pytest.raises(litellm_sync.APIResponseValidationError) as info:
        call(client, server)
    assert "nested too deeply" in str(info.value)


def test_deeply_nested_json_in_an_error_body(client: litellm_sync.Client, server: FaultServer) -> None:
    server.enqueue([Send(response(500, '{"error": ' + DEEP + "}"))])
    with pytest.raises(litellm_sync.InternalServerError) as info:
        call(client, server)
    assert info.value.status_code == 500


def test_deeply_nested_json_in_a_stream_event(client: litellm_sync.Client, server: FaultServer) -> None:
    events = [*sse_chat(["hi"], done=False)[:1], f"data: {DEEP}\n\n"]
    server.enqueue([Send(chunked_head() + b"".join(chunk(e) for e in events) + chunk(b""))])
    stream = call(client, server, stream=True)
    with pytest.raises(litellm_sync.APIResponseValidationError):
        list(stream)


# -- Retry-After (issue 10, item 13) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "nan"}, None),
        ({"retry-after": "NaN"}, None),
        ({"retry-after": "garbage"}, None),
        ({"retry-after": ""}, None),
        ({"retry-after": "inf"}, MAX_RETRY_AFTER),
        ({"retry-after": "1e308"}, MAX_RETRY_AFTER),
        ({"retry-after": "1e999"}, MAX_RETRY_AFTER),
        ({"retry-after": "-5"}, 0.0),
        ({"retry-after": "-inf"}, 0.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date in the past
        ({"retry-after": "Wed, 99 Foo 2015 99:99:99 GMT"}, None),
        ({"retry-after-ms": "nan"}, None),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "-1"}, 0.0),
        ({}, None),
    ],
)
def test_retry_after_parsing(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers) == expected


def _sleeper(slept: list[float]) -> Any:
    def sleep(seconds: float) -> None:
        if not (isinstance(seconds, float) and math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"sleep length must be a finite non-negative number, not {seconds!r}")  # as time.sleep
        slept.append(seconds)

    return sleep


@pytest.mark.parametrize("value", ["nan", "inf", "-3", "1e308", "soon"])
def test_a_429_with_a_strange_retry_after_is_retried_and_kept(server: FaultServer, value: str) -> None:
    slept: list[float] = []
    busy = response(429, '{"error": {"message": "slow down"}}', headers={"Retry-After": value})
    server.enqueue(*([Send(busy)] for _ in range(3)))
    policy = RetryPolicy(max_retries=2, sleep=_sleeper(slept))
    with litellm_sync.Client(retry_policy=policy, timeout=5) as client, pytest.raises(
        litellm_sync.RateLimitError
    ) as info:
        call(client, server)
    assert info.value.attempts == 3 and len(slept) == 2
    assert all(0 <= s <= MAX_RETRY_AFTER for s in slept)
    assert info.value.retry_after is None or 0 <= info.value.retry_after <= MAX_RETRY_AFTER


@pytest.mark.parametrize("retry_after", [math.nan, math.inf, -1.0, 1e308, "7"])
def test_backoff_survives_a_hand_built_retry_after(retry_after: Any) -> None:
    wait = BackoffWait(initial=0.5, cap=8.0, retry_after_cap=60.0)
    error = litellm_sync.RateLimitError("slow", retry_after=retry_after)
    state = RetryCallState(None, None, (), {})  # type: ignore[arg-type]
    state.set_exception((type(error), error, None))
    seconds = wait(state)
    assert math.isfinite(seconds) and 0 <= seconds <= 60.0


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [(math.nan, None), (math.inf, "60"), (-3.0, "0"), (1e308, "60"), ("x", None), (1.2, "2"), (None, None)],
)
def test_web_retry_after_header_never_raises(retry_after: Any, header: str | None) -> None:
    assert retry_after_header(litellm_sync.RateLimitError("slow", retry_after=retry_after)) == header
