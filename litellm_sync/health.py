"""Model discovery and health checks: declared probes (list models, or a 1-token call) per provider."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from ._engine.paths import make_getter
from .client import Client
from .exceptions import APIError, APIResponseValidationError, LiteLLMSyncError


@dataclass(frozen=True)
class HealthStatus:
    """The outcome of one provider's probe."""

    provider: str
    ok: bool
    status: str  # "ok", "error" or "skipped" (no key, nothing to probe)
    latency_ms: float | None = None
    error: str | None = None


def _client(client: Client | None) -> Client:
    if client is not None:
        return client
    from .api import get_default_client

    return get_default_client()


def list_live_models(
    provider: str,
    *,
    api_key: str | None = None,
    api_base: str | None = None,
    timeout: float = 10.0,
    client: Client | None = None,
) -> list[str]:
    """The model ids the provider's list-models endpoint (declared in YAML) returns now."""
    client = _client(client)
    spec = client.spec.provider(provider)
    request = spec.builder.build_models_request(api_key, api_base)
    http = client._send(spec, request, "", timeout, None)
    try:
        body = json.loads(http.read(client.limits))
    except ValueError:
        raise APIResponseValidationError("the models endpoint did not answer JSON", provider=provider) from None
    items = make_getter(spec.models_list_path or "data")(body)
    ids = make_getter(spec.models_id_path or "id")
    prefix = spec.builder.models_endpoint.strip_prefix if spec.builder.models_endpoint else ""
    out = []
    for item in items if isinstance(items, list) else ():
        found = ids(item)
        if isinstance(found, str):
            out.append(found[len(prefix):] if prefix and found.startswith(prefix) else found)
    return out


def discover_models(
    provider: str,
    *,
    api_key: str | None = None,
    api_base: str | None = None,
    timeout: float = 10.0,
    client: Client | None = None,
) -> list[dict[str, Any]]:
    """Live models merged with the registry: each dict has model, live, and the registry's info if known."""
    client = _client(client)
    live = list_live_models(provider, api_key=api_key, api_base=api_base, timeout=timeout, client=client)
    registry = client.spec.registry
    known = {info.name: info for info in registry.list(provider)}
    merged = []
    for name in live:
        info = registry.get(provider, name)
        merged.append({"model": name, "live": True, "known": info is not None, **_info(info)})
    for name, info in known.items():
        if name not in live:
            merged.append({"model": name, "live": False, "known": True, **_info(info)})
    return merged


def _info(info: Any) -> dict[str, Any]:
    if info is None:
        return {}
    data = info.to_dict()
    data.pop("model", None)
    data.pop("provider", None)
    return data


def health_check(
    provider: str,
    *,
    api_key: str | None = None,
    api_base: str | None = None,
    timeout: float = 10.0,
    client: Client | None = None,
) -> HealthStatus:
    """Probe one provider cheaply: its models endpoint, or a 1-token chat call where it has none."""
    client = _client(client)
    spec = client.spec.provider(provider)
    started = time.perf_counter()
    try:
        if spec.health_probe == "models" and spec.builder.models_endpoint is not None:
            list_live_models(provider, api_key=api_key, api_base=api_base, timeout=timeout, client=client)
        else:
            model = spec.health_model or next((m.name for m in client.spec.registry.list(provider)), None)
            if model is None:
                return HealthStatus(provider, False, "skipped", error="no model to probe; set health.model in YAML")
            client.completion(
                f"{provider}/{model}",
                [{"role": "user", "content": "ping"}],
                api_key=api_key,
                api_base=api_base,
                timeout=timeout,
                max_retries=0,
                max_tokens=1,
            )
    except LiteLLMSyncError as exc:
        latency = (time.perf_counter() - started) * 1000
        skipped = not isinstance(exc, APIError)
        return HealthStatus(provider, False, "skipped" if skipped else "error", None if skipped else latency, str(exc))
    return HealthStatus(provider, True, "ok", (time.perf_counter() - started) * 1000)


def health_check_all(timeout: float = 10.0, client: Client | None = None) -> list[HealthStatus]:
    """Probe every provider in parallel threads; a provider that does not answer in time is an error."""
    client = _client(client)
    names = sorted(client.spec.providers)
    with ThreadPoolExecutor(max_workers=min(16, len(names) or 1)) as pool:
        futures = {name: pool.submit(health_check, name, timeout=timeout, client=client) for name in names}
        wait(futures.values(), timeout=timeout + 1.0)
        results = []
        for name, future in futures.items():
            if future.done():
                results.append(future.result())
            else:
                future.cancel()
                results.append(HealthStatus(name, False, "error", None, f"no answer within {timeout} s"))
    return results


__all__ = ["HealthStatus", "discover_models", "health_check", "health_check_all", "list_live_models"]
