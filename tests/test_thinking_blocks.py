"""Reasoning blocks kept verbatim (`keep_block:` parts, `choice.blocks` stream fragments) and sent back.

Anthropic extended thinking with tool use needs the assistant turn resent with its thinking blocks first,
exactly as received (signature included), and redacted_thinking blocks passed through; other dialects drop
them. Shapes follow Anthropic's Messages API reference and recorded traffic.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import litellm_sync
from litellm_sync.testing import FakeProviderServer, Reply

MODEL = "anthropic/claude-sonnet-4-5"
QUESTION = [{"role": "user", "content": "What is the weather in Paris?"}]
THINKING = {
    "type": "thinking",
    "thinking": "The user wants the weather in Paris. I should call get_weather.",
    "signature": "EqQBCkgIARABGAIiQL2VcN3t1h0pWk7r9fE0yBqgPKZtDsMZ1pX0xQ==",
}
REDACTED = {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"}
TOOL_USE = {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather",
            "input": {"location": "Paris"}}
REPLY = {
    "id": "msg_01Aq9w938a90dw8q",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [THINKING, REDACTED, {"type": "text", "text": "Let me check."}, TOOL_USE],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {"input_tokens": 412, "output_tokens": 96},
}


def _event(payload: dict[str, Any]) -> str:
    return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n"


def _transcript() -> bytes:
    start = {"id": "msg_01Aq9w938a90dw8q", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
             "content": [], "stop_reason": None, "usage": {"input_tokens": 412, "output_tokens": 1}}
    events = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "",
                                                                     "signature": ""}},
        {"type": "ping"},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta",
                                                              "thinking": THINKING["thinking"][:30]}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta",
                                                              "thinking": THINKING["thinking"][30:]}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta",
                                                              "signature": THINKING["signature"]}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": REDACTED},
        {"type": "content_block_stop", "index": 1},
        {"type": "content_block_start", "index": 2, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 2, "delta": {"type": "text_delta", "text": "Let me check."}},
        {"type": "content_block_stop", "index": 2},
        {"type": "content_block_start", "index": 3, "content_block": {**TOOL_USE, "input": {}}},
        {"type": "content_block_delta", "index": 3, "delta": {"type": "input_json_delta",
                                                              "partial_json": "{\"location\": \"Paris\"}"}},
        {"type": "content_block_stop", "index": 3},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
         "usage": {"output_tokens": 96}},
        {"type": "message_stop"},
    ]
    return "".join(_event(e) for e in events).encode()


@pytest.fixture()
def client() -> litellm_sync.Client:
    return litellm_sync.Client(max_retries=0)


def _ask(client: litellm_sync.Client, server: FakeProviderServer, stream: bool, messages: Any = QUESTION) -> Any:
    if stream:
        server.enqueue(Reply(events=[_transcript().decode()]))
        with client.completion(MODEL, messages, stream=True, api_key="k", api_base=server.url) as s:
            return s.response()
    server.enqueue(Reply(json=REPLY))
    return client.completion(MODEL, messages, api_key="k", api_base=server.url)


@pytest.mark.parametrize("stream", [False, True])
def test_blocks_are_kept_verbatim(client: litellm_sync.Client, server: FakeProviderServer, stream: bool) -> None:
    message = _ask(client, server, stream).choices[0].message
    assert message.thinking_blocks == [THINKING, REDACTED]
    assert message.reasoning_content == THINKING["thinking"]
    assert message.content == "Let me check."
    assert message.tool_calls[0].function.name == "get_weather"
    assert message.to_dict()["thinking_blocks"] == [THINKING, REDACTED]


def test_stream_chunks_carry_indexed_fragments(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    server.enqueue(Reply(events=[_transcript().decode()]))
    with client.completion(MODEL, QUESTION, stream=True, api_key="k", api_base=server.url) as s:
        fragments = [f for chunk in s for c in chunk.choices for f in c.delta.thinking_blocks or ()]
    assert fragments[0] == {"type": "thinking", "thinking": "", "signature": "", "index": 0}
    assert fragments[1] == {"thinking": THINKING["thinking"][:30], "index": 0}
    assert fragments[3] == {"signature": THINKING["signature"], "index": 0}
    assert fragments[4] == {**REDACTED, "index": 1}
    assert len(fragments) == 5


def test_stream_split_at_every_byte_offset(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    transcript = _transcript()
    expected = [THINKING, REDACTED]
    for offset in range(1, len(transcript)):
        server.enqueue(Reply(events=[transcript[:offset], transcript[offset:]]))  # type: ignore[list-item]
        with client.completion(MODEL, QUESTION, stream=True, api_key="k", api_base=server.url) as s:
            assert s.response().choices[0].message.thinking_blocks == expected, offset


@pytest.mark.parametrize("stream", [False, True])
def test_round_trip_sends_blocks_first(client: litellm_sync.Client, server: FakeProviderServer, stream: bool) -> None:
    message = _ask(client, server, stream).choices[0].message
    call = message.tool_calls[0]
    follow_up = [
        *QUESTION,
        litellm_sync.assistant_message(message.content, tool_calls=[call], thinking_blocks=message.thinking_blocks),
        litellm_sync.tool_message(call.id, {"celsius": 21}),
    ]
    _ask(client, server, False, follow_up)
    turn = server.requests[-1].json["messages"][1]
    assert turn == {
        "role": "assistant",
        "content": [
            THINKING,
            REDACTED,
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": TOOL_USE["id"], "name": "get_weather", "input": {"location": "Paris"}},
        ],
    }


def test_response_message_itself_round_trips(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    message = _ask(client, server, False).choices[0].message
    call = message.tool_calls[0]
    _ask(client, server, False, [*QUESTION, message, litellm_sync.tool_message(call.id, "21C")])
    content = server.requests[-1].json["messages"][1]["content"]
    assert content[:2] == [THINKING, REDACTED]
    assert content[-1]["type"] == "tool_use"


def test_reasoning_text_alone_is_still_not_sent(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    turn = {"role": "assistant", "content": "Hi", "reasoning_content": "thought"}
    _ask(client, server, False, [*QUESTION, turn, {"role": "user", "content": "And?"}])
    assert server.requests[-1].json["messages"][1]["content"] == [{"type": "text", "text": "Hi"}]


def _history() -> list[dict[str, Any]]:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    return [
        *QUESTION,
        litellm_sync.assistant_message("Let me check.", tool_calls=[call], thinking_blocks=[THINKING, REDACTED]),
        litellm_sync.tool_message("call_1", "21C"),
    ]


def test_gemini_drops_blocks(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    server.enqueue(Reply(json={"candidates": [{"content": {"parts": [{"text": "ok"}]}, "finishReason": "STOP"}]}))
    client.completion("gemini/gemini-2.5-flash", _history(), api_key="k", api_base=server.url)
    model_turn = server.requests[-1].json["contents"][1]
    assert model_turn["parts"][0] == {"text": "Let me check."}
    assert "signature" not in json.dumps(model_turn) and "thinking" not in json.dumps(model_turn)


def test_ollama_keeps_block_text_and_drops_redacted_blocks(
    client: litellm_sync.Client, server: FakeProviderServer
) -> None:
    server.enqueue(Reply(json={"model": "qwen3", "message": {"role": "assistant", "content": "ok"}, "done": True}))
    client.completion("ollama/qwen3", _history(), api_key="k", api_base=server.url)
    turn = server.requests[-1].json["messages"][1]
    assert turn["content"] == "Let me check."
    assert turn["thinking"] == THINKING["thinking"]  # the text of the signed block; the redacted one has none
    assert "thinking_blocks" not in turn


@pytest.mark.parametrize("model", ["openai/gpt-4o-mini", "cohere/command-a-03-2025"])
def test_passthrough_strips_blocks(client: litellm_sync.Client, server: FakeProviderServer, model: str) -> None:
    history = _history()
    client.completion(model, history, api_key="k", api_base=server.url)
    sent = server.requests[-1].json["messages"]
    assert all("thinking_blocks" not in m for m in sent)
    assert history[1]["thinking_blocks"] == [THINKING, REDACTED]  # the caller's dicts are left alone


def test_assistant_message_copies_blocks() -> None:
    blocks = [dict(THINKING)]
    message = litellm_sync.assistant_message("x", thinking_blocks=blocks)
    assert message == {"role": "assistant", "content": "x", "thinking_blocks": [THINKING]}
    assert message["thinking_blocks"][0] is not blocks[0]
    assert "thinking_blocks" not in litellm_sync.assistant_message("x")


def test_bad_thinking_blocks_are_a_bad_request(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    bad = [*QUESTION, {"role": "assistant", "content": "x", "thinking_blocks": "nope"}]
    with pytest.raises(litellm_sync.BadRequestError):
        client.completion(MODEL, bad, api_key="k", api_base=server.url)


def test_messages_without_blocks_carry_none(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    server.enqueue(Reply(json={**REPLY, "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn"}))
    message = client.completion(MODEL, QUESTION, api_key="k", api_base=server.url).choices[0].message
    assert message.thinking_blocks is None
    assert "thinking_blocks" not in message.to_dict()


def test_spec_rejects_unknown_block_keys(tmp_path: Any) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text("providers:\n  x:\n    extends: anthropic_messages\n    stream:\n      events:\n"
                    "        content_block_start: {choice: {blocks: {path: a, keep: b}}}\n")
    with pytest.raises(litellm_sync.SpecError, match="keep"):
        litellm_sync.Client(providers=str(spec))
