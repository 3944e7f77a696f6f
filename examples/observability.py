"""Observability: OpenTelemetry spans, Prometheus metrics, a response cache and correlation ids, in one Client.

    pip install 'litellm_sync[otel,prometheus]'
    python examples/observability.py          # real calls if OPENAI_API_KEY is set, else the fake provider

The two hooks run batched in a worker thread (`in_background`): a call pays under a microsecond for them, and
their work costs about half its inline price (docs/observability.md). `flush()` waits for what is queued.
"""

from __future__ import annotations

import os
import sys

from _support import connect

import litellm_sync
from litellm_sync.cache import MemoryCache

MODEL = os.environ.get("LITELLM_SYNC_MODEL", "openai/gpt-4o-mini")


def main() -> None:
    try:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from prometheus_client import CollectorRegistry, generate_latest
    except ImportError:
        sys.exit("this example needs the extras: pip install 'litellm_sync[otel,prometheus]'")
    from litellm_sync.observability import in_background, opentelemetry_hook, prometheus_hook

    spans = InMemorySpanExporter()  # in an application: your OTLP exporter behind a BatchSpanProcessor
    tracing = TracerProvider()
    tracing.add_span_processor(SimpleSpanProcessor(spans))
    metrics = CollectorRegistry()  # in an application: prometheus_client's default REGISTRY
    observed = in_background(opentelemetry_hook(tracing), prometheus_hook(metrics))

    question = [litellm_sync.user_message("What does a correlation id do?")]
    with connect(MODEL) as connection, litellm_sync.Client(hooks=[observed], cache=MemoryCache()) as client:
        for request_id in ("req-1", "req-2"):  # the second is the same question: answered by the cache
            answer = client.completion(MODEL, question, metadata={"request_id": request_id}, **connection.options)
            print(f"{request_id}: cache_hit={answer.cache_hit} cost={answer.cost}")
        observed.flush()

    for span in spans.get_finished_spans():
        attributes = dict(span.attributes or {})
        print(f"span {span.name!r}: request_id={attributes['litellm_sync.correlation_id']} "
              f"cache_hit={attributes.get('litellm_sync.cache_hit', False)}")
    for line in generate_latest(metrics).decode().splitlines():
        if line.startswith("litellm_sync_requests_total"):
            print(line)


if __name__ == "__main__":
    main()
