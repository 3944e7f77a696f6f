"""The one table where requests' and urllib3's exceptions become ours, with the stage that failed
(connecting, TLS, the proxy, awaiting headers, reading the body or the stream) in the message."""

from __future__ import annotations

import http.client
import socket

import requests
import urllib3.exceptions as u3

from ..exceptions import APIConnectionError, APIError, APIResponseValidationError, ConfigurationError, Timeout

# Our exception for each transport failure, most specific first: (types, class, what happened).
_TABLE: tuple[tuple[tuple[type[BaseException], ...], type[APIError] | None, str], ...] = (
    ((requests.exceptions.ConnectTimeout, u3.ConnectTimeoutError), Timeout, "connecting timed out"),
    ((requests.exceptions.ReadTimeout, u3.ReadTimeoutError, socket.timeout, TimeoutError), Timeout,
     "timed out waiting for data"),
    ((requests.exceptions.SSLError, u3.SSLError), APIConnectionError,
     "TLS failed (pass verify= a CA bundle file, or set REQUESTS_CA_BUNDLE, for a private CA)"),
    ((requests.exceptions.ProxyError, u3.ProxyError), APIConnectionError, "the proxy failed"),
    ((requests.exceptions.ContentDecodingError, u3.DecodeError), APIResponseValidationError,
     "the body could not be decompressed (Content-Encoding does not match the bytes)"),
    ((requests.exceptions.ChunkedEncodingError, u3.ProtocolError, http.client.IncompleteRead), APIConnectionError,
     "the connection closed early"),
    ((requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema,
      requests.exceptions.InvalidHeader, u3.LocationParseError), None, "invalid request"),
    ((requests.exceptions.ConnectionError, u3.HTTPError, OSError, http.client.HTTPException), APIConnectionError,
     "connection failed"),
)


def translate_error(exc: BaseException, what: str, provider: str | None, model: str | None = None) -> Exception:
    """Our exception for a transport failure (see _TABLE); anything else (a bug) is returned unchanged."""
    if isinstance(exc, APIError):
        return exc
    for types, kind, happened in _TABLE:
        if isinstance(exc, types):
            if kind is Timeout and _refused(exc):
                kind, happened = APIConnectionError, "connection refused"
            if kind is None:
                return ConfigurationError(f"{what}: {happened}: {_reason(exc)} (check api_base and headers)")
            return kind(f"{what}: {happened} ({_reason(exc)})", provider=provider, model=model)
    return exc  # type: ignore[return-value]


def send_stage(exc: BaseException, host: str) -> str:
    """Which stage of sending failed, for the message: connecting, TLS, the proxy, or awaiting headers."""
    if isinstance(exc, (requests.exceptions.ConnectTimeout, u3.ConnectTimeoutError)) or _refused(exc):
        return f"connecting to {host}"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"the TLS handshake with {host}"
    if isinstance(exc, requests.exceptions.ProxyError):
        return f"connecting to {host} through the proxy"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return f"waiting for the response headers from {host}"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"sending the request to {host} or awaiting its response headers"
    return f"calling {host}"


def _refused(exc: BaseException) -> bool:
    # urllib3 2.x NewConnectionError subclasses ConnectTimeoutError: a refused connection is no timeout.
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, u3.NewConnectionError):
            return True
        reason = getattr(current, "reason", None)
        nested = next((a for a in getattr(current, "args", ()) if isinstance(a, BaseException)), None)
        current = reason if isinstance(reason, BaseException) else nested or current.__context__
    return False


def host_of(url: str) -> str:
    """host[:port] of a URL, without any user:password@ part."""
    netloc = url.split("?", 1)[0].split("/")[2] if "//" in url else url
    return netloc.rpartition("@")[2]


def _reason(exc: BaseException) -> str:
    current: BaseException = exc
    for _ in range(4):  # requests wraps urllib3 (MaxRetryError -> NewConnectionError -> OSError): the innermost
        inner = getattr(current, "reason", None)
        if not isinstance(inner, BaseException):
            args = getattr(current, "args", ())
            inner = next((a for a in args if isinstance(a, BaseException)), None)
        if inner is None:
            break
        current = inner
    text = str(current)
    # urllib3 messages can embed the full URL, whose query may carry a key: keep only the cause.
    if "Connection(host=" in text or "ConnectionPool(host=" in text:
        text = text.split("): ", 1)[-1]
    return text.split("?", 1)[0]
