"""Conformance: real recorded provider traffic (../shared/conformance) read back through completion()."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import litellm_sync
from litellm_sync.testing import FakeProviderServer, Reply

# ../shared/conformance, or LITELLM_SYNC_CONFORMANCE_DIR (e.g. when run from a git worktree).
CONFORMANCE_DIR = Path(
    os.environ.get("LITELLM_SYNC_CONFORMANCE_DIR") or Path(__file__).resolve().parents[2] / "shared" / "conformance"
)
# cases/: chat-style dialects; responses/: OpenAI's Responses API (provider openai_responses).
CASES = sorted(
    path for folder in ("cases", "responses") if (CONFORMANCE_DIR / folder).is_dir()
    for path in (CONFORMANCE_DIR / folder).glob("*/*.json")
)

pytestmark = pytest.mark.skipif(not CASES, reason="../shared/conformance is not present")

# Recordings whose expectation says "reasoning" although the body carries no reasoning text to surface:
# only encrypted reasoning, a signature, or a reasoning-token count. Nothing visible can be returned.
NO_VISIBLE_REASONING = {
    "openrouter-json-reasoning-5afce3528d",
    "openrouter-json-reasoning-cdb8ffc575",
    "openrouter-stream-reasoning-82c43fddf8",
    "openrouter-stream-reasoning-bdff0cd050",
}


@pytest.fixture(scope="module")
def server() -> Any:
    with FakeProviderServer() as fake:
        yield fake


@pytest.fixture(scope="module")
def client() -> Any:
    with litellm_sync.Client(max_retries=0) as shared:
        yield shared


def _call(client: litellm_sync.Client, server: FakeProviderServer, case: dict[str, Any]) -> Any:
    response = case["response"]
    server.enqueue(Reply(status=response["status"], body=response["body"], content_type=response["content_type"]))
    model = f"{case['provider']}/{case['model']}"
    messages = [{"role": "user", "content": "hello"}]
    if case["stream"]:
        with client.completion(model, messages, stream=True, api_base=server.url, api_key="sk-conformance") as s:
            return s.response()
    return client.completion(model, messages, api_base=server.url, api_key="sk-conformance")


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path, server: FakeProviderServer, client: litellm_sync.Client) -> None:
    case = json.loads(path.read_text())
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(litellm_sync.APIError) as info:
            _call(client, server, case)
        classes = tuple(getattr(litellm_sync, name) for name in expect["error"]["classes"])
        assert isinstance(info.value, classes), f"{type(info.value).__name__}: {info.value}"
        assert info.value.status_code == expect["error"]["status"]
        return
    result = _call(client, server, case)
    message = result.choices[0].message
    assert (message.content or "") == expect["text"]
    calls = [(c.function.name, json.loads(c.function.arguments or "{}")) for c in message.tool_calls or ()]
    assert calls == [(c["name"], c["arguments"]) for c in expect["tool_calls"]]
    assert all(c.id for c in message.tool_calls or ())
    if expect["finish_reason"] is not None:
        assert result.choices[0].finish_reason in expect["finish_reason"]
    usage = expect.get("usage")
    if usage and usage.get("prompt_tokens") is not None:
        assert result.usage is not None
        assert result.usage.prompt_tokens in usage["prompt_tokens"]
        assert result.usage.completion_tokens in usage["completion_tokens"]
    if expect.get("reasoning") and case["id"] not in NO_VISIBLE_REASONING:
        assert message.reasoning_content
