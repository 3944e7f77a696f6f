"""litellm_sync.web: the HTTP status, JSON body and Retry-After header each kind of error becomes."""

from __future__ import annotations

import pytest

import litellm_sync
from litellm_sync.web import error_payload, http_status, retry_after_header


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (litellm_sync.RateLimitError("slow down", retry_after=1.2), 429),
        (litellm_sync.ContextWindowExceededError("too long"), 400),
        (litellm_sync.UnsupportedParamsError("no logit_bias"), 400),
        (litellm_sync.UnknownModelError("no such model"), 400),
        (litellm_sync.MissingAPIKeyError("openai", ("OPENAI_API_KEY",)), 500),
        (litellm_sync.SpecError(["x.yaml: providers.a: bad"]), 500),
        (litellm_sync.ServiceUnavailableError("overloaded"), 502),
        (litellm_sync.Timeout("timed out"), 502),
        (litellm_sync.AuthenticationError("bad key"), 502),
    ],
)
def test_status(error: Exception, status: int) -> None:
    assert http_status(error) == status


def test_payload_and_retry_after_hold_no_key() -> None:
    error = litellm_sync.RateLimitError("quota for sk-live-abcdefghijklmnop reached", retry_after=1.2, code="rate")
    payload = error_payload(error)
    assert payload == {
        "error": {"type": "RateLimitError", "message": "quota for [REDACTED] reached", "code": "rate"}
    }
    assert retry_after_header(error) == "2"
    assert retry_after_header(litellm_sync.NotFoundError("gone")) is None
    assert error_payload(ValueError("plain")) == {"error": {"type": "ValueError", "message": "plain", "code": None}}


def test_payload_masks_keys_in_any_exception_and_given_secrets() -> None:
    """A payload is the last stop before a browser: it masks key-shaped text even in exceptions that did not
    come from a call, and any secret passed by value, in the message and the code."""
    foreign = RuntimeError("upstream said: Authorization: Bearer sk-ant-api03-abcdefghijklmnop")
    assert "sk-ant" not in error_payload(foreign)["error"]["message"]
    error = litellm_sync.BadRequestError("bad plainsecretvalue42", code="k_plainsecretvalue42")
    payload = error_payload(error, ("plainsecretvalue42",))
    assert payload["error"] == {"type": "BadRequestError", "message": "bad [REDACTED]", "code": "k_[REDACTED]"}


def test_retry_after_header_is_capped() -> None:
    assert retry_after_header(litellm_sync.RateLimitError("slow", retry_after=3600.0)) == "60"
    assert retry_after_header(litellm_sync.RateLimitError("slow", retry_after=float("nan"))) is None
