"""Stream transcripts per dialect, split at every byte offset, accumulate to the same response.

Each transcript is shaped like recorded traffic (text, reasoning, a tool call whose arguments arrive in
pieces, usage) and is served by `FakeProviderServer` as two HTTP chunks cut at every byte offset (and, for a
short one, one byte per chunk). `stream_chunk_builder(list(stream))` must give the same text, tool calls,
reasoning, finish reason and usage for every cut. The expected values are written out by hand. The framing
rules themselves are tested in test_framing.py, and with these transcripts in test_properties.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import litellm_sync
from litellm_sync._engine.framing.eventstream import encode_message
from litellm_sync.testing import FakeProviderServer, Reply

MESSAGES = [{"role": "user", "content": "Weather in Paris?"}]


def _data(payload: Any, event: str | None = None, newline: str = "\n") -> str:
    head = f"event: {event}{newline}" if event else ""
    return f"{head}data: {json.dumps(payload, ensure_ascii=False)}{newline}{newline}"


# --------------------------------------------------------------------------------------------------------
# Transcripts

def _openai() -> bytes:
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000, "model": "gpt-5"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        return _data({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    return "".join([
        ": OPENROUTER PROCESSING\n\n",
        chunk({"role": "assistant", "content": ""}),
        chunk({"reasoning_content": "Think "}),
        chunk({"reasoning_content": "first."}),
        chunk({"content": "Héllo "}),
        chunk({"content": "wörld 🌍"}),
        chunk({"tool_calls": [{"index": 0, "id": "call_a", "type": "function",
                               "function": {"name": "get_weather", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\": "}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]}),
        chunk({"tool_calls": [{"index": 1, "id": "call_b", "type": "function",
                               "function": {"name": "get_time", "arguments": "{}"}}]}),
        chunk({}, "tool_calls"),
        _data({**base, "choices": [], "usage": {
            "prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42,
            "prompt_tokens_details": {"cached_tokens": 4}, "completion_tokens_details": {"reasoning_tokens": 5}}}),
        "data: [DONE]\n\n",
    ]).encode()


def _anthropic() -> bytes:
    nl = "\r\n"  # CRLF framing throughout

    def ev(name: str, payload: dict[str, Any]) -> str:
        return _data({"type": name, **payload}, event=name, newline=nl)

    return "".join([
        ev("message_start", {"message": {"id": "msg_1", "type": "message", "role": "assistant",
                                         "model": "claude-sonnet-4-5", "content": [], "stop_reason": None,
                                         "usage": {"input_tokens": 10, "cache_read_input_tokens": 2,
                                                   "cache_creation_input_tokens": 0, "output_tokens": 1}}}),
        ev("ping", {}),
        ev("content_block_start", {"index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
        ev("content_block_delta", {"index": 0, "delta": {"type": "thinking_delta", "thinking": "Think "}}),
        ev("content_block_delta", {"index": 0, "delta": {"type": "thinking_delta", "thinking": "first."}}),
        ev("content_block_delta", {"index": 0, "delta": {"type": "signature_delta", "signature": "c2ln"}}),
        ev("content_block_stop", {"index": 0}),
        ev("content_block_start", {"index": 1, "content_block": {"type": "text", "text": ""}}),
        ev("content_block_delta", {"index": 1, "delta": {"type": "text_delta", "text": "Héllo "}}),
        ev("content_block_delta", {"index": 1, "delta": {"type": "text_delta", "text": "wörld 🌍"}}),
        ev("content_block_stop", {"index": 1}),
        ev("content_block_start", {"index": 2, "content_block": {"type": "tool_use", "id": "toolu_a",
                                                                 "name": "get_weather", "input": {}}}),
        ev("content_block_delta", {"index": 2, "delta": {"type": "input_json_delta", "partial_json": ""}}),
        ev("content_block_delta", {"index": 2, "delta": {"type": "input_json_delta", "partial_json": "{\"city\": "}}),
        ev("content_block_delta", {"index": 2, "delta": {"type": "input_json_delta", "partial_json": "\"Paris\"}"}}),
        ev("content_block_stop", {"index": 2}),
        ev("content_block_start", {"index": 3, "content_block": {"type": "tool_use", "id": "toolu_b",
                                                                 "name": "get_time", "input": {}}}),
        ev("content_block_delta", {"index": 3, "delta": {"type": "input_json_delta", "partial_json": "{}"}}),
        ev("content_block_stop", {"index": 3}),
        ev("message_delta", {"delta": {"stop_reason": "tool_use", "stop_sequence": None},
                             "usage": {"output_tokens": 30}}),
        ev("message_stop", {}),
    ]).encode()


def _gemini() -> bytes:
    def event(parts: list[dict[str, Any]], finish: str | None = None, usage: dict[str, int] | None = None) -> str:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        payload: dict[str, Any] = {"candidates": [candidate], "modelVersion": "gemini-2.5-flash",
                                   "responseId": "resp-1"}
        if usage:
            payload["usageMetadata"] = usage
        return _data(payload)

    return "".join([
        event([{"text": "Think ", "thought": True}]),
        event([{"text": "first.", "thought": True}]),
        event([{"text": "Héllo "}]),
        event([{"text": "wörld 🌍"}]),
        event([{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
               {"functionCall": {"name": "get_time", "args": {}}}]),
        event([], "STOP", {"promptTokenCount": 12, "candidatesTokenCount": 25, "thoughtsTokenCount": 5,
                           "totalTokenCount": 42, "cachedContentTokenCount": 4}),
    ]).encode()


ARGS = ("{\"city\": ", "\"Paris\"}")


def _cohere() -> bytes:
    nl = "\r\n"

    def ev(name: str, payload: dict[str, Any]) -> str:
        return _data({"type": name, **payload}, event=name, newline=nl)

    return "".join([
        ev("message-start", {"id": "co-1", "delta": {"message": {"role": "assistant", "content": [],
                                                                 "tool_plan": "", "tool_calls": []}}}),
        ev("content-start", {"index": 0, "delta": {"message": {"content": {"type": "thinking", "thinking": ""}}}}),
        ev("content-delta", {"index": 0, "delta": {"message": {"content": {"thinking": "Think "}}}}),
        ev("content-delta", {"index": 0, "delta": {"message": {"content": {"thinking": "first."}}}}),
        ev("content-end", {"index": 0}),
        ev("content-start", {"index": 1, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
        ev("content-delta", {"index": 1, "delta": {"message": {"content": {"text": "Héllo "}}}}),
        ev("content-delta", {"index": 1, "delta": {"message": {"content": {"text": "wörld 🌍"}}}}),
        ev("content-end", {"index": 1}),
        ev("tool-plan-delta", {"delta": {"message": {"tool_plan": "I will look it up."}}}),
        ev("tool-call-start", {"index": 0, "delta": {"message": {"tool_calls": {
            "id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": ""}}}}}),
        ev("tool-call-delta", {"index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": ARGS[0]}}}}}),
        ev("tool-call-delta", {"index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": ARGS[1]}}}}}),
        ev("tool-call-end", {"index": 0}),
        ev("tool-call-start", {"index": 1, "delta": {"message": {"tool_calls": {
            "id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}}}}),
        ev("tool-call-end", {"index": 1}),
        ev("message-end", {"delta": {"finish_reason": "TOOL_CALL", "usage": {
            "billed_units": {"input_tokens": 12, "output_tokens": 30},
            "tokens": {"input_tokens": 12, "output_tokens": 30}, "cached_tokens": 4}}}),
    ]).encode()


def _responses() -> bytes:
    """OpenAI Responses API: a reasoning item with a summary, a message, two function calls, then completed."""

    def ev(name: str, payload: dict[str, Any]) -> str:
        return _data({"type": name, **payload}, event=name)

    reasoning = {"id": "rs_1", "type": "reasoning", "encrypted_content": "gAAA-enc",
                 "summary": [{"type": "summary_text", "text": "Think first."}]}
    call_a = {"id": "fc_a", "type": "function_call", "call_id": "call_a", "name": "get_weather", "arguments": ""}
    call_b = {"id": "fc_b", "type": "function_call", "call_id": "call_b", "name": "get_time", "arguments": ""}
    usage = {"input_tokens": 12, "input_tokens_details": {"cached_tokens": 4}, "output_tokens": 30,
             "output_tokens_details": {"reasoning_tokens": 5}, "total_tokens": 42}
    response = {"id": "resp_1", "object": "response", "created_at": 1700000000, "model": "gpt-5",
                "status": "in_progress", "output": [], "usage": None, "incomplete_details": None}
    return "".join([
        ev("response.created", {"response": response, "sequence_number": 0}),
        ev("response.in_progress", {"response": response, "sequence_number": 1}),
        ev("response.output_item.added", {"output_index": 0, "item": {**reasoning, "summary": []}}),
        ev("response.reasoning_summary_part.added", {"output_index": 0, "summary_index": 0,
                                                     "part": {"type": "summary_text", "text": ""}}),
        ev("response.reasoning_summary_text.delta", {"output_index": 0, "summary_index": 0, "delta": "Think "}),
        ev("response.reasoning_summary_text.delta", {"output_index": 0, "summary_index": 0, "delta": "first."}),
        ev("response.reasoning_summary_text.done", {"output_index": 0, "summary_index": 0, "text": "Think first."}),
        ev("response.output_item.done", {"output_index": 0, "item": reasoning}),
        ev("response.output_item.added", {"output_index": 1, "item": {"id": "msg_1", "type": "message",
                                                                      "role": "assistant", "content": []}}),
        ev("response.content_part.added", {"output_index": 1, "content_index": 0,
                                           "part": {"type": "output_text", "text": ""}}),
        ev("response.output_text.delta", {"output_index": 1, "content_index": 0, "delta": "Héllo "}),
        ev("response.output_text.delta", {"output_index": 1, "content_index": 0, "delta": "wörld 🌍"}),
        ev("response.output_text.done", {"output_index": 1, "content_index": 0, "text": "Héllo wörld 🌍"}),
        ev("response.output_item.done", {"output_index": 1, "item": {"id": "msg_1", "type": "message"}}),
        ev("response.output_item.added", {"output_index": 2, "item": call_a}),
        ev("response.function_call_arguments.delta", {"output_index": 2, "delta": ARGS[0]}),
        ev("response.function_call_arguments.delta", {"output_index": 2, "delta": ARGS[1]}),
        ev("response.function_call_arguments.done", {"output_index": 2, "arguments": "".join(ARGS)}),
        ev("response.output_item.done", {"output_index": 2, "item": {**call_a, "arguments": "".join(ARGS)}}),
        ev("response.output_item.added", {"output_index": 3, "item": call_b}),
        ev("response.function_call_arguments.delta", {"output_index": 3, "delta": "{}"}),
        ev("response.output_item.done", {"output_index": 3, "item": {**call_b, "arguments": "{}"}}),
        ev("response.completed", {"response": {**response, "status": "completed", "usage": usage}}),
    ]).encode()


def _ollama() -> bytes:
    def line(message: dict[str, Any], **extra: Any) -> str:
        record = {"model": "qwen3", "created_at": "2025-01-01T00:00:00Z",
                  "message": {"role": "assistant", "content": "", **message}, "done": False, **extra}
        return json.dumps(record, ensure_ascii=False) + "\n"

    return "".join([
        line({"thinking": "Think "}),
        line({"thinking": "first."}),
        line({"content": "Héllo "}),
        line({"content": "wörld 🌍"}),
        line({"tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                             {"function": {"name": "get_time", "arguments": {}}}]}),
        line({}, done=True, done_reason="stop", prompt_eval_count=12, eval_count=30, total_duration=1),
    ]).encode()


def _bedrock() -> bytes:
    """ConverseStream in AWS's binary event-stream framing (a `p` padding field, as Bedrock sends)."""
    def ev(kind: str, payload: dict[str, Any]) -> bytes:
        return encode_message({":event-type": kind, ":content-type": "application/json", ":message-type": "event"},
                              json.dumps({**payload, "p": "abcdef"}, ensure_ascii=False).encode())

    return b"".join([
        ev("messageStart", {"role": "assistant"}),
        ev("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "Think "}}}),
        ev("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "first."}}}),
        ev("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": "c2ln"}}}),
        ev("contentBlockStop", {"contentBlockIndex": 0}),
        ev("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"text": "Héllo "}}),
        ev("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"text": "wörld 🌍"}}),
        ev("contentBlockStop", {"contentBlockIndex": 1}),
        ev("contentBlockStart", {"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "tooluse_a",
                                                                               "name": "get_weather"}}}),
        ev("contentBlockDelta", {"contentBlockIndex": 2, "delta": {"toolUse": {"input": ARGS[0]}}}),
        ev("contentBlockDelta", {"contentBlockIndex": 2, "delta": {"toolUse": {"input": ARGS[1]}}}),
        ev("contentBlockStop", {"contentBlockIndex": 2}),
        ev("contentBlockStart", {"contentBlockIndex": 3, "start": {"toolUse": {"toolUseId": "tooluse_b",
                                                                               "name": "get_time"}}}),
        ev("contentBlockDelta", {"contentBlockIndex": 3, "delta": {"toolUse": {"input": "{}"}}}),
        ev("contentBlockStop", {"contentBlockIndex": 3}),
        ev("messageStop", {"stopReason": "tool_use"}),
        ev("metadata", {"usage": {"inputTokens": 8, "outputTokens": 30, "totalTokens": 42,
                                  "cacheReadInputTokens": 4}, "metrics": {"latencyMs": 321}}),
    ])


# What every transcript must accumulate to (Gemini and Ollama send no call ids: checked separately).
EXPECTED = {
    "content": "Héllo wörld 🌍",
    "reasoning": "Think first.",
    "tool_calls": [("get_weather", {"city": "Paris"}), ("get_time", {})],
    "finish_reason": "tool_calls",
}
CASES = {
    # dialect: (model, transcript, call ids, (prompt, completion, total, cached))
    "openai": ("openai/gpt-5", _openai(), ["call_a", "call_b"], (12, 30, 42, 4)),
    "anthropic": ("anthropic/claude-sonnet-4-5", _anthropic(), ["toolu_a", "toolu_b"], (12, 30, 42, 2)),
    "gemini": ("gemini/gemini-2.5-flash", _gemini(), None, (12, 30, 42, 4)),
    "cohere": ("cohere/command-a-03-2025", _cohere(), ["call_a", "call_b"], (12, 30, 42, 4)),
    "ollama": ("ollama/qwen3", _ollama(), None, (12, 30, 42, None)),
    "openai_responses": ("openai_responses/gpt-5", _responses(), ["call_a", "call_b"], (12, 30, 42, 4)),
    "bedrock": ("bedrock/global.anthropic.claude-sonnet-4-5-20250929-v1:0", _bedrock(), ["tooluse_a", "tooluse_b"],
                (12, 30, 42, 4)),
}

# Dialects whose finish reason ("STOP", "stop") only says tool calls through tool_calls_finish_reason.
FINISH_REASON_BUG = frozenset({"gemini", "ollama"})


@pytest.fixture(scope="module")
def server() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as fake:
        yield fake


@pytest.fixture(scope="module")
def client() -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(max_retries=0) as instance:
        yield instance


def _summary(response: Any) -> dict[str, Any]:
    choice = response.choices[0]
    message = choice.message
    usage = response.usage
    return {
        "content": message.content,
        "reasoning": message.reasoning_content,
        "tool_calls": [(c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls or ()],
        "ids": [c.id for c in message.tool_calls or ()],
        "finish_reason": choice.finish_reason,
        "usage": (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens, usage.cached_tokens),
    }


def _run(client: litellm_sync.Client, server: FakeProviderServer, model: str, pieces: list[bytes]) -> dict[str, Any]:
    server.enqueue(Reply(events=pieces))  # type: ignore[arg-type]
    stream = client.completion(model, MESSAGES, stream=True, api_key="sk-test", api_base=server.url)
    return _summary(litellm_sync.stream_chunk_builder(list(stream)))


@pytest.mark.parametrize("dialect", sorted(CASES))
def test_transcript_whole(client: litellm_sync.Client, server: FakeProviderServer, dialect: str) -> None:
    model, transcript, ids, usage = CASES[dialect]
    got = _run(client, server, model, [transcript])
    for key in ("content", "reasoning", "tool_calls"):
        assert got[key] == EXPECTED[key]
    if dialect not in FINISH_REASON_BUG:
        assert got["finish_reason"] == "tool_calls"
    assert got["usage"] == usage
    if ids is not None:
        assert got["ids"] == ids
    else:
        assert all(isinstance(i, str) and i for i in got["ids"]) and len(set(got["ids"])) == 2


@pytest.mark.parametrize("dialect", sorted(FINISH_REASON_BUG))
def test_stream_finish_reason_is_tool_calls_when_tools_were_called(
    client: litellm_sync.Client, server: FakeProviderServer, dialect: str
) -> None:
    model, transcript, _ids, _usage = CASES[dialect]
    assert _run(client, server, model, [transcript])["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("dialect", sorted(CASES))
def test_transcript_split_at_every_byte(client: litellm_sync.Client, server: FakeProviderServer, dialect: str) -> None:
    model, transcript, ids, _usage = CASES[dialect]
    reference = _run(client, server, model, [transcript])
    if ids is None:
        reference.pop("ids")
    for offset in range(1, len(transcript)):
        got = _run(client, server, model, [transcript[:offset], transcript[offset:]])
        if ids is None:
            got.pop("ids")
        assert got == reference, f"split at byte {offset}: {transcript[max(0, offset - 20):offset + 20]!r}"


def test_short_transcript_one_byte_per_piece(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-5"}
    transcript = "".join([
        _data({**base, "choices": [{"index": 0, "delta": {"content": "Hé"}, "finish_reason": None}]}, newline="\r\n"),
        ":keepalive\r",
        "\r",
        _data({**base, "choices": [{"index": 0, "delta": {"content": "y"}, "finish_reason": "stop"}],
               "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}, newline="\r"),
        "data: [DONE]\r\n\r\n",
    ]).encode()
    pieces = [transcript[i:i + 1] for i in range(len(transcript))]
    got = _run(client, server, "openai/gpt-5", pieces)
    assert got["content"] == "Héy"
    assert got["finish_reason"] == "stop"
    assert got["usage"] == (1, 2, 3, None)


@pytest.mark.parametrize("dialect", ["openai", "anthropic", "cohere"])
def test_a_stream_cut_in_the_middle_of_an_event_is_a_closed_connection_not_bad_json(
    client: litellm_sync.Client, server: FakeProviderServer, dialect: str
) -> None:
    """The SSE decoder discards an unfinished event at the end of the body (WHATWG), so a dialect with an end
    marker reports the early close instead of handing half a JSON payload to the reader."""
    model, transcript, _ids, _usage = CASES[dialect]
    cut = transcript.index(b"Paris")
    server.enqueue(Reply(events=[transcript[:cut]]))
    stream = client.completion(model, MESSAGES, stream=True, api_key="sk-test", api_base=server.url)
    with pytest.raises(litellm_sync.APIConnectionError) as info:
        list(stream)
    assert not isinstance(info.value, litellm_sync.APIResponseValidationError)
    assert "end marker" in str(info.value)


# --------------------------------------------------------------------------------------------------------
# In-band errors

def test_openai_style_error_inside_200_stream(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-5"}
    events = [
        _data({**base, "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]}),
        _data({"error": {"message": "Rate limit exceeded upstream", "code": 429}}),
    ]
    server.enqueue(Reply(events=events))
    stream = client.completion("openai/gpt-5", MESSAGES, stream=True, api_key="sk-test", api_base=server.url)
    first = next(iter(stream))
    assert first.choices[0].delta.content == "Hi"
    with pytest.raises(litellm_sync.RateLimitError) as info:
        list(stream)
    assert "Rate limit exceeded upstream" in str(info.value)


def test_anthropic_overloaded_error_event(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    events = [
        _data({"type": "message_start", "message": {"id": "msg_1", "role": "assistant", "model": "claude-sonnet-4-5",
                                                    "usage": {"input_tokens": 3, "output_tokens": 0}}},
              event="message_start"),
        _data({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, event="error"),
    ]
    server.enqueue(Reply(events=events))
    stream = client.completion("anthropic/claude-sonnet-4-5", MESSAGES, stream=True, api_key="sk-test",
                               api_base=server.url)
    with pytest.raises(litellm_sync.ServiceUnavailableError) as info:
        list(stream)
    assert "Overloaded" in str(info.value)
    assert info.value.retryable
