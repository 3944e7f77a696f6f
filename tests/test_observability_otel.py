"""The OpenTelemetry hook, captured with the SDK's in-memory exporter: GenAI attributes, the caller's span as
parent, streams ending their span when they end, errors, content only on opt-in, Router events."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

import litellm_sync
from litellm_sync.observability import opentelemetry_hook
from litellm_sync.testing import FakeProviderServer, Reply

if os.environ.get("CI"):
    import opentelemetry.sdk  # noqa: F401 - under CI the extra must be installed: fail, do not skip
else:
    pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

MODEL = "openai/gpt-4o-mini"
HI = [{"role": "user", "content": "span me"}]
KEY = "sk-otel-secret-0123456789abcdef"


@pytest.fixture()
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture()
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    made = TracerProvider()
    made.add_span_processor(SimpleSpanProcessor(exporter))
    return made


@pytest.fixture()
def client(provider: TracerProvider) -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(max_retries=0, hooks=[opentelemetry_hook(provider)]) as made:
        yield made


def spans(exporter: InMemorySpanExporter, name_prefix: str = "chat ") -> list[Any]:
    return [s for s in exporter.get_finished_spans() if s.name.startswith(name_prefix)]


def test_a_call_is_a_client_span_with_genai_attributes_under_the_callers_span(
    client: litellm_sync.Client, server: FakeProviderServer, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    with provider.get_tracer("app").start_as_current_span("GET /ask") as parent:
        answer = client.completion(MODEL, HI, api_key=KEY, api_base=server.url, temperature=0.3, max_tokens=50,
                                   metadata={"request_id": "req-otel"})
    (span,) = spans(exporter)
    assert span.kind == SpanKind.CLIENT and span.name == "chat gpt-4o-mini"
    assert span.parent is not None and span.parent.span_id == parent.get_span_context().span_id
    assert span.context.trace_id == parent.get_span_context().trace_id
    attributes = dict(span.attributes)
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "openai"
    assert attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert attributes["gen_ai.response.model"] == answer.model
    assert attributes["gen_ai.response.id"] == answer.id
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert attributes["gen_ai.usage.input_tokens"] == answer.usage.prompt_tokens
    assert attributes["gen_ai.usage.output_tokens"] == answer.usage.completion_tokens
    assert attributes["gen_ai.request.temperature"] == 0.3 and attributes["gen_ai.request.max_tokens"] == 50
    assert attributes["litellm_sync.correlation_id"] == "req-otel"
    assert attributes["litellm_sync.cost_usd"] == float(answer.cost)
    assert "gen_ai.input.messages" not in attributes and "gen_ai.output.messages" not in attributes
    assert span.status.status_code == StatusCode.UNSET
    assert span.end_time >= span.start_time
    assert all(KEY not in str(value) for value in attributes.values())


def test_a_stream_span_ends_when_the_stream_ends_under_the_span_it_was_opened_in(
    client: litellm_sync.Client, server: FakeProviderServer, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    with provider.get_tracer("app").start_as_current_span("view") as parent:
        stream = client.completion(MODEL, HI, stream=True, api_key=KEY, api_base=server.url)
    assert spans(exporter) == []  # the view returned; the stream is still open
    with stream:  # consumed outside the view's span, as a streaming web response is
        text = "".join(stream.text())
    (span,) = spans(exporter)
    assert span.parent.span_id == parent.get_span_context().span_id
    assert dict(span.attributes)["litellm_sync.stream"] is True
    assert dict(span.attributes)["gen_ai.usage.output_tokens"] == len(text.split())
    assert [e.name for e in span.events] == ["gen_ai.first_token"]


def test_an_error_sets_error_type_and_status(
    client: litellm_sync.Client, server: FakeProviderServer, exporter: InMemorySpanExporter
) -> None:
    server.enqueue(Reply(status=429, json={"error": {"message": "slow down"}}))
    with pytest.raises(litellm_sync.RateLimitError):
        client.completion(MODEL, HI, api_key=KEY, api_base=server.url)
    (span,) = spans(exporter)
    assert dict(span.attributes)["error.type"] == "RateLimitError"
    assert span.status.status_code == StatusCode.ERROR and "slow down" in span.status.description
    assert span.parent is None  # no caller span: a root span


def test_content_only_on_opt_in(server: FakeProviderServer, provider: TracerProvider,
                                exporter: InMemorySpanExporter) -> None:
    with litellm_sync.Client(max_retries=0, hooks=[opentelemetry_hook(provider, capture_content=True)]) as client:
        client.completion(MODEL, HI, api_key=KEY, api_base=server.url)
    (span,) = spans(exporter)
    assert json.loads(span.attributes["gen_ai.input.messages"]) == HI
    output = json.loads(span.attributes["gen_ai.output.messages"])
    assert output[0]["parts"][0]["content"] == "Echo: span me"


def test_router_retries_and_fallbacks_are_events_on_the_callers_span(
    server: FakeProviderServer, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    from litellm_sync.router import Router

    deployments = [
        {"model_name": group, "litellm_params": {"model": MODEL, "api_key": KEY, "api_base": server.url}}
        for group in ("main", "backup")
    ]  # fmt: skip
    server.enqueue(Reply(status=500, json={"error": {"message": "boom"}}))
    with Router(deployments, hooks=[opentelemetry_hook(provider)], fallbacks=[{"main": ["backup"]}], num_retries=0,
                sleep=lambda s: None) as router, provider.get_tracer("app").start_as_current_span("job"):
        router.completion("main", HI)
    (job,) = spans(exporter, "job")
    assert [e.name for e in job.events] == ["litellm_sync.router.fallback"]
    assert dict(job.events[0].attributes)["error.type"] == "InternalServerError"
    calls = spans(exporter)
    assert len(calls) == 2 and all(c.parent.span_id == job.context.span_id for c in calls)


def test_a_cache_hit_is_a_span_that_says_so(
    server: FakeProviderServer, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    from litellm_sync.cache import MemoryCache

    with litellm_sync.Client(max_retries=0, cache=MemoryCache(), hooks=[opentelemetry_hook(provider)]) as client:
        for _ in range(2):
            client.completion(MODEL, HI, api_key=KEY, api_base=server.url)
    sent, hit = spans(exporter)
    assert "litellm_sync.cache_hit" not in sent.attributes and hit.attributes["litellm_sync.cache_hit"] is True
    assert hit.attributes["litellm_sync.cost_usd"] == 0.0 and sent.attributes["litellm_sync.cost_usd"] > 0
    assert len(server.requests) == 1


def test_retries_inside_a_call_are_span_events(
    server: FakeProviderServer, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    from litellm_sync.retry import RetryPolicy

    busy = Reply(status=503, headers={"retry-after": "0"}, json={"error": {"message": "busy"}})
    server.enqueue(busy, busy)
    events: list[Any] = []
    policy = RetryPolicy(max_retries=2, sleep=lambda seconds: None)
    with litellm_sync.Client(retry_policy=policy, hooks=[opentelemetry_hook(provider), events.append]) as client:
        assert client.completion(MODEL, HI, api_key=KEY, api_base=server.url).content == "Echo: span me"
    (span,) = spans(exporter)
    retries = [e for e in span.events if e.name == "litellm_sync.retry"]
    assert [(e.attributes["litellm_sync.attempt"], e.attributes["error.type"]) for e in retries] == [
        (2, "ServiceUnavailableError"), (3, "ServiceUnavailableError"),
    ]
    assert [(r.attempt, r.error) for r in events[0].retries] == [(2, "ServiceUnavailableError"),
                                                                  (3, "ServiceUnavailableError")]
    assert span.status.status_code == StatusCode.UNSET


def test_in_background_builds_the_same_spans_off_the_calling_thread(
    server: FakeProviderServer, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    import threading

    from litellm_sync.observability import current_correlation_id, in_background

    seen: list[tuple[str, str | None, str | None]] = []

    def where(event: Any) -> None:
        seen.append((threading.current_thread().name, event.correlation_id, current_correlation_id()))

    background = in_background(opentelemetry_hook(provider), where)
    with litellm_sync.Client(max_retries=0, hooks=[background]) as client:
        with provider.get_tracer("app").start_as_current_span("GET /ask") as parent:
            for number in range(3):
                client.completion(MODEL, HI, api_key=KEY, api_base=server.url, metadata={"request_id": f"bg-{number}"})
        with client.completion(MODEL, HI, stream=True, api_key=KEY, api_base=server.url,
                               metadata={"request_id": "bg-stream"}) as stream:
            list(stream)
        assert background.flush(10)
    made = spans(exporter)
    assert [dict(s.attributes)["litellm_sync.correlation_id"] for s in made] == ["bg-0", "bg-1", "bg-2", "bg-stream"]
    assert all(s.parent.span_id == parent.get_span_context().span_id for s in made[:3])  # the caller's span
    assert made[3].parent is None  # the stream was opened outside it
    assert all(s.end_time > s.start_time for s in made)
    assert {name for name, _, _ in seen} == {"litellm-sync-hooks"}  # not the calling thread
    assert [(given, current) for _, given, current in seen] == [
        ("bg-0", "bg-0"), ("bg-1", "bg-1"), ("bg-2", "bg-2"), ("bg-stream", "bg-stream")]
    assert background.dropped == 0


def test_in_background_drops_rather_than_blocks_when_hooks_fall_behind() -> None:
    import threading

    from litellm_sync.observability import in_background

    entered, release = threading.Event(), threading.Event()
    told: list[str] = []

    def slow(event: Any) -> None:
        entered.set()
        release.wait(10)
        told.append(event.correlation_id)

    background = in_background(slow, max_queue=2)

    def event(name: str) -> litellm_sync.CallEvent:
        return litellm_sync.CallEvent("p", "m", False, 1.0, None, None, True, correlation_id=name)

    background(event("first"))
    assert entered.wait(10)  # the worker holds "first"; two more fit in the queue
    for name in ("second", "third", "fourth", "fifth"):
        background(event(name))
    assert background.dropped == 2
    release.set()
    assert background.flush(10)
    assert told == ["first", "second", "third"]
