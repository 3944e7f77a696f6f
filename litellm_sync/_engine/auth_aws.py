"""AWS Signature Version 4 (`auth: {mechanism: aws_sigv4}`): the signing written out with hashlib and hmac,
credentials from the call, the environment, or botocore's credential chain when botocore is installed.

The pure functions follow AWS's published algorithm and are checked against its test suite
(tests/cases/sigv4/): canonical request, string to sign, signing key, Authorization header. Paths are
normalized and encoded once more on top of the wire encoding, as every AWS service except S3 expects.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple
from urllib.parse import quote, unquote, urlsplit

from requests.auth import AuthBase

from ..exceptions import AuthenticationError, ConfigurationError
from .auth import Mechanism, first_env, missing_extra

ALGORITHM = "AWS4-HMAC-SHA256"
# Headers never signed: hop-by-hop ones, and ones a proxy or tracer may rewrite after signing.
_UNSIGNED = frozenset(
    {
        "authorization",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)
_SPACES = re.compile(r"\s+")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


class AwsCredentials:
    """An access key pair (and session token); the repr shows neither the secret nor the token."""

    __slots__ = ("access_key", "secret_key", "token")

    def __init__(self, access_key: str, secret_key: str, token: str | None = None) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.token = token or None

    def __repr__(self) -> str:
        token = "***" if self.token else None
        return f"AwsCredentials(access_key={self.access_key[:4]!r}..., secret_key=***, token={token})"


class Signature(NamedTuple):
    """Every intermediate of one signature (the test suite checks each)."""

    canonical_request: str
    string_to_sign: str
    authorization: str


def canonical_uri(path: str) -> str:
    """The path with `.`/`..` segments resolved and empty segments dropped, then URI-encoded."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    normalized = "/" + "/".join(segments)
    if segments and path.endswith("/"):
        normalized += "/"
    return quote(normalized, safe="/~")


def canonical_query(query: str) -> str:
    """Query pairs decoded, encoded the AWS way (only A-Z a-z 0-9 - _ . ~ left as is), sorted by key then value."""
    pairs = []
    for item in query.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def canonical_headers(headers: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """(canonical header block, signed header list): names lowercased and sorted, values trimmed with inner
    runs of spaces collapsed, repeated headers joined with commas in their order."""
    merged: dict[str, list[str]] = {}
    for name, value in headers:
        merged.setdefault(_text(name).strip().lower(), []).append(_SPACES.sub(" ", _text(value).strip()))
    names = sorted(merged)
    block = "".join(f"{name}:{','.join(merged[name])}\n" for name in names)
    return block, ";".join(names)


def _text(value: Any) -> str:
    """A header name or value as text (requests also takes bytes, sent as latin-1)."""
    return value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else str(value)


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """The derived key: HMAC chain over date, region, service and 'aws4_request'."""
    key = ("AWS4" + secret_key).encode("utf-8")
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def sign(
    method: str,
    path: str,
    query: str,
    headers: Iterable[tuple[str, str]],
    payload_hash: str,
    credentials: AwsCredentials,
    region: str,
    service: str,
    amz_date: str,
) -> Signature:
    """Sign a request given as its parts; `headers` are the ones to sign (host and x-amz-date included)."""
    block, signed = canonical_headers(headers)
    request = "\n".join(
        (method.upper(), canonical_uri(path or "/"), canonical_query(query), block, signed, payload_hash)
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join((ALGORITHM, amz_date, scope, hashlib.sha256(request.encode("utf-8")).hexdigest()))
    key = signing_key(credentials.secret_key, amz_date[:8], region, service)
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    authorization = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"
    )
    return Signature(request, to_sign, authorization)


def _utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


class AwsSigV4Auth(AuthBase):
    """A requests auth that signs the final prepared request (method, URL, headers and body) with SigV4.

    `credentials` is called at signing time, so refreshable credentials are fresh for every attempt.
    """

    def __init__(
        self,
        credentials: Callable[[], AwsCredentials],
        region: str,
        service: str,
        *,
        content_sha256: bool = False,
        clock: Callable[[], _dt.datetime] = _utcnow,
    ) -> None:
        self.credentials = credentials
        self.region = region
        self.service = service
        self.content_sha256 = content_sha256
        self.clock = clock

    def __repr__(self) -> str:
        return f"AwsSigV4Auth(service={self.service!r}, region={self.region!r})"

    def __call__(self, request: Any) -> Any:
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body is not None and not isinstance(body, (bytes, bytearray)):
            raise ConfigurationError("aws_sigv4 signs the request body, so it must be bytes, not a stream.")
        payload_hash = hashlib.sha256(body or b"").hexdigest()
        credentials = self.credentials()
        headers = request.headers
        for name in ("authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"):
            headers.pop(name, None)
        amz_date = self.clock().astimezone(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        headers["X-Amz-Date"] = amz_date
        if credentials.token:
            headers["X-Amz-Security-Token"] = credentials.token
        if self.content_sha256:
            headers["X-Amz-Content-SHA256"] = payload_hash
        parts = urlsplit(request.url)
        to_sign = [(k, v) for k, v in headers.items() if _text(k).lower() not in _UNSIGNED]
        if "host" not in headers:
            to_sign.append(("host", _host(parts.scheme, parts.netloc)))
        signature = sign(
            request.method,
            parts.path,
            parts.query,
            to_sign,
            payload_hash,
            credentials,
            self.region,
            self.service,
            amz_date,
        )
        headers["Authorization"] = signature.authorization
        return request


def _host(scheme: str, netloc: str) -> str:
    """The Host header http.client sends for a URL: no user:password@, no default port."""
    host = netloc.rpartition("@")[2]
    name, colon, port = host.rpartition(":")
    if colon and "]" not in port and _DEFAULT_PORTS.get(scheme.lower()) == port:
        return name
    return host


def _check(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{what} must be a non-empty string.")
    if any(ch in value for ch in "\r\n\0"):
        raise ConfigurationError(f"{what} contains a line break or NUL character; it was not used.")
    return value


class AwsSigV4Mechanism(Mechanism):
    """`aws_sigv4`: options `service` (required), `region`, `content_sha256`; see docs/auth.md."""

    name = "aws_sigv4"
    options = {"service": "template", "region": "template", "content_sha256": "bool"}
    defaults = {"content_sha256": False}
    required = ("service",)
    call_args = (
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_region_name",
        "aws_profile_name",
    )
    public_args = ("aws_region_name", "aws_profile_name")

    def prepare(self, context: Mapping[str, Any], args: Mapping[str, Any]) -> AwsSigV4Auth:
        service = self.option("service", context)
        if service is None:
            raise ConfigurationError(f"Provider '{self.provider}': auth.service of aws_sigv4 rendered no value.")
        profile = args.get("aws_profile_name")
        credentials = self._credentials(args, profile)
        region = (
            self.option("region", context)
            or args.get("aws_region_name")
            or first_env("AWS_REGION", "AWS_DEFAULT_REGION")
            or self._botocore_region(profile)
        )
        if not region:
            raise ConfigurationError(
                f"No AWS region for provider '{self.provider}': set AWS_REGION (or AWS_DEFAULT_REGION) "
                "or pass aws_region_name=."
            )
        return AwsSigV4Auth(
            credentials,
            _check(region, "The AWS region"),
            _check(service, "The AWS service"),
            content_sha256=bool(self.option("content_sha256")),
        )

    def _credentials(self, args: Mapping[str, Any], profile: Any) -> Callable[[], AwsCredentials]:
        key_id, secret = args.get("aws_access_key_id"), args.get("aws_secret_access_key")
        if key_id is not None or secret is not None:
            if key_id is None or secret is None:
                raise ConfigurationError(
                    "Pass both aws_access_key_id= and aws_secret_access_key= (or neither, to use the environment)."
                )
            token = args.get("aws_session_token")
            fixed = AwsCredentials(
                _check(key_id, "aws_access_key_id"),
                _check(secret, "aws_secret_access_key"),
                _check(token, "aws_session_token") if token is not None else None,
            )
            return lambda: fixed
        env_id, env_secret = first_env("AWS_ACCESS_KEY_ID"), first_env("AWS_SECRET_ACCESS_KEY")
        if profile is None and env_id and env_secret:
            token = first_env("AWS_SESSION_TOKEN")
            fixed = AwsCredentials(
                _check(env_id, "AWS_ACCESS_KEY_ID"),
                _check(env_secret, "AWS_SECRET_ACCESS_KEY"),
                _check(token, "AWS_SESSION_TOKEN") if token else None,
            )
            return lambda: fixed
        return self._botocore_credentials(profile)

    def _botocore_session(self, profile: Any) -> Any:
        try:
            import botocore.session
        except ImportError:
            return None
        return self.cached(("session", profile), lambda: botocore.session.Session(profile=profile))

    def _botocore_region(self, profile: Any) -> str | None:
        session = self._botocore_session(profile)
        try:
            return session.get_config_variable("region") if session is not None else None
        except Exception:  # a broken profile is reported by the credential lookup, not here
            return None

    def _botocore_credentials(self, profile: Any) -> Callable[[], AwsCredentials]:
        session = self._botocore_session(profile)
        if session is None:
            error = missing_extra(self.provider, "aws_sigv4", "botocore", "aws")
            raise ConfigurationError(
                f"No AWS credentials for provider '{self.provider}': set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, pass aws_access_key_id= and aws_secret_access_key=, or use profiles, SSO "
                f"and instance roles through botocore. {error}"
            )
        try:
            found = self.cached(("credentials", profile), lambda: session.get_credentials() or _NONE)
        except Exception as exc:  # ProfileNotFound, a malformed config file, ...
            raise ConfigurationError(
                f"botocore could not load AWS credentials for provider '{self.provider}' "
                f"({type(exc).__name__}); check the profile and ~/.aws/config."
            ) from None
        if found is _NONE:
            raise ConfigurationError(
                f"No AWS credentials for provider '{self.provider}': botocore's chain (environment, profile, SSO, "
                "instance role) found none. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass "
                "aws_access_key_id= and aws_secret_access_key=, or configure a profile (aws_profile_name=)."
            )
        return lambda: _frozen(found, self.provider)


_NONE = object()  # botocore found no credentials (cached so the chain is not walked on every call)


def _frozen(credentials: Any, provider: str) -> AwsCredentials:
    """A consistent snapshot of botocore credentials (refreshing them if they are about to expire)."""
    try:
        frozen = credentials.get_frozen_credentials()
    except Exception as exc:
        raise AuthenticationError(
            f"Could not refresh the AWS credentials ({type(exc).__name__}); check the profile, SSO session or role.",
            provider=provider,
        ) from None
    return AwsCredentials(frozen.access_key, frozen.secret_key, frozen.token)
