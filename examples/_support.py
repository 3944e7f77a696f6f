"""Shared by the examples: call the real provider when its key is set, else a local fake provider.

Fake mode is on when `--fake` is on the command line, when LITELLM_SYNC_FAKE=1, or when none of the model's
API key variables is set. It starts `litellm_sync.testing.FakeProviderServer` in this process (it echoes
the last user message) and points `api_base` at it, so every example runs offline in a second.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import litellm_sync
except ImportError:  # running from a source checkout without `pip install .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import litellm_sync
from litellm_sync.testing import FakeProviderServer


@dataclass
class Connection:
    """Where to send calls: `options` are extra `completion()` keywords; `server` is the fake, or None."""

    server: FakeProviderServer | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def fake(self) -> bool:
        """Whether calls go to the local fake provider."""
        return self.server is not None


def key_variables(model: str, client: litellm_sync.Client | None = None) -> tuple[str, ...]:
    """The environment variables that hold the API key of the model's provider."""
    client = client or litellm_sync.get_default_client()
    provider = client.resolve(model)[0]
    return tuple((provider.entry.get("auth") or {}).get("env") or ())


def fake_mode(model: str, client: litellm_sync.Client | None = None) -> bool:
    """True for --fake, LITELLM_SYNC_FAKE=1, or when no key variable of the model's provider is set."""
    if "--fake" in sys.argv[1:] or os.environ.get("LITELLM_SYNC_FAKE") == "1":
        return True
    return not any(os.environ.get(name) for name in key_variables(model, client))


@contextmanager
def connect(model: str, client: litellm_sync.Client | None = None) -> Iterator[Connection]:
    """Yield a Connection: the real provider, or a fake provider server running until the block ends."""
    if not fake_mode(model, client):
        yield Connection()
        return
    names = " or ".join(key_variables(model, client)) or "an API key"
    print(f"[fake provider: set {names} to call {model} for real]", file=sys.stderr)
    with FakeProviderServer() as server:
        yield Connection(server, {"api_base": server.url, "api_key": "sk-fake"})
