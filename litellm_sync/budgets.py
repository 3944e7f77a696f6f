"""Spend budgets for `Client(budgets=...)`: spend counted per client, user, tag, model and model group from the
registry's prices, per day, month and in total, in memory or Redis; a call that would start over a limit raises
`BudgetExceededError` before anything is sent.

    budgets = Budgets([Budget(20, period="day"), Budget(5, per="user", period="month")], store="redis://...")
    client = litellm_sync.Client(budgets=budgets)
    client.completion(model, messages, user="alice")        # OpenAI's `user` (or metadata={"user": ...})
    client.spend(user="alice", period="month").usd          # Decimal("0.0042")

Admission is atomic: each admitted call reserves its estimated cost (prompt at ~4 characters a token, plus
max_tokens when given, at the model's prices) and a call is refused while spent + reserved has reached the
limit; when the call ends the reservation is replaced by the actual cost. Amounts are kept as integers of 1e-10
USD, so totals are exact under threads and, with Redis, across processes. A call whose price is unknown (the spec
has no pricing for the model) is counted as unknown, never as 0, and refused when `refuse_unpriced=True`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable

from ._engine.redact import get_logger
from ._observe.context import ForkSafeLock
from .exceptions import APIConnectionError, BudgetExceededError, ConfigurationError
from .registry import ModelInfo

log = get_logger()
UNIT = Decimal("1e-10")  # amounts are integers of this many USD
PERIODS = ("day", "month", "total")
DIMENSIONS = ("client", "user", "tag", "model", "model_group")
_TTL = {"day": 3 * 86400, "month": 70 * 86400, "total": 0}


def to_units(usd: Decimal) -> int:
    """USD as an integer count of UNIT, rounded half up."""
    return int((usd / UNIT).to_integral_value(ROUND_HALF_UP))


def bucket(period: str, now: float) -> str:
    """The name of the period `now` falls in (UTC): 2026-11-30, 2026-11 or all."""
    if period == "total":
        return "all"
    return time.strftime("%Y-%m-%d" if period == "day" else "%Y-%m", time.gmtime(now))


@dataclass(frozen=True)
class Budget:
    """A limit in USD per period ("day", "month" or "total") for one dimension of the calls.

    per: "client" (every call), "user" (OpenAI's `user` or metadata["user"]), "tag" (metadata["tags"]),
    "model" ("provider/model") or "model_group" (the Router's group, or metadata["model_group"]).
    match: only this user, tag, model or group; None gives each value its own limit.
    """

    limit: Decimal | float | int | str
    period: str = "day"
    per: str = "client"
    match: str | None = None

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise ConfigurationError(f"Budget(period={self.period!r}): expected one of {', '.join(PERIODS)}")
        if self.per not in DIMENSIONS:
            raise ConfigurationError(f"Budget(per={self.per!r}): expected one of {', '.join(DIMENSIONS)}")
        try:
            limit = Decimal(str(self.limit))
        except ArithmeticError:
            limit = Decimal(-1)
        if not limit.is_finite() or limit < 0:
            raise ConfigurationError(f"Budget(limit={self.limit!r}): expected an amount in USD, 0 or more")
        object.__setattr__(self, "limit", limit)


@dataclass(frozen=True)
class Spend:
    """What one key has spent in one period: exact USD of priced calls, calls counted, calls with unknown price,
    and the estimates of calls still in flight."""

    usd: Decimal
    calls: int
    unknown_calls: int
    reserved_usd: Decimal


@dataclass
class Reservation:
    """What `Budgets.admit` reserved for one call, settled once when the call ends."""

    tracked: list[tuple[str, int]]  # (ledger key, ttl) of every key the call counts toward
    limited: list[str]  # the keys whose limits were checked, holding the reservation
    units: int
    settled: bool = False


class Ledger:
    """Where the counters live: spent, reserved, calls, unknown per key. Implementations are atomic."""

    def admit(self, limited: Sequence[tuple[str, int, int]], units: int) -> tuple[int, int, int] | None:
        """Check every (key, limit, ttl): None and reserve `units` on all when each has spent + reserved < limit;
        otherwise (index, spent, reserved) of the first key at its limit, nothing reserved."""
        raise NotImplementedError

    def settle(self, limited: Sequence[str], units: int, tracked: Sequence[tuple[str, int]], cost: int | None) -> None:
        """Release a reservation and count one call's cost (None: unknown price) toward every tracked key."""
        raise NotImplementedError

    def read(self, key: str) -> tuple[int, int, int, int]:
        """(spent, calls, unknown, reserved) of one key."""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections, if any."""


class MemoryLedger(Ledger):
    """Counters in this process, under one lock."""

    def __init__(self) -> None:
        self._lock = ForkSafeLock()
        self._counts: dict[str, list[int]] = {}  # key -> [spent, calls, unknown, reserved]

    def _get(self, key: str) -> list[int]:
        entry = self._counts.get(key)
        if entry is None:
            entry = self._counts[key] = [0, 0, 0, 0]
        return entry

    def admit(self, limited: Sequence[tuple[str, int, int]], units: int) -> tuple[int, int, int] | None:
        with self._lock:
            entries = [self._get(key) for key, _, _ in limited]
            for index, (entry, (_, limit, _)) in enumerate(zip(entries, limited)):
                if entry[0] + entry[3] >= limit:
                    return index, entry[0], entry[3]
            for entry in entries:
                entry[3] += units
            return None

    def settle(self, limited: Sequence[str], units: int, tracked: Sequence[tuple[str, int]], cost: int | None) -> None:
        with self._lock:
            for key in limited:
                entry = self._get(key)
                entry[3] = max(entry[3] - units, 0)
            for key, _ in tracked:
                entry = self._get(key)
                entry[1] += 1
                if cost is None:
                    entry[2] += 1
                else:
                    entry[0] += cost

    def read(self, key: str) -> tuple[int, int, int, int]:
        with self._lock:
            spent, calls, unknown, reserved = self._counts.get(key, (0, 0, 0, 0))
            return spent, calls, unknown, reserved


class Budgets:
    """Limits, the ledger they are counted in, and how to treat unknown prices. Thread-safe; share it.

    limits: Budget objects. store: None (this process), a Ledger, or a redis:// URL (the `redis` extra) so that
    every process sharing that Redis and namespace counts against the same limits.
    """

    def __init__(
        self,
        limits: Sequence[Budget] = (),
        *,
        store: Any = None,
        refuse_unpriced: bool = False,
        namespace: str = "litellm_sync",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = tuple(limits)
        if not all(isinstance(limit, Budget) for limit in self.limits):
            raise ConfigurationError("Budgets(limits=...): expected Budget(...) objects")
        self.refuse_unpriced = refuse_unpriced
        self.namespace = namespace
        self.clock = clock
        self.ledger = _open_ledger(store)

    def __repr__(self) -> str:
        return f"Budgets({len(self.limits)} limits, ledger={type(self.ledger).__name__})"

    def close(self) -> None:
        """Close the ledger's connections."""
        self.ledger.close()

    def _key(self, dimension: str, value: str, bucket_name: str) -> str:
        return f"{self.namespace}:budget:{dimension}:{value}:{bucket_name}"

    def admit(
        self, scope: Mapping[str, Sequence[str]], info: ModelInfo | None, messages: Sequence[Any],
        params: Mapping[str, Any],
    ) -> Reservation:
        """Reserve a call's estimated cost on every limit that applies; BudgetExceededError (nothing sent) when one
        has been reached, or when the price is unknown and unpriced calls are refused."""
        now = self.clock()
        buckets = {period: bucket(period, now) for period in PERIODS}
        tracked = [
            (self._key(dimension, value, buckets[period]), _TTL[period])
            for dimension, values in scope.items() for value in values for period in PERIODS
        ]  # fmt: skip
        applying = [
            (limit, value) for limit in self.limits for value in scope.get(limit.per, ())
            if limit.match is None or limit.match == value
        ]  # fmt: skip
        estimate = estimate_cost(info, messages, params)
        if applying and estimate is None and self.refuse_unpriced:
            where = f"{info.provider}/{info.name}" if info is not None else "this model"
            raise BudgetExceededError(
                f"the price of {where} is unknown, so budgets cannot count it, and unpriced calls are refused; add "
                "pricing: for the model in providers YAML or build Budgets(refuse_unpriced=False)",
                key=f"{applying[0][0].per}={applying[0][1]}", period=applying[0][0].period,
                limit=applying[0][0].limit,  # type: ignore[arg-type]
            )  # fmt: skip
        units = to_units(estimate) if estimate is not None else 0
        limited = [
            (self._key(limit.per, value, buckets[limit.period]), to_units(limit.limit), _TTL[limit.period])  # type: ignore[arg-type]
            for limit, value in applying
        ]  # fmt: skip
        try:
            refused = self.ledger.admit(limited, units) if limited else None
        except Exception as exc:  # a limit that cannot be checked is not waved through
            raise APIConnectionError(
                f"the budget store could not be reached ({type(exc).__name__}); nothing was sent. Check the "
                "Budgets(store=...) server, or use the in-process store.",
                retryable=False, request_sent=False,
            ) from None
        if refused is not None:
            index, spent, reserved = refused
            limit, value = applying[index]
            raise BudgetExceededError(
                f"budget reached for {limit.per}={value}: {_usd(spent)} spent"
                + (f" and {_usd(reserved)} reserved by calls in flight" if reserved else "")
                + f" of {limit.limit} USD this {limit.period if limit.period != 'total' else 'budget'}; nothing was "
                "sent. Raise the Budget's limit or wait for the next period.",
                key=f"{limit.per}={value}", period=limit.period, limit=limit.limit,  # type: ignore[arg-type]
                spent=_usd(spent),
            )  # fmt: skip
        return Reservation(tracked, [key for key, _, _ in limited], units)

    def settle(self, reservation: Reservation, cost: Decimal | None, sent: bool = True) -> None:
        """Replace a reservation by the call's actual cost (None: unknown price); sent=False only releases it."""
        if reservation.settled:
            return
        reservation.settled = True
        tracked = reservation.tracked if sent else []
        units = to_units(cost) if cost is not None else None
        try:
            self.ledger.settle(reservation.limited, reservation.units, tracked, units)
        except Exception as exc:  # the call has happened: its answer is not lost for a bookkeeping failure
            log.error("budget store could not count a call's spend (%s): %s", type(exc).__name__, exc)

    def spend(
        self, *, user: str | None = None, tag: str | None = None, model: str | None = None,
        model_group: str | None = None, period: str = "day",
    ) -> Spend:
        """What one key has spent in the current period; no key given: the whole client."""
        if period not in PERIODS:
            raise ConfigurationError(f"spend(period={period!r}): expected one of {', '.join(PERIODS)}")
        given = [(d, v) for d, v in (("user", user), ("tag", tag), ("model", model), ("model_group", model_group))
                 if v is not None]  # fmt: skip
        if len(given) > 1:
            raise ConfigurationError("spend(): give one of user=, tag=, model= or model_group= (or none)")
        dimension, value = given[0] if given else ("client", "*")
        spent, calls, unknown, reserved = self.ledger.read(self._key(dimension, value, bucket(period, self.clock())))
        return Spend(_usd(spent), calls, unknown, _usd(reserved))


def scope_of(
    provider: str, model: str, params: Mapping[str, Any], metadata: Mapping[str, Any]
) -> dict[str, Sequence[str]]:
    """The values a call counts toward, by dimension."""
    scope: dict[str, Sequence[str]] = {"client": ("*",), "model": (f"{provider}/{model}",)}
    user = metadata.get("user") or params.get("user")
    if isinstance(user, str) and user:
        scope["user"] = (user,)
    group = metadata.get("model_group")
    if isinstance(group, str) and group:
        scope["model_group"] = (group,)
    tags = metadata.get("tags")
    if isinstance(tags, str):
        tags = [tags]
    if isinstance(tags, (list, tuple)):
        scope["tag"] = tuple(dict.fromkeys(t for t in tags if isinstance(t, str) and t))
    return scope


def estimate_cost(info: ModelInfo | None, messages: Sequence[Any], params: Mapping[str, Any]) -> Decimal | None:
    """A call's cost before it is sent: ~4 characters a prompt token, plus max_tokens when given; None if unpriced."""
    if info is None:
        return None
    chars = 0
    for message in messages:
        content = message.get("content") if isinstance(message, Mapping) else getattr(message, "content", None)
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            chars += sum(len(p.get("text") or "") if isinstance(p, Mapping) else 0 for p in content)
    output = params.get("max_completion_tokens") or params.get("max_tokens") or 0
    return info.cost(chars // 4, output if isinstance(output, int) else 0)


def _usd(units: int) -> Decimal:
    return (Decimal(units) * UNIT).normalize() if units else Decimal(0)


def _open_ledger(store: Any) -> Ledger:
    if store is None or store == "memory":
        return MemoryLedger()
    if isinstance(store, Ledger):
        return store
    if isinstance(store, str) and store.startswith(("redis://", "rediss://", "unix://")):
        from ._observe.redis_ledger import RedisLedger

        return RedisLedger(store)
    raise ConfigurationError(f"Budgets(store={store!r}): expected None, 'memory', a Ledger or a redis:// URL")


__all__ = ["Budget", "BudgetExceededError", "Budgets", "Ledger", "MemoryLedger", "Spend"]
