"""OpenAI's Responses API (`openai_responses`): reading output items, the reasoning round trip, finish reasons,
in-band stream errors, routing of Responses-only models, and the generic spec primitives it is built from."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import litellm_sync
from litellm_sync.testing import FakeProviderServer, Reply

USER = [{"role": "user", "content": "Weather in Paris?"}]
REASONING = {"id": "rs_1", "type": "reasoning", "encrypted_content": "gAAAA-secret",
             "summary": [{"type": "summary_text", "text": "Need the weather tool."}]}
CALL = {"id": "fc_1", "type": "function_call", "call_id": "call_1", "name": "get_weather",
        "arguments": "{\"city\":\"Paris\"}", "status": "completed"}
USAGE = {"input_tokens": 50, "input_tokens_details": {"cached_tokens": 10}, "output_tokens": 30,
         "output_tokens_details": {"reasoning_tokens": 20}, "total_tokens": 80}


def _body(output: list[Any], status: str = "completed", incomplete: Any = None) -> dict[str, Any]:
    return {"id": "resp_1", "object": "response", "created_at": 1700000000, "model": "gpt-5-mini-2025-08-07",
            "status": status, "incomplete_details": incomplete, "output": output, "usage": USAGE}


def _message(text: str) -> dict[str, Any]:
    return {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as fake:
        yield fake


@pytest.fixture(scope="module")
def client() -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(max_retries=0) as instance:
        yield instance


def _call(client: litellm_sync.Client, server: FakeProviderServer, model: str, messages: Any, **params: Any) -> Any:
    return client.completion(model, messages, api_base=server.url, api_key="sk-test", **params)


def test_output_items_read_into_one_choice_and_reasoning_goes_back(
    client: litellm_sync.Client, server: FakeProviderServer
) -> None:
    server.clear()
    server.enqueue(Reply(json=_body([REASONING, _message("Checking."), CALL])))
    first = _call(client, server, "openai_responses/gpt-5-mini", USER, reasoning_effort="low")
    message = first.choices[0].message
    assert message.content == "Checking."
    assert message.reasoning_content == "Need the weather tool."
    assert [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls] == [
        ("call_1", "get_weather", "{\"city\":\"Paris\"}")
    ]
    assert message.thinking_blocks == [REASONING]
    assert first.choices[0].finish_reason == "tool_calls"
    usage = first.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (50, 30, 80)
    assert (usage.cached_tokens, usage.reasoning_tokens) == (10, 20)
    assert first.cost is not None and first.cost > 0  # openai_responses shares openai's registry

    sent = server.requests[-1]
    assert sent.path == "/responses"
    assert sent.json["store"] is False and sent.json["include"] == ["reasoning.encrypted_content"]
    assert sent.json["reasoning"] == {"effort": "low"}

    server.enqueue(Reply(json=_body([_message("Sunny.")])))
    history = [*USER, message.to_dict(), {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]
    second = _call(client, server, "openai_responses/gpt-5-mini", history)
    assert second.choices[0].message.content == "Sunny."
    assert second.choices[0].finish_reason == "stop"
    assert server.requests[-1].json["input"] == [
        {"role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"}]},
        # the reasoning item goes back whole but without its id: store is off, so the server kept nothing
        {"type": "reasoning", "encrypted_content": "gAAAA-secret", "summary": REASONING["summary"]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Checking."}]},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
    ]


@pytest.mark.parametrize(
    ("status", "incomplete", "expected"),
    [
        ("incomplete", {"reason": "max_output_tokens"}, "length"),
        ("incomplete", {"reason": "content_filter"}, "content_filter"),
        ("completed", None, "stop"),
    ],
)
def test_finish_reason_from_status_and_incomplete_details(
    client: litellm_sync.Client, server: FakeProviderServer, status: str, incomplete: Any, expected: str
) -> None:
    server.enqueue(Reply(json=_body([_message("Partial")], status, incomplete)))
    answer = _call(client, server, "openai_responses/gpt-5-mini", USER)
    assert answer.choices[0].finish_reason == expected
    assert answer.choices[0].message.content == "Partial"


def test_reasoning_only_encrypted_is_kept_but_not_visible(
    client: litellm_sync.Client, server: FakeProviderServer
) -> None:
    hidden = {"id": "rs_2", "type": "reasoning", "encrypted_content": "gAAAA-x", "summary": []}
    server.enqueue(Reply(json=_body([hidden, _message("Hi")])))
    message = _call(client, server, "openai_responses/gpt-5-mini", USER).choices[0].message
    assert not message.reasoning_content
    assert message.thinking_blocks == [hidden]


def _events(*payloads: dict[str, Any]) -> list[str]:
    return [f"event: {p['type']}\ndata: {json.dumps(p)}\n\n" for p in payloads]


def test_stream_incomplete_reads_length(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    start = {"id": "resp_9", "model": "gpt-5", "created_at": 1, "status": "in_progress", "output": []}
    end = {**start, "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}, "usage": USAGE}
    server.enqueue(Reply(events=_events(
        {"type": "response.created", "response": start},
        {"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": "Long"},
        {"type": "response.incomplete", "response": end},
    )))
    with client.completion("openai_responses/gpt-5", USER, stream=True, api_base=server.url, api_key="k") as stream:
        built = stream.response()
    assert built.id == "resp_9"
    assert built.choices[0].message.content == "Long"
    assert built.choices[0].finish_reason == "length"
    assert built.usage.prompt_tokens == 50


@pytest.mark.parametrize(
    ("event", "error_class", "text"),
    [
        ({"type": "error", "code": "server_error", "message": "The server had an error"},
         litellm_sync.InternalServerError, "The server had an error"),
        ({"type": "response.failed", "response": {"id": "resp_x", "status": "failed", "error": {
            "code": "rate_limit_exceeded", "message": "Slow down"}}}, litellm_sync.RateLimitError, "Slow down"),
    ],
)
def test_stream_in_band_errors_are_typed(
    client: litellm_sync.Client, server: FakeProviderServer, event: dict[str, Any], error_class: type, text: str
) -> None:
    start = {"id": "resp_e", "model": "gpt-5", "created_at": 1, "status": "in_progress", "output": []}
    server.enqueue(Reply(events=_events({"type": "response.created", "response": start}, event)))

    def consume() -> None:
        with client.completion("openai_responses/gpt-5", USER, stream=True, api_base=server.url, api_key="k") as s:
            s.response()

    with pytest.raises(error_class) as info:
        consume()
    assert text in str(info.value)


def test_responses_only_models_route_to_the_responses_dialect(
    client: litellm_sync.Client, server: FakeProviderServer
) -> None:
    provider, name, info = client.resolve("openai/o3-pro")
    assert (provider.name, name) == ("openai_responses", "o3-pro")
    assert info is not None and info.input_price is not None
    assert client.resolve("o3-pro")[0].name == "openai_responses"
    assert client.resolve("openai/gpt-5")[0].name == "openai"  # a Chat Completions model stays there
    server.enqueue(Reply(json=_body([_message("Deep thought.")])))
    answer = _call(client, server, "openai/o3-pro", USER)
    assert answer.choices[0].message.content == "Deep thought."
    assert server.requests[-1].path == "/responses"


def test_route_and_models_from_must_name_providers() -> None:
    spec = {"providers": {
        "acme": {"extends": "openai_chat", "base_url": "http://127.0.0.1:9", "models": {"m": {"route": "nowhere"}}},
        "acme2": {"extends": "openai_chat", "base_url": "http://127.0.0.1:9", "models_from": "missing"},
    }}
    with pytest.raises(litellm_sync.SpecError) as info:
        litellm_sync.Client(providers=spec)
    text = str(info.value)
    assert "models.m.route: no provider named 'nowhere'" in text
    assert "acme2.models_from: no provider named 'missing'" in text


# -- the generic primitives, on a toy dialect ----------------------------------------------------------------

TOY = {"providers": {"toy": {
    "base_url": "http://127.0.0.1:9",
    "auth": {"optional": True},
    "endpoints": {"chat": {"path": "/chat/completions"}},
    "body": {"model": "$model", "items": "$messages"},
    "messages": {
        "mode": "render",
        "parts": {
            "text": {"kind": "said", "text": "$text"},
            "tool_call": {"slot": "calls", "template": {"kind": "call", "name": "$name"}},
            "tool_result": {"kind": "result", "for": "$tool_call_id"},
        },
        "message": {"who": "$role", "said": "$content"},
        "message_by_role": {"assistant": {"$concat": ["$content", "$calls"]}},
    },
    "response": {
        "choice": {"content": "out"},
        "parts": [
            {"when": {"kind": "group"}, "parts": "inner"},
            {"when": {"kind": "words"}, "text": "value"},
        ],
    },
}}}


def test_message_by_role_and_list_templates_splice_items() -> None:
    client = litellm_sync.Client(providers=TOY)
    provider, model, info = client.resolve("toy/m")
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "ok", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "done"},
    ]
    request = provider.builder.build(model, messages, {}, stream=False, api_key=None, api_base=None,
                                     api_version=None, extra_headers=None, drop_params=False, info=info)
    assert json.loads(request.body)["items"] == [
        {"who": "user", "said": [{"kind": "said", "text": "hi"}]},
        {"kind": "said", "text": "ok"}, {"kind": "call", "name": "f"}, {"kind": "call", "name": "g"},
        {"who": "tool", "said": [{"kind": "result", "for": "c1"}]},
    ]


def test_nested_parts_are_read_with_the_same_rules(server: FakeProviderServer) -> None:
    body = {"out": [{"kind": "words", "value": "A"},
                    {"kind": "group", "inner": [{"kind": "words", "value": "B"},
                                                {"kind": "group", "inner": [{"kind": "words", "value": "C"}]}]},
                    {"kind": "other", "value": "ignored"}]}
    server.enqueue(Reply(json=body))
    with litellm_sync.Client(providers=TOY, max_retries=0) as client:
        answer = client.completion("toy/m", USER, api_base=server.url)
    assert answer.choices[0].message.content == "ABC"
