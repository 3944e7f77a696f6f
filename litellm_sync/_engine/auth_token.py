"""Token exchange (`auth: {mechanism: token_exchange, url: ..., form: {...}}`): the API key is traded at a token
endpoint for a short-lived bearer token (IBM Cloud IAM for watsonx.ai, and any OAuth-style `client_credentials`
or API-key grant), which is cached per key and refreshed before it expires, by one thread for all.

The exchange is a POST of `form` (form-encoded) or `json` to `url`, both templates of the request's variables
(`${api_key}`, the provider's `variables`); the answer's `token` path (default `access_token`) is the token and
its `expires_in` path (default `expires_in`, seconds) its lifetime. Each call then carries
`token_header: token_value` (default `Authorization: Bearer ${token}`), set when the request is sent, so a
retry after the refresh margin uses a fresh token. Unlike `aws_sigv4` and `google_oauth`, this mechanism *takes*
the key (`takes_key`): a key is required and never sent to the provider itself.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping
from typing import Any

import requests
from requests.auth import AuthBase

from ..exceptions import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    RateLimitError,
    ServiceUnavailableError,
)
from .auth import Mechanism
from .paths import MISSING, compile_path, get_path
from .redact import redact
from .template import compile_template

MAX_TOKEN_REPLY = 1 << 20  # bytes read from the token endpoint's answer at most
DEFAULT_LIFETIME = 300.0  # seconds, when the answer gives no expiry
TIMEOUT = (10.0, 30.0)  # connect, read (seconds) for the token endpoint


class TokenCache:
    """One key's token for one token endpoint: refreshed under a lock by one thread when missing or within
    the refresh margin of its expiry; the other threads wait and use the new token. Made anew in a forked
    child (`Mechanism.cached`): no lock crosses a fork. Each exchange opens and closes its own Session (one an
    hour or so): a cache per key kept no idle socket open, so many keys do not hold many file descriptors."""

    def __init__(self, mechanism: TokenExchangeMechanism, request: dict[str, Any], secret: str) -> None:
        self.mechanism = mechanism
        self.request = request  # url, data or json, headers: what to POST
        self.secret = secret  # the key, masked out of any message about the exchange
        self.lock = threading.Lock()
        self.token: str | None = None
        self.expires = 0.0

    def __repr__(self) -> str:
        return f"TokenCache(provider={self.mechanism.provider!r}, url={self.request['url']!r})"

    def current(self) -> str:
        """A valid token, exchanging the key first when needed."""
        if self._stale():
            with self.lock:
                if self._stale():  # another thread may have refreshed while this one waited
                    self._exchange()
        assert self.token is not None
        return self.token

    def _stale(self) -> bool:
        return self.token is None or time.monotonic() >= self.expires

    def _exchange(self) -> None:
        provider, url = self.mechanism.provider, self.request["url"]
        try:
            with requests.Session() as session:
                response = session.post(
                    url, data=self.request.get("data"), json=self.request.get("json"),
                    headers=self.request["headers"], timeout=TIMEOUT, stream=True, allow_redirects=False,
                )
                try:
                    raw = _read_bounded(response)
                finally:
                    response.close()
        except requests.RequestException as exc:
            raise APIConnectionError(
                redact(f"Could not reach the token endpoint {url} to exchange the API key ({type(exc).__name__}).",
                       (self.secret,)),
                provider=provider,
            ) from None
        try:
            answer = json.loads(raw) if raw.strip() else None
        except ValueError:
            answer = None
        detail = _error_detail(answer) or f"HTTP {response.status_code}"
        if response.status_code == 429 or response.status_code >= 500:  # the endpoint's trouble: retryable
            kind = RateLimitError if response.status_code == 429 else ServiceUnavailableError
            raise kind(redact(f"The token endpoint {url} could not exchange the API key now ({detail}); "
                              "try again.", (self.secret,)), provider=provider, status_code=response.status_code)
        if response.status_code >= 400 or not isinstance(answer, dict):
            raise AuthenticationError(
                redact(f"The token endpoint {url} refused the API key ({detail}); check the key "
                       f"({self.mechanism.key_hint or 'pass api_key='}).", (self.secret,)),
                provider=provider,
                status_code=response.status_code if response.status_code >= 400 else None,
            )
        token = get_path(answer, self.mechanism.token_path)
        if not isinstance(token, str) or not token or any(ch in token for ch in "\r\n\0"):
            raise AuthenticationError(
                redact(f"The token endpoint {url} answered without a usable token at '{self.mechanism.token_name}'.",
                       (self.secret,)),
                provider=provider,
            )
        lifetime = get_path(answer, self.mechanism.expiry_path)
        seconds = float(lifetime) if isinstance(lifetime, (int, float)) and not isinstance(lifetime, bool) else None
        seconds = seconds if seconds is not None and seconds > 0 else DEFAULT_LIFETIME
        # Refresh a tenth of the lifetime early (at most five minutes): a call never leaves with a dying token.
        self.token = token
        self.expires = time.monotonic() + seconds - min(seconds / 10, 300.0)


def _read_bounded(response: requests.Response) -> bytes:
    out = bytearray()
    for chunk in response.iter_content(chunk_size=65536):
        out += chunk
        if len(out) > MAX_TOKEN_REPLY:
            break
    return bytes(out[:MAX_TOKEN_REPLY])


def _error_detail(answer: Any) -> str | None:
    """A short reason from a token endpoint's error answer (OAuth `error_description`, IBM `errorMessage`)."""
    if not isinstance(answer, dict):
        return None
    for key in ("error_description", "errorMessage", "message", "error"):
        value = answer.get(key)
        if isinstance(value, str) and value:
            return value[:300]
    return None


class TokenExchangeAuth(AuthBase):
    """A requests auth that sets the token header at send time (so each attempt carries a valid token)."""

    def __init__(self, cache: TokenCache, header: str, value: Any) -> None:
        self.cache = cache
        self.header = header
        self.value = value

    def __repr__(self) -> str:
        return f"TokenExchangeAuth({self.cache!r})"

    def __call__(self, request: Any) -> Any:
        value = self.value({"token": self.cache.current()})
        if value is not MISSING:
            request.headers[self.header] = value
        return request


class TokenExchangeMechanism(Mechanism):
    """`token_exchange`: options `url` (required), `form` or `json`, `headers`, `token`, `expires_in`,
    `token_header`, `token_value`; see docs/auth.md."""

    name = "token_exchange"
    takes_key = True
    options = {"url": "template", "form": "template", "json": "template", "headers": "template",
               "token": "text", "expires_in": "text", "token_header": "text", "token_value": "text"}
    required = ("url",)
    defaults = {"token": "access_token", "expires_in": "expires_in", "token_header": "Authorization",
                "token_value": "Bearer ${token}"}

    def __init__(self, provider: str, spec: Mapping[str, Any]) -> None:
        super().__init__(provider, spec)
        if "form" in self.templates and "json" in self.templates:
            raise ConfigurationError(f"Provider '{provider}': token_exchange takes `form` or `json`, not both.")
        self.token_name = str(self.option("token"))
        self.token_path = compile_path(self.token_name)
        self.expiry_path = compile_path(str(self.option("expires_in")))
        self.header = str(self.option("token_header"))
        self.value = compile_template(str(self.option("token_value")), {"token"})

    def auth_for(self, context: Mapping[str, Any], args: Mapping[str, Any]) -> Any:
        """`prepare` (its messages already say where the key comes from)."""
        return self.prepare(context, args)

    def prepare(self, context: Mapping[str, Any], args: Mapping[str, Any]) -> TokenExchangeAuth:
        key = context.get("api_key")
        if not isinstance(key, str) or not key:
            raise ConfigurationError(
                f"Provider '{self.provider}' exchanges an API key for a token: "
                f"{self.key_hint or 'pass api_key='}."
            )
        url = self.option("url", context)
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ConfigurationError(f"Provider '{self.provider}': the token_exchange url is not an http(s) URL.")
        body_kind = "json" if "json" in self.templates else "data"
        body = self.option("json" if body_kind == "json" else "form", context)
        headers = self.option("headers", context)
        request = {"url": url, body_kind: body, "headers": {"Accept": "application/json", **(headers or {})}}
        digest = hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()
        cache: TokenCache = self.cached(digest, lambda: TokenCache(self, request, key))
        return TokenExchangeAuth(cache, self.header, self.value)
