"""Provider-specific tool-call fields (the spec's `extra:`) survive a tool round trip, streamed or not."""

from __future__ import annotations

import json
from typing import Any

import pytest

import litellm_sync
from litellm_sync.testing import FakeProviderServer, Reply

SIGNED_CALL = {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "SIG-1"}
REPLY = {
    "candidates": [{"content": {"role": "model", "parts": [SIGNED_CALL]}, "finishReason": "STOP"}],
    "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 3},
}


@pytest.fixture()
def server() -> Any:
    with FakeProviderServer() as fake:
        yield fake


@pytest.mark.parametrize("stream", [False, True])
def test_thought_signature_goes_back_with_its_call(server: FakeProviderServer, stream: bool) -> None:
    client = litellm_sync.Client(max_retries=0)
    question = [{"role": "user", "content": "Weather in Paris?"}]
    if stream:
        server.enqueue(Reply(events=[f"data: {json.dumps(REPLY)}\n\n"]))
        with client.completion("gemini/gemini-2.5-flash", question, stream=True, api_key="k", api_base=server.url) as s:
            answer = s.response()
    else:
        server.enqueue(Reply(json=REPLY))
        answer = client.completion("gemini/gemini-2.5-flash", question, api_key="k", api_base=server.url)
    assert answer.choices[0].finish_reason == "tool_calls"
    call = answer.choices[0].message.tool_calls[0]
    assert call.provider_specific_fields == {"thought_signature": "SIG-1"}
    assert call.to_dict()["provider_specific_fields"] == {"thought_signature": "SIG-1"}

    follow_up = [
        *question,
        litellm_sync.assistant_message(None, tool_calls=[call]),
        litellm_sync.tool_message(call.id, {"celsius": 21}),
    ]
    client.completion("gemini/gemini-2.5-flash", follow_up, api_key="k", api_base=server.url)
    model_turn = server.requests[-1].json["contents"][1]
    assert model_turn == {
        "role": "model",
        "parts": [
            {
                "functionCall": {"id": call.id, "name": "get_weather", "args": {"city": "Paris"}},
                "thoughtSignature": "SIG-1",
            }
        ],
    }


def test_calls_without_extras_carry_none() -> None:
    with FakeProviderServer() as server:
        unsigned = {"functionCall": {"name": "f", "args": {}}}
        server.enqueue(Reply(json={"candidates": [{"content": {"parts": [unsigned]}}]}))
        answer = litellm_sync.Client().completion("gemini/x", [{"role": "user", "content": "hi"}], api_key="k",
                                                  api_base=server.url)
    call = answer.choices[0].message.tool_calls[0]
    assert call.provider_specific_fields is None
    assert "provider_specific_fields" not in call.to_dict()
