"""The retry policy: tenacity, composed from small callables, retrying only retryable errors before any
byte of a response has reached the caller; waits honour Retry-After."""

from __future__ import annotations

import random
import time
from typing import Callable, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from ._engine.errors import clamp_retry_after
from ._engine.redact import get_logger
from .exceptions import APIError

T = TypeVar("T")
log = get_logger()


def is_retryable(exc: BaseException) -> bool:
    """Retry API errors that say so (rate limits, 5xx, connection failures)."""
    return isinstance(exc, APIError) and exc.retryable


class BackoffWait:
    """Exponential backoff with full jitter, at least the provider's Retry-After, at most `cap` seconds."""

    def __init__(self, initial: float = 0.5, cap: float = 8.0, retry_after_cap: float = 60.0) -> None:
        self.initial = initial
        self.cap = cap
        self.retry_after_cap = retry_after_cap

    def __call__(self, state: RetryCallState) -> float:
        backoff = min(self.cap, self.initial * 2 ** (state.attempt_number - 1))
        wait = backoff * (0.5 + random.random() / 2)
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        retry_after = clamp_retry_after(getattr(error, "retry_after", None), self.retry_after_cap)
        if retry_after is not None:  # nan or a non-number (a hand-built error) leaves the backoff in charge
            wait = retry_after
        return wait


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    log.info(
        "retrying after %s (attempt %d, waiting %.2fs)",
        type(error).__name__,
        state.attempt_number,
        state.upcoming_sleep,
    )


class RetryPolicy:
    """How many times to retry, how to wait, and how to sleep (injectable for tests)."""

    def __init__(
        self,
        max_retries: int = 2,
        wait: Callable[[RetryCallState], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_retries = max_retries
        self.wait = wait or BackoffWait()
        self.sleep = sleep

    def call(self, function: Callable[[], T], max_retries: int | None = None) -> T:
        """Run function, retrying retryable errors; the final error records how many attempts were made."""
        retries = self.max_retries if max_retries is None else max_retries
        retrying = Retrying(
            stop=stop_after_attempt(max(retries, 0) + 1),
            wait=self.wait,
            retry=retry_if_exception(is_retryable),
            sleep=self.sleep,
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return function()
        except APIError as error:
            error.attempts = retrying.statistics.get("attempt_number", 1)
            raise
        raise AssertionError("unreachable")  # pragma: no cover
