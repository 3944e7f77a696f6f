"""Per-call fallbacks, LiteLLM's `completion(..., fallbacks=[...], context_window_fallback_dict={...})`: a Router
built for one call over the call's models (one deployment per model, no cooldowns), so that the retries and the
fallback chain are the Router's own and there is one fallback loop in the library."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._engine.keywords import ALIAS, KEYWORDS, OURS, PARAM, with_provider
from ..exceptions import ConfigurationError
from ..state import Failure, Grant, GroupLimit, MemoryState
from .config import Config, Deployment, Settings

if TYPE_CHECKING:
    from .._engine.keywords import CallKeywords
    from ..client import Client

#: Keys of a fallback dict that are a deployment's own fields rather than call parameters.
_CREDENTIALS = ("api_key", "api_base", "api_version")
_IN_A_DICT = {"base_url": "api_base", "request_timeout": "timeout"}


class _NoCooldownState(MemoryState):
    """In-process state that never cools a deployment down: a per-call Router retries and falls back, and a
    cooldown would only turn the provider's error into "no deployment available"."""

    def release(
        self,
        key: str,
        group: GroupLimit,
        grant: Grant,
        now: float,
        tokens_used: int | None = None,
        latency: float | None = None,
        failure: Failure | None = None,
    ) -> bool:
        return super().release(key, group, grant, now, tokens_used, latency, None)


def complete_with_fallbacks(
    client: Client, call: CallKeywords, messages: Sequence[Any], stream: bool, extra: Mapping[str, Any]
) -> Any:
    """Call `call.model`, then its fallbacks in order when it fails with an APIError (after its retries); a
    ContextWindowExceededError goes to `call.context_window`'s model first. `extra` holds the call's other keyword
    arguments of `Client.completion` (auth, total_timeout). Every model is resolved before anything is sent."""
    from ..router import Router

    options = call.options
    params: dict[str, Any] = {**call.params, **{k: v for k, v in extra.items() if v is not None}}
    for name in ("timeout", "extra_headers", "drop_params", "mock_response"):
        if options.get(name) is not None:
            params[name] = options[name]
    if call.prices is not None:  # this call's prices (per million here) go to every model it tries, per token
        params["input_cost_per_token"], params["output_cost_per_token"] = (p / 1_000_000 for p in call.prices)
    primary = {"model": call.model, **{k: options[k] for k in _CREDENTIALS if options.get(k) is not None}}
    entries = [primary] + [_entry(item, position, call.model) for position, item in enumerate(call.fallbacks or ())]
    targets = dict(call.context_window or {})
    for target in targets.values():
        if not any(entry["model"] == target for entry in entries):
            entries.append({"model": target, "_context_window_only": True})
    overridden = {key for entry in entries[1:] for key in entry if key not in ("model", *_CREDENTIALS)}
    overridden.discard("_context_window_only")
    primary_provider = client.resolve(call.model)[0].name
    names: list[str] = []
    by_model: dict[tuple[str, str], str] = {}
    groups: dict[str, tuple[Deployment, ...]] = {}
    for index, entry in enumerate(entries):
        model = entry["model"]
        resolved = client.resolve(model)  # an unknown model fails here, before anything is sent
        provider = resolved[0].name
        if provider == primary_provider:  # the call's key and base URL are for its provider only
            entry = {**{k: primary[k] for k in _CREDENTIALS if k in primary}, **entry}
        name = model if model not in groups else f"{model} #{index + 1}"
        own = {key: entry.get(key, params.get(key)) for key in overridden if key in entry or key in params}
        groups[name] = (
            Deployment(
                id=f"call-{index}",
                model_name=name,
                model=model,
                api_key=entry.get("api_key"),
                api_base=entry.get("api_base"),
                api_version=entry.get("api_version"),
                timeout=own.pop("timeout", None),
                params={k: v for k, v in own.items() if v is not None},
            ),
        )
        names.append(name)
        by_model.setdefault((provider, resolved[1]), name)
    chain = tuple(name for entry, name in zip(entries[1:], names[1:]) if not entry.get("_context_window_only"))
    window = {}
    for model, target in targets.items():
        source = by_model.get(_identity(client, model))  # type: ignore[arg-type]
        fallback = by_model.get(_identity(client, target))  # type: ignore[arg-type]
        if source is not None and fallback is not None and source != fallback:
            window[source] = (fallback,)
    retries = options.get("max_retries")
    settings = Settings(
        num_retries=client.retry.max_retries if retries is None else retries,
        allowed_fails=1 << 30,
        cooldown_time=0.0,
        fallbacks={names[0]: chain} if chain else {},
        context_window_fallbacks=window,
        enable_pre_call_checks=False,
        report_deployment=False,
    )
    common = {key: value for key, value in params.items() if key not in overridden}
    router = Router(
        client=client, state=_NoCooldownState(), sleep=client.retry.sleep, _config=Config(groups, settings)
    )
    return router.completion(names[0], messages, stream=stream, **common)


def _identity(client: Client, model: str) -> tuple[str, str] | None:
    """(provider, model) as the model resolves; None for a name the spec cannot resolve (a key of a shared
    context_window_fallback_dict that this call does not use)."""
    try:
        provider, name, _info = client.resolve(model)
    except ConfigurationError:
        return None
    return provider.name, name


def _entry(item: Any, position: int, primary: str) -> dict[str, Any]:
    """One fallback as {model, overrides}: a model string, or LiteLLM's dict of model (default: the call's model)
    and the keys and parameters that differ for it."""
    where = f"fallbacks[{position}]"
    if isinstance(item, str):
        if not item:
            raise ConfigurationError(f"{where}: an empty model name")
        return {"model": item}
    if not isinstance(item, Mapping):
        raise ConfigurationError(f"{where}={item!r}: expected a model name or a dict such as {{'model': ..., "
                                 "'api_key': ...}")
    entry: dict[str, Any] = {}
    for key, value in item.items():
        if not isinstance(key, str):
            raise ConfigurationError(f"{where}: {key!r} is not a parameter name")
        name: str = _IN_A_DICT.get(key) or key
        keyword = KEYWORDS.get(name)
        if name not in ("model", "custom_llm_provider") and keyword is not None and keyword.kind not in (
            OURS, PARAM, ALIAS
        ):
            raise ConfigurationError(f"{where}.{key}: LiteLLM's {key} cannot be set per fallback here")
        if name in ("max_retries", "num_retries"):
            raise ConfigurationError(f"{where}.{key}: retries are set for the whole call (num_retries=)")
        if name == "headers":
            name = "extra_headers"
        entry[name] = value
    model = entry.pop("model", primary)
    if not isinstance(model, str) or not model:
        raise ConfigurationError(f"{where}.model={model!r}: expected a model name")
    provider = entry.pop("custom_llm_provider", None)
    entry["model"] = with_provider(model, provider) if provider is not None else model
    return entry
