"""Building the HTTP request for one call from a provider's compiled spec: URL, headers, auth, body."""

from __future__ import annotations

import json
import math
import os
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from ..exceptions import APIError, BadRequestError, ConfigurationError, MissingAPIKeyError, UnsupportedParamsError
from ..registry import ModelInfo
from .messages import compile_renderer
from .params import ParamRules, RequestDraft
from .paths import MISSING
from .template import compile_template

_FORBIDDEN_IN_HEADERS = ("\r", "\n", "\0")
_JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}


class PreparedRequest:
    """Everything the transport needs to send one call. `secrets` are the values every error of the call is
    redacted with: the key sent, credential-like extra headers and the provider's keys in the environment
    (read only when asked, which is when an error is being redacted)."""

    __slots__ = ("body", "headers", "key_env", "method", "secret", "sent_secrets", "url")

    def __init__(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        secret: str | None,
        sent_secrets: tuple[str, ...] = (),
        key_env: tuple[str, ...] = (),
    ):
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.secret = secret
        self.sent_secrets = sent_secrets or ((secret,) if secret else ())
        self.key_env = key_env

    @property
    def secrets(self) -> Secrets:
        """The values to mask in anything this call produces (the environment is read only when an error
        is actually being redacted, so a successful call pays nothing for it)."""
        return Secrets(self.sent_secrets, self.key_env)

    def __repr__(self) -> str:
        return f"PreparedRequest({self.method} {self.url.split('?', 1)[0]})"


# http(s)://host[:port][/path] with nothing unusual in it (no userinfo, query, fragment, brackets, spaces).
_PLAIN_BASE = re.compile(r"https?://[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?(?::(\d{1,5}))?(?:/[A-Za-z0-9._~\-/]*)?\Z")
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9_\-~:@.]+\Z")
class Secrets(Sequence[str]):
    """A call's secrets: the values sent, plus the provider's keys in the environment, read on first use."""

    __slots__ = ("_env", "_values")

    def __init__(self, sent: tuple[str, ...], key_env: tuple[str, ...]) -> None:
        self._values: tuple[str, ...] | None = None if key_env else sent
        self._env = (sent, key_env)

    def _all(self) -> tuple[str, ...]:
        if self._values is None:
            sent, key_env = self._env
            found = [value for variable in key_env if (value := os.environ.get(variable))]
            self._values = tuple(dict.fromkeys((*sent, *found)))
        return self._values

    def __getitem__(self, index: Any) -> Any:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __repr__(self) -> str:
        return f"Secrets({len(self)} values)"  # never the values


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_CREDENTIAL_HEADER = re.compile(r"auth|key|token|secret|cookie|signature|password", re.IGNORECASE)


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


def encode_segment(value: str) -> str:
    """A value percent-encoded to stay inside one path segment: '/', '?', '#', '%' and the like are escaped,
    and a value of only dots (a '..' segment) too."""
    if _PLAIN_SEGMENT.match(value) and value.strip("."):
        return value
    encoded = quote(value, safe=":@", errors="strict")
    return encoded.replace(".", "%2E") if encoded and not encoded.strip(".") else encoded


def _encoded(value: Any) -> Any:
    if isinstance(value, str):
        return encode_segment(value)
    if isinstance(value, dict):
        return {_encoded(k): _encoded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encoded(v) for v in value]
    return value


class _SegmentContext(Mapping[str, Any]):
    """A read-only view of a call's context whose values come out path-segment encoded (lazily: only what a
    path template reads is encoded)."""

    __slots__ = ("_context",)

    def __init__(self, context: Mapping[str, Any]) -> None:
        self._context = context

    def __getitem__(self, name: str) -> Any:
        return _encoded(self._context[name])

    def get(self, name: str, default: Any = None) -> Any:
        value = self._context.get(name, MISSING)
        return default if value is MISSING else _encoded(value)

    def __iter__(self) -> Iterator[str]:
        return iter(self._context)

    def __len__(self) -> int:
        return len(self._context)


class Endpoint:
    """A compiled endpoint: path and query templates for plain and streaming calls."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.method = spec.get("method", "POST")
        self.path = compile_template(spec.get("path", ""))
        self.stream_path = compile_template(spec["stream_path"]) if "stream_path" in spec else self.path
        self.query = [(k, compile_template(v)) for k, v in (spec.get("query") or {}).items()]
        self.stream_query = [(k, compile_template(v)) for k, v in (spec.get("stream_query") or {}).items()]
        self.list_path = spec.get("list")
        self.id_path = spec.get("id")
        self.strip_prefix: str = spec.get("strip_prefix", "")

    def url(self, base: str, context: Mapping[str, Any], stream: bool, extra_query: Sequence[tuple[str, str]]) -> str:
        """The URL: the base (validated by `check_base`), the path with every value percent-encoded as one
        segment, then the base's own query followed by the endpoint's (urlencoded)."""
        path = (self.stream_path if stream else self.path)(_SegmentContext(context))
        query = [(k, v) for k, t in self.query if (v := t(context)) is not MISSING]
        if stream:
            query.extend((k, v) for k, t in self.stream_query if (v := t(context)) is not MISSING)
        query.extend(extra_query)
        prefix, _, joined = base.partition("?")
        url = prefix + path if path is not MISSING else prefix
        if query:
            encoded = urlencode(query)
            joined = f"{joined}&{encoded}" if joined else encoded
        return f"{url}?{joined}" if joined else url


class ProviderConnection:
    """Where and how to reach a provider: base URL, API version and authentication."""

    def __init__(self, name: str, entry: Mapping[str, Any]) -> None:
        self.name = name
        self.base_url: str | None = entry.get("base_url")
        self.base_url_env = tuple(entry.get("base_url_env") or ())
        auth = entry.get("auth") or {}
        self.key_env = tuple(auth.get("env") or ())
        self.key_optional = bool(auth.get("optional", False)) or not (auth.get("header") or auth.get("query"))
        self.auth_header: str | None = auth.get("header")
        self.auth_value = compile_template(auth.get("value", "${api_key}"))
        self.auth_query: str | None = auth.get("query")
        version = entry.get("api_version") or {}
        self.version_env = tuple(version.get("env") or ())
        self.version_default: str | None = version.get("default")
        self.headers = [(k.lower(), compile_template(v)) for k, v in (entry.get("headers") or {}).items() if v]

    def api_key(self, given: Any) -> str | None:
        """The key to use: the argument, else the first set environment variable; checked (type, emptiness,
        characters a header can carry) without ever showing it."""
        if given is not None:
            return check_key(given, "api_key=", self.name)
        for variable in self.key_env:
            value = os.environ.get(variable)
            if value:
                return check_key(value, f"the environment variable {variable}", self.name)
        if self.key_optional:
            return None
        raise MissingAPIKeyError(self.name, self.key_env)

    def base(self, given: Any) -> str:
        """The base URL: api_base=, else the first set environment variable, else the spec's; validated."""
        if given:
            return check_base(given, "api_base=")
        for variable in self.base_url_env:
            value = os.environ.get(variable)
            if value:
                return check_base(value, f"the environment variable {variable}")
        if not self.base_url:
            where = " or ".join(self.base_url_env) or "the provider's base_url in YAML"
            raise ConfigurationError(f"Provider '{self.name}' needs a base URL: set {where} or pass api_base=.")
        return check_base(self.base_url, f"the base_url of provider '{self.name}'")

    def version(self, given: str | None) -> str | None:
        """The API version: api_version=, else the environment, else the spec's default."""
        from_env = next((os.environ[v] for v in self.version_env if os.environ.get(v)), None)
        return given or from_env or self.version_default

    def add_headers(self, context: Mapping[str, Any], headers: dict[str, str]) -> None:
        """Write the spec's static headers (templates: `${api_version}` works) into headers."""
        for header, template in self.headers:
            value = template(context)
            if value is not MISSING:
                headers[header] = value

    def auth(self, key: str | None, context: Mapping[str, Any], headers: dict[str, str]) -> list[tuple[str, str]]:
        """Write the auth header; return the auth query pair if the provider takes the key in the URL."""
        if key is None:
            return []
        if self.auth_header:
            value = self.auth_value(context)
            if value is not MISSING:
                headers[self.auth_header.lower()] = value
        return [(self.auth_query, key)] if self.auth_query else []


class RequestBuilder:
    """A provider's compiled request side: endpoint, body template, messages renderer and parameter rules."""

    def __init__(self, name: str, entry: Mapping[str, Any]) -> None:
        self.name = name
        self.connection = ProviderConnection(name, entry)
        endpoints = entry.get("endpoints") or {}
        self.chat = Endpoint(endpoints.get("chat") or {})
        self.models_endpoint = Endpoint(endpoints["models"]) if endpoints.get("models") else None
        self.body = compile_template(entry.get("body") or {"model": "$model", "messages": "$messages"})
        self.stream_body = compile_template(entry["stream_body"]) if entry.get("stream_body") else None
        self.render_messages = compile_renderer(entry.get("messages") or {}, name)
        self.params = ParamRules(entry.get("params") or {}, entry.get("unknown_params", "forward") == "forward")

    def build(
        self,
        model: str,
        messages: Sequence[Any],
        params: Mapping[str, Any],
        *,
        stream: bool,
        api_key: str | None,
        api_base: str | None,
        api_version: str | None,
        extra_headers: Mapping[str, str] | None,
        drop_params: bool,
        info: ModelInfo | None,
    ) -> PreparedRequest:
        """The request for one chat call. Whatever it refuses is raised before anything is sent, with
        `request_sent=False`: ConfigurationError for the setup, BadRequestError for the messages or params."""
        try:
            return self._build(
                model, messages, params, stream, api_key, api_base, api_version, extra_headers, drop_params, info
            )
        except APIError as error:
            error.request_sent = False
            if error.provider is None:
                error.provider, error.model = self.name, model
            raise
        except RecursionError:
            raise _unsendable(self.name, model, "is nested too deeply to encode as JSON") from None
        except UnicodeError as exc:
            raise _unsendable(self.name, model, _unicode_problem(exc)) from None

    def _build(
        self,
        model: str,
        messages: Sequence[Any],
        params: Mapping[str, Any],
        stream: bool,
        api_key: str | None,
        api_base: str | None,
        api_version: str | None,
        extra_headers: Mapping[str, str] | None,
        drop_params: bool,
        info: ModelInfo | None,
    ) -> PreparedRequest:
        connection = self.connection
        key = connection.api_key(api_key)
        wire_messages, lifted = self.render_messages(messages)
        context: dict[str, Any] = {
            "model": model,
            "messages": wire_messages,
            "stream": stream,
            "api_key": key,
            "api_version": connection.version(api_version),
            "model_info": _model_context(info),
            **lifted,
        }
        body = self.body(context)
        body = body if isinstance(body, dict) else {}
        context["body"] = body
        if stream and self.stream_body is not None:
            body.update(self.stream_body(context))
        headers = dict(_JSON_HEADERS)
        connection.add_headers(context, headers)
        draft = RequestDraft(body, headers, context, self.name, model, info.features if info else None, drop_params)
        if info is not None and "vision" not in info.features and _has_images(messages):
            # Message content is never dropped silently, drop_params or not (as with unrenderable parts).
            raise UnsupportedParamsError(
                f"messages: model '{model}' does not accept images (no vision feature); "
                "remove the image parts or use a vision model.",
                provider=self.name,
                model=model,
            )
        self.params.apply(params, draft)
        query = connection.auth(key, context, headers)
        secrets: tuple[str, ...] = (key,) if key else ()
        if extra_headers:
            for name, value in extra_headers.items():
                check_header_name(name)
                text = str(value)
                headers[name.lower()] = text
                if _CREDENTIAL_HEADER.search(name) and len(text) >= 4:
                    secrets = (*secrets, text)
        check_headers(headers)
        url = self.chat.url(connection.base(api_base), context, stream, query)
        try:
            text = json.dumps(draft.body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:  # an object JSON has no form for, NaN or infinity, a cycle
            raise _unsendable(self.name, model, f"holds a value JSON cannot carry ({exc})") from None
        payload = text.encode("utf-8")
        return PreparedRequest(self.chat.method, url, headers, payload, key, secrets, connection.key_env)

    def build_models_request(self, api_key: str | None, api_base: str | None) -> PreparedRequest:
        """The request that lists the provider's live models."""
        if self.models_endpoint is None:
            raise UnsupportedParamsError(
                f"provider '{self.name}' declares no models endpoint", provider=self.name, request_sent=False
            )
        connection = self.connection
        key = connection.api_key(api_key)
        context = {"api_key": key, "api_version": connection.version(None)}
        headers = {"accept": "application/json"}
        connection.add_headers(context, headers)
        query = connection.auth(key, context, headers)
        check_headers(headers)
        url = self.models_endpoint.url(connection.base(api_base), context, False, query)
        return PreparedRequest(self.models_endpoint.method, url, headers, None, key, (), connection.key_env)


def check_headers(headers: Mapping[str, str]) -> None:
    """Every header of a request checked once, whatever wrote it (spec, parameter, auth, extra_headers)."""
    joined = "".join(headers.values())
    if joined.isascii() and joined.isprintable():  # the usual case: two C calls for all of them
        return
    for name, value in headers.items():
        check_header_safe(name, value, f"The {name} header")


def _unicode_problem(exc: UnicodeError) -> str:
    if isinstance(exc, UnicodeEncodeError):
        text = exc.object if isinstance(exc.object, str) else ""
        ch = text[exc.start] if exc.start < len(text) else "?"
        return (
            f"contains {_describe_char(ch)}, which cannot be encoded as UTF-8 (half of an emoji cut from a string, "
            "or text decoded with errors='surrogateescape'): clean it, e.g. "
            "text.encode('utf-8', 'replace').decode('utf-8')"
        )
    return f"holds text that cannot be encoded ({exc.reason if hasattr(exc, 'reason') else exc})"


def _unsendable(provider: str, model: str, problem: str) -> BadRequestError:
    return BadRequestError(
        f"The request (messages or parameters) {problem}; it was not sent.",
        provider=provider,
        model=model,
        request_sent=False,
    )


def _model_context(info: ModelInfo | None) -> dict[str, Any]:
    if info is None:
        return {}
    return {"max_output_tokens": info.max_output_tokens, "context_window": info.context_window}


def _has_images(messages: Sequence[Any]) -> bool:
    for message in messages:
        content = message.get("content") if isinstance(message, Mapping) else None
        if isinstance(content, list) and any(
            isinstance(p, Mapping) and p.get("type") == "image_url" for p in content
        ):
            return True
    return False
