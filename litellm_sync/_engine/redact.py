"""Secret redaction for messages, reprs and log records: keys never leave the library in text."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

_MASK = "[REDACTED]"

# Key-shaped strings: vendor prefixes followed by a long token, bearer tokens, and key=... query pairs.
_PATTERNS = re.compile(
    r"(?:\b(?:sk|pk|rk|gsk|xai|sk-ant|sk-or|hf|nvapi|csk|fw|pplx|tgp)[-_][A-Za-z0-9_\-]{8,})"
    r"|(?:\bAIza[0-9A-Za-z_\-]{20,})"
    r"|(?:(?<=[Bb]earer )[A-Za-z0-9._~+/\-]{8,}=*)"
    r"|(?:(?<=[?&]key=)[^&\s\"']+)"
    r"|(?:(?<=api[-_]key=)[^&\s\"']+)"
)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Return text with the given secrets (by value, and as they look percent- or JSON-escaped) and anything
    key-shaped replaced by a mask."""
    if not text:
        return text
    for secret in _forms(secrets):
        text = text.replace(secret, _MASK)
    return _PATTERNS.sub(_MASK, text)


def _forms(secrets: Iterable[str | None]) -> list[str]:
    """Every way a secret may be written back to us, longest first (so a key inside another goes too)."""
    forms: set[str] = set()
    for secret in secrets:
        if not isinstance(secret, str) or len(secret) < 4:
            continue  # a shorter "secret" would mask ordinary words; nothing real is that short
        forms.add(secret)
        forms.add(quote(secret, safe="", errors="replace"))
        forms.add(json.dumps(secret)[1:-1])
    return sorted(forms, key=len, reverse=True)


def redact_value(value: Any, secrets: Iterable[str | None] = ()) -> Any:
    """A copy of a parsed JSON value with every string (and key) redacted; providers echo keys in bodies."""
    secrets = tuple(secrets)
    try:
        return _redact_value(value, secrets)
    except RecursionError:  # a body nested deeper than we can walk: keep nothing of it
        return None


def _redact_value(value: Any, secrets: tuple[str | None, ...]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {
            redact(key, secrets) if isinstance(key, str) else key: _redact_value(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_redact_value(item, secrets) for item in value]
    return value


def excerpt(data: bytes | str, secrets: Iterable[str | None] = (), limit: int = 200) -> str:
    """A short, quoted excerpt of a body or event for an error message: redacted BEFORE it is cut, so a
    key straddling the cut cannot leak half of itself."""
    head = data[: limit * 4 + 4096]  # enough to hold the excerpt plus any key that straddles it
    text = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
    cleaned = redact(text, secrets)
    cut = cleaned[:limit]
    more = len(cleaned) > limit or len(head) < len(data)
    return repr(cut) + ("..." if more else "")


class RedactingFilter(logging.Filter):
    """A logging filter that redacts key-shaped strings from every record's rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_QUERY = re.compile(r"\?[^\s\"']*")
# urllib3 logs every request line, query string included, at DEBUG; some providers take the key there.
_TRANSPORT_LOGGERS = ("urllib3.connectionpool", "urllib3.poolmanager", "urllib3.util.retry")


class QueryRedactingFilter(logging.Filter):
    """Masks every URL query string, and anything key-shaped, in a transport library's log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's problem, not ours to hide
            return True
        cleaned = redact(_QUERY.sub("?" + _MASK, message))
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def protect_transport_loggers() -> None:
    """Attach the query-masking filter to urllib3's loggers (once; safe to call from every Client)."""
    for name in _TRANSPORT_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QueryRedactingFilter) for f in logger.filters):
            logger.addFilter(QueryRedactingFilter())


def get_logger() -> logging.Logger:
    """The library's logger, with the redacting filter attached once."""
    logger = logging.getLogger("litellm_sync")
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger
