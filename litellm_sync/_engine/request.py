"""Building the HTTP request for one call from a provider's compiled spec: URL, headers, auth, body."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from ..exceptions import ConfigurationError, MissingAPIKeyError, UnsupportedParamsError
from ..registry import ModelInfo
from .auth import compile_auth, public_context, split_call_args
from .messages import compile_renderer
from .params import ParamRules, RequestDraft
from .paths import MISSING
from .template import compile_template

_FORBIDDEN_IN_HEADERS = ("\r", "\n", "\0")
_JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}


class PreparedRequest:
    """Everything the transport needs to send one call."""

    __slots__ = ("auth", "body", "headers", "method", "secret", "url")

    def __init__(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        secret: str | None,
        auth: Any = None,
    ):
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.secret = secret
        self.auth = auth  # a requests AuthBase that signs the final request (spec auth mechanism), or None

    def __repr__(self) -> str:
        return f"PreparedRequest({self.method} {self.url.split('?', 1)[0]})"


def check_header_safe(name: str, value: str, what: str) -> None:
    """Refuse header values that could split the request; the message never repeats the value."""
    if any(ch in value for ch in _FORBIDDEN_IN_HEADERS):
        raise ConfigurationError(f"{what} contains a line break or NUL character; it was not sent ({name}).")


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
        path = (self.stream_path if stream else self.path)(context)
        query = [(k, v) for k, t in self.query if (v := t(context)) is not MISSING]
        if stream:
            query.extend((k, v) for k, t in self.stream_query if (v := t(context)) is not MISSING)
        query.extend(extra_query)
        url = base + (path if path is not MISSING else "")
        return f"{url}?{urlencode(query)}" if query else url


class ProviderConnection:
    """Where and how to reach a provider: base URL, API version and authentication."""

    def __init__(self, name: str, entry: Mapping[str, Any]) -> None:
        self.name = name
        self.base_url: str | None = entry.get("base_url")
        self.base_url_env = tuple(entry.get("base_url_env") or ())
        auth = entry.get("auth") or {}
        self.key_env = tuple(auth.get("env") or ())
        self.mechanism = compile_auth(name, auth)  # auth: {mechanism: ...} (see auth.py), else None
        self.key_optional = (
            bool(auth.get("optional", False))
            or not (auth.get("header") or auth.get("query"))
            or self.mechanism is not None
        )
        self.auth_header: str | None = auth.get("header")
        self.auth_value = compile_template(auth.get("value", "${api_key}"))
        self.auth_query: str | None = auth.get("query")
        version = entry.get("api_version") or {}
        self.version_env = tuple(version.get("env") or ())
        self.version_default: str | None = version.get("default")
        self.headers = [(k.lower(), compile_template(v)) for k, v in (entry.get("headers") or {}).items() if v]

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

    def signer(self, key: str | None, context: Mapping[str, Any], args: Mapping[str, Any]) -> Any:
        """The AuthBase of the spec's auth mechanism for this call; None when a key is used or none is named."""
        if self.mechanism is None or key is not None:
            return None
        return self.mechanism.auth_for(context, args)


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
        """The request for one chat call."""
        connection = self.connection
        auth_args, params = split_call_args(connection.mechanism, params)
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
        signer = connection.signer(key, context, auth_args)
        if extra_headers:
            for name, value in extra_headers.items():
                check_header_safe("a header name", str(name), "An extra_headers name")
                check_header_safe(name, str(value), f"extra_headers[{name!r}]")
                headers[name.lower()] = str(value)
        url = self.chat.url(connection.base(api_base), context, stream, query)
        payload = json.dumps(draft.body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return PreparedRequest(self.chat.method, url, headers, payload, key, signer)

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
        signer = connection.signer(key, context, {})
        return PreparedRequest(self.models_endpoint.method, url, headers, None, key, signer)


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
