"""The error table: status and body matchers (first match wins) that turn a provider's error into a typed
exception with its message, code, request id and retry advice."""

from __future__ import annotations

import email.utils
import html
import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable

from ..exceptions import ERROR_CLASSES, APIError, APIStatusError
from .paths import MISSING, make_getter
from .reader import compile_condition
from .redact import redact, redact_value

if TYPE_CHECKING:
    from .._spec.model import ErrorRuleModel, ErrorsModel

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")
MAX_RETRY_AFTER = 60.0


def _status_test(spec: Any) -> Callable[[int | None], bool]:
    if spec is None:
        return lambda _status: True
    values = spec if isinstance(spec, list) else [spec]
    exact = {v for v in values if isinstance(v, int)}
    classes = {int(v[0]) for v in values if isinstance(v, str)}  # "4xx", "5xx"
    return lambda status: status is not None and (status in exact or status // 100 in classes)


class _Rule:
    def __init__(self, spec: ErrorRuleModel) -> None:
        self.status = _status_test(spec.status)
        self.condition = compile_condition(spec.match, spec.has)
        self.contains = list(spec.contains)  # lower-cased by the spec model
        self.headers = spec.headers  # (lower-cased name, values)
        self.event_types = spec.event_types
        self.cls = ERROR_CLASSES[spec.class_name]
        self.retryable: bool | None = spec.retryable

    def matches(
        self, status: int | None, body: Any, text: str, headers: Mapping[str, str], event_type: str | None
    ) -> bool:
        if not self.status(status):
            return False
        if self.event_types and event_type not in self.event_types:
            return False
        for name, values in self.headers:
            value = headers.get(name)
            if value is None or (value not in values and header_token(value) not in values):
                return False
        if self.condition is not None and not self.condition(body):
            return False
        if self.contains:
            lowered = text.lower()
            return any(c in lowered for c in self.contains)
        return True


def header_token(value: str) -> str:
    """A header value's first token: its part before the first `:` or `;`, stripped (AWS's
    `x-amzn-ErrorType: ThrottlingException:http://...`, a media type's parameters)."""
    return value.split(":", 1)[0].split(";", 1)[0].strip()


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or HTTP date), clamped to
    [0, MAX_RETRY_AFTER]; None when absent or unreadable (nan, garbage), so the backoff decides."""
    try:
        value = headers.get("retry-after-ms")
        if value is not None:
            return clamp_retry_after(float(value) / 1000.0)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            seconds = float(value)
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value)
            seconds = parsed.timestamp() - time.time()
        return clamp_retry_after(seconds)
    except (TypeError, ValueError, OverflowError, IndexError, AttributeError):
        return None


def clamp_retry_after(seconds: Any, cap: float = MAX_RETRY_AFTER) -> float | None:
    """A wait in seconds made safe for time.sleep: a number in [0, cap]; inf is the cap; nan, a bool or
    anything that is not a number is None."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or math.isnan(seconds):
        return None
    return float(min(max(seconds, 0.0), cap))


def describe_text(text: str, limit: int = 300) -> str:
    """A short readable excerpt of a non-JSON body: an HTML page's title, or its text without tags."""
    title = _TITLE.search(text)
    if title:
        return _SPACES.sub(" ", html.unescape(title.group(1))).strip()[:limit]
    stripped = _SPACES.sub(" ", html.unescape(_TAGS.sub(" ", text))).strip()
    return stripped[:limit] + ("..." if len(stripped) > limit else "")


class ErrorMapper:
    """A provider's compiled error table plus the generic status table."""

    def __init__(self, spec: ErrorsModel, http_errors: Mapping[Any, str], provider: str) -> None:
        self.provider = provider
        self.rules = [_Rule(rule) for rule in spec.rules]
        self.message = make_getter(spec.message)
        self.code = make_getter(spec.code)
        self.status_in_body = make_getter(spec.status)
        self.request_id = make_getter(spec.request_id)
        self.request_id_headers = spec.request_id_headers  # lower-cased by the spec model
        self.by_status = {int(k): ERROR_CLASSES[v] for k, v in http_errors.items() if str(k).isdigit()}
        self.by_class = {int(str(k)[0]): ERROR_CLASSES[v] for k, v in http_errors.items() if not str(k).isdigit()}

    def from_response(
        self,
        status: int | None,
        headers: Mapping[str, str],
        raw: bytes | str,
        model: str | None,
        secrets: Sequence[str | None] = (),
        event_type: str | None = None,
    ) -> APIError:
        """The exception for an error response (or an in-band error event, of type `event_type`, when status
        is None). `headers` must look names up case-insensitively (requests' headers do)."""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        try:
            body: Any = json.loads(text) if text.strip() else None
        except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
            body = None
        if status is None:
            found = self.status_in_body(body)
            status = found if isinstance(found, int) else (int(found) if str(found).isdigit() else None)
        cls: type[APIError] = APIStatusError
        retryable: bool | None = None
        for rule in self.rules:
            if rule.matches(status, body, text, headers, event_type):
                cls, retryable = rule.cls, rule.retryable
                break
        else:
            if status is not None:
                cls = self.by_status.get(status) or self.by_class.get(status // 100, APIStatusError)
        # Redacted before any excerpt is cut, so a key straddling the cut cannot leak half of itself.
        shown = redact_value(body, secrets) if body is not None else None
        message = self._message(status, shown, redact(text, secrets))
        code = self.code(body) if body is not None else MISSING
        request_id = self.request_id(body) if body is not None else MISSING
        if request_id is MISSING:
            request_id = next((headers[h] for h in self.request_id_headers if h in headers), None)
        error = cls(
            message,
            provider=self.provider,
            model=model,
            status_code=status,
            code=None if code is MISSING or isinstance(code, (dict, list)) else str(code),
            request_id=str(request_id) if isinstance(request_id, (str, int)) and request_id is not True else None,
            retryable=retryable,
            retry_after=retry_after_seconds(headers),
            body=shown,
        )
        return error.redact_secrets(secrets)

    def _message(self, status: int | None, body: Any, text: str) -> str:
        if body is not None:
            found = self.message(body)
            if isinstance(found, str) and found:
                return found
            if found is not MISSING and found is not None:
                return _json_excerpt(found)
            return _json_excerpt(body)
        if not text.strip():
            return f"HTTP {status} with an empty body"
        return f"HTTP {status}: {describe_text(text)}"


def _json_excerpt(value: Any, limit: int = 500) -> str:
    try:
        return json.dumps(value)[:limit]
    except (ValueError, RecursionError):
        return "an error body too deeply nested to show"
