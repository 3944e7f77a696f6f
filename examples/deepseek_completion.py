"""DeepSeek: a chat answer from deepseek-chat, then deepseek-reasoner's visible reasoning and its answer.

    DEEPSEEK_API_KEY=... python examples/deepseek_completion.py
    python examples/deepseek_completion.py --fake     # offline, scripted reasoning
"""

from __future__ import annotations

from _support import Connection, connect

import litellm_sync
from litellm_sync.testing import Reply

CHAT_MODEL = "deepseek/deepseek-chat"
REASONER_MODEL = "deepseek/deepseek-reasoner"


def script_reasoner_reply(connection: Connection) -> None:
    """In fake mode, queue a reply shaped like DeepSeek's, with reasoning_content, for the reasoner call."""
    if connection.server is None:
        return
    message = {
        "role": "assistant",
        "reasoning_content": "9.11 has 11 hundredths and 9.9 has 90 hundredths, so 9.9 is larger.",
        "content": "9.9 is larger than 9.11.",
    }
    connection.server.enqueue(
        Reply(
            json={
                "id": "fake-reasoner-1",
                "object": "chat.completion",
                "created": 0,
                "model": "deepseek-reasoner",
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42},
            }
        )
    )


def main() -> None:
    with connect(CHAT_MODEL) as connection:
        chat = litellm_sync.completion(
            CHAT_MODEL,
            [
                litellm_sync.system_message("You are a helpful assistant who answers in one short paragraph."),
                litellm_sync.user_message("Why is the sky blue?"),
            ],
            **connection.options,
        )
        print(f"deepseek-chat: {chat.content}")

        script_reasoner_reply(connection)
        reasoned = litellm_sync.completion(
            REASONER_MODEL,
            [litellm_sync.user_message("Which is larger, 9.11 or 9.9?")],
            **connection.options,
        )
    message = reasoned.choices[0].message
    print(f"deepseek-reasoner reasoning: {message.reasoning_content}")
    print(f"deepseek-reasoner answer: {message.content}")


if __name__ == "__main__":
    main()
