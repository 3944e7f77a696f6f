"""Streaming: print tokens as they arrive, then the usage and cost of the whole answer.

    python examples/streaming.py [--fake]
"""

from __future__ import annotations

import os
import sys

from _support import connect

import litellm_sync

MODEL = os.environ.get("LITELLM_SYNC_MODEL", "openai/gpt-4o-mini")


def main() -> None:
    messages = [litellm_sync.user_message("Count from one to ten in words, separated by spaces.")]
    # Leaving the `with` block closes the stream (and releases its connection) even if we stop early.
    with connect(MODEL) as connection, litellm_sync.completion(
        MODEL, messages, stream=True, **connection.options
    ) as stream:
        for text in stream.text():
            sys.stdout.write(text)
            sys.stdout.flush()
        print()
        usage = stream.usage
    if usage is not None:
        cost = "unknown" if stream.cost is None else f"${stream.cost:.6f}"
        print(f"[{usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens, cost {cost}]")


if __name__ == "__main__":
    main()
