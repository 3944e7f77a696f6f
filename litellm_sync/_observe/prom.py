"""The Prometheus hook: counters and histograms labelled by provider, model and outcome."""

from __future__ import annotations

import threading
from typing import Any

from ..hooks import CallEvent, Hook

_LOCK = threading.Lock()
_METRICS: dict[tuple[int, str], tuple[Any, dict[str, Any]]] = {}  # per registry: made once, shared by hooks
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0)
TTFT_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


def _metrics(registry: Any, namespace: str) -> dict[str, Any]:
    from prometheus_client import Counter, Histogram

    key = (id(registry), namespace)
    with _LOCK:
        found = _METRICS.get(key)
        if found is not None and found[0] is registry:
            return found[1]
        labels = ("provider", "model")
        made = {
            "requests": Counter(f"{namespace}_requests", "Calls, by outcome (success, error, incomplete, cache_hit)",
                                (*labels, "outcome"), registry=registry),
            "errors": Counter(f"{namespace}_errors", "Failed calls, by exception class", (*labels, "error"),
                              registry=registry),
            "latency": Histogram(f"{namespace}_request_duration_seconds", "Call latency, to the last chunk for streams",
                                 (*labels, "outcome"), buckets=LATENCY_BUCKETS, registry=registry),
            "ttft": Histogram(f"{namespace}_time_to_first_token_seconds", "Streams: time to the first chunk", labels,
                              buckets=TTFT_BUCKETS, registry=registry),
            "tokens": Counter(f"{namespace}_tokens", "Tokens, by direction (input, output)", (*labels, "direction"),
                              registry=registry),
            "cost": Counter(f"{namespace}_cost_usd", "Spend in USD of priced calls (cache hits cost 0)", labels,
                            registry=registry),
            "retries": Counter(f"{namespace}_retries", "Retries inside calls, by the error that caused them",
                               (*labels, "error"), registry=registry),
            "unpriced": Counter(f"{namespace}_unpriced_requests", "Answered calls whose price is unknown", labels,
                                registry=registry),
        }  # fmt: skip
        _METRICS[key] = (registry, made)
        return made


def prometheus_hook(registry: Any = None, *, namespace: str = "litellm_sync") -> Hook:
    """A hook that counts calls into prometheus_client metrics (see litellm_sync.observability)."""
    try:
        import prometheus_client
    except ImportError:
        from ..exceptions import ConfigurationError

        raise ConfigurationError(
            "prometheus_hook() needs prometheus_client: pip install 'litellm_sync[prometheus]'"
        ) from None
    metrics = _metrics(registry if registry is not None else prometheus_client.REGISTRY, namespace)
    requests, errors, latency = metrics["requests"], metrics["errors"], metrics["latency"]
    ttft, tokens, cost, unpriced = metrics["ttft"], metrics["tokens"], metrics["cost"], metrics["unpriced"]
    retries = metrics["retries"]
    # labels() costs a lock and a lookup per metric: the children of each label set are looked up once, and one
    # dict lookup per call finds them all.
    children_of: dict[tuple[str, str, str], tuple[Any, ...]] = {}

    def hook(event: Any) -> None:
        if not isinstance(event, CallEvent):
            return  # a Router's routing decision: not a call
        provider, model, outcome = event.provider, event.model, event.outcome
        children = children_of.get((provider, model, outcome))
        if children is None:
            children = children_of[(provider, model, outcome)] = (
                requests.labels(provider, model, outcome), latency.labels(provider, model, outcome),
                ttft.labels(provider, model), tokens.labels(provider, model, "input"),
                tokens.labels(provider, model, "output"), cost.labels(provider, model),
                unpriced.labels(provider, model),
            )  # fmt: skip
        children[0].inc()
        children[1].observe(event.latency_ms / 1000)
        if event.error is not None:
            errors.labels(provider, model, type(event.error).__name__).inc()
        for retry in event.retries:
            retries.labels(provider, model, retry.error).inc()
        hit = event.cache_hit
        if event.time_to_first_token_ms is not None and not hit:
            children[2].observe(event.time_to_first_token_ms / 1000)
        response = event.response
        if response is None:
            return
        usage = response.usage
        if usage is not None and not hit:
            if usage.prompt_tokens:
                children[3].inc(usage.prompt_tokens)
            if usage.completion_tokens:
                children[4].inc(usage.completion_tokens)
        if response.cost is not None:
            children[5].inc(float(response.cost))
        elif not hit:
            children[6].inc()

    return hook
