"""The fake provider's wire formats: scripted replies, recorded requests, and the default echo reply built
in each of the five formats it speaks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .._engine.framing.eventstream import encode_message

DEFAULT_MODELS: tuple[str, ...] = ("fake-model", "fake-model-2")

JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream"
NDJSON_TYPE = "application/x-ndjson"

GENERATE_CONTENT_PATH = re.compile(
    r"/models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)$"
)
CONVERSE_PATH = re.compile(r"/model/(?P<model>[^/]+)/(?P<method>converse|converse-stream)$")
RAW_PREDICT_PATH = re.compile(r"/models/[^/:]+:(?:rawPredict|streamRawPredict)$")
TEXT_CHAT_PATH = re.compile(r"/ml/v1/text/(?:chat|chat_stream)$")  # watsonx.ai
EVENTSTREAM_TYPE = "application/vnd.amazon.eventstream"
# The server computes these itself; scripted values would corrupt the framing.
SERVER_HEADERS = frozenset({"content-length", "transfer-encoding", "content-type"})


@dataclass(frozen=True)
class Reply:
    """A scripted response; give at most one of `json`, `body` and `events`.

    `events` pieces are written one by one, each flushed as its own HTTP chunk (chunked transfer-encoding).
    Without `content_type` the default is application/json for `json` and `body`, text/event-stream for
    `events`; a Content-Type in `headers` is also honoured.
    """

    status: int = 200
    json: object | None = None
    body: bytes | str | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    events: list[str] | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0

    def __post_init__(self) -> None:
        if sum(part is not None for part in (self.json, self.body, self.events)) > 1:
            raise ValueError("Reply takes at most one of json, body and events")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: object | None
    body: bytes


@dataclass(frozen=True)
class Completion:
    """The default generated answer to one request."""

    number: int
    model: str
    text: str
    tokens: list[str]
    prompt_tokens: int
    created: int

    @property
    def completion_tokens(self) -> int:
        return len(self.tokens)


# ---------------------------------------------------------------------------------------------------------
# Request text extraction


def _content_text(content: object) -> str:
    """Text of a message content: a string, or a list of parts whose text parts are concatenated."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_part_text(part) for part in content)
    return ""


def _part_text(part: object) -> str:
    # Generate-content parts carry no "type"; every other format tags text parts with type "text".
    if isinstance(part, dict) and part.get("type", "text") in ("text", "input_text", "output_text"):
        text = part.get("text")
        return text if isinstance(text, str) else ""
    return ""


def _dicts(value: object) -> list[dict[str, object]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def role_texts(body: dict[str, object]) -> tuple[str, list[str]]:
    """(last user text, all message texts) of a role/content ``messages`` list."""
    messages = _dicts(body.get("messages"))
    users = [_content_text(m.get("content")) for m in messages if m.get("role") == "user"]
    return (users[-1] if users else ""), [_content_text(m.get("content")) for m in messages]


def messages_texts(body: dict[str, object]) -> tuple[str, list[str]]:
    messages = _dicts(body.get("messages"))
    last = _content_text(messages[-1].get("content")) if messages else ""
    return last, [_content_text(body.get("system"))] + [_content_text(m.get("content")) for m in messages]


def contents_texts(body: dict[str, object]) -> tuple[str, list[str]]:
    contents = _dicts(body.get("contents"))
    last = _content_text(contents[-1].get("parts")) if contents else ""
    system = body.get("systemInstruction") or body.get("system_instruction")
    system_text = _content_text(system.get("parts")) if isinstance(system, dict) else ""
    return last, [system_text] + [_content_text(c.get("parts")) for c in contents]


def input_texts(body: dict[str, object]) -> tuple[str, list[str]]:
    """(last user text, all texts) of a Responses API request: `instructions` and the `input` items."""
    given = body.get("input")
    items = [{"role": "user", "content": given}] if isinstance(given, str) else _dicts(given)
    users = [_content_text(i.get("content")) for i in items if i.get("role") == "user"]
    instructions = body.get("instructions")
    texts = [instructions if isinstance(instructions, str) else ""] + [_content_text(i.get("content")) for i in items]
    return (users[-1] if users else ""), texts


def split_tokens(text: str) -> list[str]:
    """Split on single spaces so that concatenating the tokens gives `text` back exactly."""
    if not text:
        return []
    words = text.split(" ")
    return [words[0]] + [" " + word for word in words[1:]]


def word_count(texts: Iterable[str]) -> int:
    return max(1, sum(len(text.split()) for text in texts))


def fixed_chunks(headers: dict[str, str]) -> int | None:
    value = headers.get("x-fake-chunks", "").strip()
    return int(value) if value.isdigit() else None


# ---------------------------------------------------------------------------------------------------------
# Response builders, one per wire format


def dumps(data: object) -> str:
    return json.dumps(data, separators=(",", ":"))


def _sse(data: object, event: str | None = None) -> str:
    if event is None:
        return f"data: {dumps(data)}\n\n"
    return f"event: {event}\ndata: {dumps(data)}\n\n"


def _typed_sse(data: dict[str, object]) -> str:
    """An SSE event whose ``event:`` name is the data's ``type``."""
    return _sse(data, str(data["type"]))


def error(status: int, message: str) -> Reply:
    return Reply(status=status, json={"error": {"message": message, "type": "invalid_request_error"}})


def _openai_usage(c: Completion) -> dict[str, int]:
    total = c.prompt_tokens + c.completion_tokens
    return {"prompt_tokens": c.prompt_tokens, "completion_tokens": c.completion_tokens, "total_tokens": total}


def chat_completions_reply(c: Completion, stream: bool) -> Reply:
    kind = "chat.completion.chunk" if stream else "chat.completion"
    head = {"id": f"chatcmpl-fake-{c.number}", "object": kind, "created": c.created, "model": c.model}
    if not stream:
        choice = {"index": 0, "message": {"role": "assistant", "content": c.text}, "finish_reason": "stop"}
        return Reply(json={**head, "choices": [choice], "usage": _openai_usage(c)})

    def chunk(delta: dict[str, str], finish_reason: str | None = None) -> str:
        return _sse({**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]})

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": token}) for token in c.tokens]
    events.append(chunk({}, "stop"))
    events.append(_sse({**head, "choices": [], "usage": _openai_usage(c)}))
    events.append("data: [DONE]\n\n")
    return Reply(events=events)


def text_chat_reply(c: Completion, stream: bool) -> Reply:
    """watsonx.ai text chat: the Chat Completions shape with `model_id`; a stream of `event: message` events
    that ends with the body (no `[DONE]`)."""
    reply = chat_completions_reply(c, stream)
    if not stream:
        return Reply(json={**reply.json, "model_id": c.model} if isinstance(reply.json, dict) else reply.json)
    events = [f"event: message\n{event}" for event in reply.events or () if "[DONE]" not in str(event)]
    return Reply(events=events)


def messages_reply(c: Completion, stream: bool) -> Reply:
    message = {
        "id": f"msg_fake_{c.number}",
        "type": "message",
        "role": "assistant",
        "model": c.model,
        "content": [{"type": "text", "text": c.text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": c.prompt_tokens, "output_tokens": c.completion_tokens},
    }
    if not stream:
        return Reply(json=message)
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": c.prompt_tokens, "output_tokens": 1},
    }
    block = {"type": "text", "text": ""}
    events = [
        _typed_sse({"type": "message_start", "message": start}),
        _typed_sse({"type": "content_block_start", "index": 0, "content_block": block}),
        _typed_sse({"type": "ping"}),
    ]
    events += [
        _typed_sse(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": token}}
        )
        for token in c.tokens
    ]
    delta = {"stop_reason": "end_turn", "stop_sequence": None}
    events += [
        _typed_sse({"type": "content_block_stop", "index": 0}),
        _typed_sse(
            {"type": "message_delta", "delta": delta, "usage": {"output_tokens": c.completion_tokens}}
        ),
        _typed_sse({"type": "message_stop"}),
    ]
    return Reply(events=events)


def _generate_content_event(c: Completion, text: str, last: bool) -> dict[str, object]:
    candidate: dict[str, object] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
    event: dict[str, object] = {"candidates": [candidate]}
    if last:
        candidate["finishReason"] = "STOP"
        total = c.prompt_tokens + c.completion_tokens
        event["usageMetadata"] = {
            "promptTokenCount": c.prompt_tokens,
            "candidatesTokenCount": c.completion_tokens,
            "totalTokenCount": total,
        }
    return {**event, "modelVersion": c.model, "responseId": f"fake-{c.number}"}


def generate_content_reply(c: Completion, stream: bool, sse: bool) -> Reply:
    if not stream:
        return Reply(json=_generate_content_event(c, c.text, last=True))
    tokens = c.tokens or [""]
    bodies = [_generate_content_event(c, token, i == len(tokens) - 1) for i, token in enumerate(tokens)]
    if sse:
        return Reply(events=[_sse(body) for body in bodies])
    # Without alt=sse the stream is one JSON array, delivered element by element.
    pieces = [("[" if i == 0 else ",\r\n") + dumps(body) for i, body in enumerate(bodies)]
    return Reply(events=[*pieces, "]"], content_type=JSON_TYPE)


def _v2_chat_usage(c: Completion) -> dict[str, dict[str, int]]:
    counts = {"input_tokens": c.prompt_tokens, "output_tokens": c.completion_tokens}
    return {"billed_units": dict(counts), "tokens": dict(counts)}


def v2_chat_reply(c: Completion, stream: bool) -> Reply:
    reply_id = f"fake-{c.number}"
    if not stream:
        message = {"role": "assistant", "content": [{"type": "text", "text": c.text}]}
        body = {"id": reply_id, "finish_reason": "COMPLETE", "message": message, "usage": _v2_chat_usage(c)}
        return Reply(json=body)
    start_delta = {"message": {"content": {"type": "text", "text": ""}}}
    events = [
        _typed_sse({"type": "message-start", "id": reply_id, "delta": {"message": {"role": "assistant"}}}),
        _typed_sse({"type": "content-start", "index": 0, "delta": start_delta}),
    ]
    events += [
        _typed_sse({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": token}}}})
        for token in c.tokens
    ]
    end_delta = {"finish_reason": "COMPLETE", "usage": _v2_chat_usage(c)}
    events += [
        _typed_sse({"type": "content-end", "index": 0}),
        _typed_sse({"type": "message-end", "delta": end_delta}),
    ]
    return Reply(events=events)


def native_chat_reply(c: Completion, stream: bool) -> Reply:
    created_at = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    final = {
        "model": c.model,
        "created_at": created_at,
        "message": {"role": "assistant", "content": "" if stream else c.text},
        "done": True,
        "done_reason": "stop",
        "prompt_eval_count": c.prompt_tokens,
        "eval_count": c.completion_tokens,
    }
    if not stream:
        return Reply(json=final)
    head = {"model": c.model, "created_at": created_at}
    lines = [
        dumps({**head, "message": {"role": "assistant", "content": token}, "done": False}) + "\n"
        for token in c.tokens
    ]
    return Reply(events=[*lines, dumps(final) + "\n"], content_type=NDJSON_TYPE)


def converse_reply(c: Completion, stream: bool) -> Reply:
    """Bedrock Converse: a JSON answer, or ConverseStream events in AWS's binary event-stream framing."""
    usage = {"inputTokens": c.prompt_tokens, "outputTokens": c.completion_tokens,
             "totalTokens": c.prompt_tokens + c.completion_tokens}
    if not stream:
        return Reply(json={"output": {"message": {"role": "assistant", "content": [{"text": c.text}]}},
                           "stopReason": "end_turn", "usage": usage, "metrics": {"latencyMs": 1}})
    events: list[tuple[str, dict[str, object]]] = [("messageStart", {"role": "assistant"})]
    events += [("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": t}}) for t in c.tokens]
    events += [("contentBlockStop", {"contentBlockIndex": 0}), ("messageStop", {"stopReason": "end_turn"}),
               ("metadata", {"usage": usage, "metrics": {"latencyMs": 1}})]
    headers = {":message-type": "event", ":content-type": JSON_TYPE}
    body = b"".join(encode_message({**headers, ":event-type": kind}, dumps(payload).encode("utf-8"))
                    for kind, payload in events)
    return Reply(body=body, content_type=EVENTSTREAM_TYPE)


def request_model(body: dict[str, object]) -> str:
    model = body.get("model")
    return model if isinstance(model, str) else DEFAULT_MODELS[0]


# ---------------------------------------------------------------------------------------------------------
# HTTP plumbing


def responses_reply(c: Completion, stream: bool) -> Reply:
    """A Responses API answer (`POST /responses`): one message output item, or its typed event stream."""
    item = {
        "id": f"msg_fake_{c.number}", "type": "message", "status": "completed", "role": "assistant",
        "content": [{"type": "output_text", "text": c.text, "annotations": []}],
    }
    total = c.prompt_tokens + c.completion_tokens
    usage = {"input_tokens": c.prompt_tokens, "output_tokens": c.completion_tokens, "total_tokens": total}
    response = {
        "id": f"resp_fake_{c.number}", "object": "response", "created_at": c.created, "status": "completed",
        "model": c.model, "output": [item], "incomplete_details": None, "usage": usage,
    }
    if not stream:
        return Reply(json=response)
    start = {**response, "status": "in_progress", "output": [], "usage": None}
    events = [
        _typed_sse({"type": "response.created", "response": start}),
        _typed_sse({"type": "response.output_item.added", "output_index": 0, "item": {**item, "content": []}}),
    ]
    events += [
        _typed_sse({"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": token})
        for token in c.tokens
    ]
    events.append(_typed_sse({"type": "response.output_item.done", "output_index": 0, "item": item}))
    events.append(_typed_sse({"type": "response.completed", "response": response}))
    return Reply(events=events)
