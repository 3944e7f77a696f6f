"""A custom provider declared in YAML (custom_provider.yaml next to this file), called like any other.

    ACME_API_KEY=... python examples/custom_provider.py
    python examples/custom_provider.py --fake
"""

from __future__ import annotations

from pathlib import Path

from _support import connect

import litellm_sync

SPEC = Path(__file__).resolve().with_name("custom_provider.yaml")
MODEL = "acme/acme-chat-1"


def main() -> None:
    with litellm_sync.Client(providers=SPEC) as client:
        info = client.get_model_info(MODEL)
        print(f"{MODEL}: context {info.context_window}, ${info.input_price}/M in, ${info.output_price}/M out")
        with connect(MODEL, client) as connection:
            response = client.completion(MODEL, [litellm_sync.user_message("Hello, ACME!")], **connection.options)
        print(response.content)
        print(f"cost: {'unknown' if response.cost is None else f'${response.cost:.8f}'}")


if __name__ == "__main__":
    main()
