"""`responses()`: OpenAI's Responses API called natively (your `input`, its Responses object back), through
the same request building, transport, errors, retries, hooks and costs as `completion()`.

The model names a provider whose dialect takes a list of items as its body's `$messages` (the
`openai_responses` provider), or a provider whose spec entry names one with `responses_via:` (`openai`
does), or a model the registry routes to one (`route:`). Parameters go through the provider's parameter
rules as for `completion()` (`max_tokens`, `reasoning_effort`, `tools` in the Chat Completions shape are
translated; native fields such as `text`, `reasoning` or `previous_response_id` are sent as given).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ._engine.checks import check_timeout
from ._engine.response import parse_json_body, read_response
from ._spec.compile import ProviderSpec
from .client import Client, _cost_function
from .exceptions import APIError, BadRequestError, UnsupportedParamsError
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
) -> ResponsesObject:
    """POST the Responses API with `input` (a string or a list of input items) as given; see the module."""
    if params.pop("stream", False):
        raise UnsupportedParamsError(
            "responses() does not stream yet; use completion(model, messages, stream=True), which reads the "
            "Responses API's events into chat chunks",
        )
    if not isinstance(input, (str, list)) or not input:
        raise BadRequestError("input must be a non-empty string or a non-empty list of Responses input items")
    provider, name, info = _resolve(client, model)
    request = provider.builder.build(
        name, _PLACEHOLDER, params, stream=False, api_key=api_key, api_base=api_base, api_version=api_version,
        extra_headers=extra_headers, drop_params=client.drop_params if drop_params is None else drop_params,
        info=info,
    )
    body = json.loads(request.body or b"{}")
    body[INPUT_KEY] = input
    request.body = json.dumps(body, ensure_ascii=False).encode("utf-8")
    wait = client.timeout if timeout is None else check_timeout(timeout)
    total = client.total_timeout
    cost = _cost_function(info)
    started = time.perf_counter()
    deadline = time.monotonic() + total
    try:
        def attempt() -> bytes:
            return client._send(provider, request, name, wait, None, deadline, total).read(client.limits)

        data = client.retry.call(attempt, max_retries)
        chat = read_response(provider.reader, data, name, provider.name, cost, request.secrets)
        native = parse_json_body(data, provider.name, name, request.secrets)
    except Exception as error:
        if isinstance(error, APIError):
            error.redact_secrets(request.secrets)
        client._notify(provider.name, name, False, started, None, error, False)
        raise
    client._notify(provider.name, name, False, started, chat, None, True)
    result = ResponsesObject(native)
    result.provider, result.cost, result.chat = provider.name, chat.cost, chat
    return result
