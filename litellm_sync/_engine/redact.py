"""Secret redaction for messages, reprs and log records: keys never leave the library in text."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

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
    """Return text with the given secrets and anything key-shaped replaced by a mask."""
    if not text:
        return text
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, _MASK)
    return _PATTERNS.sub(_MASK, text)


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
