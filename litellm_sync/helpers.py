"""Message helpers: build OpenAI-style message dicts without remembering their keys."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any


def system_message(content: str) -> dict[str, Any]:
    """A system message."""
    return {"role": "system", "content": content}


def user_message(content: str | Sequence[Any], *, images: Sequence[str] = ()) -> dict[str, Any]:
    """A user message; images (http(s) or data: URLs) become image_url parts after the text."""
    if not images:
        return {"role": "user", "content": content if isinstance(content, str) else list(content)}
    parts: list[Any] = [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
    parts.extend({"type": "image_url", "image_url": {"url": url}} for url in images)
    return {"role": "user", "content": parts}


def assistant_message(
    content: str | None = None,
    *,
    tool_calls: Sequence[Any] | None = None,
    thinking_blocks: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """An assistant message; tool_calls may be ToolCall objects (from a response) or dicts, and
    thinking_blocks the response message's blocks (sent back verbatim where the provider needs them)."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if thinking_blocks:
        message["thinking_blocks"] = [dict(block) for block in thinking_blocks]
    if tool_calls:
        message["tool_calls"] = [c.to_dict() if hasattr(c, "to_dict") else dict(c) for c in tool_calls]
        for call in message["tool_calls"]:
            call.pop("index", None)
            call.setdefault("type", "function")
    return message


def tool_message(tool_call_id: str, content: Any, *, name: str | None = None) -> dict[str, Any]:
    """A tool result for the call with this id; non-string content is sent as JSON."""
    text = content if isinstance(content, str) else json.dumps(content)
    message = {"role": "tool", "tool_call_id": tool_call_id, "content": text}
    if name is not None:
        message["name"] = name
    return message
