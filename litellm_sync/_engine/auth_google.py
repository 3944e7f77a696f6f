"""Google OAuth (`auth: {mechanism: google_oauth}`): a Bearer token from google-auth credentials (application
default credentials, or a service-account file or JSON), refreshed before it expires, once for all threads."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import threading
import weakref
from collections.abc import Mapping
from typing import Any

from requests.auth import AuthBase

from ..exceptions import APIConnectionError, AuthenticationError, ConfigurationError
from .auth import Mechanism, missing_extra

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
REFRESH_MARGIN = _dt.timedelta(minutes=5)  # refresh this long before the token expires


class RefreshState:
    """What refreshing one credentials object needs besides the object: a lock and google-auth's HTTP
    transport, owned by the process that made them."""

    __slots__ = ("__weakref__", "lock", "pid", "transport")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.transport: Any = None


class TokenSource:
    """One credentials object shared by every thread: the token is refreshed under a lock, by one thread,
    when it is missing or expires within REFRESH_MARGIN; the others wait for it and use the new token.

    Its state belongs to the process that made it: `GoogleOAuthMechanism` makes a new one (a new lock, a new
    refresh transport, and credentials loaded anew) in a forked child, so no lock or pooled socket crosses
    a fork.
    """

    def __init__(self, credentials: Any, provider: str, state: RefreshState | None = None) -> None:
        self.credentials = credentials
        self.provider = provider
        self.state = state or RefreshState()
        self.pid = self.state.pid

    def __repr__(self) -> str:
        return f"TokenSource({type(self.credentials).__name__}, provider={self.provider!r})"

    def token(self) -> str:
        """A valid access token, refreshing it first when needed."""
        credentials = self.credentials
        if _needs_refresh(credentials):
            with self.state.lock:
                if _needs_refresh(credentials):  # another thread may have refreshed while this one waited
                    self._refresh(credentials)
        token = credentials.token
        if not isinstance(token, str) or not token:
            raise AuthenticationError(
                "The Google credentials produced no access token; check them (GOOGLE_APPLICATION_CREDENTIALS).",
                provider=self.provider,
            )
        if any(ch in token for ch in "\r\n\0"):
            raise AuthenticationError(
                "The Google access token contains a line break; it was not sent.", provider=self.provider
            )
        return token

    def _refresh(self, credentials: Any) -> None:
        try:
            credentials.refresh(self._request())
        except Exception as exc:
            raise _refresh_error(exc, self.provider) from None

    def _request(self) -> Any:
        """google-auth's HTTP transport for the token endpoint (None when google-auth is absent: then the
        credentials object is the caller's own, which brings its own way to refresh)."""
        if self.state.transport is None:
            try:
                from google.auth.transport.requests import Request
            except ImportError:
                return None
            self.state.transport = Request()
        return self.state.transport


def _needs_refresh(credentials: Any) -> bool:
    if not getattr(credentials, "token", None):
        return True
    expiry = getattr(credentials, "expiry", None)
    if expiry is None:
        return False
    now = _dt.datetime.now(_dt.timezone.utc)
    if expiry.tzinfo is None:  # google-auth keeps expiry as naive UTC
        now = now.replace(tzinfo=None)
    return bool(now + REFRESH_MARGIN >= expiry)


def _refresh_error(exc: Exception, provider: str) -> Exception:
    """Our error for a failed refresh; google-auth's message may quote the token endpoint's answer, never
    the token, but only its class name is kept to be safe."""
    kind = type(exc).__name__
    if kind == "TransportError" or isinstance(exc, OSError):
        return APIConnectionError(
            f"Could not reach Google's token endpoint to refresh the access token ({kind}).", provider=provider
        )
    return AuthenticationError(
        f"Google refused to refresh the access token ({kind}): check the credentials "
        "(GOOGLE_APPLICATION_CREDENTIALS, vertex_credentials=, or `gcloud auth application-default login`).",
        provider=provider,
    )


class GoogleOAuthAuth(AuthBase):
    """A requests auth that sets `Authorization: Bearer <token>` (and `x-goog-user-project` when the
    credentials name a quota project) at send time, so each attempt carries a fresh token."""

    def __init__(self, source: TokenSource) -> None:
        self.source = source

    def __repr__(self) -> str:
        return f"GoogleOAuthAuth({type(self.source.credentials).__name__})"

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {self.source.token()}"
        quota_project = getattr(self.source.credentials, "quota_project_id", None)
        if isinstance(quota_project, str) and quota_project:
            request.headers["x-goog-user-project"] = quota_project
        return request


class GoogleOAuthMechanism(Mechanism):
    """`google_oauth`: options `scopes`, `credentials`; call argument `vertex_credentials`; see docs/auth.md."""

    name = "google_oauth"
    options = {"scopes": "strings", "credentials": "template"}
    call_args = ("vertex_credentials",)
    defaults = {"scopes": [CLOUD_PLATFORM]}

    def __init__(self, provider: str, spec: Mapping[str, Any]) -> None:
        super().__init__(provider, spec)
        scopes = self.option("scopes") or [CLOUD_PLATFORM]
        self.scopes = (scopes,) if isinstance(scopes, str) else tuple(scopes)
        # A caller's credentials object -> its refresh state (which does not hold the object: no leak).
        self._objects: weakref.WeakKeyDictionary[Any, RefreshState] = weakref.WeakKeyDictionary()
        self._objects_lock = threading.Lock()
        self._objects_pid = os.getpid()

    def prepare(self, context: Mapping[str, Any], args: Mapping[str, Any]) -> GoogleOAuthAuth:
        given = args.get("vertex_credentials")
        if given is None:
            given = self.option("credentials", context)
        return GoogleOAuthAuth(self.source(given))

    def source(self, given: Any) -> TokenSource:
        """The process's token source for these credentials: a path, JSON text, a dict, a credentials object
        (anything with `token` and `refresh(request)`), or None for application default credentials."""
        if given is not None and not isinstance(given, (str, dict)):
            if not callable(getattr(given, "refresh", None)):
                raise ConfigurationError(
                    "vertex_credentials must be a service-account file path, its JSON (text or dict), or a "
                    f"google-auth credentials object, not {type(given).__name__}."
                )
            return self._for_object(given)
        if isinstance(given, dict) or (isinstance(given, str) and given.lstrip().startswith("{")):
            info = given if isinstance(given, dict) else _parse_json(given)
            digest = hashlib.sha256(json.dumps(info, sort_keys=True).encode()).hexdigest()
            return self.cached(("info", digest), lambda: TokenSource(self._load("dict", info), self.provider))
        key = ("file", given) if given else ("default", None)
        return self.cached(key, lambda: TokenSource(self._load(key[0], given), self.provider))

    def _for_object(self, credentials: Any) -> TokenSource:
        if self._objects_pid != os.getpid():  # a forked child: the parent's lock may be held forever
            self._objects_lock = threading.Lock()
            self._objects = weakref.WeakKeyDictionary()
            self._objects_pid = os.getpid()
        with self._objects_lock:
            try:
                state = self._objects.get(credentials)
                if state is None:
                    state = self._objects[credentials] = RefreshState()
            except TypeError:  # not weak-referenceable: a lock for this call only
                state = RefreshState()
        return TokenSource(credentials, self.provider, state)

    def _load(self, kind: str, given: Any) -> Any:
        try:
            import google.auth
            import google.auth.exceptions
        except ImportError:
            raise missing_extra(self.provider, "google_oauth", "google-auth", "google") from None
        if kind == "default":
            try:
                credentials, _project = google.auth.default(scopes=list(self.scopes))
            except google.auth.exceptions.DefaultCredentialsError as exc:
                raise ConfigurationError(
                    f"No Google credentials for provider '{self.provider}' ({_first_line(exc)}). Set "
                    "GOOGLE_APPLICATION_CREDENTIALS to a service-account file, pass vertex_credentials=, or run "
                    "`gcloud auth application-default login`."
                ) from None
            return credentials
        info = given if kind == "dict" else _read_file(given)
        return _from_info(info, list(self.scopes), "the vertex_credentials JSON" if kind == "dict" else repr(given))


def _read_file(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConfigurationError(f"Cannot read the Google credentials file {path!r}: {exc.strerror or exc}.") from None
    return _parse_json(text, f"The Google credentials file {path!r}")


def _from_info(info: dict[str, Any], scopes: list[str], what: str) -> Any:
    """Credentials from a service-account or authorized-user JSON (the two kinds a key file holds)."""
    kind = info.get("type")
    try:
        if kind == "service_account":
            from google.oauth2 import service_account

            return service_account.Credentials.from_service_account_info(info, scopes=scopes)
        if kind == "authorized_user":
            from google.oauth2 import credentials as user_credentials

            return user_credentials.Credentials.from_authorized_user_info(info, scopes=scopes)
    except (ValueError, KeyError) as exc:
        # Only the exception's class: a parsing message could quote part of the key.
        raise ConfigurationError(
            f"{what} is not a usable Google {kind} key ({type(exc).__name__}); download the key file again."
        ) from None
    raise ConfigurationError(
        f"{what} has type {kind!r}; vertex_credentials takes 'service_account' or 'authorized_user' keys. "
        "For other kinds (external accounts, impersonation) set GOOGLE_APPLICATION_CREDENTIALS to the file instead."
    )


def _parse_json(text: str, what: str = "vertex_credentials") -> dict[str, Any]:
    try:
        info = json.loads(text)
    except ValueError:
        info = None
    if not isinstance(info, dict):
        raise ConfigurationError(f"{what} is not a JSON object; pass a service-account key file's path or content.")
    return info


def _first_line(exc: Exception) -> str:
    """The start of google-auth's message: it names files and variables, never key material."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
