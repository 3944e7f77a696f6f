"""The Client end to end against the fake provider server: five dialects, retries, errors, threads, pooling, cost.

No real sleeping: retries use `RetryPolicy(sleep=recorder.append)`. No wall-clock assertions.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import litellm_sync
from litellm_sync import RetryPolicy
from litellm_sync.testing import FakeProviderServer, Reply

MODELS = {
    "openai": "openai/gpt-5",
    "anthropic": "anthropic/claude-sonnet-4-5",
    "gemini": "gemini/gemini-2.5-flash",
    "cohere": "cohere/command-a-03-2025",
    "ollama": "ollama/llama3.2",
}


@pytest.fixture
def server() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as fake:
        yield fake


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(retry_policy=RetryPolicy(max_retries=2, sleep=sleeps.append)) as instance:
        yield instance


def _call(client: litellm_sync.Client, server: FakeProviderServer, model: str = "openai/gpt-5",
          text: str = "hello world", **kwargs: Any) -> Any:
    return client.completion(model, [{"role": "user", "content": text}], api_key="sk-test", api_base=server.url,
                             **kwargs)


# --------------------------------------------------------------------------------------------------------
# Five dialects

@pytest.mark.parametrize("dialect", sorted(MODELS))
def test_non_stream(client: litellm_sync.Client, server: FakeProviderServer, dialect: str) -> None:
    response = _call(client, server, MODELS[dialect], "hello big world")
    assert response.choices[0].message.content == "Echo: hello big world"
    assert response.choices[0].finish_reason == "stop"
    assert response.provider == dialect
    assert response.usage.prompt_tokens == 3
    assert response.usage.completion_tokens == 4
    assert response.usage.total_tokens == 7


@pytest.mark.parametrize("dialect", sorted(MODELS))
def test_stream(client: litellm_sync.Client, server: FakeProviderServer, dialect: str) -> None:
    stream = _call(client, server, MODELS[dialect], "hello big world", stream=True)
    chunks = list(stream)
    built = litellm_sync.stream_chunk_builder(chunks)
    assert built.choices[0].message.content == "Echo: hello big world"
    assert built.choices[0].finish_reason == "stop"
    assert built.usage.prompt_tokens == 3 and built.usage.completion_tokens == 4
    assert _no_leak(server)


@pytest.mark.parametrize("dialect", sorted(MODELS))
def test_stream_connection_is_reused_after_exhaustion(
    client: litellm_sync.Client, server: FakeProviderServer, dialect: str
) -> None:
    for _ in range(3):
        list(_call(client, server, MODELS[dialect], "a b", stream=True))
    # Reused: one connection stays open. Closed after each stream: the count drops to 0.
    assert not server.wait_for_open_connections(0, timeout=0.5)
    assert server.open_connections == 1


def _no_leak(server: FakeProviderServer) -> bool:
    """At most one connection stays open (reused or closed), never one per stream."""
    return server.wait_for_open_connections(1) or server.wait_for_open_connections(0)


# --------------------------------------------------------------------------------------------------------
# Retries

def _ok(text: str = "fine") -> Reply:
    return Reply(json={"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-5",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                    "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})


def _error(status: int, message: str = "boom", code: str | None = None, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status=status, json={"error": {"message": message, "type": code or "server_error", "code": code}},
                 headers=headers or {})


def test_429_with_retry_after_then_200(client: litellm_sync.Client, server: FakeProviderServer,
                                       sleeps: list[float]) -> None:
    server.enqueue(_error(429, "slow down", "rate_limit_exceeded", {"Retry-After": "7"}), _ok())
    assert _call(client, server).choices[0].message.content == "fine"
    assert sleeps == [7.0]
    assert len(server.requests) == 2


def test_503_twice_then_200(client: litellm_sync.Client, server: FakeProviderServer, sleeps: list[float]) -> None:
    server.enqueue(_error(503), _error(503), _ok())
    assert _call(client, server).choices[0].message.content == "fine"
    assert len(sleeps) == 2 and all(s >= 0 for s in sleeps)
    assert len(server.requests) == 3


def test_500_forever_gives_up(client: litellm_sync.Client, server: FakeProviderServer, sleeps: list[float]) -> None:
    server.enqueue(*[_error(500)] * 5)
    with pytest.raises(litellm_sync.InternalServerError) as info:
        _call(client, server)
    assert info.value.attempts == 3
    assert "after 3 attempts" in str(info.value)
    assert len(server.requests) == 3 and len(sleeps) == 2


def test_max_retries_per_call(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    server.enqueue(*[_error(500)] * 5)
    with pytest.raises(litellm_sync.InternalServerError) as info:
        _call(client, server, max_retries=0)
    assert info.value.attempts == 1 and len(server.requests) == 1
    server.clear()
    server.enqueue(*[_error(500)] * 5)
    with pytest.raises(litellm_sync.InternalServerError):
        _call(client, server, max_retries=4)
    assert len(server.requests) == 5


def test_max_retries_per_client(server: FakeProviderServer) -> None:
    with litellm_sync.Client(retry_policy=RetryPolicy(max_retries=1, sleep=lambda _s: None)) as one:
        server.enqueue(*[_error(502, "bad gateway")] * 3)
        with pytest.raises(litellm_sync.ServiceUnavailableError):
            _call(one, server)
    assert len(server.requests) == 2
    with litellm_sync.Client(max_retries=0) as none:
        server.clear()
        server.enqueue(_error(503))
        with pytest.raises(litellm_sync.ServiceUnavailableError):
            _call(none, server)
    assert len(server.requests) == 1


def test_non_retryable_errors_are_not_retried(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    server.enqueue(_error(400, "bad"), _ok())
    with pytest.raises(litellm_sync.BadRequestError):
        _call(client, server)
    assert len(server.requests) == 1


def test_no_retry_once_a_stream_has_yielded(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-5",
             "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]}
    server.enqueue(Reply(events=[f"data: {json.dumps(chunk)}\n\n",
                                 'data: {"error": {"message": "upstream overloaded", "code": 503}}\n\n']), _ok())
    stream = _call(client, server, stream=True)
    assert next(stream).choices[0].delta.content == "Hi"
    with pytest.raises(litellm_sync.ServiceUnavailableError):
        list(stream)
    assert len(server.requests) == 1


def test_stream_retried_before_it_starts(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    server.enqueue(_error(503))
    stream = _call(client, server, text="hi there", stream=True)
    assert litellm_sync.stream_chunk_builder(list(stream)).choices[0].message.content == "Echo: hi there"
    assert len(server.requests) == 2


# --------------------------------------------------------------------------------------------------------
# Error table

def test_insufficient_quota_is_not_retryable(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    server.enqueue(_error(429, "You exceeded your current quota", "insufficient_quota"), _ok())
    with pytest.raises(litellm_sync.RateLimitError) as info:
        _call(client, server)
    assert not info.value.retryable and info.value.code == "insufficient_quota"
    assert len(server.requests) == 1


def test_context_length_exceeded(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    server.enqueue(_error(400, "This model's maximum context length is 8192 tokens", "context_length_exceeded"))
    with pytest.raises(litellm_sync.ContextWindowExceededError) as info:
        _call(client, server)
    assert isinstance(info.value, litellm_sync.BadRequestError)
    assert info.value.status_code == 400


def test_html_502_page(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
    server.enqueue(*[Reply(status=502, body=page, content_type="text/html")] * 3)
    with pytest.raises(litellm_sync.ServiceUnavailableError) as info:
        _call(client, server)
    message = str(info.value)
    assert "502 Bad Gateway" in message and "<html>" not in message


def test_empty_error_body(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    server.enqueue(Reply(status=404, body=b""))
    with pytest.raises(litellm_sync.NotFoundError) as info:
        _call(client, server)
    assert str(info.value)
    assert info.value.status_code == 404


def test_anthropic_overloaded_529(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    overloaded = Reply(status=529, json=error, headers={"request-id": "req_123"})
    server.enqueue(overloaded, overloaded, overloaded)
    with pytest.raises(litellm_sync.ServiceUnavailableError) as info:
        _call(client, server, MODELS["anthropic"])
    assert info.value.request_id == "req_123" and info.value.attempts == 3


def test_api_key_never_in_error(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    server.enqueue(_error(401, "Incorrect API key provided: sk-test"))
    with pytest.raises(litellm_sync.AuthenticationError) as info:
        _call(client, server)
    assert "sk-test" not in str(info.value) and "sk-test" not in repr(info.value)


# --------------------------------------------------------------------------------------------------------
# Threads

def test_32_threads_share_one_client(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    results: dict[int, str] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(32)

    def work(n: int) -> None:
        try:
            barrier.wait()
            for round_ in range(3):
                stream = round_ == 1
                text = f"thread {n} round {round_}"
                answer = _call(client, server, MODELS[sorted(MODELS)[n % 5]], text, stream=stream)
                if stream:
                    answer = litellm_sync.stream_chunk_builder(list(answer))
                got = answer.choices[0].message.content
                results[n * 10 + round_] = got
                assert got == f"Echo: {text}"
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    assert len(results) == 96


# --------------------------------------------------------------------------------------------------------
# Stream connections go back to the pool

def _long_stream(client: litellm_sync.Client, server: FakeProviderServer) -> Any:
    return client.completion("openai/gpt-5", [{"role": "user", "content": "x"}], stream=True, api_key="k",
                             api_base=server.url, extra_headers={"x-fake-chunks": "50"})


def test_stream_connection_released_after_exhaustion(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    for _ in range(3):
        list(_long_stream(client, server))
    assert _no_leak(server)


def test_stream_connection_released_on_close(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    for _ in range(3):
        stream = _long_stream(client, server)
        next(stream)
        stream.close()
        stream.close()  # idempotent
    assert _no_leak(server)
    assert _call(client, server, text="after").choices[0].message.content == "Echo: after"


def test_stream_connection_released_on_break(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    for _ in range(3):
        with _long_stream(client, server) as stream:
            for _chunk in stream:
                break
    assert _no_leak(server)
    assert _call(client, server, text="after").choices[0].message.content == "Echo: after"


def test_stream_connection_released_on_error(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    for _ in range(3):
        # An error as the first event raises from completion() itself (before any chunk, so retries applied).
        server.enqueue(Reply(events=['data: {"error": {"message": "bad", "code": 500}}\n\n']))
        with pytest.raises(litellm_sync.APIError):
            list(_call(client, server, stream=True, max_retries=0))
        # An error after the first chunk raises from the iterator.
        server.enqueue(Reply(events=['data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n',
                                     'data: {"error": {"message": "bad", "code": 500}}\n\n']))
        stream = _call(client, server, stream=True, max_retries=0)
        with pytest.raises(litellm_sync.APIError):
            list(stream)
    assert _no_leak(server)


# --------------------------------------------------------------------------------------------------------
# Registry and cost

def _usage_reply(usage: dict[str, Any]) -> Reply:
    return Reply(json={"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-5",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": "x"},
                                    "finish_reason": "stop"}], "usage": usage})


def test_cost_openai_with_cached_tokens(server: FakeProviderServer) -> None:
    # Prices fixed here, not read back from the registry: the test knows the answer independently.
    priced = {"providers": {"priced": {
        "extends": "openai_chat", "base_url": server.url, "auth": {"env": ["PRICED_TEST_KEY"]},
        "models": {"m": {"pricing": {"input": "1.25", "cached_input": "0.125", "output": "10"}}},
    }}}
    server.enqueue(_usage_reply({"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500,
                                 "prompt_tokens_details": {"cached_tokens": 400}}))
    with litellm_sync.Client(providers=priced, max_retries=0) as client:
        response = client.completion("priced/m", [{"role": "user", "content": "hi"}], api_key="sk-test")
        # 600 fresh x $1.25 + 400 cached x $0.125 + 500 out x $10, per million: 750 + 50 + 5000 micro-dollars.
        assert response.usage.cached_tokens == 400
        assert response.cost == Decimal("0.0058")
        assert client.completion_cost(response) == Decimal("0.0058")


def test_cost_anthropic_with_cache_read_and_write(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    info = client.get_model_info("anthropic/claude-sonnet-4-5")
    server.enqueue(Reply(json={
        "id": "msg", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "x"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 100, "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 200,
                  "output_tokens": 50}}))
    response = _call(client, server, MODELS["anthropic"])
    assert response.usage.prompt_tokens == 1300
    assert response.usage.cached_tokens == 1000 and response.usage.cache_creation_tokens == 200
    expected = (100 * info.input_price + 1000 * info.cached_input_price + 200 * info.cache_write_price
                + 50 * info.output_price) / Decimal(10**6)
    assert response.cost == expected
    if info.input_price == Decimal(3) and info.output_price == Decimal(15):
        assert expected == Decimal("0.0021")  # 100*3 + 1000*0.30 + 200*3.75 + 50*15 = 2100 micro-dollars


def test_cost_gemini_and_deepseek(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    info = client.get_model_info("gemini/gemini-2.5-flash")
    server.enqueue(Reply(json={
        "candidates": [{"content": {"role": "model", "parts": [{"text": "x"}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 2000, "candidatesTokenCount": 100, "thoughtsTokenCount": 300,
                          "totalTokenCount": 2400, "cachedContentTokenCount": 1000}}))
    response = _call(client, server, MODELS["gemini"])
    assert response.usage.completion_tokens == 400
    expected = (1000 * info.input_price + 1000 * info.cached_input_price + 400 * info.output_price) / Decimal(10**6)
    assert response.cost == expected
    assert client.cost_per_token("deepseek/deepseek-chat", prompt_tokens=10**6, completion_tokens=10**6) == (
        client.get_model_info("deepseek/deepseek-chat").input_price
        + client.get_model_info("deepseek/deepseek-chat").output_price
    )


def test_cost_of_a_stream(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    stream = _call(client, server, MODELS["anthropic"], "one two three", stream=True)
    built = litellm_sync.stream_chunk_builder(list(stream))
    info = client.get_model_info(MODELS["anthropic"])
    expected = (3 * info.input_price + 4 * info.output_price) / Decimal(10**6)
    assert stream.cost == expected and built.cost == expected


def test_unpriced_and_unknown_models_cost_none(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    assert _call(client, server, "openai/gpt-unlisted-model").cost is None
    assert client.get_model_info("cohere/command-a-plus-05-2026").input_price is None
    assert client.cost_per_token("cohere/command-a-plus-05-2026", 10, 10) is None
    assert client.cost_per_token("ollama/llama3.2", 10, 10) == Decimal(0)


def test_get_model_info_and_features(client: litellm_sync.Client) -> None:
    info = client.get_model_info("anthropic/claude-sonnet-4-5")
    assert info.provider == "anthropic" and info.name == "claude-sonnet-4-5"
    assert info.supports("tools") and info.supports("vision")
    assert info.max_output_tokens == 64000
    assert client.get_model_info("claude-sonnet-4-5-20250929").name == "claude-sonnet-4-5"  # alias
    with pytest.raises(litellm_sync.UnknownModelError):
        client.get_model_info("openai/gpt-unlisted-model")


def test_module_level_registry_helpers() -> None:
    assert litellm_sync.supports_function_calling("openai/gpt-5")
    assert litellm_sync.supports_vision("anthropic/claude-sonnet-4-5")
    assert not litellm_sync.supports_vision("cohere/command-a-03-2025")
    assert litellm_sync.supports_reasoning("deepseek-reasoner")
    assert litellm_sync.supports_response_schema("gemini/gemini-2.5-flash")
    assert not litellm_sync.supports_function_calling("openai/gpt-unlisted-model")
    assert litellm_sync.get_max_tokens("anthropic/claude-sonnet-4-5") == 64000
    assert litellm_sync.get_max_tokens("ollama/llama3.2") is None


def test_list_models(client: litellm_sync.Client) -> None:
    anthropic = litellm_sync.list_models(provider="anthropic")
    assert anthropic and all(m.provider == "anthropic" for m in anthropic)
    assert [m.name for m in anthropic] == sorted(m.name for m in anthropic)
    vision = litellm_sync.list_models(feature="vision")
    assert vision and all("vision" in m.features for m in vision)
    cohere = litellm_sync.list_models(provider="cohere")
    with_tools = litellm_sync.list_models(provider="cohere", feature="tools")
    # Both filters apply: every result is cohere's and has tools, and no cohere model with tools is left out.
    assert with_tools and all(m.provider == "cohere" and "tools" in m.features for m in with_tools)
    assert {m.name for m in with_tools} == {m.name for m in cohere if "tools" in m.features}
    assert len(with_tools) < len(litellm_sync.list_models(feature="tools"))
    assert litellm_sync.list_models(provider="no-such-provider") == []


def test_a_redirect_is_an_error_that_says_where_to(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    server.enqueue(Reply(status=301, body="<html>moved</html>", content_type="text/html",
                         headers={"Location": "https://api.example.com/v1/chat/completions"}))
    with pytest.raises(litellm_sync.APIStatusError) as info:
        client.completion("openai/gpt-4o-mini", [{"role": "user", "content": "hi"}], api_key="k",
                          api_base=server.url, max_retries=0)
    assert info.value.status_code == 301 and not info.value.retryable
    assert "redirects to https://api.example.com/v1/chat/completions" in str(info.value)


def test_an_error_event_before_the_first_chunk_is_retried(server: FakeProviderServer) -> None:
    overloaded = 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    server.enqueue(Reply(events=[overloaded]))  # a 200 whose first event is an error; the retry gets the echo
    naps: list[float] = []
    with litellm_sync.Client(retry_policy=RetryPolicy(max_retries=2, sleep=naps.append)) as client:
        stream = client.completion("anthropic/claude-haiku-4-5", [{"role": "user", "content": "hi"}], stream=True,
                                   api_key="k", api_base=server.url)
        with stream:
            assert stream.response().content == "Echo: hi"
    assert len(naps) == 1 and len(server.requests) == 2


def test_an_error_after_the_first_chunk_is_not_retried(server: FakeProviderServer) -> None:
    server.enqueue(Reply(events=['data: {"choices":[{"index":0,"delta":{"content":"par"}}]}\n\n',
                                 'data: {"error":{"message":"upstream died","code":503}}\n\n']))
    naps: list[float] = []
    with litellm_sync.Client(retry_policy=RetryPolicy(max_retries=2, sleep=naps.append)) as client:
        stream = client.completion("openai/gpt-4o-mini", [{"role": "user", "content": "hi"}], stream=True,
                                   api_key="k", api_base=server.url)
        with pytest.raises(litellm_sync.ServiceUnavailableError):
            list(stream)
    assert naps == [] and len(server.requests) == 1
