"""Router state behind one small interface: rate windows, in-flight counts, cooldowns and latency, in process
(`MemoryState`, the default) or shared by every process through Redis (`state="redis://..."`).

A routing decision is one call, `State.acquire`: given the candidate deployments in preference order, it skips
those cooling down or out of rate-limit capacity, orders the rest by the strategy's live metric (in-flight
calls, latency, tokens used this minute), and reserves capacity on the first one, atomically. When the call ends
`State.release` settles the reservation: actual tokens, latency, and a failure that may start a cooldown.
Windows are fixed minutes of the Router's clock, so every process agrees on them.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

WINDOW = 60.0  # rpm and tpm are per minute
INFLIGHT_TTL = 600  # seconds an in-flight count survives a process that died mid-call (Redis only)
LATENCY_WEIGHT = 0.3  # weight of the newest sample in the latency moving average

#: Metrics a strategy can order candidates by, decided inside `acquire` with the live figures.
ORDER_BY = ("none", "inflight", "latency", "usage")


@dataclass(frozen=True)
class Candidate:
    """A deployment the call may go to: its state key, its priority tier (lower first), its per-minute limits."""

    key: str
    tier: int = 0
    rpm: int | None = None
    tpm: int | None = None


@dataclass(frozen=True)
class GroupLimit:
    """Limits shared by every deployment of one model group (None: unlimited)."""

    key: str
    rpm: int | None = None
    tpm: int | None = None


@dataclass(frozen=True)
class Grant:
    """What `acquire` decided: the chosen candidate's index, or -1 with why nothing was free."""

    index: int
    window: int = 0
    tokens: int = 0
    cooling: int = 0  # candidates skipped because they are cooling down
    limited: int = 0  # candidates skipped for lack of rpm/tpm capacity (the group's limit counts as all)
    retry_in: float = 0.0  # seconds until a cooldown or window ends and capacity may return
    local: bool = False  # served by the in-process fallback while a shared backend was down


@dataclass(frozen=True)
class Failure:
    """How to count a failed call: cooldown after `allowed_fails` failures in a minute, or at once for
    `force_cooldown` seconds (a provider's Retry-After, or an error that retrying cannot fix)."""

    allowed_fails: int
    cooldown_time: float
    force_cooldown: float | None = None


class State(ABC):
    """What the Router needs remembered; implementations are thread-safe and fork-safe."""

    @abstractmethod
    def acquire(
        self,
        candidates: Sequence[Candidate],
        group: GroupLimit,
        tokens: int,
        now: float,
        order_by: str = "none",
        buffer: float = 0.0,
    ) -> Grant:
        """Pick the first candidate (by tier, then the live `order_by` metric, then the given order) that is not
        cooling down and has capacity for one more request and `tokens` more tokens this minute; reserve it."""

    @abstractmethod
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
        """Settle a reservation: in-flight -1, tokens corrected to `tokens_used`, latency sample recorded, failure
        counted. True when this failure put the deployment into cooldown."""

    @abstractmethod
    def stats(self, key: str, now: float) -> dict[str, float]:
        """rpm, tpm, inflight, latency and cooldown (seconds left) for one deployment, for inspection and tests."""

    def cooldown(self, key: str, seconds: float, now: float) -> None:
        """Put a deployment into cooldown for `seconds` (used by tests and operators)."""
        self.release(key, GroupLimit(""), Grant(-1, local=True), now, failure=Failure(0, seconds, seconds))

    def flush(self) -> None:  # noqa: B027 - only a backend that settles in the background has work to do
        """Wait until settlements made so far are visible to every process."""

    def close(self) -> None:  # noqa: B027 - optional for implementations without connections
        """Release connections, if any."""


def window_of(now: float) -> int:
    """The index of the fixed minute `now` falls in."""
    return int(now // WINDOW)


def window_left(now: float) -> float:
    """Seconds until the current minute ends."""
    return WINDOW - (now % WINDOW)


class _Deployment:
    """In-process counters of one deployment; the window fields reset when the minute changes."""

    __slots__ = ("cooldown_until", "fails", "fails_window", "inflight", "latency", "rpm", "tpm", "window")

    def __init__(self) -> None:
        self.window = -1
        self.rpm = 0
        self.tpm = 0
        self.inflight = 0
        self.latency: float | None = None
        self.cooldown_until = 0.0
        self.fails = 0
        self.fails_window = -1

    def roll(self, window: int) -> None:
        if self.window != window:
            self.window, self.rpm, self.tpm = window, 0, 0


class MemoryState(State):
    """State in this process, under one lock: the default, and the fallback while Redis is unreachable."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deployments: dict[str, _Deployment] = {}

    def _get(self, key: str) -> _Deployment:
        entry = self._deployments.get(key)
        if entry is None:
            entry = self._deployments[key] = _Deployment()
        return entry

    def acquire(
        self,
        candidates: Sequence[Candidate],
        group: GroupLimit,
        tokens: int,
        now: float,
        order_by: str = "none",
        buffer: float = 0.0,
    ) -> Grant:
        window = window_of(now)
        with self._lock:
            group_entry = self._get("group:" + group.key) if group.rpm or group.tpm else None
            if group_entry is not None:
                group_entry.roll(window)
                if _over(group_entry.rpm, group_entry.tpm, group.rpm, group.tpm, tokens):
                    return Grant(-1, window, tokens, limited=len(candidates), retry_in=window_left(now))
            ready: list[tuple[int, float, int]] = []
            cooling = limited = 0
            soonest = window_left(now)
            for index, candidate in enumerate(candidates):
                entry = self._get(candidate.key)
                if entry.cooldown_until > now:
                    cooling += 1
                    soonest = min(soonest, entry.cooldown_until - now)
                    continue
                entry.roll(window)
                if _over(entry.rpm, entry.tpm, candidate.rpm, candidate.tpm, tokens):
                    limited += 1
                    continue
                ready.append((candidate.tier, _metric(entry, order_by), index))
            if not ready:
                return Grant(-1, window, tokens, cooling=cooling, limited=limited, retry_in=soonest)
            chosen = min(_buffered(ready, buffer) if order_by == "latency" and buffer > 0 else ready)[2]
            entry = self._deployments[candidates[chosen].key]
            entry.rpm += 1
            entry.tpm += tokens
            entry.inflight += 1
            if group_entry is not None:
                group_entry.rpm += 1
                group_entry.tpm += tokens
            return Grant(chosen, window, tokens)

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
        with self._lock:
            entry = self._get(key)
            if grant.index >= 0:
                entry.inflight = max(entry.inflight - 1, 0)
                if tokens_used is not None:
                    delta = tokens_used - grant.tokens
                    if entry.window == grant.window:
                        entry.tpm = max(entry.tpm + delta, 0)
                    group_entry = self._deployments.get("group:" + group.key)
                    if group_entry is not None and group_entry.window == grant.window:
                        group_entry.tpm = max(group_entry.tpm + delta, 0)
            if latency is not None:
                old = entry.latency
                entry.latency = latency if old is None else old + LATENCY_WEIGHT * (latency - old)
            if failure is None:
                return False
            if failure.force_cooldown is not None:
                entry.cooldown_until = max(entry.cooldown_until, now + failure.force_cooldown)
                return True
            window = window_of(now)
            if entry.fails_window != window:
                entry.fails_window, entry.fails = window, 0
            entry.fails += 1
            if entry.fails > failure.allowed_fails:
                entry.cooldown_until = max(entry.cooldown_until, now + failure.cooldown_time)
                entry.fails = 0
                return True
            return False

    def stats(self, key: str, now: float) -> dict[str, float]:
        with self._lock:
            entry = self._get(key)
            current = entry.window == window_of(now)
            return {
                "rpm": entry.rpm if current else 0,
                "tpm": entry.tpm if current else 0,
                "inflight": entry.inflight,
                "latency": -1.0 if entry.latency is None else entry.latency,
                "cooldown": max(entry.cooldown_until - now, 0.0),
            }


def _over(rpm_used: int, tpm_used: int, rpm: int | None, tpm: int | None, tokens: int) -> bool:
    return (rpm is not None and rpm_used + 1 > rpm) or (tpm is not None and tpm_used + tokens > tpm)


def _metric(entry: _Deployment, order_by: str) -> float:
    if order_by == "inflight":
        return entry.inflight
    if order_by == "latency":
        return entry.latency or 0.0  # no sample yet: try it, so every deployment gets measured
    if order_by == "usage":
        return entry.tpm + entry.rpm / 1e6  # tokens first, requests break ties
    return 0.0


def _buffered(ready: list[tuple[int, float, int]], buffer: float) -> list[tuple[int, float, int]]:
    """Latencies within `buffer` (a fraction) of their tier's fastest count as equal: the given order decides."""
    fastest: dict[int, float] = {}
    for tier, metric, _ in ready:
        fastest[tier] = min(metric, fastest.get(tier, metric))
    return [
        (tier, 0.0 if metric <= fastest[tier] * (1 + buffer) else metric, index) for tier, metric, index in ready
    ]


def open_state(state: Any, namespace: str = "litellm_sync") -> State:
    """A State from what the Router was given: None (in process), a State, or a redis:// URL."""
    if state is None or state == "memory":
        return MemoryState()
    if isinstance(state, State):
        return state
    if isinstance(state, str) and state.startswith(("redis://", "rediss://", "unix://")):
        from ._router.resilient import ResilientState

        return ResilientState(state, namespace)
    from ._router.config import RouterConfigError

    raise RouterConfigError([f"state: expected None, 'memory', a State or a redis:// URL, got {state!r}"])
