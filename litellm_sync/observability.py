"""Ready-made observability: an OpenTelemetry hook, a Prometheus hook, and a JSON log formatter carrying each
call's correlation id. The extras are imported only when a hook is built.

    from litellm_sync.observability import opentelemetry_hook, prometheus_hook
    client = litellm_sync.Client(hooks=[opentelemetry_hook(), prometheus_hook()])

`opentelemetry_hook(tracer_provider=None, capture_content=False)` (extra `litellm_sync[otel]`): one CLIENT span
per call, named "chat {model}", child of the caller's current span (for a stream: the span current when the stream
was opened), started when the call started and ended when it ended (a stream: its last chunk, close or error).
Attributes follow the OpenTelemetry GenAI semantic conventions: gen_ai.operation.name, gen_ai.provider.name,
gen_ai.request.model and the request's temperature, max_tokens..., gen_ai.response.model, gen_ai.response.id,
gen_ai.response.finish_reasons, gen_ai.usage.input_tokens and output_tokens, error.type; plus
litellm_sync.correlation_id, cost_usd, and stream and cache_hit when true. Retries and a Router's retries and
fallbacks are span events. Prompt and completion text (gen_ai.input.messages, gen_ai.output.messages) only with
capture_content=True.

`prometheus_hook(registry=None, namespace="litellm_sync")` (extra `litellm_sync[prometheus]`): counters and
histograms labelled by provider and model: {namespace}_requests_total{outcome}, _errors_total{error},
_request_duration_seconds{outcome}, _time_to_first_token_seconds, _tokens_total{direction}, _cost_usd_total,
_retries_total{error}, _unpriced_requests_total. Hooks built for the same registry share the metrics. Under
gunicorn or any multi-process server, use prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR;
docs/observability.md).

`in_background(*hooks, max_queue=10_000, interval=0.2)`: run hooks in one worker thread, in batches, each event in
a copy of the context its call ended in, so a call does not wait for them: for hooks that do I/O, and for the two
above where calls are many and fast (batched, they cost about half their inline price; benchmarks/observe.py).
`.flush()` waits for the events queued so far.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from ._observe.background import BackgroundHooks, in_background
from ._observe.context import PAYLOAD_LOGGER, CorrelationFilter, current_id
from ._observe.otel import opentelemetry_hook
from ._observe.prom import prometheus_hook

__all__ = ["PAYLOAD_LOGGER", "BackgroundHooks", "CorrelationFilter", "JsonFormatter", "current_correlation_id",
           "in_background", "opentelemetry_hook", "prometheus_hook"]  # fmt: skip


def current_correlation_id() -> str | None:
    """The correlation id of the call running in this context (in a hook, the call being reported), or None."""
    return current_id()


class JsonFormatter(logging.Formatter):
    """One JSON object per log line: time, level, logger, message, correlation_id, and the exception if any.

        handler = logging.StreamHandler()
        handler.setFormatter(litellm_sync.observability.JsonFormatter())
        logging.getLogger("litellm_sync").addHandler(handler)
    """

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", None) or current_id(),
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)
