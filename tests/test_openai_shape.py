"""The OpenAI shape is a contract: every ChatResponse and ChatChunk, for every provider and dialect, streaming
or not, serialises (`to_dict()`) to something openai-python's own `ChatCompletion` / `ChatCompletionChunk`
models accept in strict mode, and so does `stream_chunk_builder`'s result.

Replayed: the fake server's reply for every provider in providers.yaml (streaming and not), the project's
stream transcripts (tests/test_stream_transcripts.py) for every provider of each transcript's dialect, and
every recorded success case in ../shared/conformance when it is present. Then the rules behind the shape:
generated ids, one id per stream, integer usage counts, finish reasons from OpenAI's set with the raw value
kept, and a library that never imports `openai` (a test-only dependency).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

import pytest
import test_stream_transcripts as transcripts
import yaml

import litellm_sync
from litellm_sync.testing import FakeProviderServer, Reply

# openai is a test-only dependency (the `test` extra); the library itself never imports it (tested below).
openai_chat = pytest.importorskip("openai.types.chat", reason="openai (the test extra) validates the shape")
ChatCompletion = openai_chat.ChatCompletion
ChatCompletionChunk = openai_chat.ChatCompletionChunk
# The finish reasons the SDK accepts, read off its own type.
OPENAI_FINISH_REASONS = frozenset(get_args(openai_chat.chat_completion.Choice.model_fields["finish_reason"].annotation))

ROOT = Path(__file__).resolve().parents[1]
SPEC = yaml.safe_load((ROOT / "providers.yaml").read_text(encoding="utf-8"))
# Where tests/test_conformance.py looks, or LITELLM_SYNC_CONFORMANCE_DIR (e.g. when run from a git worktree).
SHARED = Path(
    os.environ.get("LITELLM_SYNC_CONFORMANCE_DIR") or Path(__file__).resolve().parents[2] / "shared" / "conformance"
)
RECORDED = sorted(SHARED.glob("cases/*/*.json")) + sorted(SHARED.glob("responses/*/*.json"))
MESSAGES = [{"role": "user", "content": "hello"}]
GENERATED_ID = re.compile(r"chatcmpl-[0-9a-f]{32}\Z")


def _dialect(provider: str) -> str:
    """The dialect a provider entry ends up extending (test-side reading of the YAML)."""
    name = provider
    while name in SPEC["providers"]:
        name = SPEC["providers"][name]["extends"]
    assert name in SPEC["dialects"], f"{provider} extends no dialect"
    return name


PROVIDERS = sorted(  # the providers that chat (voyage and jina serve embeddings and rerank only: `chat: null`)
    name for name, entry in SPEC["providers"].items() if (entry.get("endpoints") or {}).get("chat", True) is not None
)
TRANSCRIPT_OF = {_dialect(model.split("/")[0]): name for name, (model, *_rest) in transcripts.CASES.items()}
# A provider whose stream ends with the body (`done: null`, watsonx.ai) cannot read its dialect's [DONE] transcript.
TRANSCRIPT_RUNS = [(p, TRANSCRIPT_OF[_dialect(p)]) for p in PROVIDERS if _dialect(p) in TRANSCRIPT_OF
                   and (SPEC["providers"][p].get("stream") or {}).get("done", "") is not None]


@pytest.fixture(scope="module")
def client() -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(max_retries=0) as instance:
        yield instance


@pytest.fixture(autouse=True)
def _no_token_exchange(monkeypatch: pytest.MonkeyPatch) -> None:
    # token_exchange providers (watsonx) trade the key at an outside endpoint (tested in test_watsonx.py).
    monkeypatch.setattr("litellm_sync._engine.auth_token.TokenCache.current", lambda self: "test-token")


def assert_valid_response(response: Any) -> Any:
    """Strict validation of `to_dict()`, as a Python object and as the JSON a server would send on."""
    data = response.to_dict()
    parsed = ChatCompletion.model_validate(data, strict=True)
    ChatCompletion.model_validate_json(json.dumps(data), strict=True)
    return parsed


def assert_valid_stream(chunks: list[Any]) -> Any:
    """Every chunk validates and shares one id and created; the rebuilt response validates with that id."""
    assert chunks, "the stream yielded no chunk"
    for chunk in chunks:
        data = chunk.to_dict()
        ChatCompletionChunk.model_validate(data, strict=True)
        ChatCompletionChunk.model_validate_json(json.dumps(data), strict=True)
        for choice in chunk.choices:
            assert all(call.type == "function" for call in choice.delta.tool_calls or ())
    assert len({(chunk.id, chunk.created) for chunk in chunks}) == 1, "chunks of one stream differ in id or created"
    built = litellm_sync.stream_chunk_builder(chunks)
    assert built.id == chunks[0].id
    return assert_valid_response(built)


def _call(client: litellm_sync.Client, server: FakeProviderServer, model: str, stream: bool) -> Any:
    if not stream:
        return client.completion(model, MESSAGES, api_base=server.url, api_key="sk-shape")
    with client.completion(model, MESSAGES, stream=True, api_base=server.url, api_key="sk-shape") as answer:
        return list(answer)


def _replay(client: litellm_sync.Client, server: FakeProviderServer, model: str, stream: bool) -> Any:
    got = _call(client, server, model, stream)
    return assert_valid_stream(got) if stream else assert_valid_response(got)


# -- every provider, every dialect ---------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_fake_server_reply_of_every_provider(
    client: litellm_sync.Client, server: FakeProviderServer, provider: str, stream: bool
) -> None:
    parsed = _replay(client, server, f"{provider}/fake-model", stream)
    assert parsed.choices[0].message.content == "Echo: hello"
    assert parsed.choices[0].finish_reason == "stop"


def test_every_dialect_has_a_transcript() -> None:
    assert {_dialect(p) for p in PROVIDERS} <= set(TRANSCRIPT_OF), "a dialect has no stream transcript here"


@pytest.mark.parametrize(("provider", "transcript"), TRANSCRIPT_RUNS, ids=[p for p, _ in TRANSCRIPT_RUNS])
def test_stream_transcript_for_every_provider(
    client: litellm_sync.Client, server: FakeProviderServer, provider: str, transcript: str
) -> None:
    model, body, _ids, (prompt, completion, total, cached) = transcripts.CASES[transcript]
    server.enqueue(Reply(events=[body]))  # type: ignore[list-item]  # bytes: binary framings too
    parsed = _replay(client, server, f"{provider}/{model.split('/', 1)[1]}", True)
    choice = parsed.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert [(c.type, c.function.name) for c in choice.message.tool_calls or ()] == [
        ("function", "get_weather"),
        ("function", "get_time"),
    ]
    assert parsed.usage is not None
    assert (parsed.usage.prompt_tokens, parsed.usage.completion_tokens, parsed.usage.total_tokens) == (
        prompt,
        completion,
        total,
    )
    # Our nested details are what openai-python code reads.
    details = parsed.usage.prompt_tokens_details
    assert (details.cached_tokens if details is not None else None) == cached


@pytest.mark.skipif(not RECORDED, reason="../shared/conformance is not present")
@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
def test_recorded_case(client: litellm_sync.Client, server: FakeProviderServer, path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    if "error" in case["expect"]:
        pytest.skip("an error case has no response to validate")
    if case["provider"] not in SPEC["providers"]:
        pytest.skip(f"provider {case['provider']} is not in providers.yaml yet")
    reply = case["response"]
    server.enqueue(Reply(status=reply["status"], body=reply["body"], content_type=reply["content_type"]))
    parsed = _replay(client, server, f"{case['provider']}/{case['model']}", case["stream"])
    if case["expect"]["finish_reason"] is not None:
        assert parsed.choices[0].finish_reason in case["expect"]["finish_reason"]


# -- the rules behind the shape ------------------------------------------------------------------------------


def _openai_body(finish: Any, **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": "Hi"}
    message.update(extra.pop("message", {}))
    return {"choices": [{"index": 0, "message": message, "finish_reason": finish}], **extra}


def test_a_response_without_an_id_gets_a_fresh_generated_one(
    client: litellm_sync.Client, server: FakeProviderServer
) -> None:
    server.enqueue(Reply(json=_openai_body("stop")), Reply(json=_openai_body("stop")))
    first, second = (_call(client, server, "openai/gpt-4o-mini", False) for _ in range(2))
    assert GENERATED_ID.match(first.id) and GENERATED_ID.match(second.id)
    assert first.id != second.id
    assert_valid_response(first)


def test_a_stream_without_an_id_has_one_generated_id_on_every_chunk(
    client: litellm_sync.Client, server: FakeProviderServer
) -> None:
    model, body, *_ = transcripts.CASES["ollama"]  # NDJSON: no id anywhere
    server.enqueue(Reply(events=[body.decode()]))
    chunks = _call(client, server, model, True)
    assert len(chunks) > 3
    assert GENERATED_ID.match(chunks[0].id)
    assert_valid_stream(chunks)


def test_an_id_that_arrives_late_does_not_change_the_stream_id(
    client: litellm_sync.Client, server: FakeProviderServer
) -> None:
    def event(delta: dict[str, Any], **top: Any) -> str:
        return transcripts._data({**top, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})

    server.enqueue(Reply(events=[
        event({"content": "a"}, created=5),
        event({"content": "b"}, id="chatcmpl-late", created=6),
        "data: [DONE]\n\n",
    ]))
    chunks = _call(client, server, "openai/gpt-4o-mini", True)
    assert [c.delta.content for chunk in chunks for c in chunk.choices] == ["a", "b"]
    assert GENERATED_ID.match(chunks[0].id)
    assert chunks[0].created == 5
    assert_valid_stream(chunks)


def test_the_providers_id_is_kept(client: litellm_sync.Client, server: FakeProviderServer) -> None:
    server.enqueue(Reply(json=_openai_body("stop", id="chatcmpl-abc", created=7, model="gpt-4o-mini-2024")))
    response = _call(client, server, "openai/gpt-4o-mini", False)
    assert (response.id, response.created, response.model) == ("chatcmpl-abc", 7, "gpt-4o-mini-2024")


@pytest.mark.parametrize(
    ("raw", "calls", "expected"),
    [
        ("stop", False, "stop"),
        ("eos", False, "stop"),                 # mapped in the openai_chat dialect's finish_reasons
        ("model_length", False, "length"),
        ("abort", False, "stop"),               # named by no map: the generic fallback
        ("abort", True, "tool_calls"),
        (3, True, "tool_calls"),                # not even a string
        ("content_filter", False, "content_filter"),
    ],
)
def test_finish_reasons_are_openai_ones_and_the_raw_value_is_kept(
    client: litellm_sync.Client, server: FakeProviderServer, raw: Any, calls: bool, expected: str
) -> None:
    tool_calls = [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    message = {"tool_calls": tool_calls} if calls else {}
    server.enqueue(Reply(json=_openai_body(raw, message=message)))
    response = _call(client, server, "openai/gpt-4o-mini", False)
    choice = response.choices[0]
    assert choice.finish_reason == expected
    assert choice.provider_specific_fields == {"finish_reason": raw}
    assert choice.to_dict()["provider_specific_fields"] == {"finish_reason": raw}
    assert_valid_response(response)


def test_a_stream_keeps_the_raw_finish_reason_on_its_last_chunk_and_in_the_rebuilt_response(
    client: litellm_sync.Client, server: FakeProviderServer
) -> None:
    def ev(name: str, payload: dict[str, Any]) -> str:
        return transcripts._data({"type": name, **payload}, event=name)

    server.enqueue(Reply(events=[
        ev("message_start", {"message": {"id": "msg_1", "model": "claude-x", "role": "assistant",
                                         "usage": {"input_tokens": 3, "output_tokens": 1}}}),
        ev("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
        ev("message_delta", {"delta": {"stop_reason": "max_tokens"}, "usage": {"output_tokens": 9}}),
        ev("message_stop", {}),
    ]))
    chunks = _call(client, server, "anthropic/claude-x", True)
    finishing = [c for chunk in chunks for c in chunk.choices if c.finish_reason is not None]
    assert [(c.finish_reason, c.provider_specific_fields) for c in finishing] == [
        ("length", {"finish_reason": "max_tokens"})
    ]
    built = litellm_sync.stream_chunk_builder(chunks)
    assert (built.choices[0].finish_reason, built.choices[0].provider_specific_fields) == (
        "length",
        {"finish_reason": "max_tokens"},
    )
    assert (built.id, built.usage.prompt_tokens, built.usage.completion_tokens) == ("msg_1", 3, 9)
    assert_valid_stream(chunks)


@pytest.mark.parametrize(("calls", "expected"), [(False, "stop"), (True, "tool_calls")])
def test_a_response_with_no_finish_reason_still_has_one(
    client: litellm_sync.Client, server: FakeProviderServer, calls: bool, expected: str
) -> None:
    message: dict[str, Any] = {"role": "assistant", "content": "Hi"}
    if calls:
        message["tool_calls"] = [{"function": {"name": "f", "arguments": {"a": 1}}}]
    server.enqueue(Reply(json={"model": "qwen3", "message": message, "done": True}))  # Ollama without done_reason
    response = _call(client, server, "ollama/qwen3", False)
    assert response.choices[0].finish_reason == expected
    assert response.choices[0].provider_specific_fields is None
    assert_valid_response(response)


def test_every_finish_reason_map_names_openai_reasons_only() -> None:
    found: list[tuple[str, Any]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "finish_reasons":
                    found.extend((f"{where}.{key}.{raw}", mapped) for raw, mapped in value.items())
                elif key == "tool_calls_finish_reason":
                    found.append((f"{where}.{key}", value))
                else:
                    walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for position, item in enumerate(node):
                walk(item, f"{where}[{position}]")

    walk(SPEC, "providers.yaml")
    assert len(found) > 30
    assert [(where, mapped) for where, mapped in found if mapped not in OPENAI_FINISH_REASONS] == []


def test_omitted_usage_counts_are_zero_and_cost_counts_them_as_zero(
    client: litellm_sync.Client, server: FakeProviderServer
) -> None:
    body = {  # Gemini leaves out zero counts: here candidatesTokenCount (and no responseId either)
        "candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}, "finishReason": "MAX_TOKENS"}],
        "usageMetadata": {"promptTokenCount": 1000},
        "modelVersion": "gemini-2.5-flash",
    }
    server.enqueue(Reply(json=body))
    response = _call(client, server, "gemini/gemini-2.5-flash", False)
    usage = response.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (1000, 0, 1000)
    assert usage.to_dict() == {"prompt_tokens": 1000, "completion_tokens": 0, "total_tokens": 1000}
    info = client.get_model_info("gemini/gemini-2.5-flash")
    assert info.input_price is not None
    assert response.cost == Decimal(1000) * info.input_price / Decimal(1_000_000)
    assert response.choices[0].finish_reason == "length"
    assert response.choices[0].provider_specific_fields == {"finish_reason": "MAX_TOKENS"}
    assert_valid_response(response)


def test_a_providers_total_is_kept_and_details_are_nested(
    client: litellm_sync.Client, server: FakeProviderServer
) -> None:
    usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 17,  # a total that counts more
             "prompt_tokens_details": {"cached_tokens": 4}, "completion_tokens_details": {"reasoning_tokens": 2}}
    server.enqueue(Reply(json=_openai_body("stop", usage=usage)))
    parsed = assert_valid_response(_call(client, server, "openai/gpt-4o-mini", False))
    assert parsed.usage is not None
    assert parsed.usage.total_tokens == 17
    assert parsed.usage.prompt_tokens_details is not None and parsed.usage.prompt_tokens_details.cached_tokens == 4
    details = parsed.usage.completion_tokens_details
    assert details is not None and details.reasoning_tokens == 2


def test_odd_values_from_a_provider_still_give_the_shape(
    client: litellm_sync.Client, server: FakeProviderServer
) -> None:
    body = {
        "id": 12, "model": 5, "created": "yesterday",
        "choices": [{"index": 0, "finish_reason": None, "message": {
            "role": "bot", "content": "x",
            "tool_calls": [{"id": 7, "function": {"arguments": "{}"}}, {"function": {"name": ["f"]}}]}}],
    }
    server.enqueue(Reply(json=body))
    response = _call(client, server, "openai/gpt-4o-mini", False)
    assert GENERATED_ID.match(response.id)
    assert response.model == "gpt-4o-mini"
    assert [(c.id.startswith("call_"), c.function.name) for c in response.choices[0].message.tool_calls] == [
        (True, ""),
        (True, ""),
    ]
    assert_valid_response(response)
    server.enqueue(Reply(events=[transcripts._data({"id": 3, "choices": [
        {"index": 0, "delta": {"role": "bot", "content": "y", "tool_calls": [{"index": 0, "id": 9}]},
         "finish_reason": None}]}), "data: [DONE]\n\n"]))
    chunks = _call(client, server, "openai/gpt-4o-mini", True)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert_valid_stream(chunks)


def test_an_empty_rebuild_still_has_the_shape() -> None:
    assert_valid_response(litellm_sync.stream_chunk_builder([]))


def test_the_library_never_imports_openai() -> None:
    script = """
import sys
import litellm_sync
from litellm_sync.testing import FakeProviderServer
with FakeProviderServer() as server, litellm_sync.Client(max_retries=0) as client:
    messages = [{"role": "user", "content": "hi"}]
    whole = client.completion("openai/gpt-4o-mini", messages, api_base=server.url, api_key="sk-x")
    with client.completion("anthropic/claude-x", messages, stream=True, api_base=server.url, api_key="sk-x") as s:
        built = litellm_sync.stream_chunk_builder([chunk for chunk in s if chunk.to_dict()])
    assert whole.content == built.content == "Echo: hi", (whole.content, built.content)
    whole.to_dict(), built.to_dict()
print(sorted(name for name in sys.modules if name == "openai" or name.startswith("openai.")))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
