"""Building the HTTP request for one call from a provider's compiled spec: URL, headers, auth, body."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from ..exceptions import APIError, BadRequestError, ConfigurationError, MissingAPIKeyError, UnsupportedParamsError
from ..registry import ModelInfo
from .auth import compile_auth, public_context, split_call_args
from .checks import (
    CREDENTIAL_HEADER,
    SegmentContext,
    check_base,
    check_header_name,
    check_headers,
    check_key,
    unicode_problem,
)
from .messages import compile_renderer
from .model_params import ModelParamRules
from .params import RequestDraft
from .paths import MISSING
from .redact import redact
from .variables import BaseUrl, Variables

if TYPE_CHECKING:
    from .._spec.model import EndpointModel, ProviderModel

_JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}

MAX_PLAIN_BASES = 64  # per provider connection: api_base= values seen, kept only while few


class PreparedRequest:
    """Everything the transport needs to send one call. `secrets` are the values every error of the call is
    redacted with: the key sent, credential-like extra headers and the provider's keys in the environment
    (read only when asked, which is when an error is being redacted)."""

    __slots__ = ("auth", "base", "body", "headers", "key_env", "method", "plain_bases", "secret", "sent_secrets", "url")

    def __init__(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        secret: str | None,
        sent_secrets: tuple[str, ...] = (),
        key_env: tuple[str, ...] = (),
        auth: Any = None,
        base: str = "",
        plain_bases: set[str] | None = None,
    ):
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.secret = secret
        self.sent_secrets = sent_secrets or ((secret,) if secret else ())
        self.key_env = key_env
        self.auth = auth  # a requests AuthBase that signs the final request (spec auth mechanism), or None
        self.base = base  # the base URL the url was built on (api_base=, the environment or the spec's)
        self.plain_bases = plain_bases  # the connection's bases known to be fit to show as they are

    @property
    def public_base(self) -> str | None:
        """The base URL, fit to show (a response's `_hidden_params["api_base"]`): no user info, query or
        fragment, and the key masked should a template have put it there; None when there is none."""
        base, plain = self.base, self.plain_bases
        if not base:
            return None
        if plain is not None and base in plain and not any(secret in base for secret in self.sent_secrets):
            return base  # 0.5 us instead of 6 us (urlsplit and the redaction patterns) on every call
        parts = urlsplit(base)
        shown = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
        public = redact(shown, self.sent_secrets)
        if plain is not None and public == base and len(plain) < MAX_PLAIN_BASES:
            plain.add(base)  # nothing stripped or masked: no secret in it, the same for every call
        return public

    @property
    def secrets(self) -> Secrets:
        """The values to mask in anything this call produces (the environment is read only when an error
        is actually being redacted, so a successful call pays nothing for it)."""
        return Secrets(self.sent_secrets, self.key_env)

    def __repr__(self) -> str:
        return f"PreparedRequest({self.method} {self.url.split('?', 1)[0]})"


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


class Endpoint:
    """A compiled endpoint: path and query templates for plain and streaming calls."""

    def __init__(self, spec: EndpointModel) -> None:
        self.method = spec.method
        self.path = spec.path.fn
        self.stream_path = spec.stream_path.fn if spec.stream_path is not None else self.path
        self.query = [(k, t.fn) for k, t in spec.query]
        self.stream_query = [(k, t.fn) for k, t in spec.stream_query]
        self.list_path = spec.list
        self.id_path = spec.id
        self.strip_prefix: str = spec.strip_prefix
        self.safe = "" if spec.path_encoding == "strict" else ":@"

    def url(self, base: str, context: Mapping[str, Any], stream: bool, extra_query: Sequence[tuple[str, str]]) -> str:
        """The URL: the base (validated by `check_base`), the path with every value percent-encoded as one
        segment, then the base's own query followed by the endpoint's (urlencoded)."""
        path = (self.stream_path if stream else self.path)(SegmentContext(context, self.safe))
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

    def __init__(self, name: str, entry: ProviderModel) -> None:
        self.name = name
        self.base_url = entry.base_url
        self.base_template = BaseUrl(name, entry.base_url)
        self.base_url_env = entry.base_url_env
        self.plain_bases: set[str] = set()  # base URLs fit to show as they are (PreparedRequest.public_base)
        self.variables = Variables(name, entry.variables)
        auth = entry.auth
        self.key_env = auth.env
        self.mechanism = compile_auth(name, auth)  # auth: {mechanism: ...} (see auth.py), else None
        takes_key = self.mechanism is not None and self.mechanism.takes_key  # the key is the mechanism's input
        self.key_optional = auth.optional or (
            not (auth.header or auth.query or takes_key) or (self.mechanism is not None and not takes_key)
        )
        # A mechanism that takes the key (token_exchange) keeps it: no header or query sends it to the provider.
        self.auth_header: str | None = None if takes_key else auth.header
        self.auth_value = auth.value.fn
        self.auth_query: str | None = None if takes_key else auth.query
        self.version_env = entry.api_version.env
        self.version_default: str | None = entry.api_version.default
        self.headers = [(k, t.fn) for k, t in entry.headers]

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

    def base(self, given: Any, context: Mapping[str, Any]) -> str:
        """The base URL: api_base=, else the first set environment variable, else the spec's (a template of
        the call's `context`, see variables.py); validated."""
        if given:
            return check_base(given, "api_base=")
        for variable in self.base_url_env:
            value = os.environ.get(variable)
            if value:
                return check_base(value, f"the environment variable {variable}")
        if not self.base_url:
            where = " or ".join(self.base_url_env) or "the provider's base_url in YAML"
            raise ConfigurationError(f"Provider '{self.name}' needs a base URL: set {where} or pass api_base=.")
        self.variables.check_required(context)
        return self.base_template.render(context)

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

    def signer(self, key: str | None, context: Mapping[str, Any], args: Mapping[str, Any]) -> Any:
        """The AuthBase of the spec's auth mechanism for this call; None when a key is used or none is named."""
        if self.mechanism is None or (key is not None and not self.mechanism.takes_key):
            return None
        return self.mechanism.auth_for(context, args)


class RequestBuilder:
    """A provider's compiled request side: endpoint, body template, messages renderer and parameter rules."""

    def __init__(self, name: str, entry: ProviderModel) -> None:
        self.name = name
        self.connection = ProviderConnection(name, entry)
        endpoints = entry.endpoints
        # No chat endpoint: a provider that only serves named operations (embeddings, rerank; compile checks).
        self.chat = Endpoint(endpoints.chat) if endpoints.chat is not None else None
        self.models_endpoint = Endpoint(endpoints.models) if endpoints.models is not None else None
        self.body = entry.body.fn
        self.stream_body = entry.stream_body.fn if entry.stream_body is not None else None
        self.render_messages = compile_renderer(entry.messages, name)
        self.params = ModelParamRules(
            entry.params, entry.model_params, entry.unknown_params == "forward", entry.models
        )
        self.streams = entry.stream.supported  # False: a stream call sends the plain request (`stream.supported`)

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
        with refused_before_sending(self.name, model):
            return self._build(
                model, messages, params, stream, api_key, api_base, api_version, extra_headers, drop_params, info
            )

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
        if self.chat is None:
            raise UnsupportedParamsError(
                f"provider '{self.name}' has no chat endpoint (it serves embedding() or rerank() only); "
                "use a chat provider for completion()", provider=self.name, model=model,
            )
        stream = stream and self.streams
        auth_args, params = split_call_args(connection.mechanism, params)
        variables, params = connection.variables.resolve(params, auth_args)
        key = connection.api_key(api_key)
        wire_messages, lifted = self.render_messages(messages)
        context: dict[str, Any] = {
            "model": model,
            "messages": wire_messages,
            "stream": stream,
            "api_key": key,
            "api_version": connection.version(api_version),
            "model_info": _model_context(info),
            **public_context(connection.mechanism, auth_args),
            **variables,
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
        features = info.features if info is not None else None
        self.params.for_model(model, info.name if info is not None else None, features).apply(params, draft)
        query = connection.auth(key, context, headers)
        secrets: tuple[str, ...] = (key,) if key else ()
        signer = connection.signer(key, context, auth_args)
        if extra_headers:
            for name, value in extra_headers.items():
                check_header_name(name)
                text = str(value)
                headers[name.lower()] = text
                if CREDENTIAL_HEADER.search(name) and len(text) >= 4:
                    secrets = (*secrets, text)
        check_headers(headers)
        base = connection.base(api_base, context)
        url = self.chat.url(base, context, stream, query)
        try:
            text = json.dumps(draft.body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:  # an object JSON has no form for, NaN or infinity, a cycle
            raise _unsendable(self.name, model, f"holds a value JSON cannot carry ({exc})") from None
        payload = text.encode("utf-8")
        return PreparedRequest(self.chat.method, url, headers, payload, key, secrets, connection.key_env, signer, base,
                               connection.plain_bases)

    def build_models_request(self, api_key: str | None, api_base: str | None) -> PreparedRequest:
        """The request that lists the provider's live models."""
        if self.models_endpoint is None:
            raise UnsupportedParamsError(
                f"provider '{self.name}' declares no models endpoint", provider=self.name, request_sent=False
            )
        connection = self.connection
        key = connection.api_key(api_key)
        context = {"api_key": key, "api_version": connection.version(None), **connection.variables.resolve({}, {})[0]}
        headers = {"accept": "application/json"}
        connection.add_headers(context, headers)
        query = connection.auth(key, context, headers)
        check_headers(headers)
        url = self.models_endpoint.url(connection.base(api_base, context), context, False, query)
        signer = connection.signer(key, context, {})
        return PreparedRequest(self.models_endpoint.method, url, headers, None, key, (), connection.key_env, signer)


def _unsendable(provider: str, model: str, problem: str, what: str = "messages or parameters") -> BadRequestError:
    return BadRequestError(
        f"The request ({what}) {problem}; it was not sent.",
        provider=provider,
        model=model,
        request_sent=False,
    )


@contextmanager
def refused_before_sending(provider: str, model: str, what: str = "messages or parameters") -> Iterator[None]:
    """Around building a request: our errors are marked not sent (with the provider and model), and a body
    nested too deeply or holding text that cannot be encoded becomes a BadRequestError saying so."""
    try:
        yield
    except APIError as error:
        error.request_sent = False
        if error.provider is None:
            error.provider, error.model = provider, model
        raise
    except RecursionError:
        raise _unsendable(provider, model, "is nested too deeply to encode as JSON", what) from None
    except UnicodeError as exc:
        raise _unsendable(provider, model, unicode_problem(exc), what) from None


def _model_context(info: ModelInfo | None) -> dict[str, Any]:
    if info is None:
        return {}
    return {
        "max_output_tokens": info.max_output_tokens,
        "context_window": info.context_window,
        "features": dict.fromkeys(info.features, True),  # `$model_info.features.reasoning`: true or missing
    }


def _has_images(messages: Sequence[Any]) -> bool:
    for message in messages:
        content = message.get("content") if isinstance(message, Mapping) else None
        if isinstance(content, list) and any(
            isinstance(p, Mapping) and p.get("type") == "image_url" for p in content
        ):
            return True
    return False
