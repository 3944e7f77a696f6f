"""A LiteLLM user switches with one import line: the calls of issue 19, and LiteLLM documentation snippets
rewritten in our words, with `import litellm_sync as litellm` against the fake provider server (and `responses`
where a test needs the exact request)."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import responses

import litellm_sync as litellm
from litellm_sync import Client, RetryPolicy
from litellm_sync._litellm import ModelCostView, count_tokens
from litellm_sync.cache import MemoryCache
from litellm_sync.testing import FakeProviderServer, mock_completion
from litellm_sync.testing.wire import Reply
from litellm_sync.types import ChatChunk, ChunkChoice, Delta

MESSAGES = [{"role": "user", "content": "hello world"}]


def _error(status: int, message: str = "boom", code: str | None = None) -> Reply:
    """An OpenAI-style error; Retry-After: 0 keeps retries from waiting."""
    return Reply(status=status, json={"error": {"message": message, "type": "server_error", "code": code}},
                 headers={"Retry-After": "0"})  # fmt: skip


def _call(server: FakeProviderServer, model: str = "openai/gpt-4o-mini", **kwargs: Any) -> Any:
    return litellm.completion(model=model, messages=MESSAGES, api_key="sk-test", api_base=server.url, **kwargs)


def _models(server: FakeProviderServer) -> list[Any]:
    return [request.json["model"] for request in server.requests]  # type: ignore[index]


# -- keywords against the fake server -----------------------------------------------------------------------------


def test_num_retries_retries_and_is_never_sent(server: FakeProviderServer) -> None:
    server.enqueue(_error(503), _error(503))
    assert _call(server, num_retries=2).content == "Echo: hello world"
    assert len(server.requests) == 3
    assert all("num_retries" not in request.json for request in server.requests)  # type: ignore[operator]
    server.clear()
    server.enqueue(_error(503))
    with pytest.raises(litellm.ServiceUnavailableError):
        _call(server, num_retries=0)
    assert len(server.requests) == 1


def test_request_timeout_is_the_timeout(server: FakeProviderServer) -> None:
    server.enqueue(Reply(json={"late": True}, delay=1.0))
    with pytest.raises(litellm.Timeout):
        _call(server, request_timeout=0.1, num_retries=0)


def test_alias_and_our_name_must_agree(server: FakeProviderServer) -> None:
    with pytest.raises(litellm.ConfigurationError, match="num_retries=1 and max_retries=2 disagree"):
        _call(server, num_retries=1, max_retries=2)
    assert server.requests == []


def test_base_url_headers_and_custom_llm_provider(server: FakeProviderServer) -> None:
    response = litellm.completion(model="gpt-4o-mini", messages=MESSAGES, api_key="sk-test", base_url=server.url,
                                  custom_llm_provider="openai", headers={"X-Team": "search"})  # fmt: skip
    assert response.provider == "openai"
    assert server.requests[0].headers["x-team"] == "search"
    assert server.requests[0].json == {"model": "gpt-4o-mini", "messages": MESSAGES}


def test_fallbacks_are_tried_in_order(server: FakeProviderServer) -> None:
    server.enqueue(_error(503), _error(429))
    response = _call(server, num_retries=0, fallbacks=["openai/gpt-4o", "openai/gpt-4.1-mini"])
    assert response.model == "gpt-4.1-mini" and response.content == "Echo: hello world"
    assert _models(server) == ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini"]
    assert all(set(request.json) == {"model", "messages"} for request in server.requests)  # type: ignore[arg-type]


def test_fallback_dicts_override_keys_and_parameters(server: FakeProviderServer) -> None:
    server.enqueue(_error(503))
    _call(server, num_retries=0, temperature=0.9,
          fallbacks=[{"model": "openai/gpt-4o", "api_key": "sk-second", "temperature": 0.1}])  # fmt: skip
    first, second = server.requests
    assert first.headers["authorization"] == "Bearer sk-test" and first.json["temperature"] == 0.9  # type: ignore[index]
    assert second.headers["authorization"] == "Bearer sk-second" and second.json["temperature"] == 0.1  # type: ignore[index]


def test_when_every_model_fails_the_last_error_is_raised_with_its_type(server: FakeProviderServer) -> None:
    server.enqueue(_error(503), _error(429, "slow down"))
    with pytest.raises(litellm.RateLimitError) as info:
        _call(server, num_retries=0, fallbacks=["openai/gpt-4o"])
    assert isinstance(info.value.__cause__, litellm.ServiceUnavailableError)


def test_retries_run_before_falling_back(server: FakeProviderServer) -> None:
    server.enqueue(_error(503), _error(503))
    _call(server, num_retries=1, fallbacks=["openai/gpt-4o"])
    assert _models(server) == ["gpt-4o-mini", "gpt-4o-mini", "gpt-4o"]


def test_per_call_prices_apply_to_the_fallback_too(server: FakeProviderServer) -> None:
    server.enqueue(_error(503))
    response = _call(server, num_retries=0, fallbacks=["openai/gpt-4o"], input_cost_per_token=0.001,
                     output_cost_per_token=0.002)  # fmt: skip
    usage = response.usage
    assert response.model == "gpt-4o"
    assert response.cost == Decimal("0.001") * usage.prompt_tokens + Decimal("0.002") * usage.completion_tokens


def test_an_unknown_fallback_fails_before_anything_is_sent(server: FakeProviderServer) -> None:
    with pytest.raises(litellm.UnknownModelError):
        _call(server, fallbacks=["nosuchprovider/model-x"])
    assert server.requests == []


def test_fallbacks_while_streaming(server: FakeProviderServer) -> None:
    server.enqueue(_error(503))
    with _call(server, stream=True, num_retries=0, fallbacks=["openai/gpt-4o"]) as stream:
        text = "".join(stream.text())
    assert text == "Echo: hello world"
    assert _models(server) == ["gpt-4o-mini", "gpt-4o"]


def test_context_window_fallback_dict(server: FakeProviderServer) -> None:
    server.enqueue(Reply(status=400, json={"error": {"message": "This model's maximum context length is 8 tokens",
                                                     "type": "invalid_request_error",
                                                     "code": "context_length_exceeded"}}))  # fmt: skip
    response = _call(server, context_window_fallback_dict={"openai/gpt-4o-mini": "openai/gpt-4.1"})
    assert response.model == "gpt-4.1"
    assert _models(server) == ["gpt-4o-mini", "gpt-4.1"]


def test_a_string_fallback_of_another_provider_never_gets_the_calls_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-environment")
    with Client() as client, responses.RequestsMock() as rsps:
        mock_completion(rsps, "openai/gpt-4o-mini", status=503, client=client)
        fallback = mock_completion(rsps, "anthropic/claude-haiku-4-5", "fine", client=client)
        client.completion("openai/gpt-4o-mini", MESSAGES, api_key="sk-openai-secret", num_retries=0,
                          fallbacks=["anthropic/claude-haiku-4-5"])  # fmt: skip
    headers = fallback.calls[0].request.headers
    assert headers["x-api-key"] == "sk-ant-from-environment"
    assert "sk-openai-secret" not in json.dumps(dict(headers))


def test_caching_true_false_and_cache_controls(server: FakeProviderServer) -> None:
    with Client(cache=MemoryCache()) as client:
        def ask(**kwargs: Any) -> Any:
            return client.completion("openai/gpt-4o-mini", MESSAGES, api_key="sk-test", api_base=server.url, **kwargs)

        ask(caching=False)
        assert not ask(caching=True).cache_hit  # caching=False stored nothing
        assert ask(caching=True).cache_hit and len(server.requests) == 2
        assert not ask(caching=False).cache_hit and len(server.requests) == 3
        assert not ask(cache={"no-cache": True}).cache_hit and len(server.requests) == 4
        with pytest.raises(litellm.UnsupportedParamsError, match="s-maxage"):
            ask(cache={"s-maxage": 10})
        assert ask(cache={"s-maxage": 10}, drop_params=True).cache_hit


def test_caching_true_without_a_cache_says_how_to_get_one(server: FakeProviderServer) -> None:
    with pytest.raises(litellm.ConfigurationError, match=r"Client\(cache=MemoryCache\(\)\)"):
        _call(server, caching=True)
    assert server.requests == []


def test_metadata_call_id_and_tags_reach_hooks_not_the_body(server: FakeProviderServer) -> None:
    events: list[Any] = []
    with Client(hooks=[events.append]) as client:
        client.completion("openai/gpt-4o-mini", MESSAGES, api_key="sk-test", api_base=server.url,
                          metadata={"team": "search"}, litellm_call_id="call-7", tags=["beta"])  # fmt: skip
    assert events[0].metadata == {"team": "search", "request_id": "call-7", "tags": ["beta"]}
    assert events[0].correlation_id == "call-7"
    assert set(server.requests[0].json) == {"model", "messages"}  # type: ignore[arg-type]


def test_additional_drop_params_and_per_call_prices(server: FakeProviderServer) -> None:
    response = _call(server, temperature=0.3, seed=1, additional_drop_params=["seed"],
                     input_cost_per_token=0.001, output_cost_per_token=0.002)  # fmt: skip
    assert server.requests[0].json == {"model": "gpt-4o-mini", "messages": MESSAGES, "temperature": 0.3}
    usage = response.usage
    assert response.cost == Decimal("0.001") * usage.prompt_tokens + Decimal("0.002") * usage.completion_tokens


# -- mock_response: text, an exception, a ModelResponse-like dict ---------------------------------------------------


def test_mock_response_text_exception_and_dict() -> None:
    assert litellm.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="hi").content == "hi"
    with pytest.raises(litellm.RateLimitError):
        litellm.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="litellm.RateLimitError")
    with pytest.raises(litellm.ContentPolicyViolationError):
        litellm.completion(model="gpt-4o-mini", messages=MESSAGES,
                           mock_response=litellm.ContentPolicyViolationError("flagged"))  # fmt: skip
    shaped = {"choices": [{"message": {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"q": "x"}'}}]},
        "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 7, "completion_tokens": 3}}
    response = litellm.completion(model="anthropic/claude-haiku-4-5", messages=MESSAGES, mock_response=shaped)
    call = response.choices[0].message.tool_calls[0]
    assert (call.function.name, json.loads(call.function.arguments)) == ("lookup", {"q": "x"})
    assert response.choices[0].finish_reason == "tool_calls"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (7, 3)
    again = litellm.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response=response)  # to_dict()
    assert again.choices[0].message.tool_calls[0].function.name == "lookup"


# -- helpers ------------------------------------------------------------------------------------------------------


def test_costs_as_litellm_documents_them(server: FakeProviderServer) -> None:
    response = _call(server)
    assert litellm.completion_cost(completion_response=response) == response.cost == litellm.completion_cost(response)
    assert response._hidden_params["response_cost"] == float(response.cost)
    prompt_usd, completion_usd = litellm.cost_per_token(model="gpt-4o-mini", prompt_tokens=1000, completion_tokens=100)
    entry = litellm.model_cost["gpt-4o-mini"]
    assert prompt_usd == pytest.approx(1000 * entry["input_cost_per_token"])
    assert completion_usd == pytest.approx(100 * entry["output_cost_per_token"])
    total = litellm.cost_per_token("gpt-4o-mini", 1000, 100)
    assert isinstance(total, Decimal) and float(total) == pytest.approx(prompt_usd + completion_usd)
    as_other = litellm.completion_cost(completion_response=response, model="openai/gpt-4o")
    assert as_other == litellm.cost_per_token("openai/gpt-4o", response.usage.prompt_tokens,
                                              response.usage.completion_tokens)  # fmt: skip


def test_completion_cost_from_text(monkeypatch: pytest.MonkeyPatch) -> None:
    prompt_tokens = litellm.token_counter("gpt-4o-mini", text="abcdefghi")
    message_tokens = litellm.token_counter("gpt-4o-mini", messages=[{"role": "user", "content": "abcdefgh"}])
    assert count_tokens("gpt-4o-mini", text="abcdefghi") == prompt_tokens > 0
    assert count_tokens("gpt-4o-mini", messages=[{"role": "user", "content": "abcdefgh"}]) == message_tokens > 0
    cost = litellm.completion_cost(model="gpt-4o-mini", prompt="abcdefghi", completion="abcd")
    completion_tokens = litellm.token_counter("gpt-4o-mini", text="abcd")
    assert cost == litellm.cost_per_token("gpt-4o-mini", prompt_tokens, completion_tokens)
    by_messages = litellm.completion_cost(model="gpt-4o-mini", messages=[{"role": "user", "content": "abcdefgh"}])
    assert by_messages == litellm.cost_per_token("gpt-4o-mini", message_tokens, 0)
    with pytest.raises(litellm.ConfigurationError, match="total_time"):
        litellm.completion_cost(model="gpt-4o-mini", prompt="x", total_time=2.0)


def test_stream_chunk_builder_with_messages(server: FakeProviderServer) -> None:
    with _call(server, stream=True) as stream:
        chunks = list(stream)
    rebuilt = litellm.stream_chunk_builder(chunks, messages=MESSAGES)
    assert rebuilt.content == "Echo: hello world" and rebuilt.usage == stream.usage
    bare = [ChatChunk("c1", "gpt-4o-mini", [ChunkChoice(0, Delta("Hello there"))], provider="openai"),
            ChatChunk("c1", "gpt-4o-mini", [ChunkChoice(0, Delta(), "stop")], provider="openai")]  # no usage
    assert litellm.stream_chunk_builder(bare).usage is None
    counted = litellm.stream_chunk_builder(bare, messages=MESSAGES)
    assert counted.usage.prompt_tokens == count_tokens("openai/gpt-4o-mini", messages=MESSAGES) > 0
    assert counted.usage.completion_tokens == count_tokens("openai/gpt-4o-mini", text="Hello there") > 0
    assert litellm.completion_cost(completion_response=counted) == litellm.cost_per_token(
        "openai/gpt-4o-mini", counted.usage.prompt_tokens, counted.usage.completion_tokens)


def test_model_cost_is_a_read_only_view_in_litellm_names() -> None:
    entry = litellm.model_cost["gpt-4o-mini"]
    assert entry == litellm.model_cost["openai/gpt-4o-mini"]
    assert {"input_cost_per_token", "output_cost_per_token", "max_input_tokens", "max_output_tokens", "max_tokens",
            "litellm_provider", "mode", "supports_vision", "supports_function_calling"} <= set(entry)  # fmt: skip
    info = litellm.get_model_info("gpt-4o-mini")
    assert entry["max_input_tokens"] == info.context_window and entry["litellm_provider"] == "openai"
    assert entry["input_cost_per_token"] == pytest.approx(float(info.input_price) / 1e6)
    assert "anthropic/claude-haiku-4-5" in litellm.model_cost and "nosuch/model" not in litellm.model_cost
    assert len(litellm.model_cost) == len(list(litellm.model_cost)) > 100
    entry["input_cost_per_token"] = 0  # a copy: the registry is unchanged
    assert litellm.model_cost["gpt-4o-mini"]["input_cost_per_token"] > 0
    with pytest.raises(litellm.ConfigurationError, match="register_model"):
        litellm.model_cost["gpt-4o-mini"] = {}


def test_register_model_on_a_client(tmp_path: Path) -> None:
    with Client() as client:
        view = litellm.register_model({
            "acme-chat": {"litellm_provider": "openai", "max_tokens": 4096, "max_input_tokens": 32000,
                          "input_cost_per_token": 0.000001, "output_cost_per_token": 0.000004,
                          "supports_vision": True, "mode": "chat"},
            "openai/gpt-4o-mini": {"input_cost_per_token": 0.5},  # an override of a known model
        }, client=client)  # fmt: skip
        assert view["acme-chat"]["max_input_tokens"] == 32000 and view["acme-chat"]["supports_vision"]
        info = client.get_model_info("acme-chat")
        assert (info.provider, info.max_output_tokens, info.input_price) == ("openai", 4096, Decimal("1.000000"))
        assert client.get_model_info("gpt-4o-mini").input_price == Decimal("500000.0")
        assert client.get_model_info("gpt-4o-mini").supports("tools")  # what was not given is kept
        response = client.completion("acme-chat", MESSAGES, mock_response="hi")
        assert response.cost == Decimal("0.00009")  # 10 prompt and 20 completion tokens of a mock
        path = tmp_path / "prices.json"
        path.write_text(json.dumps({"openai/acme-mini": {"max_tokens": 100}}))
        litellm.register_model(str(path), client=client)
        assert client.get_model_info("openai/acme-mini").max_output_tokens == 100
        for bad, why in (({"x": {"litellm_provider": "nosuch"}}, "not one the spec knows"),
                         ({"x": {}}, "litellm_provider"), ("https://example.com/prices.json", "not fetched"),
                         ({"x": {"litellm_provider": "openai", "input_cost_per_token": -1}}, ">= 0")):  # fmt: skip
            with pytest.raises(litellm.ConfigurationError, match=why):
                litellm.register_model(bad, client=client)
    assert litellm.get_default_client().spec.registry.get("openai", "acme-chat") is None  # that Client only


def test_register_model_from_many_threads_keeps_every_model() -> None:
    with Client() as client:
        view = ModelCostView(lambda: client)
        before = len(view)

        def register(n: int) -> None:
            for i in range(10):
                litellm.register_model({f"openai/thread-{n}-{i}": {"max_tokens": 10 + i}}, client=client)

        threads = [threading.Thread(target=register, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(view) == before + 80
        assert view["openai/thread-7-9"]["max_tokens"] == 19


def test_get_model_info_supports_and_supported_params() -> None:
    info = litellm.get_model_info(model="gpt-4o-mini")
    assert info["max_input_tokens"] == info.context_window and info.get("no_such_key", 5) == 5
    with pytest.raises(KeyError):
        info["no_such_key"]
    assert litellm.get_model_info(model="claude-haiku-4-5", custom_llm_provider="anthropic").provider == "anthropic"
    assert litellm.supports_function_calling(model="gpt-4o-mini") and litellm.supports_vision(model="gpt-4o-mini")
    assert litellm.supports_reasoning(model="gpt-4o-mini") is False
    assert litellm.supports_prompt_caching(model="claude-haiku-4-5", custom_llm_provider="anthropic")
    anthropic = litellm.get_supported_openai_params("anthropic/claude-haiku-4-5")
    openai = litellm.get_supported_openai_params(model="gpt-4o-mini")
    assert {"stream", "temperature", "tools", "max_tokens", "user"} <= set(anthropic)
    assert not {"n", "seed", "logit_bias", "presence_penalty"} & set(anthropic)  # refused in its YAML rules
    assert {"n", "seed", "logit_bias", "response_format", "reasoning_effort"} <= set(openai)


def test_validate_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert litellm.validate_environment("anthropic/claude-haiku-4-5") == {
        "keys_in_environment": False, "missing_keys": ["ANTHROPIC_API_KEY"]}
    assert litellm.validate_environment("anthropic/claude-haiku-4-5", api_key="sk-x")["keys_in_environment"]
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-x")
    assert litellm.validate_environment(model="anthropic/claude-haiku-4-5") == {
        "keys_in_environment": True, "missing_keys": []}
    for name in ("AZURE_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_API_BASE", "AZURE_OPENAI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    azure = litellm.validate_environment("azure/my-deployment")
    assert not azure["keys_in_environment"] and "AZURE_API_BASE" in azure["missing_keys"]


def test_check_valid_key() -> None:
    client = litellm.get_default_client()
    with responses.RequestsMock() as rsps:
        reply = mock_completion(rsps, "openai/gpt-4o-mini", "ok", client=client)
        assert litellm.check_valid_key(model="openai/gpt-4o-mini", api_key="sk-good") is True
        assert json.loads(reply.calls[0].request.body)["max_completion_tokens"] == 1  # OpenAI's name for it
    with responses.RequestsMock() as rsps:
        mock_completion(rsps, "openai/gpt-4o-mini", status=401, client=client)
        assert litellm.check_valid_key(model="openai/gpt-4o-mini", api_key="sk-bad") is False
    with responses.RequestsMock() as rsps:
        mock_completion(rsps, "openai/gpt-4o-mini", status=500, client=client)
        with pytest.raises(litellm.InternalServerError):  # says nothing about the key
            litellm.check_valid_key(model="openai/gpt-4o-mini", api_key="sk-good")


def test_retry_waits_of_a_client_policy_are_used_for_fallbacks(server: FakeProviderServer) -> None:
    waits: list[float] = []
    server.enqueue(Reply(status=503, json={"error": {"message": "down"}}), _error(503))
    with Client(retry_policy=RetryPolicy(max_retries=1, sleep=waits.append)) as client:
        client.completion("openai/gpt-4o-mini", MESSAGES, api_key="sk-test", api_base=server.url,
                          fallbacks=["openai/gpt-4o"])  # fmt: skip
    assert len(waits) == 1 and _models(server) == ["gpt-4o-mini", "gpt-4o-mini", "gpt-4o"]


def test_litellm_exception_names() -> None:
    assert litellm.InvalidRequestError is litellm.BadRequestError
    assert litellm.BadGatewayError is litellm.ServiceUnavailableError
    assert litellm.OpenAIError is litellm.APIError
    assert litellm.LiteLLMUnknownProvider is litellm.UnknownModelError
    with pytest.raises(litellm.LiteLLMUnknownProvider):
        litellm.completion(model="nosuchprovider/x", messages=MESSAGES)
