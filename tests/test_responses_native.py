"""litellm_sync.responses(): the Responses API called natively, with completion()'s errors, retries, hooks and
costs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import litellm_sync
import litellm_sync.cache
from litellm_sync.budgets import Budget, Budgets
from litellm_sync.testing import FakeProviderServer, Reply

BODY = {
    "id": "resp_1", "object": "response", "created_at": 1700000000, "model": "gpt-5-mini-2025-08-07",
    "status": "completed", "incomplete_details": None,
    "output": [
        {"id": "rs_1", "type": "reasoning", "summary": [], "encrypted_content": "gAAAA"},
        {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "Hello ", "annotations": []},
                     {"type": "output_text", "text": "there.", "annotations": []}]},
    ],
    "usage": {"input_tokens": 100, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 40,
              "output_tokens_details": {"reasoning_tokens": 30}, "total_tokens": 140},
}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as fake:
        yield fake


def _client(**options: Any) -> litellm_sync.Client:
    return litellm_sync.Client(retry_policy=litellm_sync.RetryPolicy(max_retries=1, sleep=lambda _s: None), **options)


def test_input_goes_as_given_and_the_responses_object_comes_back(server: FakeProviderServer) -> None:
    server.clear()
    server.enqueue(Reply(json=BODY))
    with _client() as client:
        result = litellm_sync.responses(
            "openai_responses/gpt-5-mini", "Say hello", client=client, api_base=server.url, api_key="sk-test",
            max_tokens=50, reasoning={"effort": "low", "summary": "auto"}, previous_response_id="resp_0",
        )
    assert dict(result) == BODY
    assert result.output_text == "Hello there."
    assert result.provider == "openai_responses"
    assert result.chat.choices[0].message.content == "Hello there."
    # gpt-5-mini's prices (openai_responses shares openai's registry): 100 in at 0.25, 40 out at 2.00 per 1M
    assert result.cost is not None and result.cost > 0
    assert result.cost == result.chat.cost
    sent = server.requests[-1]
    assert sent.path == "/responses"
    assert sent.json == {
        "model": "gpt-5-mini", "input": "Say hello", "store": False, "include": ["reasoning.encrypted_content"],
        "max_output_tokens": 50, "reasoning": {"effort": "low", "summary": "auto"},
        "previous_response_id": "resp_0",
    }


def test_openai_models_go_to_the_responses_provider_with_items_as_given(server: FakeProviderServer) -> None:
    items = [{"role": "developer", "content": "Be terse."},
             {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}]
    server.enqueue(Reply(json=BODY))
    with _client() as client:
        result = litellm_sync.responses("openai/gpt-5-mini", items, client=client, api_base=server.url,
                                        api_key="sk-test")
    assert result.provider == "openai_responses"
    assert server.requests[-1].path == "/responses"
    assert server.requests[-1].json["input"] == items


def test_errors_are_typed_retried_and_seen_by_hooks(server: FakeProviderServer) -> None:
    events: list[Any] = []
    server.clear()
    server.enqueue(Reply(status=500, json={"error": {"message": "boom", "type": "server_error"}}), Reply(json=BODY))
    with _client(hooks=[events.append]) as client:
        result = litellm_sync.responses("openai_responses/gpt-5-mini", "Hi", client=client, api_base=server.url,
                                        api_key="sk-test")
        assert result.output_text == "Hello there."
        assert len(server.requests) == 2  # the 500 was retried
        server.enqueue(Reply(status=400, json={"error": {
            "message": "Invalid 'temperature': decimal below minimum value.", "type": "invalid_request_error",
            "code": "decimal_below_min_value"}}))
        with pytest.raises(litellm_sync.BadRequestError, match="decimal below minimum value") as info:
            litellm_sync.responses("openai_responses/gpt-5-mini", "Hi", client=client, api_base=server.url,
                                   api_key="sk-secret-123", temperature=-1)
    assert "sk-secret-123" not in str(info.value)
    assert [e.error is None for e in events] == [True, False]
    assert events[0].response.usage.prompt_tokens == 100
    assert events[0].provider == "openai_responses"


def test_refusals_are_clear(server: FakeProviderServer) -> None:
    with _client() as client:
        with pytest.raises(litellm_sync.BadRequestError, match="does not speak the Responses API"):
            litellm_sync.responses("anthropic/claude-sonnet-4-5", "Hi", client=client, api_key="k")
        with pytest.raises(litellm_sync.BadRequestError, match="input must be"):
            litellm_sync.responses("openai_responses/gpt-5", [], client=client, api_key="k")


def _events(*payloads: dict[str, Any]) -> list[str]:
    return [f"event: {p['type']}\ndata: {json.dumps(p)}\n\n" for p in payloads]


START = {"id": "resp_s", "object": "response", "created_at": 1, "model": "gpt-5", "status": "in_progress",
         "output": [], "usage": None}


def test_stream_yields_the_events_and_ends_with_the_final_response(server: FakeProviderServer) -> None:
    seen: list[Any] = []
    final = {**BODY, "id": "resp_s"}
    server.clear()
    server.enqueue(Reply(events=_events(
        {"type": "response.created", "response": START},
        {"type": "response.output_text.delta", "output_index": 1, "content_index": 0, "delta": "Hello "},
        {"type": "response.output_text.delta", "output_index": 1, "content_index": 0, "delta": "there."},
        {"type": "response.completed", "response": final},
    )))
    with _client(hooks=[seen.append]) as client:
        stream = litellm_sync.responses("openai_responses/gpt-5-mini", "Hi", client=client, api_base=server.url,
                                        api_key="sk-test", stream=True)
        assert isinstance(stream, litellm_sync.ResponsesStream)
        with stream:
            events = list(stream)
    assert [e["type"] for e in events] == [
        "response.created", "response.output_text.delta", "response.output_text.delta", "response.completed"
    ]
    assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") == "Hello there."
    assert stream.final is not None and dict(stream.final) == final
    assert stream.final.output_text == "Hello there." and stream.final.cost is not None
    assert server.requests[-1].json["stream"] is True and server.requests[-1].json["input"] == "Hi"
    assert len(seen) == 1 and seen[0].complete and seen[0].stream and seen[0].response.usage.total_tokens == 140


@pytest.mark.parametrize(
    ("tail", "error_class"),
    [
        ([{"type": "response.failed", "response": {**START, "status": "failed",
                                                   "error": {"code": "rate_limit_exceeded", "message": "Slow down"}}}],
         litellm_sync.RateLimitError),
        ([], litellm_sync.APIConnectionError),  # the connection closed before response.completed
    ],
)
def test_stream_errors_are_typed_and_told_to_hooks(
    server: FakeProviderServer, tail: list[dict[str, Any]], error_class: type
) -> None:
    seen: list[Any] = []
    server.enqueue(Reply(events=_events({"type": "response.created", "response": START}, *tail)))
    with _client(hooks=[seen.append]) as client:
        stream = litellm_sync.responses("openai_responses/gpt-5-mini", "Hi", client=client, api_base=server.url,
                                        api_key="sk-test", stream=True)
        with pytest.raises(error_class), stream:
            list(stream)
    assert len(seen) == 1 and isinstance(seen[0].error, error_class) and not seen[0].complete


def test_correlation_ids_budgets_and_hooks_apply_as_to_completion(server: FakeProviderServer) -> None:
    events: list[Any] = []
    server.clear()
    server.enqueue(Reply(json=BODY),
                   Reply(status=400, json={"error": {"message": "bad", "type": "invalid_request_error"}}))
    budgets = Budgets([Budget("0.00004", per="user")])  # ~one call of gpt-5-mini (0.000105)
    with _client(hooks=[events.append], budgets=budgets) as client:
        first = litellm_sync.responses("openai_responses/gpt-5-mini", "Hi", client=client, api_base=server.url,
                                       api_key="sk-test", metadata={"request_id": "resp-req-1", "user": "ann"})
        assert first.cost is not None and client.spend(user="ann").usd == first.cost  # counted from its usage
        with pytest.raises(litellm_sync.BudgetExceededError) as refused:  # ann is now over: nothing is sent
            litellm_sync.responses("openai_responses/gpt-5-mini", "Hi", client=client, api_base=server.url,
                                   api_key="sk-test", metadata={"request_id": "resp-req-2", "user": "ann"})
        assert refused.value.correlation_id == "resp-req-2" and len(server.requests) == 1
        with pytest.raises(litellm_sync.BadRequestError) as failed:
            litellm_sync.responses("openai_responses/gpt-5-mini", "Hi", client=client, api_base=server.url,
                                   api_key="sk-test", metadata={"request_id": "resp-req-3", "user": "bob"})
    assert failed.value.correlation_id == "resp-req-3"
    assert all("metadata" not in (r.json or {}) for r in server.requests)  # metadata is never sent
    # as for completion(), a call refused before sending (the budget) is not a call the hooks hear of
    assert [(e.correlation_id, e.error is None, e.metadata.get("user")) for e in events] == [
        ("resp-req-1", True, "ann"), ("resp-req-3", False, "bob")]


def test_the_cache_answers_a_repeated_call_and_never_crosses_with_completion(server: FakeProviderServer) -> None:
    events: list[Any] = []
    server.clear()
    server.enqueue(Reply(json=BODY))
    with _client(hooks=[events.append], cache=litellm_sync.cache.MemoryCache()) as client:
        def ask() -> Any:
            return litellm_sync.responses("openai_responses/gpt-5-mini", "Hi", client=client, api_base=server.url,
                                          api_key="sk-test")

        sent = ask()
        again = ask()
        assert len(server.requests) == 1  # the second was served from the cache
        assert not sent.cache_hit and again.cache_hit
        assert dict(again) == dict(sent) == BODY and again.output_text == "Hello there."
        assert again.cost == 0 and again.chat.cache_hit and again.provider == "openai_responses"
        assert [e.cache_hit for e in events] == [False, True]
        # completion() with the same model and message is another entry: it is sent, and does not feed responses()
        server.enqueue(Reply(json=BODY))
        chat = client.completion("openai_responses/gpt-5-mini", [{"role": "user", "content": "Hi"}],
                                 api_base=server.url, api_key="sk-test")
        assert not chat.cache_hit and len(server.requests) == 2
        assert ask().cache_hit and len(server.requests) == 2
        # a streamed responses() call is always sent
        server.enqueue(Reply(events=_events({"type": "response.created", "response": START},
                                            {"type": "response.completed", "response": BODY})))
        with ask_stream(client, server) as stream:
            assert [e["type"] for e in stream] == ["response.created", "response.completed"]
        assert len(server.requests) == 3


def ask_stream(client: litellm_sync.Client, server: FakeProviderServer) -> Any:
    return litellm_sync.responses("openai_responses/gpt-5-mini", "Hi", client=client, api_base=server.url,
                                  api_key="sk-test", stream=True)


def test_a_stream_is_read_in_its_call_context(server: FakeProviderServer) -> None:
    from litellm_sync.observability import current_correlation_id

    seen: list[Any] = []
    server.clear()
    server.enqueue(Reply(events=_events({"type": "response.created", "response": START},
                                        {"type": "response.completed", "response": BODY})))
    with _client(hooks=[lambda e: seen.append((e.correlation_id, current_correlation_id()))]) as client:
        stream = litellm_sync.responses("openai_responses/gpt-5-mini", "Hi", client=client, api_base=server.url,
                                        api_key="sk-test", stream=True, metadata={"request_id": "rs-1"})
        assert current_correlation_id() is None
        with stream:
            list(stream)
    assert seen == [("rs-1", "rs-1")]
