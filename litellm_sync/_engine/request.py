"""Building the HTTP request for one call from a provider's compiled spec: URL, headers, auth, body."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ..exceptions import ConfigurationError, MissingAPIKeyError, UnsupportedParamsError
from ..registry import ModelInfo
from .messages import compile_renderer
from .params import ParamRules, RequestDraft
from .paths import MISSING

if TYPE_CHECKING:
    from .._spec.model import EndpointModel, ProviderModel

_FORBIDDEN_IN_HEADERS = ("\r", "\n", "\0")
_JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}


class PreparedRequest:
    """Everything the transport needs to send one call."""

    __slots__ = ("body", "headers", "method", "secret", "url")

    def __init__(self, method: str, url: str, headers: dict[str, str], body: bytes | None, secret: str | None):
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.secret = secret

    def __repr__(self) -> str:
        return f"PreparedRequest({self.method} {self.url.split('?', 1)[0]})"


def check_header_safe(name: str, value: str, what: str) -> None:
    """Refuse header values that could split the request; the message never repeats the value."""
    if any(ch in value for ch in _FORBIDDEN_IN_HEADERS):
        raise ConfigurationError(f"{what} contains a line break or NUL character; it was not sent ({name}).")


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

    def url(self, base: str, context: Mapping[str, Any], stream: bool, extra_query: Sequence[tuple[str, str]]) -> str:
        path = (self.stream_path if stream else self.path)(context)
        query = [(k, v) for k, t in self.query if (v := t(context)) is not MISSING]
        if stream:
            query.extend((k, v) for k, t in self.stream_query if (v := t(context)) is not MISSING)
        query.extend(extra_query)
        url = base + (path if path is not MISSING else "")
        return f"{url}?{urlencode(query)}" if query else url


class ProviderConnection:
    """Where and how to reach a provider: base URL, API version and authentication."""

    def __init__(self, name: str, entry: ProviderModel) -> None:
        self.name = name
        self.base_url: str | None = entry.base_url
        self.base_url_env = entry.base_url_env
        auth = entry.auth
        self.key_env = auth.env
        self.key_optional = auth.optional or not (auth.header or auth.query)
        self.auth_header: str | None = auth.header
        self.auth_value = auth.value.fn
        self.auth_query: str | None = auth.query
        self.version_env = entry.api_version.env
        self.version_default: str | None = entry.api_version.default
        self.headers = [(k, t.fn) for k, t in entry.headers]

    def api_key(self, given: str | None) -> str | None:
        """The key to use: the argument, else the first set environment variable; checked for safety."""
        key = given
        if key is None:
            key = next((os.environ[v] for v in self.key_env if os.environ.get(v)), None)
        if key is None:
            if self.key_optional:
                return None
            raise MissingAPIKeyError(self.name, self.key_env)
        check_header_safe(self.auth_header or "api key", key, f"The API key for provider '{self.name}'")
        return key

    def base(self, given: str | None) -> str:
        """The base URL: api_base=, else the first set environment variable, else the spec's."""
        base = given or next((os.environ[v] for v in self.base_url_env if os.environ.get(v)), None) or self.base_url
        if not base:
            where = " or ".join(self.base_url_env) or "the provider's base_url in YAML"
            raise ConfigurationError(f"Provider '{self.name}' needs a base URL: set {where} or pass api_base=.")
        return base.rstrip("/")

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

    def __init__(self, name: str, entry: ProviderModel) -> None:
        self.name = name
        self.connection = ProviderConnection(name, entry)
        endpoints = entry.endpoints
        if endpoints.chat is None:
            raise ValueError("no endpoints.chat")  # compile_provider reports it first, with the file
        self.chat = Endpoint(endpoints.chat)
        self.models_endpoint = Endpoint(endpoints.models) if endpoints.models is not None else None
        self.body = entry.body.fn
        self.stream_body = entry.stream_body.fn if entry.stream_body is not None else None
        self.render_messages = compile_renderer(entry.messages, name)
        self.params = ParamRules(entry.params, entry.unknown_params == "forward")

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
        """The request for one chat call."""
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
        if extra_headers:
            for name, value in extra_headers.items():
                check_header_safe("a header name", str(name), "An extra_headers name")
                check_header_safe(name, str(value), f"extra_headers[{name!r}]")
                headers[name.lower()] = str(value)
        url = self.chat.url(connection.base(api_base), context, stream, query)
        payload = json.dumps(draft.body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return PreparedRequest(self.chat.method, url, headers, payload, key)

    def build_models_request(self, api_key: str | None, api_base: str | None) -> PreparedRequest:
        """The request that lists the provider's live models."""
        if self.models_endpoint is None:
            raise UnsupportedParamsError(f"provider '{self.name}' declares no models endpoint", provider=self.name)
        connection = self.connection
        key = connection.api_key(api_key)
        context = {"api_key": key, "api_version": connection.version(None)}
        headers = {"accept": "application/json"}
        connection.add_headers(context, headers)
        query = connection.auth(key, context, headers)
        url = self.models_endpoint.url(connection.base(api_base), context, False, query)
        return PreparedRequest(self.models_endpoint.method, url, headers, None, key)


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
