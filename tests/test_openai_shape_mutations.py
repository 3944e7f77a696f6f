"""The OpenAI shape holds for odd answers too: a whole answer per dialect (text, reasoning, a tool call, usage)
validates for every provider of the dialect, and the same answers and the stream transcripts with one value
replaced by any JSON (hypothesis) either fail as a litellm_sync error or still give responses and chunks that
openai-python's `ChatCompletion` / `ChatCompletionChunk` accept in strict mode."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
import test_openai_shape as shape
import test_stream_transcripts as transcripts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import litellm_sync
from litellm_sync._engine.framing import FRAMINGS
from litellm_sync._engine.framing.eventstream import encode_message
from litellm_sync.testing import FakeProviderServer, Reply

ARGS = {"city": "Paris"}
CALL = {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": json.dumps(ARGS)}}
WHOLE = {  # keyed like transcripts.CASES; one whole (non-stream) answer in each dialect
    "openai": {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "gpt-5",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "Hi", "reasoning_content": "Think", "tool_calls": [CALL]}}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42,
                  "prompt_tokens_details": {"cached_tokens": 4}},
    },
    "anthropic": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "thinking", "thinking": "Think", "signature": "c2ln"}, {"type": "text", "text": "Hi"},
                    {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": ARGS}],
        "stop_reason": "tool_use", "usage": {"input_tokens": 10, "cache_read_input_tokens": 2, "output_tokens": 30},
    },
    "gemini": {
        "candidates": [{"index": 0, "finishReason": "STOP", "content": {"role": "model", "parts": [
            {"text": "Think", "thought": True}, {"text": "Hi"},
            {"functionCall": {"name": "get_weather", "args": ARGS}}]}}],
        "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 25, "thoughtsTokenCount": 5,
                          "totalTokenCount": 42},
        "modelVersion": "gemini-2.5-flash", "responseId": "resp-1",
    },
    "cohere": {
        "id": "co-1", "finish_reason": "TOOL_CALL",
        "message": {"role": "assistant", "tool_calls": [CALL], "content": [
            {"type": "thinking", "thinking": "Think"}, {"type": "text", "text": "Hi"}]},
        "usage": {"tokens": {"input_tokens": 12, "output_tokens": 30}},
    },
    "ollama": {
        "model": "qwen3", "created_at": "2025-01-01T00:00:00Z", "done": True, "done_reason": "stop",
        "message": {"role": "assistant", "content": "Hi", "thinking": "Think",
                    "tool_calls": [{"function": {"name": "get_weather", "arguments": ARGS}}]},
        "prompt_eval_count": 12, "eval_count": 30,
    },
    "openai_responses": {
        "id": "resp_1", "object": "response", "created_at": 1700000000, "model": "gpt-5", "status": "completed",
        "incomplete_details": None,
        "output": [
            {"id": "rs_1", "type": "reasoning", "encrypted_content": "gAAAA",
             "summary": [{"type": "summary_text", "text": "Think"}]},
            {"id": "msg_1", "type": "message", "role": "assistant",
             "content": [{"type": "output_text", "text": "Hi", "annotations": []}]},
            {"id": "fc_1", "type": "function_call", "call_id": "call_a", "name": "get_weather",
             "arguments": json.dumps(ARGS)},
        ],
        "usage": {"input_tokens": 12, "input_tokens_details": {"cached_tokens": 4}, "output_tokens": 30,
                  "total_tokens": 42},
    },
    "bedrock": {
        "output": {"message": {"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": "Think", "signature": "c2ln"}}}, {"text": "Hi"},
            {"toolUse": {"toolUseId": "tooluse_a", "name": "get_weather", "input": ARGS}}]}},
        "stopReason": "tool_use", "usage": {"inputTokens": 8, "outputTokens": 30, "totalTokens": 42,
                                           "cacheReadInputTokens": 4},
        "metrics": {"latencyMs": 321},
    },
}
RUNS = [(provider, transcript) for provider, transcript in shape.TRANSCRIPT_RUNS if transcript in WHOLE]
DELETE = object()
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])



@pytest.fixture(autouse=True)
def _no_token_exchange(monkeypatch: pytest.MonkeyPatch) -> None:
    # token_exchange providers (watsonx) trade the key at an outside endpoint (tested in test_watsonx.py).
    monkeypatch.setattr("litellm_sync._engine.auth_token.TokenCache.current", lambda self: "test-token")

@pytest.fixture(scope="module")
def client() -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(max_retries=0) as instance:
        yield instance


def _model(dialect: str, provider: str | None = None) -> str:
    return f"{provider or transcripts.CASES[dialect][0].split('/')[0]}/{transcripts.CASES[dialect][0].split('/', 1)[1]}"


def test_every_dialect_has_a_whole_answer() -> None:
    assert set(WHOLE) == set(transcripts.CASES)


@pytest.mark.parametrize(("provider", "dialect"), RUNS, ids=[p for p, _ in RUNS])
def test_whole_answer_for_every_provider(
    client: litellm_sync.Client, server: FakeProviderServer, provider: str, dialect: str
) -> None:
    server.enqueue(Reply(json=WHOLE[dialect]))
    response = client.completion(_model(dialect, provider), shape.MESSAGES, api_base=server.url, api_key="sk-x")
    parsed = shape.assert_valid_response(response)
    choice = parsed.choices[0]
    assert (choice.message.content, choice.finish_reason) == ("Hi", "tool_calls")
    assert [(c.type, c.function.name, json.loads(c.function.arguments)) for c in choice.message.tool_calls] == [
        ("function", "get_weather", ARGS)
    ]
    assert response.choices[0].message.reasoning_content == "Think"


def _subtrees(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if path:
        yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _subtrees(value, (*path, key))
    elif isinstance(node, list):
        for position, value in enumerate(node):
            yield from _subtrees(value, (*path, position))


def _mutated(data: st.DataObject, payload: Any) -> Any:
    """A copy of `payload` with one value (anywhere in it) replaced by any JSON value, or removed."""
    out = copy.deepcopy(payload)
    *parents, last = data.draw(st.sampled_from(list(_subtrees(out))))
    holder = out
    for step in parents:
        holder = holder[step]
    value = data.draw(st.just(DELETE) | JSON_VALUES)
    if value is DELETE and isinstance(holder, dict):
        del holder[last]
    else:
        holder[last] = None if value is DELETE else value
    return out


@FUZZ
@given(data=st.data())
@pytest.mark.parametrize("dialect", sorted(WHOLE))
def test_any_odd_whole_answer_fails_cleanly_or_has_the_shape(
    client: litellm_sync.Client, shared_server: FakeProviderServer, dialect: str, data: st.DataObject
) -> None:
    shared_server.enqueue(Reply(json=_mutated(data, WHOLE[dialect])))
    try:
        response = client.completion(_model(dialect), shape.MESSAGES, api_base=shared_server.url, api_key="sk-x")
    except litellm_sync.APIError:
        return
    shape.assert_valid_response(response)


def _binary(transcript: bytes) -> bool:
    """An AWS event stream (its first bytes are a big-endian length), not text."""
    return transcript[:1] == b"\x00"


def _events(transcript: bytes) -> list[tuple[str | None, Any]]:
    """A transcript as (event name, payload) pairs; NDJSON lines have no name."""
    if _binary(transcript):
        return [(e.event, json.loads(e.data)) for e in FRAMINGS["eventstream"]([transcript])]
    text = transcript.decode().replace("\r\n", "\n")
    if text.startswith("{"):
        return [(None, json.loads(line)) for line in text.splitlines() if line]
    events: list[tuple[str | None, Any]] = []
    for block in text.split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        name = next((line[7:] for line in lines if line.startswith("event: ")), None)
        data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
        if data:
            events.append((name, data if data == "[DONE]" else json.loads(data)))
    return events


def _encode(events: list[tuple[str | None, Any]], ndjson: bool, binary: bool = False) -> str | bytes:
    if binary:
        return b"".join(encode_message({":event-type": name or "", ":message-type": "event"},
                                       json.dumps(payload).encode()) for name, payload in events)
    if ndjson:
        return "".join(json.dumps(payload) + "\n" for _, payload in events)
    return "".join(
        (f"event: {name}\n" if name else "") + f"data: {payload if payload == '[DONE]' else json.dumps(payload)}\n\n"
        for name, payload in events
    )


@FUZZ
@given(data=st.data())
@pytest.mark.parametrize("dialect", sorted(transcripts.CASES))
def test_any_odd_stream_event_fails_cleanly_or_has_the_shape(
    client: litellm_sync.Client, shared_server: FakeProviderServer, dialect: str, data: st.DataObject
) -> None:
    model, transcript, *_ = transcripts.CASES[dialect]
    events = _events(transcript)
    position = data.draw(st.sampled_from([i for i, (_, payload) in enumerate(events) if payload != "[DONE]"]))
    events[position] = (events[position][0], _mutated(data, events[position][1]))
    encoded = _encode(events, transcript.startswith(b"{"), _binary(transcript))
    shared_server.enqueue(Reply(events=[encoded]))  # type: ignore[list-item]  # bytes: binary framings too
    try:
        with client.completion(model, shape.MESSAGES, stream=True, api_base=shared_server.url, api_key="k") as s:
            chunks = list(s)
    except litellm_sync.APIError:
        return
    if chunks:
        shape.assert_valid_stream(chunks)
    shape.assert_valid_response(litellm_sync.stream_chunk_builder(chunks))


def test_the_event_reader_round_trips_every_transcript() -> None:
    for dialect, (_model_name, transcript, *_rest) in transcripts.CASES.items():
        events = _events(transcript)
        assert len(events) > 4, dialect
        encoded = _encode(events, transcript.startswith(b"{"), _binary(transcript))
        assert _events(encoded if isinstance(encoded, bytes) else encoded.encode()) == events
