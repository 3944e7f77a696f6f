"""The OpenTelemetry hook: one CLIENT span per call with the GenAI semantic-convention attributes."""

from __future__ import annotations

import json
import time
from typing import Any

from ..hooks import CallEvent, Hook

#: Request parameters recorded as gen_ai.request.* attributes.
_REQUEST_PARAMS = {
    "max_tokens": "gen_ai.request.max_tokens",
    "max_completion_tokens": "gen_ai.request.max_tokens",
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "top_k": "gen_ai.request.top_k",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
    "seed": "gen_ai.request.seed",
    "stop": "gen_ai.request.stop_sequences",
}
_ROUTER_KINDS = frozenset({"retry", "fallback", "cooldown", "rate_limit_wait"})


def opentelemetry_hook(tracer_provider: Any = None, *, capture_content: bool = False) -> Hook:
    """A hook that records each call as a span (see litellm_sync.observability for the details)."""
    try:
        from opentelemetry import context, trace
        from opentelemetry.trace import SpanKind, Status, StatusCode
    except ImportError:
        from ..exceptions import ConfigurationError

        raise ConfigurationError(
            "opentelemetry_hook() needs the OpenTelemetry API: pip install 'litellm_sync[otel]'"
        ) from None
    from .. import __version__

    tracer = trace.get_tracer("litellm_sync", __version__, tracer_provider=tracer_provider)
    start_span, current, client_kind = tracer.start_span, context.get_current, SpanKind.CLIENT
    # Per (provider, model), once: the span name and the attributes every span of that model carries.
    constant: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}

    def hook(event: Any) -> None:
        if not isinstance(event, CallEvent):  # a Router's routing decision: an event on the caller's span
            kind = getattr(event, "kind", None)
            if kind in _ROUTER_KINDS:
                span = trace.get_current_span()
                if span.is_recording():
                    span.add_event(f"litellm_sync.router.{kind}", _router_attributes(event))
            return
        found = constant.get((event.provider, event.model))
        if found is None:
            found = constant[(event.provider, event.model)] = (f"chat {event.model}", {
                "gen_ai.operation.name": "chat", "gen_ai.provider.name": event.provider,
                "gen_ai.request.model": event.model,
            })  # fmt: skip
        # Start and end from the event, not the clock now: the same span whether the hook runs at once or later
        # (in_background).
        started_at, latency_ns = event.started_at, int(event.latency_ms * 1e6)
        if started_at is not None:
            start = int(started_at * 1e9)
            end = start + latency_ns
        else:
            end = time.time_ns()
            start = end - latency_ns
        # The context is read once and handed over: left to itself the SDK looks it up three times per span.
        span = start_span(found[0], current(), client_kind, _attributes(event, found[1]), start_time=start)
        if event.time_to_first_token_ms is not None:
            span.add_event("gen_ai.first_token", timestamp=start + int(event.time_to_first_token_ms * 1e6))
        for retry in event.retries:
            span.add_event("litellm_sync.retry", {"litellm_sync.attempt": retry.attempt, "error.type": retry.error,
                                                  "litellm_sync.wait_s": retry.wait})
        if capture_content:
            if event.messages is not None:
                span.set_attribute("gen_ai.input.messages", _dumps(event.messages))
            if event.response is not None:
                span.set_attribute("gen_ai.output.messages", _dumps(_output(event.response)))
        if event.error is not None:
            span.set_attribute("error.type", type(event.error).__name__)
            span.set_status(Status(StatusCode.ERROR, str(event.error)[:500]))
        span.end(end if end > start else start)

    return hook


def _attributes(event: CallEvent, constant: dict[str, Any]) -> dict[str, Any]:
    out = constant.copy()
    # Each attribute costs the SDK about a microsecond: ours are set only when they say something.
    if event.stream:
        out["litellm_sync.stream"] = True
    if event.cache_hit:
        out["litellm_sync.cache_hit"] = True
    if event.correlation_id:
        out["litellm_sync.correlation_id"] = event.correlation_id
    if event.params:  # the call's own parameters, usually a handful: looked up there, not all nine each call
        for name, value in event.params.items():
            attribute = _REQUEST_PARAMS.get(name)
            if attribute is None:
                continue
            if isinstance(value, str) and name == "stop":
                value = [value]
            if isinstance(value, (bool, int, float, str)) or (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            ):
                out[attribute] = value
    response = event.response
    if response is not None:
        if response.model:
            out["gen_ai.response.model"] = response.model
        if response.id:
            out["gen_ai.response.id"] = response.id
        reasons = [c.finish_reason for c in response.choices if c.finish_reason]
        if reasons:
            out["gen_ai.response.finish_reasons"] = reasons
        usage = response.usage
        if usage is not None:
            if usage.prompt_tokens is not None:
                out["gen_ai.usage.input_tokens"] = usage.prompt_tokens
            if usage.completion_tokens is not None:
                out["gen_ai.usage.output_tokens"] = usage.completion_tokens
        if response.cost is not None:
            out["litellm_sync.cost_usd"] = float(response.cost)
    if event.error is not None:
        request_id = getattr(event.error, "request_id", None)
        if isinstance(request_id, str):
            out["litellm_sync.provider_request_id"] = request_id
    return out


def _router_attributes(event: Any) -> dict[str, Any]:
    found = {
        "litellm_sync.router.call_id": getattr(event, "call_id", None),
        "litellm_sync.router.model_group": getattr(event, "model_group", None),
        "litellm_sync.router.deployment": getattr(event, "deployment", None),
        "litellm_sync.router.detail": getattr(event, "detail", None),
        "error.type": type(event.error).__name__ if getattr(event, "error", None) is not None else None,
    }
    return {key: value for key, value in found.items() if isinstance(value, str) and value}


def _output(response: Any) -> list[dict[str, Any]]:
    return [
        {"role": "assistant", "parts": [{"type": "text", "content": c.message.content or ""}],
         "finish_reason": c.finish_reason}
        for c in response.choices
    ]  # fmt: skip


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, default=lambda v: v.to_dict() if hasattr(v, "to_dict") else repr(v))
    except (TypeError, ValueError, RecursionError):
        return repr(value)
