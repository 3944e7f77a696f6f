"""A stream request answered with one JSON body (a server that ignores `stream`) still reads correctly."""

from __future__ import annotations

import pytest

import litellm_sync
from litellm_sync.testing import FakeProviderServer, Reply

MESSAGES = [{"role": "user", "content": "hi"}]
WHOLE = {
    "id": "chatcmpl-1",
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "whole answer",
                "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
            },
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2},
}


def test_json_answer_to_a_stream_request_is_one_chunk(server: FakeProviderServer) -> None:
    server.enqueue(Reply(json=WHOLE))
    with litellm_sync.Client(max_retries=0) as client:
        stream = client.completion("openai/gpt-4o-mini", MESSAGES, stream=True, api_key="k", api_base=server.url)
        chunks = list(stream)
        assert len(chunks) == 1 and chunks[0].usage.total_tokens == 5
        rebuilt = stream.response()
        assert rebuilt.content == "whole answer"
        assert rebuilt.choices[0].finish_reason == "tool_calls"
        assert [(c.id, c.function.name) for c in rebuilt.choices[0].message.tool_calls] == [("call_1", "f")]
        pool = client.transport.connection_pools()[0]
        assert pool.num_connections == 1 and pool.pool.qsize() == pool.pool.maxsize  # connection back in the pool


def test_json_error_in_a_200_answer_to_a_stream_request_is_raised(server: FakeProviderServer) -> None:
    server.enqueue(Reply(json={"error": {"message": "upstream failed", "code": 502}}))
    with litellm_sync.Client(max_retries=0) as client, pytest.raises(litellm_sync.ServiceUnavailableError) as info:
        list(client.completion("openai/gpt-4o-mini", MESSAGES, stream=True, api_key="k", api_base=server.url))
    assert "upstream failed" in str(info.value)
