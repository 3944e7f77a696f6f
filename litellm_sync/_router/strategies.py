"""Routing strategies and pre-call checks: the preference order of a group's deployments for one call, and which
deployments cannot serve it (context window, required features)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from ..tokens import token_counter
from .config import Deployment

#: The live metric `State.acquire` orders by, per strategy (the rest order here, before the state is asked).
ORDER_BY = {
    "simple-shuffle": "none",
    "cost-based-routing": "none",
    "least-busy": "inflight",
    "latency-based-routing": "latency",
    "usage-based-routing": "usage",
    "usage-based-routing-v2": "usage",
}


def preference(deployments: Sequence[Deployment], strategy: str, rng: random.Random) -> list[Deployment]:
    """The deployments in the order to try them; tiers (`order`, failed-this-call) are applied by the caller.

    simple-shuffle: a weighted random permutation (weight, else rpm, else tpm, else equal); cost-based-routing:
    cheapest first (unpriced last), ties shuffled; the live-metric strategies: shuffled, so ties spread evenly.
    """
    if len(deployments) < 2:
        return list(deployments)
    if strategy == "simple-shuffle":
        weights = _weights(deployments)
        if weights is not None:
            # Efraimidis-Spirakis: sorting by u ** (1 / w) draws a permutation with probabilities by weight.
            keyed = [(rng.random() ** (1.0 / w), i) for i, w in enumerate(weights)]
            keyed.sort(reverse=True)
            return [deployments[i] for _, i in keyed]
    shuffled = list(deployments)
    rng.shuffle(shuffled)
    if strategy == "cost-based-routing":
        shuffled.sort(key=lambda d: (d.price is None, d.price or 0))
    return shuffled


def _weights(deployments: Sequence[Deployment]) -> list[float] | None:
    for name in ("weight", "rpm", "tpm"):
        values = [getattr(d, name) for d in deployments]
        if any(values):
            return [float(v) if v else 1e-9 for v in values]
    return None


def estimate_tokens(messages: Sequence[Any], params: Mapping[str, Any]) -> int:
    """The prompt-token estimate of litellm_sync.token_counter (no model: never a tokenizer load on this path)."""
    return token_counter(None, messages, tools=params.get("tools") or None)


def required_features(messages: Sequence[Any], params: Mapping[str, Any]) -> frozenset[str]:
    """Registry features the call needs: tools, vision (an image part), json_schema (response_format)."""
    needed = set()
    if params.get("tools") or params.get("functions"):
        needed.add("tools")
    response_format = params.get("response_format")
    if response_format is not None and (
        not isinstance(response_format, Mapping) or response_format.get("type") not in ("text", "json_object")
    ):  # json_schema, a bare JSON Schema, or a marshmallow Schema / pydantic model (docs/structured-output.md)
        needed.add("json_schema")
    for message in messages:
        content = message.get("content") if isinstance(message, Mapping) else getattr(message, "content", None)
        if isinstance(content, list) and any(
            isinstance(part, Mapping) and part.get("type") in ("image_url", "image") for part in content
        ):
            needed.add("vision")
            break
    return frozenset(needed)


def can_serve(deployment: Deployment, tokens: int, needed: frozenset[str]) -> str | None:
    """None when the deployment can take the call, else why not (for the log and the error)."""
    if deployment.context_window is not None and tokens > deployment.context_window:
        return f"prompt of ~{tokens} tokens exceeds its context window of {deployment.context_window}"
    if needed and deployment.features is not None:
        missing = needed - deployment.features
        if missing:
            return "the registry lists no " + ", ".join(sorted(missing)) + " support for it"
    return None
