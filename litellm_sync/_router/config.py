"""The Router's configuration: LiteLLM's `model_list` / `router_settings` shape (and a per-provider defaults
block), secrets from the environment, validated with marshmallow into frozen objects, errors with dotted paths."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError

from ..exceptions import ERROR_CLASSES, ConfigurationError
from .schema import FileSchema, ParamsSchema, RouterConfigError, flatten_errors, read_yaml, substitute_env

__all__ = ["Config", "Deployment", "RouterConfigError", "Settings", "load_config", "read_yaml"]


# -- loaded model ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """One deployment of a model group: where to send, with which key and limits, and what the model can do."""

    id: str
    model_name: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    api_base: str | None = None
    api_version: str | None = None
    timeout: float | None = None
    stream_timeout: float | None = None
    rpm: int | None = None
    tpm: int | None = None
    weight: float | None = None
    order: int = 1
    params: Mapping[str, Any] = field(default_factory=dict, repr=False)
    model_info: Mapping[str, Any] = field(default_factory=dict, repr=False)
    context_window: int | None = None
    features: frozenset[str] | None = None  # None: the registry does not know the model
    price: Decimal | None = None  # USD per million input + output tokens, for cost-based routing


@dataclass(frozen=True)
class Settings:
    """Router-wide behaviour (LiteLLM's router_settings names)."""

    routing_strategy: str = "simple-shuffle"
    lowest_latency_buffer: float = 0.0
    num_retries: int = 2
    retry_after: float = 0.0
    timeout: float | None = None
    allowed_fails: int = 3
    cooldown_time: float = 5.0
    fallbacks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    context_window_fallbacks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    content_policy_fallbacks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    retry_policy: Mapping[str, int] = field(default_factory=dict)
    enable_pre_call_checks: bool = True
    rate_limit_wait: float = 0.0
    group_limits: Mapping[str, tuple[int | None, int | None]] = field(default_factory=dict)
    state: str | None = field(default=None, repr=False)  # a redis URL may hold a password
    namespace: str = "litellm_sync"
    # Answers name the deployment that served them (_hidden_params["model_id"]); a Client call's own fallbacks
    # (a per-call Router, internal ids) do not, as for any Client call.
    report_deployment: bool = True


@dataclass(frozen=True)
class Config:
    """Deployments by model group, and the settings; swapped whole on reload."""

    groups: Mapping[str, tuple[Deployment, ...]]
    settings: Settings


def _fallbacks(raw: Any, path: str, problems: list[str]) -> Any:
    """LiteLLM's list of one-key dicts ([{group: [fallbacks]}]) merged into one dict; a dict passes as is."""
    if raw is None or isinstance(raw, dict):
        return raw or {}
    if not isinstance(raw, list):
        problems.append(f"{path}: expected a list of {{group: [fallback groups]}}")
        return {}
    merged: dict[str, Any] = {}
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            problems.append(f"{path}[{i}]: expected {{group: [fallback groups]}}, got {item!r}")
            continue
        merged.update(item)
    return merged


def _normalise(data: Any, source: str, problems: list[str]) -> Any:
    if not isinstance(data, dict):
        problems.append(f"{source}: expected a mapping with model_list:, got {type(data).__name__}")
        return None
    for section in ("router_settings", "litellm_settings"):
        settings = data.get(section)
        if isinstance(settings, dict):
            for name in ("fallbacks", "context_window_fallbacks", "content_policy_fallbacks"):
                if name in settings:
                    settings[name] = _fallbacks(settings[name], f"{source}: {section}.{name}", problems)
    return data


def load_config(data: Any, source: str, client: Any, environ: Mapping[str, str] | None = None) -> Config:
    """Validate a config mapping (as read from YAML, or built from Router arguments) into a Config."""
    problems: list[str] = []
    data = substitute_env(data, "", problems, os.environ if environ is None else environ)
    problems = [f"{source}: {p}" for p in problems]
    data = _normalise(data, source, problems)
    if data is None:
        raise RouterConfigError(problems)
    try:
        loaded = FileSchema().load(data)
    except ValidationError as error:
        problems += [f"{source}: {path}: {message}" for path, message in flatten_errors(error.messages, "")]
        raise RouterConfigError(problems) from None
    if problems:
        raise RouterConfigError(problems)
    return _build(loaded, source, client)


def _build(loaded: dict[str, Any], source: str, client: Any) -> Config:
    problems: list[str] = []
    settings_raw: dict[str, Any] = {**_from_litellm_settings(loaded["litellm_settings"]), **loaded["router_settings"]}
    providers = loaded["providers"]
    groups: dict[str, list[Deployment]] = {}
    seen_ids: set[str] = set()
    for i, entry in enumerate(loaded["model_list"]):
        path = f"model_list[{i}]"
        problems += [
            f"{source}: {path}.litellm_params.{key}: LiteLLM's {key} is not supported by this Router"
            for key in sorted(UNSUPPORTED_PARAMS & set(entry["litellm_params"]))
        ]  # fmt: skip
        try:
            deployment = _deployment(entry, providers, client)
        except ConfigurationError as error:
            problems.append(f"{source}: {path}.litellm_params.model: {error}")
            continue
        if deployment.id in seen_ids:
            problems.append(f"{source}: {path}.model_info.id: duplicate deployment id {deployment.id!r}")
        seen_ids.add(deployment.id)
        groups.setdefault(deployment.model_name, []).append(deployment)
    settings = _settings(settings_raw, set(groups), source, problems)
    if problems:
        raise RouterConfigError(problems)
    return Config({name: tuple(ds) for name, ds in groups.items()}, settings)


def _from_litellm_settings(raw: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(raw)
    if "request_timeout" in out:
        out["timeout"] = out.pop("request_timeout")
    return out


#: LiteLLM deployment keys this Router does not implement: refused rather than sent to the provider as parameters.
UNSUPPORTED_PARAMS = frozenset({
    "max_parallel_requests", "tags", "max_budget", "budget_duration", "mock_response", "litellm_credential_name",
    "use_in_pass_through", "region_name", "configurable_clientside_auth_params",
})  # fmt: skip


def _deployment(entry: Mapping[str, Any], providers: Mapping[str, Any], client: Any) -> Deployment:
    params = dict(entry["litellm_params"])
    info = dict(entry["model_info"])
    model = params.pop("model")
    custom_provider = params.pop("custom_llm_provider", None)
    if custom_provider and not model.startswith(f"{custom_provider}/"):
        model = f"{custom_provider}/{model}"
    provider, _, registry_info = client.resolve(model)
    defaults = providers.get(provider.name) or {}
    extra = {**(defaults.get("extra_params") or {})}
    known = {name for name in ParamsSchema().fields if name != "model"}
    for key in list(params):
        if key not in known:
            extra[key] = params.pop(key)
    api_key = params.get("api_key") or defaults.get("api_key")
    api_base = params.get("api_base") or params.get("base_url") or defaults.get("api_base")
    identity = json.dumps(
        [entry["model_name"], model, api_base, params.get("api_version"),
         hashlib.sha256((api_key or "").encode()).hexdigest()],
    )  # fmt: skip
    context_window = info.get("max_input_tokens") or (registry_info.context_window if registry_info else None)
    return Deployment(
        id=str(info.get("id") or hashlib.sha256(identity.encode()).hexdigest()[:16]),
        model_name=entry["model_name"],
        model=model,
        api_key=api_key,
        api_base=api_base,
        api_version=params.get("api_version") or defaults.get("api_version"),
        timeout=params.get("timeout") or defaults.get("timeout_seconds"),
        stream_timeout=params.get("stream_timeout"),
        rpm=params.get("rpm"),
        tpm=params.get("tpm"),
        weight=params.get("weight"),
        order=params.get("order") or 1,
        params=extra,
        model_info=info,
        context_window=context_window,
        features=registry_info.features if registry_info is not None else None,
        price=_price(params, registry_info),
    )


def _price(params: Mapping[str, Any], info: Any) -> Decimal | None:
    if params.get("input_cost_per_token") is not None and params.get("output_cost_per_token") is not None:
        per_token = Decimal(str(params["input_cost_per_token"])) + Decimal(str(params["output_cost_per_token"]))
        return per_token * 1_000_000
    if info is None or info.input_price is None or info.output_price is None:
        return None
    return info.input_price + info.output_price  # type: ignore[no-any-return]


def _settings(raw: dict[str, Any], groups: set[str], source: str, problems: list[str]) -> Settings:
    fallbacks: dict[str, dict[str, tuple[str, ...]]] = {}
    for name in ("fallbacks", "context_window_fallbacks", "content_policy_fallbacks"):
        table = {key: tuple(value) for key, value in (raw.get(name) or {}).items()}
        for key, targets in table.items():
            if key != "*" and key not in groups:
                problems.append(f"{source}: router_settings.{name}.{key}: no model group named {key!r}")
            problems += [
                f"{source}: router_settings.{name}.{key}: fallback {target!r} is not a model group"
                for target in targets if target not in groups
            ]  # fmt: skip
        fallbacks[name] = table
    if raw.get("default_fallbacks"):
        fallbacks["fallbacks"].setdefault("*", tuple(raw["default_fallbacks"]))
    policy: dict[str, int] = {}
    for key, retries in (raw.get("retry_policy") or {}).items():
        name = key[: -len("Retries")] if key.endswith("Retries") else key
        name = {"TimeoutError": "Timeout", "InternalServerError": "InternalServerError"}.get(name, name)
        if name not in ERROR_CLASSES:
            problems.append(f"{source}: router_settings.retry_policy.{key}: not an exception class name")
        policy[name] = retries
    for group in raw.get("group_limits") or {}:
        if group not in groups:
            problems.append(f"{source}: router_settings.group_limits.{group}: no model group named {group!r}")
    state = raw.get("redis_url")
    if state is None and raw.get("redis_host"):
        password = f":{raw['redis_password']}@" if raw.get("redis_password") else ""
        state = f"redis://{password}{raw['redis_host']}:{raw.get('redis_port') or 6379}"
    defaults = Settings()
    return Settings(
        routing_strategy=raw.get("routing_strategy", defaults.routing_strategy),
        lowest_latency_buffer=(raw.get("routing_strategy_args") or {}).get("lowest_latency_buffer", 0.0),
        num_retries=raw.get("num_retries", defaults.num_retries),
        retry_after=raw.get("retry_after", defaults.retry_after),
        timeout=raw.get("timeout"),
        allowed_fails=raw.get("allowed_fails", defaults.allowed_fails),
        cooldown_time=raw.get("cooldown_time", defaults.cooldown_time),
        fallbacks=fallbacks["fallbacks"],
        context_window_fallbacks=fallbacks["context_window_fallbacks"],
        content_policy_fallbacks=fallbacks["content_policy_fallbacks"],
        retry_policy=policy,
        enable_pre_call_checks=raw.get("enable_pre_call_checks", defaults.enable_pre_call_checks),
        rate_limit_wait=raw.get("rate_limit_wait", defaults.rate_limit_wait),
        group_limits={g: (lim.get("rpm"), lim.get("tpm")) for g, lim in (raw.get("group_limits") or {}).items()},
        state=state,
        namespace=raw.get("namespace", defaults.namespace),
    )
