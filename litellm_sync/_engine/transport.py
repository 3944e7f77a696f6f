"""HTTP transport: a `requests.Session` per Client (or the caller's own), redirects and cookies off, transport
retries off (tenacity is the one retry layer), a fresh Session after fork, and the one table where
requests' and urllib3's exceptions become ours. It hands back a `Reply`: status, headers, body bytes."""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests
import requests.adapters
import requests.cookies

from ..exceptions import (
    APIError,
    ResponseTooLargeError,
    Timeout,
)
from ..limits import DEFAULT_LIMITS, Limits
from .chunked import Dechunker
from .neterrors import host_of, send_stage, translate_error
from .redact import protect_transport_loggers
from .request import PreparedRequest

_READ_SIZE = 65536
_NO_PROXY = {"http": None, "https": None, "all": None}  # requests drops None entries: no proxy, env ignored


class RefuseAllCookies(http.cookiejar.DefaultCookiePolicy):
    """Keeps no cookie and sends none: one user's provider cookie must never ride on another user's call."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


_ENV_NAMES = (
    "http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
    "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
)


def _keep_headers(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """An auth that changes nothing: given to requests, it keeps ~/.netrc from replacing our auth header."""
    return request


def new_session(pool_size: int) -> requests.Session:
    """A Session as a Client builds it: pooled adapter without transport retries, no cookies kept."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=32, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.cookies = requests.cookies.RequestsCookieJar(policy=RefuseAllCookies())
    return session


class Transport:
    """Sends prepared requests through a `requests.Session`; thread-safe and fork-safe.

    session: the caller's Session, used as it is (its adapters, auth, hooks, cookies, trust_env); None builds
    one per Client. In a forked child the Client's own Session is replaced (never sharing a socket with the
    parent); a caller's Session has its pooled connections dropped in the child and is then used as before.
    proxy: None lets requests read HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY; a URL is passed to
    requests as the proxy for http and https (requests' `proxies=`: NO_PROXY does not apply to it); False
    uses no proxy. verify / cert / auth: as in requests (None leaves requests' defaults and environment).
    """

    def __init__(
        self,
        pool_size: int = 32,
        *,
        session: requests.Session | None = None,
        proxy: str | bool | None = None,
        verify: bool | str | None = None,
        cert: str | tuple[str, str] | None = None,
        auth: Any = None,
    ) -> None:
        protect_transport_loggers()
        self.pool_size = pool_size
        self.own_session = session is None
        self._session = session if session is not None else new_session(pool_size)
        self._pid = os.getpid()
        self._lock = threading.Lock()
        if proxy is False:
            self.proxies: dict[str, Any] | None = dict(_NO_PROXY)
        elif isinstance(proxy, str):
            self.proxies = {"http": proxy, "https": proxy}
        else:
            self.proxies = None
        self.verify = verify
        self.cert = cert
        self.auth = auth
        # Our own Session consults no ~/.netrc: requests would let its Basic auth replace the Authorization
        # header that carries the provider key. (A caller's Session keeps requests' behaviour.)
        self._default_auth = _keep_headers if session is None else None
        self._env_cache: dict[tuple[Any, ...], dict[str, Any]] = {}

    def _settings(self, session: requests.Session, url: str) -> dict[str, Any]:
        """requests' merge_environment_settings for this URL (proxies with NO_PROXY, REQUESTS_CA_BUNDLE /
        CURL_CA_BUNDLE, the Session's own proxies, verify and cert), cached per scheme and host while the
        environment variables it reads and the Session's settings stay the same: requests scans the whole
        environment twice per call for it, a quarter of a call's time in benchmarks/run.py."""
        environ = os.environ
        key = (
            "/".join(url.split("/", 3)[:3]),  # scheme://host:port
            tuple(map(environ.get, _ENV_NAMES)),
            session.trust_env,
            session.verify,
            session.cert,
            tuple(session.proxies.items()),
        )
        found = self._env_cache.get(key)
        if found is None:
            proxies = dict(self.proxies) if self.proxies is not None else {}
            found = session.merge_environment_settings(url, proxies, True, self.verify, self.cert)
            if len(self._env_cache) >= 256:
                self._env_cache.clear()
            self._env_cache[key] = found
        return found

    @property
    def session(self) -> requests.Session:
        """The Session for this process: after a fork the child starts with fresh connections."""
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    if self.own_session:
                        self._session = new_session(self.pool_size)  # the parent's sockets are left alone
                    else:
                        _drop_connections(self._session)
                    self._pid = os.getpid()
        return self._session

    def send(
        self,
        request: PreparedRequest,
        timeout: float | tuple[float, float],
        *,
        provider: str,
        deadline: float | None = None,
        auth: Any = None,
        final: bool = False,
        model: str | None = None,
    ) -> Reply:
        """Send; return the Reply once the headers are in (the body is read from it). Raises our errors.

        deadline: a time.monotonic() value after which reading the body fails with Timeout (not retryable
        when final: the call's total_timeout, not one attempt's, has passed)."""
        connect, read = timeout if isinstance(timeout, tuple) else (min(timeout, 30.0), timeout)
        if deadline is not None:
            left = max(deadline - time.monotonic(), 0.001)
            connect, read = min(connect, left), min(read, left)
        session = self.session
        try:
            # What Session.request does, with its environment lookup cached (see `_settings`).
            prepared = session.prepare_request(requests.Request(
                request.method, request.url, headers=request.headers, data=request.body,
                auth=getattr(request, "auth", None) or auth or self.auth or self._default_auth,
            ))
            settings = self._settings(session, prepared.url or request.url)
            response = session.send(prepared, timeout=(connect, read), allow_redirects=False, **settings)
        except Exception as exc:
            error = translate_error(exc, send_stage(exc, host_of(request.url)), provider, model)
            if error is exc:
                raise
            if final and isinstance(error, Timeout):  # the call's total_timeout is spent: no retry could fit
                error.retryable = False
            raise error from None
        reply = Reply(response, deadline, provider, final)
        reply.model = model
        return reply

    def close(self) -> None:
        """Close every idle pooled connection of the Client's own Session (a caller's Session is theirs to
        close); connections still streaming close when their stream ends."""
        if not self.own_session:
            return
        # urllib3 2.x PoolManager.clear() only forgets its pools (they close when garbage collected, which a
        # live response or a traceback can postpone indefinitely): close each one explicitly first.
        for pool in self.connection_pools():
            pool.close()
        self._session.close()

    def connection_pools(self) -> list[Any]:
        """The urllib3 connection pools the Session's adapters keep, one per host (for inspection and tests)."""
        managers: list[Any] = []
        for adapter in {id(a): a for a in self._session.adapters.values()}.values():
            managers.append(getattr(adapter, "poolmanager", None))
            managers.extend(getattr(adapter, "proxy_manager", {}).values())
        found: list[Any] = []
        for manager in managers:
            pools = getattr(manager, "pools", None)
            if pools is not None:
                found.extend(pools.get(key) for key in pools.keys())  # noqa: SIM118 - cannot be iterated
        return [pool for pool in found if pool is not None]


def _drop_connections(session: requests.Session) -> None:
    for adapter in session.adapters.values():
        with contextlib.suppress(Exception):  # a broken custom adapter must not break the child's first call
            adapter.close()


class Reply:
    """One HTTP response as the engine reads it: status, headers, the body as bytes (bounded, under the
    deadline), and `close(reuse)`; every failure while reading is already one of our exceptions. The
    connection goes back to the pool only after the whole body was read (see `close`); the same on every
    urllib3 from 1.26 on."""

    __slots__ = ("_closed", "_dechunker", "_raw", "_response", "at_eof", "deadline", "final", "headers", "model",
                 "provider", "status")

    def __init__(
        self, response: requests.Response, deadline: float | None, provider: str | None, final: bool = False
    ) -> None:
        self._response = response
        self.final = final
        self.at_eof = False  # the body has ended: whatever a decoder still holds was cut off
        self._raw = response.raw
        if hasattr(self._raw, "decode_content"):
            self._raw.decode_content = True  # requests leaves decoding to iter_content; we read raw ourselves
        self.status: int = response.status_code
        self.headers: Any = response.headers
        self.deadline = deadline
        self.provider = provider
        self.model: str | None = None
        self._closed = False
        self._dechunker: Dechunker | None = None

    def chunks(self, stage: str = "reading the body") -> Iterator[bytes]:
        """Body bytes as they arrive (decompressed); Timeout once the deadline passes, checked per read."""
        raw, deadline, clock = self._raw, self.deadline, time.monotonic
        if self._dechunker is not None:  # a second pass over the body goes on where the first stopped
            read, inner = self._dechunker.read, None
        else:
            read, inner = _reader(raw)
            if inner is not None and inner.chunked and inner.chunk_left is None and inner.fp is not None:
                self._dechunker = Dechunker(inner)  # nothing of the body read yet: a whole read at a time
                read, inner = self._dechunker.read, None
        try:
            while True:
                data = read(_READ_SIZE)
                if not data:
                    if inner is not None and inner.length:  # http.client's read1 does not check Content-Length
                        raise http.client.IncompleteRead(b"", inner.length)
                    self.at_eof = True
                    return
                if deadline is not None and clock() > deadline:
                    raise Timeout(
                        f"{stage}: the {'total_timeout' if self.final else 'timeout'} passed before the "
                        "response ended (the server is too slow, or keeps the connection open); raise it if "
                        "such answers are legitimately long",
                        provider=self.provider, model=self.model, retryable=not self.final,
                    )
                yield data
        except APIError:
            self.close(reuse=False)
            raise
        except Exception as exc:
            self.close(reuse=False)
            error = translate_error(exc, stage, self.provider, self.model)
            if error is exc:
                raise
            if self.final and isinstance(error, Timeout):
                error.retryable = False
            raise error from None

    def read(self, limits: Limits = DEFAULT_LIMITS) -> bytes:
        """The whole body, at most limits.max_body_bytes after decompression; the connection is reused."""
        limit = limits.max_body_bytes
        parts: list[bytes] = []
        size = 0
        for data in self.chunks():
            size += len(data)
            if size > limit:
                self.close(reuse=False)
                raise ResponseTooLargeError(
                    f"the response body is larger than Limits.max_body_bytes ({limit} bytes, counted after "
                    "decompression); the connection was closed. Raise it with "
                    "Client(limits=Limits(max_body_bytes=...)) if such answers are expected",
                    limit="max_body_bytes", value=limit, provider=self.provider, model=self.model,
                )
            parts.append(data)
        self.close(reuse=True)
        return b"".join(parts)

    def close(self, reuse: bool) -> None:
        """Release the connection: back to the pool only when the body was read to its end (reuse asked, the
        last read returned nothing, and http.client agrees: its response closed, every byte of a
        Content-Length body or a chunked body's terminator consumed); closed in every other case."""
        if self._closed:
            return
        self._closed = True
        raw = self._raw
        try:
            if reuse and self._body_ended():
                # No drain_conn: the body was read past urllib3 (http.client's read1, `Dechunker`), so
                # urllib3's own count of what is left is stale, and urllib3 2.8's drain_conn reads that as a
                # body cut short and closes the socket. There is nothing left to drain: release it as it is.
                release = getattr(raw, "release_conn", None)
                if release is not None:
                    release()
            else:
                self._response.close()  # closes the socket (the body was not consumed), then releases it
        except Exception:
            pass

    def _body_ended(self) -> bool:
        """The body was read to its end, so the connection stands at the start of the next response (an
        http.client response left open after a whole Content-Length body is closed here, as reuse needs)."""
        if not self.at_eof or (self._dechunker is not None and not self._dechunker.done):
            return False
        inner = getattr(self._raw, "_fp", None)
        if not isinstance(inner, http.client.HTTPResponse) or inner.isclosed():
            return True  # not http.client's (a mock, an adapter's file), or it closed itself at the end
        if inner.chunked or inner.length != 0:
            return False
        # Every byte of a Content-Length body was read, but http.client's read1 leaves the response open
        # (CPython issue 113199), and its connection refuses the next request until it is closed.
        inner.close()
        return True


def _reader(raw: Any) -> tuple[Any, http.client.HTTPResponse | None]:
    """The fastest bounded read for this body, and the http.client response it reads if direct. read1
    returns what one socket read brought (at most one HTTP chunk, never more than asked), so a huge chunk
    or an endless line cannot fill memory in one call."""
    inner = getattr(raw, "_fp", None)
    encoding = raw.headers.get("content-encoding", "identity") if hasattr(raw, "headers") else "identity"
    if isinstance(inner, http.client.HTTPResponse) and encoding.strip().lower() in ("", "identity"):
        # Nothing to decode: http.client's own read1 (it undoes chunked framing) skips urllib3's per-read
        # bookkeeping (benchmarks/run.py streaming: 1.75x raw requests through urllib3's read1, 1.55-1.65x
        # here, the same CPU time as the urllib3-only transport it replaced). A chunked body unread so far is
        # then read through `chunked.Dechunker` instead (see `Reply.chunks`): a whole socket read at a time.
        return inner.read1, inner
    read1 = getattr(raw, "read1", None)
    return (read1 if read1 is not None else raw.read), None  # raw.read: an adapter's plain file object
