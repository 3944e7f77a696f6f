"""Checks on what a call is about to send, made before anything goes on the wire: API keys, header values
and names, base URLs, timeouts, and the percent-encoding of values that reach a URL path. Every refusal is a
ConfigurationError that says how to fix it and never repeats a key."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from ..exceptions import ConfigurationError
from .paths import MISSING

_FORBIDDEN_IN_HEADERS = ("\r", "\n", "\0")
# http(s)://host[:port][/path] with nothing unusual in it (no userinfo, query, fragment, brackets, spaces).
_PLAIN_BASE = re.compile(r"https?://[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?(?::(\d{1,5}))?(?:/[A-Za-z0-9._~\-/]*)?\Z")
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9_\-~:@.]+\Z")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
CREDENTIAL_HEADER = re.compile(r"auth|key|token|secret|cookie|signature|password", re.IGNORECASE)


def _describe_char(ch: str) -> str:
    return f"U+{ord(ch):04X} ({unicodedata.name(ch, 'a control or unpaired surrogate character').lower()})"


def check_header_safe(name: str, value: str, what: str) -> None:
    """Refuse header values that could split the request or cannot be encoded (HTTP headers are latin-1);
    the message never repeats the value."""
    if value.isascii() and value.isprintable():  # the usual case, checked in C
        return
    if any(ch in value for ch in _FORBIDDEN_IN_HEADERS):
        raise ConfigurationError(f"{what} contains a line break or NUL character; it was not sent ({name}).")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise ConfigurationError(
            f"{what} contains {_describe_char(value[exc.start])} at position {exc.start}, which cannot be sent "
            f"in an HTTP header (a pasted invisible or typographic character?); remove it. It was not sent ({name})."
        ) from None


def check_header_name(name: Any) -> str:
    """A header name as HTTP allows it (a token), or ConfigurationError."""
    if not isinstance(name, str) or not _TOKEN.match(name):
        raise ConfigurationError(
            "An extra_headers name is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only); "
            "it was not sent."
        )
    return name


def check_key(key: Any, source: str, provider: str) -> str:
    """An API key fit to send, or ConfigurationError saying what is wrong and how to fix it (never the key)."""
    what = f"The API key for provider '{provider}' (from {source})"
    if not isinstance(key, str):
        hint = " decode it first (key.decode())" if isinstance(key, (bytes, bytearray)) else " pass it as text"
        raise ConfigurationError(f"{what} must be a string, not {type(key).__name__}:{hint}.")
    if not key.strip():
        raise ConfigurationError(
            f"{what} is empty: pass the key, or leave api_key= unset (None) to send no key or use the "
            "provider's environment variable."
        )
    if key.isascii() and key.isprintable():  # the usual case, checked in C
        return key
    for position, ch in enumerate(key):
        if not " " <= ch <= "~":
            if ch in _FORBIDDEN_IN_HEADERS:
                raise ConfigurationError(f"{what} contains a line break or NUL character; it was not sent.")
            raise ConfigurationError(
                f"{what} contains {_describe_char(ch)} at position {position}; API keys are plain ASCII, so this "
                "is probably a pasted invisible character: copy the key again. It was not sent."
            )
    return key


def check_timeout(timeout: Any, where: str = "timeout") -> float | tuple[float, float]:
    """A timeout as the transport takes it (seconds > 0, or a (connect, read) pair), or ConfigurationError."""
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    shape_ok = len(values) in (1, 2) if isinstance(timeout, tuple) else True
    for value in values:
        if (
            not shape_ok
            or isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value <= 0
        ):
            raise ConfigurationError(
                f"{where}={timeout!r} is not a timeout: pass seconds as a number greater than 0 (timeout=30), "
                "or a (connect, read) pair of them (timeout=(5, 60))."
            )
    if isinstance(timeout, tuple):
        return (float(values[0]), float(values[-1]))
    return float(timeout)


def _shown(url: str) -> str:
    """A URL as an error message may show it: no user:password@, no query, at most 100 characters."""
    text = url.split("?", 1)[0].split("#", 1)[0]
    scheme, sep, rest = text.rpartition("://")
    netloc, slash, path = rest.partition("/")
    return (scheme + sep + netloc.rpartition("@")[2] + slash + path)[:100]


def check_base(url: Any, source: str) -> str:
    """A base URL parsed and validated: http(s), a host, no fragment, no whitespace; returned without a
    trailing slash (a query string is kept after the path: `https://h/v1?x=1`)."""
    if not isinstance(url, str):
        raise ConfigurationError(f"{source} must be a URL string such as 'https://api.example.com/v1'.")
    plain = _PLAIN_BASE.match(url)
    if plain is not None and int(plain.group(1) or 0) < 65536:  # the usual case: one regex, nothing to say
        return url.rstrip("/")
    text = url.strip()
    if not text.isprintable() or any(ch.isspace() for ch in text):
        raise ConfigurationError(f"{source} ({_shown(text)!r}) contains whitespace or a control character.")
    if "://" not in text:
        raise ConfigurationError(
            f"{source} ({_shown(text)!r}) has no scheme: add https:// in front (or http:// for a local server), "
            "e.g. 'https://api.example.com/v1'."
        )
    try:
        parts = urlsplit(text)
        host, _port = parts.hostname, parts.port
    except ValueError as exc:
        raise ConfigurationError(f"{source} ({_shown(text)!r}) is not a valid URL: {exc}.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ConfigurationError(
            f"{source} ({_shown(text)!r}) must start with https:// or http://, not {parts.scheme}://."
        )
    if not host:
        raise ConfigurationError(f"{source} ({_shown(text)!r}) has no host name.")
    if "#" in text:
        raise ConfigurationError(f"{source} ({_shown(text)!r}) has a #fragment, which is never sent: remove it.")
    path, mark, query = text.partition("?")
    return path.rstrip("/") + mark + query


def encode_segment(value: str, safe: str = ":@") -> str:
    """A value percent-encoded to stay inside one path segment: '/', '?', '#', '%' and the like are escaped,
    and a value of only dots (a '..' segment) too. `safe=""` escapes ':' and '@' as well (RFC 3986's
    unreserved characters only, as AWS's SDKs encode a path label)."""
    if _PLAIN_SEGMENT.match(value) and value.strip(".") and (safe or not (":" in value or "@" in value)):
        return value
    encoded = quote(value, safe=safe, errors="strict")
    return encoded.replace(".", "%2E") if encoded and not encoded.strip(".") else encoded


def _encoded(value: Any, safe: str) -> Any:
    if isinstance(value, str):
        return encode_segment(value, safe)
    if isinstance(value, dict):
        return {_encoded(k, safe): _encoded(v, safe) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encoded(v, safe) for v in value]
    return value


class SegmentContext(Mapping[str, Any]):
    """A read-only view of a call's context whose values come out path-segment encoded (lazily: only what a
    path template reads is encoded)."""

    __slots__ = ("_context", "_safe")

    def __init__(self, context: Mapping[str, Any], safe: str = ":@") -> None:
        self._context = context
        self._safe = safe

    def __getitem__(self, name: str) -> Any:
        return _encoded(self._context[name], self._safe)

    def get(self, name: str, default: Any = None) -> Any:
        value = self._context.get(name, MISSING)
        return default if value is MISSING else _encoded(value, self._safe)

    def __iter__(self) -> Iterator[str]:
        return iter(self._context)

    def __len__(self) -> int:
        return len(self._context)


def check_headers(headers: Mapping[str, str]) -> None:
    """Every header of a request checked once, whatever wrote it (spec, parameter, auth, extra_headers)."""
    joined = "".join(headers.values())
    if joined.isascii() and joined.isprintable():  # the usual case: two C calls for all of them
        return
    for name, value in headers.items():
        check_header_safe(name, value, f"The {name} header")


def unicode_problem(exc: UnicodeError) -> str:
    if isinstance(exc, UnicodeEncodeError):
        text = exc.object if isinstance(exc.object, str) else ""
        ch = text[exc.start] if exc.start < len(text) else "?"
        return (
            f"contains {_describe_char(ch)}, which cannot be encoded as UTF-8 (half of an emoji cut from a string, "
            "or text decoded with errors='surrogateescape'): clean it, e.g. "
            "text.encode('utf-8', 'replace').decode('utf-8')"
        )
    return f"holds text that cannot be encoded ({exc.reason if hasattr(exc, 'reason') else exc})"
