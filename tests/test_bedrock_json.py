"""Bedrock Converse JSON mode: what we send for `response_format` and how the answer reads back.

Models with Bedrock's structured outputs (registry feature json_schema) get `outputConfig.textFormat` (the schema
as JSON text: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_OutputFormat.html and
API_runtime_JsonSchemaDefinition.html) and answer in plain text. Every other model, and `json_object` for all,
gets one forced tool (`json_tool_call`) whose call the reader's `answer_tool` turns back into the message text,
with finish_reason "stop" and no tool calls, whole or streamed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from marshmallow import Schema, fields, validate

import litellm_sync
from litellm_sync._engine.answer import take_answer
from litellm_sync._engine.framing.eventstream import encode_message
from litellm_sync._engine.reads import ChoiceRead, ReadState, ToolCallRead
from litellm_sync.exceptions import StructuredOutputError, UnsupportedParamsError

NATIVE = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"   # lists json_schema: structured outputs
TOOLED = "amazon.nova-pro-v1:0"                               # tools, no structured outputs
HOST = "https://bedrock-runtime.us-east-1.amazonaws.com"
MESSAGES = [{"role": "user", "content": "Which city is the capital of France?"}]
CITY = {"type": "object", "properties": {"name": {"type": "string"}, "population": {"type": "integer", "minimum": 0}},
        "required": ["name"]}
FORMAT = {"type": "json_schema", "json_schema": {"name": "city", "description": "A city", "schema": CITY}}
USAGE = {"inputTokens": 30, "outputTokens": 12, "totalTokens": 42}
WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


class City(Schema):
    name = fields.String(required=True)
    population = fields.Integer(validate=validate.Range(min=0))


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_BEARER_TOKEN_BEDROCK", "AWS_REGION", "AWS_DEFAULT_REGION", "BEDROCK_API_BASE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture(scope="module")
def client() -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(max_retries=0) as made:
        yield made


def _url(model: str, stream: bool = False) -> str:
    return f"{HOST}/model/{model.replace(':', '%3A')}/converse" + ("-stream" if stream else "")


def _answer(*blocks: dict[str, Any], stop: str = "end_turn") -> dict[str, Any]:
    return {"output": {"message": {"role": "assistant", "content": list(blocks)}}, "stopReason": stop, "usage": USAGE}


def _event(kind: str, payload: dict[str, Any]) -> bytes:
    return encode_message({":event-type": kind, ":content-type": "application/json", ":message-type": "event"},
                          json.dumps(payload).encode())


def _sent(rsps: responses.RequestsMock) -> dict[str, Any]:
    return json.loads(rsps.calls[-1].request.body)  # type: ignore[no-any-return]


def test_a_model_with_structured_outputs_gets_output_config_and_answers_in_text(
    client: Any, rsps: responses.RequestsMock
) -> None:
    rsps.add("POST", _url(NATIVE), json=_answer({"text": '{"name": "Paris", "population": 2100000}'}))
    answer = client.completion(f"bedrock/{NATIVE}", MESSAGES, api_key="k", response_format=FORMAT)
    body = _sent(rsps)
    assert "toolConfig" not in body
    json_schema = body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]
    assert body["outputConfig"]["textFormat"]["type"] == "json_schema"
    assert (json_schema["name"], json_schema["description"]) == ("city", "A city")
    sent_schema = json.loads(json_schema["schema"])  # a JSON string on the wire, not an object
    assert sent_schema["properties"]["population"] == {"type": "integer", "description": "(minimum: 0)"}
    assert sent_schema["required"] == ["name"]
    choice = answer.choices[0]
    assert json.loads(choice.message.content) == {"name": "Paris", "population": 2100000}
    assert (choice.finish_reason, choice.message.tool_calls) == ("stop", None)


def test_other_models_get_one_forced_tool_whose_call_is_the_answer(client: Any, rsps: responses.RequestsMock) -> None:
    reply = _answer({"toolUse": {"toolUseId": "tooluse_9", "name": "json_tool_call",
                                 "input": {"name": "Paris", "population": 2100000}}}, stop="tool_use")
    rsps.add("POST", _url(TOOLED), json=reply)
    answer = client.completion(f"bedrock/{TOOLED}", MESSAGES, api_key="k", response_format=FORMAT)
    assert _sent(rsps)["toolConfig"] == {
        "tools": [{"toolSpec": {"name": "json_tool_call", "description": "A city", "inputSchema": {"json": CITY}}}],
        "toolChoice": {"tool": {"name": "json_tool_call"}},
    }
    assert "outputConfig" not in _sent(rsps)
    choice = answer.choices[0]
    assert json.loads(choice.message.content) == {"name": "Paris", "population": 2100000}
    assert (choice.finish_reason, choice.message.tool_calls) == ("stop", None)
    assert choice.provider_specific_fields == {"finish_reason": "tool_use"}
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (30, 12)


def test_json_object_is_a_forced_object_tool_even_where_structured_outputs_exist(
    client: Any, rsps: responses.RequestsMock
) -> None:
    reply = _answer({"text": "Sure:"}, {"toolUse": {"toolUseId": "t1", "name": "json_tool_call",
                                                    "input": {"capital": "Paris"}}}, stop="tool_use")
    rsps.add("POST", _url(NATIVE), json=reply)
    answer = client.completion(f"bedrock/{NATIVE}", MESSAGES, api_key="k", response_format={"type": "json_object"})
    assert _sent(rsps)["toolConfig"] == {
        "tools": [{"toolSpec": {"name": "json_tool_call", "description": "Answer with a JSON object.",
                                "inputSchema": {"json": {"type": "object"}}}}],
        "toolChoice": {"tool": {"name": "json_tool_call"}},
    }
    # the answer's JSON replaces any text the model wrote beside it, so the content stays loadable
    assert json.loads(answer.choices[0].message.content) == {"capital": "Paris"}
    assert answer.choices[0].finish_reason == "stop"


def test_a_typed_response_format_loads_the_tool_answer(client: Any, rsps: responses.RequestsMock) -> None:
    reply = _answer({"toolUse": {"toolUseId": "t1", "name": "json_tool_call", "input": {"name": "Lyon"}}},
                    stop="tool_use")
    rsps.add("POST", _url(TOOLED), json=reply)
    answer = client.completion(f"bedrock/{TOOLED}", MESSAGES, api_key="k", response_format=City)
    assert answer.parsed == {"name": "Lyon"}
    schema = _sent(rsps)["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]
    assert schema["additionalProperties"] is False and set(schema["properties"]) == {"name", "population"}
    bad = _answer({"toolUse": {"toolUseId": "t2", "name": "json_tool_call", "input": {"population": -5}}},
                  stop="tool_use")
    rsps.add("POST", _url(TOOLED), json=bad)
    with pytest.raises(StructuredOutputError) as caught:
        client.completion(f"bedrock/{TOOLED}", MESSAGES, api_key="k", response_format=City)
    assert json.loads(caught.value.raw) == {"population": -5}


def test_the_callers_tools_stay_listed_and_a_call_to_one_stays_a_tool_call(
    client: Any, rsps: responses.RequestsMock
) -> None:
    reply = _answer({"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}},
                    stop="tool_use")
    rsps.add("POST", _url(TOOLED), json=reply)
    answer = client.completion(f"bedrock/{TOOLED}", MESSAGES, api_key="k", tools=[WEATHER_TOOL], tool_choice="auto",
                               response_format={"type": "json_object"})
    config = _sent(rsps)["toolConfig"]
    assert [tool["toolSpec"]["name"] for tool in config["tools"]] == ["get_weather", "json_tool_call"]
    assert config["toolChoice"] == {"tool": {"name": "json_tool_call"}}
    choice = answer.choices[0]
    assert [(c.function.name, json.loads(c.function.arguments)) for c in choice.message.tool_calls] == [
        ("get_weather", {"city": "Paris"})]
    assert (choice.message.content, choice.finish_reason) == (None, "tool_calls")


def test_without_response_format_nothing_changes(client: Any, rsps: responses.RequestsMock) -> None:
    rsps.add("POST", _url(TOOLED), json=_answer({"text": "Paris."}))
    answer = client.completion(f"bedrock/{TOOLED}", MESSAGES, api_key="k", response_format={"type": "text"})
    assert "toolConfig" not in _sent(rsps) and "outputConfig" not in _sent(rsps)
    assert answer.choices[0].message.content == "Paris."


def test_a_streamed_tool_answer_arrives_as_content_deltas(client: Any, rsps: responses.RequestsMock) -> None:
    stream = b"".join([
        _event("messageStart", {"role": "assistant"}),
        _event("contentBlockStart", {"contentBlockIndex": 0,
                                     "start": {"toolUse": {"toolUseId": "tooluse_1", "name": "json_tool_call"}}}),
        _event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": "{\"name\": "}}}),
        _event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": "\"Paris\"}"}}}),
        _event("contentBlockStop", {"contentBlockIndex": 0}),
        _event("messageStop", {"stopReason": "tool_use"}),
        _event("metadata", {"usage": USAGE, "metrics": {"latencyMs": 100}}),
    ])
    rsps.add("POST", _url(TOOLED, stream=True), body=stream, content_type="application/vnd.amazon.eventstream")
    chunks = list(client.completion(f"bedrock/{TOOLED}", MESSAGES, api_key="k", stream=True, response_format=FORMAT))
    assert _sent(rsps)["toolConfig"]["toolChoice"] == {"tool": {"name": "json_tool_call"}}
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert [d.content for d in deltas if d.content] == ['{"name": ', '"Paris"}']
    assert all(not d.tool_calls for d in deltas)
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    rebuilt = litellm_sync.stream_chunk_builder(chunks)
    assert json.loads(rebuilt.choices[0].message.content) == {"name": "Paris"}
    assert rebuilt.choices[0].message.tool_calls is None and rebuilt.choices[0].finish_reason == "stop"


def test_a_typed_stream_parses_the_tool_answer(client: Any, rsps: responses.RequestsMock) -> None:
    stream = b"".join([
        _event("contentBlockStart", {"contentBlockIndex": 0,
                                     "start": {"toolUse": {"toolUseId": "tooluse_1", "name": "json_tool_call"}}}),
        _event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": "{\"name\": \"Nice\"}"}}}),
        _event("messageStop", {"stopReason": "tool_use"}),
        _event("metadata", {"usage": USAGE}),
    ])
    rsps.add("POST", _url(TOOLED, stream=True), body=stream, content_type="application/vnd.amazon.eventstream")
    with client.completion(f"bedrock/{TOOLED}", MESSAGES, api_key="k", stream=True, response_format=City) as chunks:
        assert chunks.response().parsed == {"name": "Nice"}


def test_a_native_stream_sends_output_config_on_the_stream_path(client: Any, rsps: responses.RequestsMock) -> None:
    stream = b"".join([
        _event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "{\"name\": \"Paris\"}"}}),
        _event("messageStop", {"stopReason": "end_turn"}),
        _event("metadata", {"usage": USAGE}),
    ])
    rsps.add("POST", _url(NATIVE, stream=True), body=stream, content_type="application/vnd.amazon.eventstream")
    chunks = list(client.completion(f"bedrock/{NATIVE}", MESSAGES, api_key="k", stream=True, response_format=FORMAT))
    assert "outputConfig" in _sent(rsps) and "toolConfig" not in _sent(rsps)
    assert json.loads(litellm_sync.stream_chunk_builder(chunks).choices[0].message.content) == {"name": "Paris"}


def test_a_model_without_tools_is_refused_before_sending() -> None:
    with litellm_sync.Client(max_retries=0) as own:
        litellm_sync.register_model({"acme.plain-v1": {"litellm_provider": "bedrock", "mode": "chat"}}, client=own)
        with pytest.raises(UnsupportedParamsError, match="tools") as caught:
            own.completion("bedrock/acme.plain-v1", MESSAGES, api_key="k", response_format={"type": "json_object"})
    assert caught.value.request_sent is False


def test_answer_fragments_are_followed_by_index_and_other_calls_kept() -> None:
    state = ReadState()
    start = ChoiceRead()
    start.tool_calls = [ToolCallRead(0, "t0", "json_tool_call", None)]
    take_answer(start, state, "json_tool_call")
    assert (start.tool_calls, start.content, state.answers) == ([], None, {0})
    fragment = ChoiceRead()
    fragment.tool_calls = [ToolCallRead(0, None, None, '{"a":'), ToolCallRead(1, None, None, '{"x"')]
    take_answer(fragment, state, "json_tool_call")
    assert fragment.content == '{"a":'
    assert [(c.index, c.arguments) for c in fragment.tool_calls] == [(1, '{"x"')]
    assert state.other_calls
    untouched = ChoiceRead()
    untouched.tool_calls = [ToolCallRead(0, None, None, "{}")]
    take_answer(untouched, ReadState(), "json_tool_call")  # no answer call seen in this state: a plain fragment
    assert [c.arguments for c in untouched.tool_calls] == ["{}"] and untouched.content is None
