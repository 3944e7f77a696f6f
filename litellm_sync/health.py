"""Model discovery and health checks: declared probes (list models, or a 1-token call) per provider."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from .client import Client
from .exceptions import APIError, LiteLLMSyncError


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
    return _client(client).list_live_models(provider, api_key=api_key, api_base=api_base, timeout=timeout)


def not_configured(provider: str, *, client: Client | None = None) -> str | None:
    """Why this machine is not set up to call the provider (None when it is), from the environment alone.

    A provider that needs a key is set up when one of its key variables is set. A provider whose key is
    optional (a local server such as Ollama) is set up when its key or one of its base-URL variables is set:
    its default address is only a guess, so `health_check_all` skips it rather than failing on a machine
    that does not run it. A provider with no default base URL needs one of its base-URL variables.
    """
    connection = _client(client).spec.provider(provider).builder.connection
    has_key = any(os.environ.get(name) for name in connection.key_env)
    has_base = any(os.environ.get(name) for name in connection.base_url_env)
    if not has_base and not connection.base_url:
        return f"no base URL: set {_either(connection.base_url_env) or 'base_url in YAML'}"
    if has_key:
        return None
    if not connection.key_optional:
        return f"no API key: set {_either(connection.key_env) or 'a key variable in YAML'}"
    if has_base:
        return None
    key = f" (or {_either(connection.key_env)})" if connection.key_env else ""
    return f"not set up: set {_either(connection.base_url_env) or 'base_url'}{key} to include it, or probe it by name"


def _either(names: tuple[str, ...]) -> str:
    return " or ".join(names)


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
    """Probe every provider this machine is set up for, in parallel threads; the others are "skipped".

    Set up means what `not_configured` says: a key in the environment, or for a keyless local provider its
    address. A provider that does not answer within the timeout (plus one second) is an error."""
    client = _client(client)
    names = sorted(client.spec.providers)
    skipped = {name: reason for name in names if (reason := not_configured(name, client=client)) is not None}
    pool = ThreadPoolExecutor(max_workers=max(1, min(16, len(names) - len(skipped))))
    try:
        probed = [name for name in names if name not in skipped]
        futures = {name: pool.submit(health_check, name, timeout=timeout, client=client) for name in probed}
        wait(futures.values(), timeout=timeout + 1.0)
        results = []
        for name in names:
            future = futures.get(name)
            if future is None:
                results.append(HealthStatus(name, False, "skipped", None, skipped[name]))
            elif future.done():
                results.append(future.result())
            else:
                results.append(HealthStatus(name, False, "error", None, f"no answer within {timeout} s"))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # a stuck probe must not hold the answer back
    return results


__all__ = [
    "HealthStatus",
    "discover_models",
    "health_check",
    "health_check_all",
    "list_live_models",
    "not_configured",
]
