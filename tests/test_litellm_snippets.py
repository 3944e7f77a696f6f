"""LiteLLM documentation snippets (docs.litellm.ai: reliability, mock responses, token usage and cost, streaming,
environment checks) rewritten in our words, with `import litellm_sync as litellm`, against the fake provider
server."""

from __future__ import annotations

from typing import Any

import pytest

import litellm_sync as litellm
from litellm_sync.testing import FakeProviderServer
from litellm_sync.testing.wire import Reply

MESSAGES = [{"role": "user", "content": "hello world"}]


def _error(status: int) -> Reply:
    body = {"error": {"message": "boom", "type": "server_error"}}
    return Reply(status=status, json=body, headers={"Retry-After": "0"})  # Retry-After: 0 keeps retries quick


def _call(server: FakeProviderServer, model: str = "openai/gpt-4o-mini", **kwargs: Any) -> Any:
    return litellm.completion(model=model, messages=MESSAGES, api_key="sk-test", api_base=server.url, **kwargs)


def _models(server: FakeProviderServer) -> list[Any]:
    return [request.json["model"] for request in server.requests]  # type: ignore[index]


def test_snippet_reliability_retries_then_fallbacks(server: FakeProviderServer) -> None:
    """docs.litellm.ai "Reliability": retry a flaky call, then switch models when it keeps failing."""
    server.enqueue(_error(500), _error(500), _error(500))
    question = [{"content": "What's the weather in Paris?", "role": "user"}]
    response = litellm.completion(model="openai/gpt-4o-mini", messages=question, num_retries=2, api_key="sk-test",
                                  api_base=server.url, fallbacks=["openai/gpt-4o"])  # fmt: skip
    assert response["choices"][0]["message"]["content"] == "Echo: What's the weather in Paris?"
    assert _models(server) == ["gpt-4o-mini"] * 3 + ["gpt-4o"]


def test_snippet_mock_completion_in_a_test_and_streaming() -> None:
    """docs.litellm.ai "Mock completion() responses": assert on a mocked answer, whole and streamed."""
    response = litellm.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "Why test?"}],
                                  mock_response="Because it is cheap")  # fmt: skip
    assert response["choices"][0]["message"]["content"] == "Because it is cheap"
    pieces = ""
    for chunk in litellm.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True, mock_response="a b c"):
        pieces += chunk["choices"][0]["delta"]["content"] or "" if chunk["choices"] else ""
    assert pieces == "a b c"


def test_snippet_token_usage_and_cost_helpers(server: FakeProviderServer) -> None:
    """docs.litellm.ai "Completion token usage & cost": cost of a call, of text, per token, and the cost map."""
    response = _call(server, model="openai/gpt-4o-mini", request_timeout=30)
    cost = litellm.completion_cost(completion_response=response)
    assert f"${float(cost):.10f}".startswith("$0.0000")
    assert litellm.completion_cost(model="openai/gpt-4o-mini", prompt="Hey!", completion="How's it going?") > 0
    prompt_cost, completion_cost = litellm.cost_per_token(model="gpt-4o-mini", prompt_tokens=5, completion_tokens=10)
    assert 0 < prompt_cost < completion_cost
    assert litellm.model_cost["gpt-4o-mini"]["max_tokens"] == litellm.get_max_tokens("gpt-4o-mini")


def test_snippet_rebuild_a_stream_with_stream_chunk_builder(server: FakeProviderServer) -> None:
    """docs.litellm.ai "Streaming": collect the chunks, then rebuild one response from them."""
    chunks = []
    for chunk in _call(server, stream=True):
        chunks.append(chunk)
    rebuilt = litellm.stream_chunk_builder(chunks, messages=MESSAGES)
    assert rebuilt.choices[0].message.content == "Echo: hello world" and rebuilt.usage.total_tokens > 0


def test_snippet_environment_and_params_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """docs.litellm.ai: check the environment and the parameters a model takes before calling it."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    assert litellm.validate_environment(model="gpt-4o-mini")["keys_in_environment"] is True
    params = litellm.get_supported_openai_params(model="gpt-4o-mini", custom_llm_provider="openai")
    assert "response_format" in params and "tools" in params
