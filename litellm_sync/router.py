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

import itertools
import logging
import os
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable

from ._engine.redact import get_logger
from ._router.config import Config, Deployment, RouterConfigError, Settings, load_config, read_yaml
from ._router.strategies import ORDER_BY, can_serve, estimate_tokens, preference, required_features
from ._router.watch import Watcher
from .client import Client
from .exceptions import (
    APIError,
    AuthenticationError,
    ContentPolicyViolationError,
    ContextWindowExceededError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnknownModelError,
    UnsupportedParamsError,
)
from .hooks import CallEvent, notify
from .state import Candidate, Failure, Grant, GroupLimit, State, open_state

log = get_logger()
_FAILED_TIER = 1_000_000  # deployments that failed this call are tried after every other
_COOL_AT_ONCE = (AuthenticationError, PermissionDeniedError, NotFoundError)
RETRY_AFTER_CAP = 300.0

__all__ = ["Deployment", "Router", "RouterConfigError", "RouterEvent", "RouterRateLimitError"]


class RouterRateLimitError(RateLimitError):
    """No deployment of the group could take the call (all cooling down or at their limits); nothing was sent."""


@dataclass(frozen=True)
class RouterEvent:
    """One routing decision, given to the Router's hooks (beside each call's `CallEvent`) and logged.

    kind: "route" (deployment chosen), "retry", "fallback", "cooldown", "rate_limit_wait" or "reload".
    """

    kind: str
    call_id: str
    model_group: str
    deployment: str | None = None  # the deployment id
    model: str | None = None
    detail: str = ""
    error: Exception | None = None


class Router:
    """Routes `completion` calls for model groups over their deployments; thread-safe, share one per process.

    model_list: LiteLLM's list of {model_name, litellm_params, model_info}. Router settings (LiteLLM's names:
    routing_strategy, num_retries, fallbacks, allowed_fails, cooldown_time, rate_limit_wait, ...) are keywords.
    state: None (in process), a `State`, or "redis://host:port/db" to share limits and cooldowns across processes.
    hooks: callables given a `CallEvent` per deployment call and a `RouterEvent` per routing decision.
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
        _config: Config | None = None,
        _path: str | None = None,
        **router_settings: Any,
    ) -> None:
        self.hooks = tuple(hooks)
        self._own_client = client is None
        self.client = client if client is not None else Client(hooks=self.hooks)
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
        self._ids = itertools.count(1)
        self._reload_lock = threading.Lock()
        self._watcher: Watcher | None = None

    @classmethod
    def from_yaml(cls, path: str, *, watch: bool = False, watch_interval: float = 1.0, **kwargs: Any) -> Router:
        """A Router from a YAML file (model_list:, router_settings:, litellm_settings:, providers:); with
        watch=True a daemon thread reloads it when it changes (see `reload`)."""
        client = kwargs.pop("client", None) or Client(hooks=kwargs.get("hooks", ()))
        config = load_config(read_yaml(path), str(path), client)
        router = cls(client=client, _config=config, _path=str(path), **kwargs)
        router._own_client = True
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
        config = self._config
        if os.getpid() != self._pid:  # a forked child must not replay its parent's random choices
            self._pid, self._rng = os.getpid(), random.Random(None if self._seed is None else self._seed + self._pid)
        call_id = f"{self._pid:x}-{next(self._ids):x}"
        call = _Call(self, config, call_id, messages, stream, num_retries, params)
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
                    f": {event.detail}" if event.detail else "")
        for hook in self.hooks:
            try:
                hook(event)
            except Exception as exc:  # observability never breaks a call
                log.warning("hook %r failed: %s: %s", hook, type(exc).__name__, exc)


class _Call:
    """One `Router.completion`: its config snapshot, its estimate, and the deployments that failed it."""

    def __init__(
        self,
        router: Router,
        config: Config,
        call_id: str,
        messages: Sequence[Any],
        stream: bool,
        num_retries: int | None,
        params: dict[str, Any],
    ) -> None:
        self.router = router
        self.config = config
        self.settings = config.settings
        self.call_id = call_id
        self.messages = messages
        self.stream = stream
        self.num_retries = num_retries
        self.timeout = params.pop("timeout", None)
        self.params = params
        self.tokens = estimate_tokens(messages, params)
        self.needed = required_features(messages, params) if self.settings.enable_pre_call_checks else frozenset()
        self.failed: set[str] = set()

    def group(self, name: str) -> Any:
        """Call one model group, retrying within it."""
        deployments = self.config.groups.get(name)
        if deployments is None:
            raise UnknownModelError(
                f"The router has no model group '{name}'; its groups: {', '.join(sorted(self.config.groups))}."
            )
        deployments = self._servable(name, deployments)
        attempt = 0
        while True:
            deployment, grant = self._pick(name, deployments)
            try:
                return self._send(name, deployment, grant)
            except APIError as error:
                self.failed.add(deployment.id)
                if attempt >= self._retries(error):
                    raise
                attempt += 1
                fresh = any(d.id not in self.failed for d in deployments)
                wait = self.settings.retry_after if fresh else _backoff(attempt, error, self.settings.retry_after)
                self.router._event(RouterEvent("retry", self.call_id, name, deployment.id, deployment.model,
                                               f"attempt {attempt + 1}, waiting {wait:.2f}s", error))
                if wait > 0:
                    self.router.sleep(wait)

    def _retries(self, error: APIError) -> int:
        policy = self.settings.retry_policy
        if policy:
            for cls in type(error).__mro__:
                if cls.__name__ in policy:
                    return policy[cls.__name__]
        if not error.retryable:
            return 0
        return self.settings.num_retries if self.num_retries is None else self.num_retries

    def _servable(self, name: str, deployments: tuple[Deployment, ...]) -> tuple[Deployment, ...]:
        if not self.settings.enable_pre_call_checks:
            return deployments
        kept, reasons = [], []
        for deployment in deployments:
            reason = can_serve(deployment, self.tokens, self.needed)
            if reason is None:
                kept.append(deployment)
            else:
                reasons.append(f"{deployment.model} ({deployment.id}): {reason}")
        if kept:
            return tuple(kept) if reasons else deployments
        message = f"no deployment of model group '{name}' can serve this call: " + "; ".join(reasons)
        if all("context window" in r for r in reasons):
            raise ContextWindowExceededError(message + ". Shorten the prompt or add context_window_fallbacks.")
        raise UnsupportedParamsError(message + ". Route the call to a group whose models support it.")

    def _pick(self, name: str, deployments: tuple[Deployment, ...]) -> tuple[Deployment, Grant]:
        router, settings = self.router, self.settings
        strategy = settings.routing_strategy
        ordered = preference(deployments, strategy, router._rng)
        failed = self.failed
        candidates = [
            Candidate(d.id, d.order + (_FAILED_TIER if d.id in failed else 0), d.rpm, d.tpm) for d in ordered
        ]
        limits = settings.group_limits.get(name)
        group = GroupLimit(name, *limits) if limits else GroupLimit(name)
        deadline = None
        while True:
            now = router.clock()
            grant = router.state.acquire(
                candidates, group, self.tokens, now, ORDER_BY[strategy], settings.lowest_latency_buffer
            )
            if grant.index >= 0:
                deployment = ordered[grant.index]
                if router.hooks or log.isEnabledFor(logging.DEBUG):
                    router._event(RouterEvent("route", self.call_id, name, deployment.id, deployment.model,
                                              strategy), logging.DEBUG)
                return deployment, grant
            if deadline is None:
                deadline = now + settings.rate_limit_wait
            wait = min(grant.retry_in, deadline - now)
            if not grant.limited or wait <= 0:
                raise self._unavailable(name, grant)
            router._event(RouterEvent("rate_limit_wait", self.call_id, name,
                                      detail=f"no capacity, waiting {wait:.2f}s"))
            router.sleep(wait)

    def _unavailable(self, name: str, grant: Grant) -> RouterRateLimitError:
        why = []
        if grant.cooling:
            why.append(f"{grant.cooling} cooling down after failures")
        if grant.limited:
            why.append(f"{grant.limited} at their rpm/tpm limit")
        return RouterRateLimitError(
            f"model group '{name}': no deployment available ({', '.join(why)}); nothing was sent. "
            f"Capacity may return in {grant.retry_in:.1f}s: set rate_limit_wait= to wait for it, add deployments, "
            "or configure fallbacks.",
            model=name,
            retryable=False,
            retry_after=grant.retry_in,
        )

    def _send(self, name: str, deployment: Deployment, grant: Grant) -> Any:
        router, settings = self.router, self.settings
        params = {**deployment.params, **self.params} if deployment.params else self.params
        timeout = self.timeout or (deployment.stream_timeout if self.stream else None)
        timeout = timeout or deployment.timeout or settings.timeout
        started = time.perf_counter()
        try:
            result = router.client.completion(
                deployment.model, self.messages, stream=self.stream, api_key=deployment.api_key,
                api_base=deployment.api_base, api_version=deployment.api_version, timeout=timeout,
                max_retries=0, **params,
            )  # fmt: skip
        except APIError as error:
            self._settle(name, deployment, grant, None, None, error)
            raise
        except BaseException:
            self._settle(name, deployment, grant, None, None, None)
            raise
        latency = time.perf_counter() - started
        if not self.stream:
            usage = result.usage
            self._settle(name, deployment, grant, usage.total_tokens if usage else None, latency, None)
            return result
        hooks = router.client.hooks

        def on_end(response: Any, error: Exception | None, complete: bool) -> None:
            usage = response.usage if response is not None else None
            failure = error if isinstance(error, APIError) else None
            self._settle(name, deployment, grant, usage.total_tokens if usage else None, latency, failure)
            if hooks:  # the stream's own end callback is replaced by this one: tell the client's hooks here
                total = (time.perf_counter() - started) * 1000
                notify(hooks, CallEvent(result.provider, result.model, True, total, response, error, complete))

        result.notify_end(on_end)
        return result

    def _settle(
        self, name: str, deployment: Deployment, grant: Grant, tokens: int | None, latency: float | None,
        error: APIError | None,
    ) -> None:
        router, settings = self.router, self.settings
        failure = None
        if error is not None and (error.retryable or isinstance(error, _COOL_AT_ONCE)):
            force = None if error.retry_after is None else min(max(error.retry_after, 0.0), RETRY_AFTER_CAP)
            failure = Failure(settings.allowed_fails, settings.cooldown_time, force)
        cooled = router.state.release(
            deployment.id, GroupLimit(name), grant, router.clock(), tokens, latency, failure
        )
        if cooled:
            seconds = failure.force_cooldown if failure and failure.force_cooldown is not None else (
                settings.cooldown_time)
            router._event(RouterEvent("cooldown", self.call_id, name, deployment.id, deployment.model,
                                      f"cooling down for {seconds:.1f}s", error), logging.WARNING)


def _backoff(attempt: int, error: APIError, floor: float) -> float:
    """Before retrying a deployment that already failed this call: its Retry-After, else jittered backoff."""
    if error.retry_after is not None:
        return max(min(error.retry_after, RETRY_AFTER_CAP), floor)
    return max(min(8.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2), floor)
