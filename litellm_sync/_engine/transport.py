"""HTTP transport: one thread-safe urllib3 PoolManager per Client, transport retries off (tenacity is the
one retry layer), and the single place where urllib3's exceptions become ours."""

from __future__ import annotations

import http.client
import socket
import urllib.request
from collections.abc import Iterator
from typing import Any

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, ProtocolError, ReadTimeoutError, TimeoutError

from ..exceptions import APIConnectionError, Timeout
from .redact import protect_transport_loggers
from .request import PreparedRequest

_READ_SIZE = 65536


class Transport:
    """Sends prepared requests over pooled, thread-safe connection managers: direct, or through a proxy.

    proxy: None reads HTTPS_PROXY / HTTP_PROXY / ALL_PROXY (and NO_PROXY) from the environment, as requests
    does; a URL sends every call through that proxy (NO_PROXY still applies); False never uses one.
    """

    def __init__(self, pool_size: int = 32, pool_manager: Any = None, proxy: str | bool | None = None) -> None:
        protect_transport_loggers()
        self.pool = pool_manager or urllib3.PoolManager(
            num_pools=32, maxsize=pool_size, block=False, retries=False
        )
        self.proxies = {
            scheme: urllib3.ProxyManager(url, num_pools=32, maxsize=pool_size, block=False, retries=False)
            for scheme, url in _proxy_urls(proxy).items()
        }
        self._bypass: dict[str, bool] = {}  # host -> NO_PROXY says go direct (filled lazily, idempotent)

    def manager_for(self, url: str) -> Any:
        """The connection manager for a URL: its scheme's proxy, unless NO_PROXY exempts the host."""
        if not self.proxies:
            return self.pool
        scheme, _, rest = url.partition("://")
        proxy = self.proxies.get(scheme)
        if proxy is None:
            return self.pool
        host = rest.split("/", 1)[0].split("?", 1)[0]
        bypass = self._bypass.get(host)
        if bypass is None:
            bypass = self._bypass[host] = bool(urllib.request.proxy_bypass(host))
        return self.pool if bypass else proxy

    def send(
        self, request: PreparedRequest, timeout: float | tuple[float, float], *, stream: bool, provider: str
    ) -> Any:
        """Send and return the urllib3 response (body preloaded unless stream); raise typed errors."""
        connect, read = timeout if isinstance(timeout, tuple) else (min(timeout, 30.0), timeout)
        try:
            return self.manager_for(request.url).request(
                request.method,
                request.url,
                body=request.body,
                headers=request.headers,
                timeout=urllib3.Timeout(connect=connect, read=read),
                preload_content=not stream,
                redirect=False,
                retries=False,
            )
        except Exception as exc:
            error = translate_error(exc, f"could not reach {_host(request.url)}", provider)
            if error is exc:
                raise
            raise error from None

    def close(self) -> None:
        """Close every idle pooled connection; connections still streaming close when their stream ends."""
        # urllib3 2.x PoolManager.clear() only forgets its pools (they close when garbage collected, which a
        # live response or a traceback can postpone indefinitely): close each one explicitly first.
        for pool in self.connection_pools():
            pool.close()
        self.pool.clear()

    def connection_pools(self) -> list[Any]:
        """The urllib3 connection pools currently kept, one per host (for inspection and tests)."""
        found: list[Any] = []
        for manager in (self.pool, *self.proxies.values()):
            pools = manager.pools
            found.extend(pools.get(key) for key in pools.keys())  # noqa: SIM118 - the container cannot be iterated
        return [pool for pool in found if pool is not None]


def _proxy_urls(proxy: str | bool | None) -> dict[str, str]:
    """Scheme -> proxy URL, from the argument or the environment."""
    if proxy is False:
        return {}
    if isinstance(proxy, str):
        return {"http": proxy, "https": proxy}
    found = urllib.request.getproxies_environment()
    fallback = found.get("all")
    return {scheme: url for scheme in ("http", "https") if (url := found.get(scheme) or fallback)}


def translate_error(exc: BaseException, what: str, provider: str | None, model: str | None = None) -> Exception:
    """Our exception for a transport failure: Timeout for timeouts, APIConnectionError for any other
    network or protocol failure; anything else (a bug) is returned unchanged for the caller to raise."""
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 2.x: a refused connection is no timeout.
    if isinstance(exc, NewConnectionError):
        return APIConnectionError(f"{what}: {_reason(exc)}", provider=provider, model=model)
    if isinstance(exc, (TimeoutError, ReadTimeoutError, socket.timeout)) or (
        isinstance(exc, ProtocolError) and isinstance(_cause(exc), socket.timeout)
    ):
        return Timeout(f"{what}: timed out ({_reason(exc)})", provider=provider, model=model)
    if isinstance(exc, (HTTPError, OSError, http.client.HTTPException)):
        return APIConnectionError(f"{what}: {_reason(exc)}", provider=provider, model=model)
    return exc  # type: ignore[return-value]


def _cause(exc: BaseException) -> BaseException | None:
    args: tuple[Any, ...] = getattr(exc, "args", ())
    return args[1] if len(args) > 1 and isinstance(args[1], BaseException) else None


def _host(url: str) -> str:
    """host[:port] of a URL, without any user:password@ part."""
    netloc = url.split("?", 1)[0].split("/")[2] if "//" in url else url
    return netloc.rpartition("@")[2]


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


def finish_stream(response: Any, remaining: Iterator[bytes], grace: float = 0.05, most: int = 16) -> None:
    """After a stream's end marker: read the little that is left of the body (its closing chunk), waiting at
    most `grace` seconds per read, so the connection goes back to the pool for reuse instead of being closed.
    """
    sock = getattr(getattr(response, "connection", None), "sock", None)
    previous = sock.gettimeout() if sock is not None else None
    complete = False
    try:
        if sock is not None:
            sock.settimeout(grace)
        for count, _data in enumerate(remaining):
            if count >= most:
                break  # the server keeps talking after the end: not worth waiting for
        else:
            complete = True
    except Exception:  # a slow or broken tail only costs the connection
        complete = False
    finally:
        if sock is not None and complete:
            try:
                sock.settimeout(previous)
            except OSError:
                complete = False
    release(response, complete)


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
