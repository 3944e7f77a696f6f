"""Tool calling, a full round trip: the model asks for get_weather, we run it, send the result back, and
print the final answer.

    python examples/tools.py [--fake]
"""

from __future__ import annotations

import json
import os
from typing import Any

from _support import Connection, connect

import litellm_sync
from litellm_sync.testing import Reply

MODEL = os.environ.get("LITELLM_SYNC_MODEL", "openai/gpt-4o-mini")

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "description": "City name, e.g. Paris"}},
                "required": ["city"],
            },
        },
    }
]


def get_weather(city: str) -> dict[str, Any]:
    """A stand-in for a real weather API."""
    return {"city": city, "temperature_c": 18, "conditions": "light rain"}


def script_tool_call(connection: Connection) -> None:
    """In fake mode, queue a Chat Completions reply in which the model calls get_weather(city="Paris")."""
    if connection.server is None:
        return
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    connection.server.enqueue(
        Reply(
            json={
                "id": "fake-tools-1",
                "object": "chat.completion",
                "created": 0,
                "model": MODEL.split("/", 1)[-1],
                "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
                "usage": {"prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52},
            }
        )
    )


def main() -> None:
    messages: list[dict[str, Any]] = [litellm_sync.user_message("What's the weather in Paris right now?")]
    with connect(MODEL) as connection:
        script_tool_call(connection)
        first = litellm_sync.completion(MODEL, messages, tools=TOOLS, **connection.options)
        calls = first.choices[0].message.tool_calls or []
        messages.append(litellm_sync.assistant_message(first.content, tool_calls=calls))
        for call in calls:
            arguments = json.loads(call.function.arguments or "{}")
            print(f"model called {call.function.name}({arguments})")
            result = get_weather(**arguments)
            messages.append(litellm_sync.tool_message(call.id, result))
        final = litellm_sync.completion(MODEL, messages, tools=TOOLS, **connection.options)
    print(f"final answer: {final.content}")


if __name__ == "__main__":
    main()
