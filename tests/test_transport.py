"""The transport seam: ChatStream sees only a minimal response (no urllib3, requests or web imports), SSE
re-encoding lives in `litellm_sync.web`, and an abandoned stream closes its connection without running hooks."""

from __future__ import annotations

import ast
import gc
import json
from pathlib import Path
from typing import Any

import pytest

import litellm_sync
from litellm_sync.testing import FakeProviderServer, Reply
from litellm_sync.web import sse

MESSAGES = [{"role": "user", "content": "one two three"}]
STREAM_SOURCE = Path(litellm_sync.__file__).parent / "stream.py"


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(("." * node.level) + (node.module or ""))
    return found


def test_chat_stream_imports_no_transport_and_no_web_layer() -> None:
    modules = _imported_modules(STREAM_SOURCE)
    assert modules, "the import scan found nothing: the test itself is broken"
    for forbidden in ("urllib3", "requests", ".web", "._engine.transport", "litellm_sync.web", "http.client"):
        assert not any(m == forbidden or m.startswith(forbidden + ".") for m in modules), (forbidden, modules)


def test_web_sse_reencodes_a_stream_and_ends_with_done(server: FakeProviderServer) -> None:
    with litellm_sync.Client(max_retries=0) as client:
        stream = client.completion("openai/gpt-4o-mini", MESSAGES, stream=True, api_key="k", api_base=server.url)
        events = list(sse(stream))
    assert events[-1] == b"data: [DONE]\n\n"
    payloads = [json.loads(e[len(b"data: "):]) for e in events[:-1]]
    assert "".join(p["choices"][0]["delta"].get("content") or "" for p in payloads if p["choices"]) == (
        "Echo: one two three"
    )


def test_web_sse_turns_a_mid_stream_error_into_an_error_event(server: FakeProviderServer) -> None:
    first = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
             "choices": [{"index": 0, "delta": {"content": "partial"}, "finish_reason": None}]}
    server.enqueue(Reply(events=[f"data: {json.dumps(first)}\n\n",
                                 'data: {"error": {"message": "overloaded now", "type": "server_error"}}\n\n']))
    with litellm_sync.Client(max_retries=0) as client:
        stream = client.completion("openai/gpt-4o-mini", MESSAGES, stream=True, api_key="k", api_base=server.url)
        events = list(sse(stream))
    assert events[-1] == b"data: [DONE]\n\n"
    error = json.loads(events[-2][len(b"data: "):])["error"]
    assert "overloaded now" in error["message"] and error["type"].endswith("Error")


# The stream and its generator form a reference cycle: the collector may finalize the socket (with a
# ResourceWarning) before the stream's __del__ closes it. Either way the connection closes, which is asserted.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_abandoned_stream_closes_its_connection_without_hooks(server: FakeProviderServer) -> None:
    seen: list[Any] = []
    many = [f'data: {{"choices": [{{"index": 0, "delta": {{"content": "t{i} "}}}}]}}\n\n' for i in range(50)]
    server.enqueue(Reply(events=[*many, "data: [DONE]\n\n"], chunk_delay=0.05))
    with litellm_sync.Client(max_retries=0, hooks=[seen.append]) as client:
        stream = client.completion("openai/gpt-4o-mini", MESSAGES, stream=True, api_key="k", api_base=server.url)
        next(iter(stream))
        assert server.open_connections == 1
        del stream
        gc.collect()
        assert server.wait_for_open_connections(0, timeout=5.0), "the abandoned stream's connection stayed open"
        assert seen == []  # no hook ran from __del__
        # A stream that is closed is reported as usual.
        closed = client.completion("openai/gpt-4o-mini", MESSAGES, stream=True, api_key="k", api_base=server.url)
        closed.close()
    assert len(seen) == 1 and seen[0].complete is False
