"""HTTP transport: one thread-safe urllib3 PoolManager per Client, transport retries off (tenacity is the
one retry layer), and the single place where urllib3's exceptions become ours."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, ProtocolError, ReadTimeoutError, TimeoutError

from .exceptions import APIConnectionError, Timeout
from .request import PreparedRequest

_READ_SIZE = 65536


class Transport:
    """Sends prepared requests over a pooled, thread-safe connection manager."""

    def __init__(self, pool_size: int = 32, pool_manager: Any = None) -> None:
        self.pool = pool_manager or urllib3.PoolManager(
            num_pools=32, maxsize=pool_size, block=False, retries=False
        )

    def send(
        self, request: PreparedRequest, timeout: float | tuple[float, float], *, stream: bool, provider: str
    ) -> Any:
        """Send and return the urllib3 response (body preloaded unless stream); raise typed errors."""
        connect, read = timeout if isinstance(timeout, tuple) else (min(timeout, 30.0), timeout)
        try:
            return self.pool.request(
                request.method,
                request.url,
                body=request.body,
                headers=request.headers,
                timeout=urllib3.Timeout(connect=connect, read=read),
                preload_content=not stream,
                redirect=False,
                retries=False,
            )
        except (TimeoutError, ReadTimeoutError) as exc:
            raise Timeout(f"request timed out: {_reason(exc)}", provider=provider) from None
        except (NewConnectionError, ProtocolError, HTTPError, OSError) as exc:
            raise APIConnectionError(
                f"could not reach {_host(request.url)}: {_reason(exc)}", provider=provider
            ) from None

    def close(self) -> None:
        """Close every pooled connection."""
        self.pool.clear()


def _host(url: str) -> str:
    return url.split("?", 1)[0].split("/")[2] if "//" in url else url


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    # urllib3 messages can embed the full URL, whose query may carry a key: keep only the cause.
    return text.split(": ", 1)[-1] if "HTTPConnection" in text or "Pool" in text else text


def read_chunks(response: Any) -> Iterator[bytes]:
    """Body bytes as they arrive: chunk by chunk for chunked encoding, else whatever each read returns."""
    if response.chunked and response.supports_chunked_reads():
        yield from response.read_chunked(decode_content=True)
        return
    while True:
        data = response.read1(_READ_SIZE)
        if not data:
            return
        yield data


def release(response: Any, complete: bool) -> None:
    """Return the connection to the pool: drained when the stream reached its end, else closed first."""
    try:
        if complete:
            response.drain_conn()
        else:
            response.close()
        response.release_conn()
    except Exception:
        pass
