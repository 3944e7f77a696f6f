"""Mocking completions in tests: `mock_completion` registers a provider's own reply at its real URL with
`responses`, and `mock_http_reply` is what `completion(..., mock_response=...)` reads instead of the network.

    import responses
    from litellm_sync.testing import mock_completion

    @responses.activate
    def test_my_view():
        mock_completion(responses, "anthropic/claude-sonnet-4-5", text="hi", stream=True)
        ...  # code that calls litellm_sync.completion(...) now gets "hi", streamed in Anthropic's events

The URL comes from the provider's compiled request builder (so api_base=, the provider's base-URL
variables and api_version= are honoured exactly as in a call) and the body from `replies.ReplyWriter`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests
import urllib3

from .._engine.reads import ReadState
from .._engine.response import ChunkAssembler, to_response
from .._engine.transport import Reply
from .._spec import ProviderSpec
from ..exceptions import ERROR_CLASSES, ConfigurationError
from ..stream import ChatStream
from .replies import MockAnswer, MockSpecError, MockToolCall, ReplyWriter, first_path, put, satisfy

DEFAULT_TEXT = "This is a mock response."
DEFAULT_USAGE = {"prompt_tokens": 10, "completion_tokens": 20}
_PLACEHOLDER_KEY = "sk-mock-placeholder"
_MESSAGES = ({"role": "user", "content": "mock"},)


def tool_call(name: str, arguments: Any = None, id: str | None = None) -> MockToolCall:
    """A tool call for a mocked reply; arguments as a dict (or JSON text)."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments or {}, separators=(",", ":"))
    return MockToolCall(id or f"call_mock_{name}", name, text)


def _tool_calls(given: Sequence[Any] | None) -> list[MockToolCall]:
    """Tool calls given as MockToolCall, `{"name", "arguments", "id"}` or OpenAI's `{"id", "function": {...}}`."""
    calls: list[MockToolCall] = []
    for position, item in enumerate(given or ()):
        if isinstance(item, MockToolCall):
            calls.append(item)
            continue
        if not isinstance(item, Mapping):
            raise ConfigurationError(f"tool_calls[{position}]: expected a dict with a name, got {item!r}")
        nested = item.get("function")
        function: Mapping[str, Any] = nested if isinstance(nested, Mapping) else item
        if not isinstance(function.get("name"), str):
            raise ConfigurationError(f"tool_calls[{position}]: a tool call needs a 'name' (or function.name)")
        calls.append(tool_call(function["name"], function.get("arguments"), item.get("id") or f"call_mock_{position}"))
    return calls


def make_answer(
    model: str,
    text: str | None = None,
    tool_calls: Sequence[Any] | None = None,
    *,
    usage: Mapping[str, int] | None = None,
    finish_reason: str | None = None,
    chunks: Sequence[str] | None = None,
) -> MockAnswer:
    """The answer a mock reply reads back as; without text or tool calls the text is DEFAULT_TEXT."""
    calls = _tool_calls(tool_calls)
    if text is None and not calls:
        text = "".join(chunks) if chunks is not None else DEFAULT_TEXT
    return MockAnswer(
        text=text,
        tool_calls=tuple(calls),
        finish_reason=finish_reason or ("tool_calls" if calls else "stop"),
        usage=dict(DEFAULT_USAGE if usage is None else usage),
        model=model,
        id=f"mock-{model}",
        chunks=tuple(chunks) if chunks is not None else None,
    )


def _prepared(provider: ProviderSpec, model: str, stream: bool, api_base: str | None, api_version: str | None) -> Any:
    return provider.builder.build(
        model, list(_MESSAGES), {}, stream=stream, api_key=_PLACEHOLDER_KEY, api_base=api_base,
        api_version=api_version, extra_headers=None, drop_params=True, info=None,
    )


def request_url(
    provider: ProviderSpec,
    model: str,
    stream: bool,
    api_base: str | None = None,
    api_version: str | None = None,
) -> tuple[str, str, dict[str, str]]:
    """(method, URL without query, query) of a chat call, from the provider's own request builder; the
    key is a placeholder (it only reaches the URL for providers that take it there, and is dropped)."""
    prepared = _prepared(provider, model, stream, api_base, api_version)
    parts = urlsplit(prepared.url)
    query = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True) if v != _PLACEHOLDER_KEY}
    return prepared.method, urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), query


def stream_fields(
    provider: ProviderSpec, model: str, stream: bool, api_base: str | None = None, api_version: str | None = None
) -> dict[str, Any]:
    """Top-level body fields (and their values) that tell a streaming call from a plain one, when both go
    to the same URL (`{"stream": True, "stream_options": {...}}`); empty when the URLs already differ."""
    plain, streamed = (_prepared(provider, model, flag, api_base, api_version) for flag in (False, True))
    if plain.url != streamed.url or not plain.body or not streamed.body:
        return {}
    bodies = json.loads(plain.body), json.loads(streamed.body)
    wanted = bodies[1] if stream else bodies[0]
    return {key: wanted.get(key) for key in {*bodies[0], *bodies[1]} if bodies[0].get(key) != bodies[1].get(key)}


def _matchers(query: dict[str, str], fields: dict[str, Any]) -> list[Any]:
    """responses matchers: the URL's query (other parameters allowed) and the stream-telling body fields."""
    from responses import matchers

    found = [matchers.query_param_matcher(query, strict_match=False)] if query else []
    if fields:

        def stream_or_not(request: Any) -> tuple[bool, str]:
            try:
                body = json.loads(request.body or b"null")
            except ValueError:
                body = None
            sent = {key: body.get(key) for key in fields} if isinstance(body, dict) else None
            return sent == fields, "" if sent == fields else f"body fields {sent} are not {fields}"

        found.append(stream_or_not)
    return found


def error_reply(
    provider: ProviderSpec, status: int | None, error: Any, message: str | None, code: str | None
) -> tuple[int, dict[str, Any]]:
    """(status, body) of an error reply that the provider's error table maps to `error` (a class or its
    name; None: whatever the status maps to)."""
    errors: Mapping[str, Any] = provider.entry.get("errors") or {}
    text = message or "mocked error"
    if error is None:
        return status or 500, error_body(errors, text, code, None)
    wanted = error if isinstance(error, str) else getattr(error, "__name__", "")
    if wanted not in ERROR_CLASSES:
        raise ConfigurationError(f"error={error!r} is not one of litellm_sync's exception classes")
    rules = [rule for rule in errors.get("rules") or () if rule.get("class") == wanted]
    # A rule without a status takes one that another rule for the class names, else the status table's.
    named = [_status_of(rule["status"]) for rule in rules if rule.get("status") is not None]
    table = [code for code, cls in provider.errors.by_status.items() if cls.__name__ == wanted]
    fallback = (named + table + [400])[0]
    candidates: list[tuple[int, Mapping[str, Any] | None]] = [
        (status or (_status_of(rule["status"]) if rule.get("status") is not None else fallback), rule)
        for rule in rules
    ]
    candidates += [(status, None)] if status else [(code_, None) for code_ in table]
    for candidate_status, rule in candidates:
        body = error_body(errors, text, code, rule)
        mapped = provider.errors.from_response(candidate_status, {}, json.dumps(body), None)
        if type(mapped).__name__ == wanted:
            return candidate_status, body
    raise MockSpecError(f"cannot mock provider '{provider.name}': no status and body it maps to {wanted}"
                        + (f" with status {status}" if status else ""))


def error_body(
    errors: Mapping[str, Any], message: str, code: str | None, rule: Mapping[str, Any] | None
) -> dict[str, Any]:
    """An error body with message (and code) where the spec's `errors:` reads them, meeting the chosen
    error rule's `match:`, `has:` and `contains:`."""
    body: dict[str, Any] = {}
    if rule is not None:
        satisfy(body, rule.get("match"), rule.get("has"))
        contains = rule.get("contains")
        wanted = [contains] if isinstance(contains, str) else list(contains or [])
        if wanted and not any(w.lower() in message.lower() for w in wanted):
            message = f"{message}: {wanted[0]}"
    put(body, first_path(errors.get("message")) or "error.message", message)
    if code is not None:
        put(body, first_path(errors.get("code")) or "error.code", code)
    return body


def _status_of(spec: Any) -> int:
    """The first status an error rule's `status:` names (a class such as '5xx' as 500)."""
    first = spec[0] if isinstance(spec, list) else spec
    return first if isinstance(first, int) else int(str(first)[0]) * 100 if str(first)[1:] == "xx" else int(first)


def mock_completion(
    rsps: Any,
    model: str,
    text: str | None = None,
    *,
    tool_calls: Sequence[Any] | None = None,
    stream: bool = False,
    usage: Mapping[str, int] | None = None,
    finish_reason: str | None = None,
    chunks: Sequence[str] | None = None,
    status: int = 200,
    error: Any = None,
    message: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    client: Any = None,
) -> Any:
    """Register, on rsps (a `responses.RequestsMock` or the `responses` module), the provider's own reply to
    one chat call of `model`, at the URL the call uses; returns the registered `responses` object (its
    `.calls` are the requests it answered).

    text, tool_calls (dicts `{"name", "arguments", "id"}` or OpenAI-shaped), usage, finish_reason: the
    answer (default text: DEFAULT_TEXT; default usage: 10 prompt and 20 completion tokens). stream=True
    registers the stream (chunks= sets its text deltas). status >= 400 or error= (an exception class or its
    name, e.g. "ContextWindowExceededError") registers an error body the provider's error table maps to it;
    message, code and headers (e.g. {"Retry-After": "1"}) go with it. api_base, api_version and client
    (default: the shared default client) are those of the call being mocked.
    """
    from ..api import get_default_client

    used = client if client is not None else get_default_client()
    provider, model_name, _info = used.resolve(model)
    method, url, query = request_url(provider, model_name, stream, api_base, api_version)
    match = _matchers(query, stream_fields(provider, model_name, stream, api_base, api_version))
    if status >= 400 or error is not None:
        code_, body = error_reply(provider, status if status >= 400 else None, error, message, code)
        return rsps.add(method, url, json=body, status=code_, headers=dict(headers or {}), match=match)
    answer = make_answer(model_name, text, tool_calls, usage=usage, finish_reason=finish_reason, chunks=chunks)
    data, content_type = written_reply(provider, answer, stream)
    return rsps.add(method, url, body=data, status=status, content_type=content_type,
                    headers=dict(headers or {}), match=match)


def mock_http_reply(provider: ProviderSpec, model: str, mock: Any, stream: bool) -> Reply:
    """The transport Reply that `completion(..., mock_response=mock)` reads instead of sending: the provider's
    own body (or stream) for mock (text, or a MockAnswer), held in memory."""
    if isinstance(mock, MockAnswer):
        answer = mock
    elif isinstance(mock, str):
        answer = make_answer(model, mock)
    else:
        raise ConfigurationError(
            f"mock_response must be text, an exception instance or a litellm_sync.testing.MockAnswer, "
            f"got {type(mock).__name__}"
        )
    data, content_type = written_reply(provider, answer, stream)
    reply = memory_reply(data, content_type, provider.name)
    reply.model = model
    return reply


def written_reply(provider: ProviderSpec, answer: MockAnswer, stream: bool) -> tuple[bytes, str]:
    """(bytes, content type) of the provider's reply for answer, checked by reading it back with the
    provider's own reader or stream rules: a spec that cannot carry the answer raises MockSpecError here,
    never a silently different reply."""
    writer = ReplyWriter(provider.entry, provider.name)
    if stream:
        data, content_type = writer.stream(answer)
        assembler = ChunkAssembler(answer.model, provider.name, None, provider.stream.tool_calls_finish_reason)
        read = ChatStream(memory_reply(data, content_type, provider.name), provider.stream, provider.errors,
                          assembler, ()).response()
    else:
        data, content_type = json.dumps(writer.body(answer)).encode("utf-8"), "application/json"
        read = to_response(provider.reader.read(json.loads(data), ReadState()), answer.model, provider.name, None)
    choice = read.choices[0] if read.choices else None
    got = None if choice is None else (
        choice.message.content or None,
        [(c.id, c.function.name, _json(c.function.arguments)) for c in choice.message.tool_calls or ()],
        choice.finish_reason,
    )
    calls = [(c.id, c.name, _json(c.arguments)) for c in answer.tool_calls]
    wanted = (answer.text or None, calls, answer.finish_reason)
    if got != wanted:
        raise MockSpecError(
            f"cannot mock provider '{provider.name}': the reply written from its spec reads back as {got}, "
            f"not {wanted}"
        )
    return data, content_type


def _json(text: str | None) -> Any:
    try:
        return json.loads(text or "null")
    except ValueError:
        return text


def memory_reply(data: bytes, content_type: str, provider: str, status: int = 200) -> Reply:
    """A transport Reply over bytes in memory, shaped as requests builds one (urllib3 response as `raw`)."""
    headers = {"Content-Type": content_type, "Content-Length": str(len(data))}
    raw = urllib3.HTTPResponse(
        body=io.BytesIO(data), headers=headers, status=status, preload_content=False, decode_content=False
    )
    response = requests.Response()
    response.status_code = status
    response.headers = requests.structures.CaseInsensitiveDict(headers)
    response.raw = raw
    response.url = "mock://"
    return Reply(response, None, provider)


__all__ = ["make_answer", "mock_completion", "mock_http_reply", "request_url", "tool_call"]
