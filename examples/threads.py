"""Threads: one `Client` shared by a ThreadPoolExecutor; each answer comes back to its own request.

    python examples/threads.py [--fake]
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _support import connect

import litellm_sync

MODEL = os.environ.get("LITELLM_SYNC_MODEL", "openai/gpt-4o-mini")
QUESTIONS = [f"Reply with just the number {n}." for n in range(16)]


def ask(client: litellm_sync.Client, question: str, options: dict[str, Any]) -> str:
    """One call; the Client is safe to share, so every thread uses the same one (and its connection pool)."""
    response = client.completion(MODEL, [litellm_sync.user_message(question)], **options)
    return response.content or ""


def ask_all(client: litellm_sync.Client, options: dict[str, Any]) -> list[str]:
    """Every question at once from 8 threads; answers in question order."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda question: ask(client, question, options), QUESTIONS))


def main() -> None:
    with litellm_sync.Client(pool_size=8, max_retries=2) as client, connect(MODEL, client) as connection:
        answers = ask_all(client, connection.options)
    for question, answer in zip(QUESTIONS, answers):
        print(f"{question} -> {answer}")
    print(f"{len(answers)} answers from 8 threads sharing one Client")


if __name__ == "__main__":
    main()
