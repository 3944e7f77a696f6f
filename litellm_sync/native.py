"""`responses()`: OpenAI's Responses API called natively (your `input`, its Responses object back), through
the same request building, transport, errors, retries, costs and pipeline (cache, budgets, hooks, correlation ids)
as `completion()`.

The model names a provider whose dialect takes a list of items as its body's `$messages` (the
`openai_responses` provider), or a provider whose spec entry names one with `responses_via:` (`openai`
does), or a model the registry routes to one (`route:`). Parameters go through the provider's parameter
rules as for `completion()` (`max_tokens`, `reasoning_effort`, `tools` in the Chat Completions shape are
translated; native fields such as `text`, `reasoning` or `previous_response_id` are sent as given).
"""

from __future__ import annotations

import contextvars
import json
import time
from collections.abc import Generator, Iterator, Mapping
from decimal import Decimal
from typing import Any, Callable

from ._engine.checks import check_timeout
from ._engine.keywords import INTERCEPTED, take_keywords
from ._engine.redact import excerpt
from ._engine.response import parse_json_body, read_response
from ._spec.compile import ProviderSpec
from .client import Client, _cost_function, _priced
from .exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    BadRequestError,
    UnsupportedParamsError,
)
from .types import ChatResponse

INPUT_KEY = "input"  # the Responses API's body field for the conversation
_PLACEHOLDER = [{"role": "user", "content": "-"}]  # rendered, then replaced by the caller's input


class ResponsesObject(dict):  # type: ignore[type-arg]
    """The provider's Responses object exactly as it came (a dict: `resp["output"]`, `resp["usage"]`), plus
    `output_text` (the text of its message items), `cost` (USD, None when unpriced), `provider` and `chat`
    (the same answer read as a ChatResponse: `resp.chat.choices[0].message.tool_calls`)."""

    provider: str
    cost: Decimal | None
    chat: ChatResponse
    cache_hit = False  # True when served from the Client's cache (nothing sent, cost 0)

    @property
    def output_text(self) -> str:
        """The `output_text` parts of the `message` output items, joined (as openai-python's `output_text`)."""
        texts = []
        for item in self.get("output") or ():
            if isinstance(item, Mapping) and item.get("type") == "message":
                for part in item.get("content") or ():
                    if isinstance(part, Mapping) and part.get("type") == "output_text":
                        texts.append(str(part.get("text") or ""))
        return "".join(texts)


def _messages_key(provider: ProviderSpec) -> str | None:
    """The top-level body key the provider fills from `$messages`, if its messages are rendered items."""
    body = provider.entry.get("body")
    messages = provider.entry.get("messages")
    if not isinstance(body, Mapping) or not isinstance(messages, Mapping) or messages.get("mode") != "render":
        return None
    return next((key for key, value in body.items() if value == "$messages"), None)


def _resolve(client: Client, model: str) -> tuple[ProviderSpec, str, Any]:
    provider, name, info = client.resolve(model)
    via = provider.entry.get("responses_via")
    if isinstance(via, str) and via != provider.name:
        provider = client.spec.provider(via)
        info = client.spec.registry.get(via, name)
    if _messages_key(provider) != INPUT_KEY:
        raise BadRequestError(
            f"provider '{provider.name}' does not speak the Responses API; call responses() with "
            "'openai_responses/<model>' (or use completion() for this provider)",
            provider=provider.name, model=name,
        )
    return provider, name, info


def create_response(
    client: Client,
    model: str,
    input: Any,
    *,
    api_key: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    timeout: float | tuple[float, float] | None = None,
    max_retries: int | None = None,
    drop_params: bool | None = None,
    extra_headers: Mapping[str, str] | None = None,
    **params: Any,
) -> ResponsesObject | ResponsesStream:
    """POST the Responses API with `input` (a string or a list of input items) as given; see the module.

    The call goes through the Client's pipeline as `completion()` does: `metadata=` (correlation id), budgets,
    hooks, logs and the cache (`cache=`: an entry keyed apart from chat calls, holding the native body; a
    streamed call is never served from the cache). LiteLLM's call-level keywords (num_retries, request_timeout,
    base_url, headers, custom_llm_provider, caching, tags, input_cost_per_token, ...) are read as `completion()`
    reads them (_engine/keywords.py) and never sent; fallbacks= is refused (route through a Router instead)."""
    prices = None
    if params and not INTERCEPTED.isdisjoint(params):
        options: dict[str, Any] = {
            "api_key": api_key, "api_base": api_base, "api_version": api_version, "timeout": timeout,
            "max_retries": max_retries, "drop_params": drop_params, "extra_headers": extra_headers,
        }  # fmt: skip
        model, params, prices = call_keywords(client, model, params, options, "responses()")
        api_key, api_base, api_version = options["api_key"], options["api_base"], options["api_version"]
        timeout, max_retries, extra_headers = options["timeout"], options["max_retries"], options["extra_headers"]
        drop_params = options["drop_params"]
    stream = bool(params.pop("stream", False))
    if not isinstance(input, (str, list)) or not input:
        raise BadRequestError("input must be a non-empty string or a non-empty list of Responses input items")
    provider, name, info = _resolve(client, model)
    messages = [{"role": "user", "content": input}] if isinstance(input, str) else input  # for estimates and hooks
    call = client.pipeline.begin(provider.name, name, info, messages, params, stream, native=True)
    if call.hit is not None:
        return _from_cache(call.hit)
    try:
        request = provider.builder.build(
            name, _PLACEHOLDER, params, stream=stream, api_key=api_key, api_base=api_base, api_version=api_version,
            extra_headers=extra_headers, drop_params=client.drop_params if drop_params is None else drop_params,
            info=info,
        )
        body = json.loads(request.body or b"{}")
        body[INPUT_KEY] = input
        request.body = json.dumps(body, ensure_ascii=False).encode("utf-8")
        wait = client.timeout if timeout is None else check_timeout(timeout)
    except BaseException as error:
        call.refused(error)
        raise
    total = client.total_timeout
    cost = _cost_function(info if prices is None else _priced(info, provider.name, name, prices))
    deadline = time.monotonic() + total
    if stream:
        def open_stream() -> ResponsesStream:
            http = client._send(provider, request, name, wait, None, deadline, total)
            return ResponsesStream(client, provider, name, http, request.secrets, cost)

        try:
            opened = client.retry.call(open_stream, max_retries)
        except Exception as error:
            if isinstance(error, APIError):
                error.redact_secrets(request.secrets)
            call.end(None, error, False)
            raise
        return call.stream(opened)  # type: ignore[no-any-return]
    try:
        def attempt() -> bytes:
            return client._send(provider, request, name, wait, None, deadline, total).read(client.limits)

        data = client.retry.call(attempt, max_retries)
        chat = read_response(provider.reader, data, name, provider.name, cost, request.secrets)
        native = parse_json_body(data, provider.name, name, request.secrets)
    except Exception as error:
        if isinstance(error, APIError):
            error.redact_secrets(request.secrets)
        call.end(None, error, False)
        raise
    call.end(chat, None, True, native=native)
    result = ResponsesObject(native)
    result.provider, result.cost, result.chat = provider.name, chat.cost, chat
    return result


def call_keywords(
    client: Client, model: str, params: dict[str, Any], options: dict[str, Any], function: str
) -> tuple[str, dict[str, Any], Any]:
    """LiteLLM's call-level keywords read out of params as `Client.completion` reads them (`options`, the call's
    own keyword arguments, updated from the aliases): the model to call, the params left, this call's prices.
    Per-call fallbacks are chat's (a Router routes the other operations with fallbacks)."""
    drop = client.drop_params if options.get("drop_params") is None else options["drop_params"]
    keywords = take_keywords(model, dict(params), options, drop, client.pipeline.cache is not None)
    if keywords.fallbacks or keywords.context_window:
        raise UnsupportedParamsError(
            f"{function} takes no fallbacks= or context_window_fallback_dict= (completion() does): route the call "
            "through a litellm_sync.router.Router whose fallbacks= name other model groups",
            model=model, request_sent=False,
        )
    return keywords.model, keywords.params, keywords.prices


def _from_cache(hit: Any) -> ResponsesObject:
    """A Responses object rebuilt from a cache entry: the native body as stored, its chat reading, cost 0."""
    result = ResponsesObject(hit.native)
    result.provider, result.cost, result.chat, result.cache_hit = hit.provider, hit.cost, hit, True
    return result


class ResponsesStream:
    """`responses(..., stream=True)`: the Responses API's events, each a dict as sent (`event["type"]`,
    `event["delta"]`, ...). Use it in a `with` block (or call `close()`). In-band `error` / `response.failed`
    events raise the mapped exception; the stream ends after `response.completed` / `response.incomplete`,
    whose `response` is then `final` (a ResponsesObject with `output_text` and `cost`), and hooks are told."""

    cache_hit = False
    context: contextvars.Context | None = None  # the call's context: the stream is read and closed inside it

    def __init__(self, client: Client, provider: ProviderSpec, model: str, http: Any, secrets: Any, cost: Any) -> None:
        self._client, self._provider, self._model, self._http = client, provider, model, http
        self._secrets, self._cost = secrets, cost
        self._closed = False
        self.final: ResponsesObject | None = None
        self._on_end: Callable[[ChatResponse | None, Exception | None, bool], None] | None = None
        self._ended: tuple[ChatResponse | None, Exception | None, bool] | None = None
        self._events = self._generate()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self

    def __next__(self) -> dict[str, Any]:
        context = self.context
        return next(self._events) if context is None else context.run(next, self._events)

    def __enter__(self) -> ResponsesStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading and release the connection; safe to call more than once."""
        if not self._closed:
            self._closed = True
            context = self.context
            try:
                if context is None:
                    raise RuntimeError
                context.run(self._events.close)
            except RuntimeError:  # no call context, or entered already
                self._events.close()
            self._http.close(reuse=False)
            self._end(None, None, False)  # closed before it was ever read: it ends all the same

    @property
    def chunks(self) -> list[Any]:
        """Nothing is kept for the cache: a native stream is not stored."""
        return []

    def notify_end(self, on_end: Callable[[ChatResponse | None, Exception | None, bool], None]) -> None:
        """Have on_end told (once) how the stream ends: the final answer read as a ChatResponse, the error, and
        whether it completed; at once if it already has."""
        if self._ended is not None:
            on_end(*self._ended)
        else:
            self._on_end = on_end

    def _end(self, chat: ChatResponse | None, error: Exception | None, complete: bool) -> None:
        if self._ended is None:
            self._ended = (chat, error, complete)
            on_end, self._on_end = self._on_end, None
            if on_end is not None:
                on_end(chat, error, complete)

    def _generate(self) -> Generator[dict[str, Any], None, None]:
        rules, provider, model = self._provider.stream, self._provider.name, self._model
        limits = self._client.limits
        error: Exception | None = None
        finished = False
        try:
            body = self._http.chunks("reading the stream")
            frames = rules.framing(body, max_line_bytes=limits.max_line_bytes, max_event_bytes=limits.max_event_bytes)
            for frame in frames:
                try:
                    event = json.loads(frame.data)
                except (ValueError, RecursionError):
                    raise APIResponseValidationError(
                        f"a stream event is not valid JSON: {excerpt(frame.data, self._secrets)}",
                        provider=provider, model=model,
                    ) from None
                kind = rules.type_getter(event) if rules.type_getter is not None else frame.event
                if kind in rules.error_types or (rules.error_when is not None and rules.error_when(event)):
                    raise self._provider.errors.from_response(None, {}, frame.data, model, self._secrets)
                if kind in rules.end_types:
                    self._finish(event)
                    finished = True
                if finished:
                    self._drain(body)
                yield event
                if finished:
                    return
            raise APIConnectionError(
                "the stream ended before response.completed (connection closed early); the answer is incomplete",
                provider=provider, model=model,
            )
        except APIError as exc:
            error = exc.redact_secrets(self._secrets)
            raise
        except ValueError as exc:  # the framing found bytes it cannot decode
            error = APIResponseValidationError(f"the stream could not be decoded: {exc}", provider=provider,
                                               model=model)
            raise error from None
        finally:
            if not self._closed:
                self._closed = True
                self._http.close(reuse=finished)
            self._end(self.final.chat if self.final is not None else None, error, finished)

    def _drain(self, body: Iterator[bytes]) -> None:
        """After the last event: read the little left so the connection can go back to the pool (a tail that
        keeps talking only costs the connection)."""
        self._closed = True
        try:
            for count, _data in enumerate(body):
                if count >= 4:
                    self._http.close(reuse=False)
                    return
        except APIError:
            self._http.close(reuse=False)
            return
        self._http.close(reuse=True)

    def _finish(self, event: Mapping[str, Any]) -> None:
        response = event.get("response")
        if not isinstance(response, dict):
            return
        data = json.dumps(response).encode("utf-8")
        chat = read_response(self._provider.reader, data, self._model, self._provider.name, self._cost)
        final = ResponsesObject(response)
        final.provider, final.cost, final.chat = self._provider.name, chat.cost, chat
        self.final = final
