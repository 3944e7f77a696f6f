"""One routed call (`Router.completion`, `.embedding`, `.rerank`) inside one model group: pre-call checks, the
pick (strategy and state in one step), the send with max_retries=0, retries on deployments that have not failed,
and the settlement of each attempt."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._engine.keywords import take_keywords
from .._engine.redact import get_logger
from .._record import note_origin
from ..exceptions import (
    APIError,
    AuthenticationError,
    ContextWindowExceededError,
    LiteLLMSyncError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnknownModelError,
    UnsupportedParamsError,
)
from ..state import Candidate, Failure, Grant, GroupLimit
from .config import Config, Deployment
from .strategies import ORDER_BY, can_serve, estimate_tokens, preference, required_features

if TYPE_CHECKING:
    from ..router import Router

log = get_logger()
_FAILED_TIER = 1_000_000  # deployments that failed this call are tried after every other
_DEPLOYMENT_FAULTS = (AuthenticationError, PermissionDeniedError, NotFoundError)  # count toward cooldown
RETRY_AFTER_CAP = 300.0


class RouterRateLimitError(RateLimitError):
    """No deployment of the group could take the call (all cooling down or at their limits); nothing was sent."""


@dataclass(frozen=True)
class RouterEvent:
    """One routing decision, given to the Router's hooks (beside each attempt's `CallEvent`) and logged.

    kind: "route" (deployment chosen, capacity reserved), "retry", "fallback", "cooldown", "rate_limit_wait" or
    "reload". The contract (docs/router.md): a CallEvent per attempt (a request sent or a cache hit), a RouterEvent
    per decision, in the order they happen, both with the Router call's correlation id; count calls with CallEvents.
    """

    kind: str
    call_id: str
    model_group: str
    deployment: str | None = None  # the deployment id
    model: str | None = None
    detail: str = ""
    error: Exception | None = None

    @property
    def correlation_id(self) -> str:
        """The Router call's id: the `correlation_id` of the CallEvents of its attempts ("-" for a reload)."""
        return self.call_id


@dataclass(frozen=True)
class Work:
    """What a routed call sends: the Client method (`completion`, `embedding`, `rerank`) and its arguments after
    the model (messages; input; query and documents). Every operation shares the one routing loop below."""

    kind: str
    args: tuple[Any, ...]
    stream: bool = False

    @property
    def chat(self) -> bool:
        return self.kind == "completion"

    def messages(self) -> list[Any]:
        """The texts as chat messages, for the token estimate (an embedding's inputs, a rerank's query and
        documents)."""
        if self.chat:
            return list(self.args[0])
        texts = self.args[0] if self.kind == "embedding" else [self.args[0], *self.args[1]]
        texts = [texts] if isinstance(texts, str) else texts
        return [{"role": "user", "content": t if isinstance(t, str) else str(t)} for t in texts or ()]

    def cache_request(self) -> tuple[str | None, Any]:
        """The operation and the request the Client's cache keys this call by (as the Client's method does)."""
        if self.chat:
            return None, self.args[0]
        from ..embeddings import cache_request

        return cache_request(self.kind, *self.args)


class Call:
    """One routed call: its config snapshot, its estimate, and the deployments that failed it."""

    def __init__(
        self,
        router: Router,
        config: Config,
        call_id: str,
        work: Work,
        num_retries: int | None,
        params: dict[str, Any],
    ) -> None:
        self.router = router
        self.config = config
        self.settings = config.settings
        self.call_id = call_id
        self.work = work
        self.stream = work.stream
        self.num_retries = num_retries
        self.timeout = params.pop("timeout", None)
        self.params = params
        messages = work.messages()
        self.tokens = estimate_tokens(messages, params)
        # Pre-call checks read chat's context window and features; an embedding's limit is per input, not summed.
        self.checks = self.settings.enable_pre_call_checks and work.chat
        self.needed = required_features(messages, params) if self.checks else frozenset()
        self.failed: set[str] = set()
        self.looked = False  # the cache was looked up (and missed) for this group: the attempts skip the lookup

    def group(self, name: str) -> Any:
        """Call one model group, retrying within it."""
        deployments = self.config.groups.get(name)
        if deployments is None:
            raise UnknownModelError(
                f"The router has no model group '{name}'; its groups: {', '.join(sorted(self.config.groups))}."
            )
        deployments = self._servable(name, deployments)
        self.looked = False  # a fallback group's keys are its own: looked up afresh
        hit = self._cached(name, deployments)
        if hit is not None:
            return hit
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

    def _cached(self, name: str, deployments: tuple[Deployment, ...]) -> Any:
        """An answer from the Client's cache, looked up before any deployment is picked: a hit reserves no rate
        limit capacity, records no latency and makes no routing decision (its CallEvent says cache_hit)."""
        client = self.router.client
        if client.pipeline.cache is None:
            return None
        tried: set[str] = set()  # deployments of one model share their entries: each key is looked up once
        try:
            operation, request = self.work.cache_request()
            messages = self.work.messages()
        except LiteLLMSyncError:
            return None  # a malformed input: the call itself says why
        drop = self.params.get("drop_params")
        for deployment in deployments:
            try:  # LiteLLM's keywords (caching=, num_retries=, tags=...) read as the Client reads them: same key
                keywords = take_keywords(deployment.model, self._params(name, deployment), {},
                                         client.drop_params if drop is None else bool(drop), True, quiet=True)
                provider, model, _info = client.resolve(keywords.model)
            except LiteLLMSyncError:
                continue  # the call itself says why
            hit = client.pipeline.cached(provider.name, model, messages, keywords.params, self.stream, tried,
                                         operation=operation, request=request)
            if hit is not None:
                return hit
        # Every key of the group has been looked up: the attempts skip the look-up, unless some inputs of an
        # embedding call were found (`seen`): its attempt looks them up again and sends only the others.
        self.looked = not getattr(request, "seen", False)
        return None

    def _params(self, name: str, deployment: Deployment) -> dict[str, Any]:
        params = {**deployment.params, **self.params} if deployment.params else dict(self.params)
        # Every attempt of this Router call shares its correlation id; budgets can count by model group.
        params["metadata"] = {"request_id": self.call_id, **(params.get("metadata") or {}), "model_group": name,
                              "deployment": deployment.id}
        options = params.get("cache")
        if self.looked and (options is None or isinstance(options, Mapping)):
            # A miss already: the attempt does not look again (a second round trip to a Redis cache), but stores.
            params["cache"] = {**(options or {}), "no-cache": True}
        return params

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
        if not self.checks:
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
        params = self._params(name, deployment)
        timeout = self.timeout or (deployment.stream_timeout if self.stream else None)
        timeout = timeout or deployment.timeout or settings.timeout
        started = time.perf_counter()
        if self.stream:
            params["stream"] = True
        try:
            result = getattr(router.client, self.work.kind)(
                deployment.model, *self.work.args, api_key=deployment.api_key,
                api_base=deployment.api_base, api_version=deployment.api_version, timeout=timeout,
                max_retries=0, **params,
            )  # fmt: skip
        except APIError as error:
            self._settle(name, deployment, grant, None, None, error)
            raise
        except BaseException:
            self._settle(name, deployment, grant, None, None, None)
            raise
        if self.settings.report_deployment:
            note_origin(result, model_id=deployment.id)  # LiteLLM's _hidden_params["model_id"]
        # A cache hit says nothing of the deployment's speed: no latency sample from it.
        latency = None if result.cache_hit else time.perf_counter() - started
        if not self.stream:
            usage = result.usage
            self._settle(name, deployment, grant, usage.total_tokens if usage else None, latency, None)
            return result

        def on_end(response: Any, error: Exception | None, complete: bool) -> None:
            usage = response.usage if response is not None else None
            failure = error if isinstance(error, APIError) else None
            self._settle(name, deployment, grant, usage.total_tokens if usage else None, latency, failure)

        result.notify_end(on_end)  # beside the Client's own listener, which tells the hooks
        return result

    def _settle(
        self, name: str, deployment: Deployment, grant: Grant, tokens: int | None, latency: float | None,
        error: APIError | None,
    ) -> None:
        router, settings = self.router, self.settings
        failure = None
        if error is not None and (error.retryable or isinstance(error, _DEPLOYMENT_FAULTS)):
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
