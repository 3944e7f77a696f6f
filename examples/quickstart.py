"""Quickstart: one chat completion, printed. Runs offline against a fake provider when no key is set.

    python examples/quickstart.py            # real call if OPENAI_API_KEY is set, else the fake provider
    python examples/quickstart.py --fake     # always the fake provider
    LITELLM_SYNC_MODEL=anthropic/claude-haiku-4-5 python examples/quickstart.py
"""

from __future__ import annotations

import os

from _support import connect

import litellm_sync

MODEL = os.environ.get("LITELLM_SYNC_MODEL", "openai/gpt-4o-mini")


def main() -> None:
    messages = [
        litellm_sync.system_message("You are a concise assistant."),
        litellm_sync.user_message("In one sentence, what is a synchronous API?"),
    ]
    with connect(MODEL) as connection:
        response = litellm_sync.completion(MODEL, messages, **connection.options)
    print(response.content)
    usage = response.usage
    if usage is not None:
        print(f"[{response.provider}/{response.model}: {usage.prompt_tokens} in, {usage.completion_tokens} out, "
              f"cost {'unknown' if response.cost is None else f'${response.cost:.6f}'}]")


if __name__ == "__main__":
    main()
