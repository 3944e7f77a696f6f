"""`Router`: model groups of deployments (LiteLLM's config shape) with load balancing, retries, fallbacks,
cooldowns and rate limits, its state in process or shared through Redis.

    router = litellm_sync.Router(model_list=[
        {"model_name": "chat", "litellm_params": {"model": "openai/gpt-4o-mini", "rpm": 500}},
        {"model_name": "chat", "litellm_params": {"model": "anthropic/claude-haiku-4-5", "rpm": 300}},
    ], fallbacks=[{"chat": ["backup"]}], ...)
    response = router.completion("chat", [{"role": "user", "content": "Hi"}])

The Router is the one retry loop: it calls deployments with max_retries=0 and retries retryable errors on a
deployment that has not failed this call when there is one. See docs/router.md.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable

from ._engine.redact import get_logger
from ._observe.context import new_id
from ._router.call import Call, RouterEvent, RouterRateLimitError, Work
from ._router.config import Config, Deployment, RouterConfigError, Settings, load_config, read_yaml
from ._router.watch import Watcher
from .client import Client
from .exceptions import APIError, ContentPolicyViolationError, ContextWindowExceededError
from .state import State, open_state

if TYPE_CHECKING:
    from .budgets import Budget, Budgets
    from .cache import Cache

log = get_logger()

__all__ = ["Deployment", "Router", "RouterConfigError", "RouterEvent", "RouterRateLimitError"]


class Router:
    """Routes `completion`, `embedding` and `rerank` calls for model groups over their deployments; thread-safe,
    share one per process.

    model_list: LiteLLM's list of {model_name, litellm_params, model_info}. Router settings (LiteLLM's names:
    routing_strategy, num_retries, fallbacks, allowed_fails, cooldown_time, rate_limit_wait, ...) are keywords.
    state: None (in process), a `State`, or "redis://host:port/db" to share limits and cooldowns across processes.
    hooks: callables given a `CallEvent` per deployment call and a `RouterEvent` per routing decision.
    cache, budgets: as the Client's (cache.py, budgets.py), for the Client the Router builds; budgets can count per
    model group (Budget(per="model_group")).
    clock and sleep are injectable (clock is wall time: processes sharing Redis compare it).
    """

    def __init__(
        self,
        model_list: Sequence[Mapping[str, Any]] | None = None,
        *,
        client: Client | None = None,
        hooks: Sequence[Callable[[Any], Any]] = (),
        state: Any = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
        cache: Cache | None = None,
        budgets: Budgets | Sequence[Budget] | None = None,
        _config: Config | None = None,
        _path: str | None = None,
        **router_settings: Any,
    ) -> None:
        self.hooks = tuple(hooks)
        self._own_client = client is None
        if client is not None and (cache is not None or budgets is not None):
            raise RouterConfigError(["Router(client=..., cache=/budgets=): give them to that Client instead"])
        self.client = client if client is not None else Client(hooks=self.hooks, cache=cache, budgets=budgets)
        self._path = _path
        self._config = _config or load_config(
            {"model_list": list(model_list or ()), "router_settings": router_settings}, "Router()", self.client
        )
        settings = self._config.settings
        self.state: State = open_state(state if state is not None else settings.state, settings.namespace)
        self.clock = clock
        self.sleep = sleep
        self._seed = seed
        self._rng = random.Random(seed)
        self._pid = os.getpid()
        self._reload_lock = threading.Lock()
        self._watcher: Watcher | None = None

    @classmethod
    def from_yaml(cls, path: str, *, watch: bool = False, watch_interval: float = 1.0, **kwargs: Any) -> Router:
        """A Router from a YAML file (model_list:, router_settings:, litellm_settings:, providers:); with
        watch=True a daemon thread reloads it when it changes (see `reload`)."""
        given = kwargs.pop("client", None)
        client = given if given is not None else Client(
            hooks=kwargs.get("hooks", ()), cache=kwargs.pop("cache", None), budgets=kwargs.pop("budgets", None)
        )
        try:
            config = load_config(read_yaml(path), str(path), client)
        except RouterConfigError:
            if given is None:
                client.close()
            raise
        router = cls(client=client, _config=config, _path=str(path), **kwargs)
        router._own_client = given is None
        if watch:
            router._watcher = Watcher(str(path), watch_interval, router._reload_quietly)
        return router

    def __repr__(self) -> str:
        groups = {name: len(ds) for name, ds in self._config.groups.items()}
        return f"Router(groups={groups}, strategy={self._config.settings.routing_strategy!r}, state={self.state!r})"

    def __enter__(self) -> Router:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop watching the file, close the state's connections and (when the Router built it) the Client."""
        if self._watcher is not None:
            self._watcher.stop()
        self.state.close()
        if self._own_client:
            self.client.close()

    # -- configuration ------------------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The settings in force."""
        return self._config.settings

    @property
    def model_groups(self) -> dict[str, tuple[Deployment, ...]]:
        """Deployments by model group, as configured now."""
        return dict(self._config.groups)

    def reload(self) -> bool:
        """Re-read the YAML file; swap to it when valid (calls in flight finish on the old deployments) and return
        True. An invalid file raises RouterConfigError with its paths, and the old configuration keeps serving."""
        if self._path is None:
            raise RouterConfigError(["Router(): reload() needs a Router built with Router.from_yaml(path)"])
        with self._reload_lock:
            config = load_config(read_yaml(self._path), self._path, self.client)
            self._config = config  # one reference swap: a call reads the config once, at its start
        self._event(RouterEvent("reload", "-", "*", detail=f"{self._path}: {sum(map(len, config.groups.values()))} "
                                                         "deployments"), logging.INFO)
        return True

    def _reload_quietly(self) -> None:
        try:
            self.reload()
        except RouterConfigError as error:
            log.error("router config reload refused, the previous config keeps serving:\n  %s",
                      "\n  ".join(error.problems))
            self._event(RouterEvent("reload", "-", "*", detail="refused", error=error), logging.DEBUG)

    def stats(self, deployment_id: str) -> dict[str, float]:
        """Live figures of one deployment (rpm, tpm, inflight, latency, cooldown seconds left)."""
        return self.state.stats(deployment_id, self.clock())

    # -- calls ----------------------------------------------------------------------------------------------

    def completion(
        self,
        model: str,
        messages: Sequence[Any],
        *,
        stream: bool = False,
        num_retries: int | None = None,
        fallbacks: Sequence[str] | None = None,
        **params: Any,
    ) -> Any:
        """Call the model group `model`; a ChatResponse, or a ChatStream when stream=True, as `completion()`."""
        return self._route("completion", model, (messages,), stream, num_retries, fallbacks, params)

    def embedding(
        self,
        model: str,
        input: Any,
        *,
        num_retries: int | None = None,
        fallbacks: Sequence[str] | None = None,
        **params: Any,
    ) -> Any:
        """Embed `input` with the model group `model` (deployments naming embedding models): an EmbeddingResponse,
        as `embedding()`, with the same deployment choice, rate limits, cooldowns, retries, fallbacks and cache."""
        return self._route("embedding", model, (input,), False, num_retries, fallbacks, params)

    def rerank(
        self,
        model: str,
        query: str,
        documents: Sequence[Any],
        *,
        num_retries: int | None = None,
        fallbacks: Sequence[str] | None = None,
        **params: Any,
    ) -> Any:
        """Rerank `documents` for `query` with the model group `model`: a RerankResponse, as `rerank()`, routed as
        `completion` is."""
        return self._route("rerank", model, (query, documents), False, num_retries, fallbacks, params)

    def _route(
        self,
        kind: str,
        model: str,
        args: tuple[Any, ...],
        stream: bool,
        num_retries: int | None,
        fallbacks: Sequence[str] | None,
        params: dict[str, Any],
    ) -> Any:
        """One routed call of the Client method `kind` (completion, embedding, rerank) with `args` after the model:
        the group's retries, then its fallback groups."""
        config = self._config
        if os.getpid() != self._pid:  # a forked child must not replay its parent's random choices
            self._pid, self._rng = os.getpid(), random.Random(None if self._seed is None else self._seed + self._pid)
        # The call's correlation id, on its RouterEvents, its log lines and every attempt's CallEvent: the caller's
        # metadata={"request_id": ...} when given, else a generated one (unique across processes, as a Client's).
        metadata = params.get("metadata")
        given = metadata.get("request_id") if isinstance(metadata, Mapping) else None
        call_id = given if isinstance(given, str) and given else new_id()
        call = Call(self, config, call_id, Work(kind, args, stream), num_retries, params)
        try:
            return call.group(model)
        except APIError as error:
            chain = self._fallbacks(config.settings, model, error, fallbacks)
            if not chain:
                raise
            last: APIError = error
            for group in chain:
                self._event(RouterEvent("fallback", call_id, model, detail=f"{model} -> {group}", error=last))
                try:
                    return call.group(group)
                except APIError as next_error:
                    last = next_error
            raise last from error

    def _fallbacks(
        self, settings: Settings, group: str, error: APIError, per_call: Sequence[str] | None
    ) -> tuple[str, ...]:
        if per_call is not None:
            return tuple(per_call)
        tables: list[Mapping[str, tuple[str, ...]]] = []
        if isinstance(error, ContextWindowExceededError):
            tables.append(settings.context_window_fallbacks)
        elif isinstance(error, ContentPolicyViolationError):
            tables.append(settings.content_policy_fallbacks)
        tables.append(settings.fallbacks)
        for table in tables:
            chain = table.get(group) or table.get("*")
            if chain:
                return tuple(g for g in chain if g != group)
        return ()

    def _event(self, event: RouterEvent, level: int = logging.INFO) -> None:
        if log.isEnabledFor(level):
            log.log(level, "router[%s] %s %s%s%s", event.call_id, event.kind, event.model_group,
                    f" deployment={event.deployment} ({event.model})" if event.deployment else "",
                    f": {event.detail}" if event.detail else "", extra={"correlation_id": event.call_id})
        for hook in self.hooks:
            try:
                hook(event)
            except Exception as exc:  # observability never breaks a call
                log.warning("hook %r failed: %s: %s", hook, type(exc).__name__, exc)
