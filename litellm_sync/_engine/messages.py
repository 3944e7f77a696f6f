"""Messages on the wire: OpenAI-style messages normalised into typed parts, then rendered per the
dialect's `messages:` rules (lift by role, role map, merge, per-part templates, slots, message template).

Part types, and the fields each offers its template:

- ``text``: text, cache_control
- ``image_data`` (a data: URL): url, media_type, data (base64), detail
- ``image_url`` (any other URL): url, media_type (guessed from the extension), detail
- ``audio``: data, format; ``file``: file_data, file_id, filename, media_type, data
- ``tool_call`` (from an assistant's tool_calls): id, name, arguments (JSON text), arguments_obj (parsed),
  extra (the call's provider_specific_fields, as a response gave them)
- ``tool_result`` (a tool message): tool_call_id, name and arguments_obj (looked up from the assistant call
  with that id), text, content_obj (the content parsed as a JSON object, or ``{content: text}``), blocks (when
  the content is a list of parts: those parts rendered with the same part rules, the `content` slot's values;
  missing for a string content), cache_control (the message's, else its last part's: blocks carry none)
- ``reasoning`` (an assistant's reasoning_content, when it has no thinking_blocks): text
- ``reasoning_block`` (each of an assistant's thinking_blocks, placed first): block (the dict, as a response
  gave it, e.g. ``{type: thinking, thinking, signature}``)
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable

from ..exceptions import BadRequestError, UnsupportedParamsError
from .paths import MISSING
from .template import Splice, TemplateRefusal, reads_name

if TYPE_CHECKING:
    from .._spec.model import MessagesModel

Part = dict[str, Any]
Renderer = Callable[[Sequence[Any]], tuple[list[Any], dict[str, Any]]]

PART_FIELDS: dict[str, tuple[str, ...]] = {
    "text": ("text", "cache_control"),
    "image_data": ("url", "media_type", "data", "detail"),
    "image_url": ("url", "media_type", "detail"),
    "audio": ("data", "format"),
    "file": ("file_data", "file_id", "filename", "media_type", "data"),
    "tool_call": ("id", "name", "arguments", "arguments_obj", "extra"),
    "tool_result": ("tool_call_id", "name", "text", "content_obj", "arguments_obj", "blocks", "cache_control"),
    "reasoning": ("text",),
    "reasoning_block": ("block",),
}
"""Each part type and the fields its template may read (every part also has `type`); see the docstring."""

def _as_dict(message: Any, position: int) -> Mapping[str, Any]:
    if isinstance(message, Mapping):
        return message
    to_dict = getattr(message, "to_dict", None)
    if callable(to_dict):
        return to_dict()  # type: ignore[no-any-return]
    raise BadRequestError(f"messages[{position}] must be a dict like {{'role': 'user', 'content': '...'}}")


def _split_data_url(url: str) -> tuple[str | None, str | None]:
    header, comma, data = url.partition(",")
    if not comma or ";base64" not in header:
        return None, None
    return header[5:].split(";", 1)[0] or None, data


def _content_parts(content: Any, position: int) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        raise BadRequestError(f"messages[{position}].content must be a string or a list of parts")
    parts = []
    for part in content:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            parts.append({"type": "text", "text": part.get("text", ""), "cache_control": part.get("cache_control")})
        elif kind == "image_url":
            image = part.get("image_url")
            url, detail = (image.get("url"), image.get("detail")) if isinstance(image, Mapping) else (image, None)
            if not isinstance(url, str):
                raise BadRequestError(f"messages[{position}]: an image_url part needs image_url.url")
            parts.append(_image_part(url, detail))
        elif kind == "input_audio":
            audio = part.get("input_audio") or {}
            parts.append({"type": "audio", "data": audio.get("data"), "format": audio.get("format")})
        elif kind == "file":
            parts.append(_file_part(part.get("file") or {}))
        else:
            raise BadRequestError(
                f"messages[{position}]: unknown content part type {kind!r}; use text, image_url, input_audio or file"
            )
    return parts


def _image_part(url: str, detail: Any) -> Part:
    if url.startswith("data:"):
        media_type, data = _split_data_url(url)
        if data is not None:
            return {"type": "image_data", "url": url, "media_type": media_type, "data": data, "detail": detail}
    guessed = mimetypes.guess_type(url.split("?", 1)[0])[0]
    return {"type": "image_url", "url": url, "media_type": guessed, "detail": detail}


def _file_part(file: Mapping[str, Any]) -> Part:
    file_data = file.get("file_data")
    media_type, data = _split_data_url(file_data) if isinstance(file_data, str) else (None, None)
    return {
        "type": "file",
        "file_data": file_data,
        "file_id": file.get("file_id"),
        "filename": file.get("filename"),
        "media_type": media_type,
        "data": data,
    }


def _parse_arguments(arguments: Any) -> Any:
    if not isinstance(arguments, str):
        return arguments if arguments is not None else {}
    if not arguments.strip():
        return {}
    try:
        return json.loads(arguments)
    except ValueError:
        return {"_raw_arguments": arguments}


def normalize(messages: Sequence[Any], tool_result_sep: str = "\n") -> list[tuple[str, list[Part]]]:
    """OpenAI-style messages as (role, parts) pairs; tool results learn their function's name (their text
    parts joined with tool_result_sep)."""
    if not isinstance(messages, (list, tuple)) or not messages:
        raise BadRequestError("messages must be a non-empty list of {'role': ..., 'content': ...} dicts")
    names_by_id: dict[Any, Any] = {}  # tool call id -> function name
    arguments_by_id: dict[Any, Any] = {}  # tool call id -> its arguments, parsed
    out = []
    for position, raw in enumerate(messages):
        message = _as_dict(raw, position)
        role = message.get("role")
        if not isinstance(role, str):
            raise BadRequestError(f"messages[{position}] has no 'role'")
        parts = _content_parts(message.get("content"), position)
        if role == "assistant":
            parts[:0] = _reasoning_parts(message, position)
            for call in message.get("tool_calls") or ():
                function = call.get("function") or {}
                arguments = function.get("arguments")
                names_by_id[call.get("id")] = function.get("name")
                arguments_by_id[call.get("id")] = _parse_arguments(arguments)
                parts.append(
                    {
                        "type": "tool_call",
                        "id": call.get("id"),
                        "name": function.get("name"),
                        "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments or {}),
                        "arguments_obj": _parse_arguments(arguments),
                        "extra": call.get("provider_specific_fields"),
                    }
                )
        elif role == "tool":
            result = _tool_result(message, parts, names_by_id, tool_result_sep)
            # A cache mark moves from the result's own parts to the result (blocks inside take none).
            marks = [p.get("cache_control") for p in parts if p.get("cache_control")]
            result["cache_control"] = message.get("cache_control") or (marks[-1] if marks else None)
            if isinstance(message.get("content"), list):
                result["content_parts"] = [{**p, "cache_control": None} if "cache_control" in p else p for p in parts]
            parts = [result]
            parts[0]["arguments_obj"] = arguments_by_id.get(message.get("tool_call_id"))
        out.append((role, parts))
    return out


def _reasoning_parts(message: Mapping[str, Any], position: int) -> list[Part]:
    """An assistant's kept reasoning blocks (one part each), or else its reasoning text as one part."""
    blocks = message.get("thinking_blocks")
    if blocks:
        if not isinstance(blocks, (list, tuple)) or not all(isinstance(b, Mapping) for b in blocks):
            raise BadRequestError(f"messages[{position}].thinking_blocks must be a list of dicts")
        return [{"type": "reasoning_block", "block": dict(block)} for block in blocks]
    reasoning = message.get("reasoning_content")
    return [{"type": "reasoning", "text": reasoning}] if reasoning else []


def _tool_result(message: Mapping[str, Any], parts: list[Part], names_by_id: Mapping[str, str], sep: str) -> Part:
    text = sep.join(p.get("text", "") for p in parts if p["type"] == "text")
    try:
        parsed = json.loads(text) if text.strip().startswith("{") else None
    except ValueError:
        parsed = None
    call_id = message.get("tool_call_id")
    return {
        "type": "tool_result",
        "tool_call_id": call_id,
        "name": message.get("name") or names_by_id.get(call_id),  # type: ignore[arg-type]
        "text": text,
        "content_obj": parsed if isinstance(parsed, dict) else {"content": text},
    }


def compile_renderer(spec: MessagesModel, provider: str) -> Renderer:
    """Compile a `messages:` block of the spec model into messages -> (wire messages, lifted variables)."""
    if spec.mode == "passthrough":
        return _passthrough(spec.strip_fields)
    lifts = [(lift.roles, lift.into, lift.as_, lift.sep) for lift in spec.lift]
    role_map = dict(spec.roles)
    merge = spec.merge_consecutive
    # Per part type, the (slot, template) pairs it renders into (`content` unless a slot rule names one).
    part_rules = {kind: [(slot, template.fn) for slot, template in targets] for kind, targets in spec.parts.items()}
    message_template = spec.message.fn
    tool_result_sep = spec.tool_result_sep
    by_role = {role: template.fn for role, template in spec.message_by_role.items()}
    # A tool result's own parts are rendered only when one of its templates reads `$blocks`.
    result_blocks = any(reads_name(t.raw, "blocks") for _slot, t in spec.parts.get("tool_result", ()))

    def render_parts(parts: list[Part]) -> dict[str, list[Any]]:
        slots: dict[str, list[Any]] = {}
        for part in parts:
            rule = part_rules.get(part["type"])
            if rule is None:
                raise UnsupportedParamsError(
                    f"provider '{provider}' cannot send {part['type']} message parts",
                    provider=provider,
                )
            if result_blocks and part.get("content_parts"):
                part = {**part, "blocks": render_parts(part["content_parts"]).get("content")}
            for slot, template in rule:
                try:
                    value = template(part)
                except TemplateRefusal as exc:
                    raise UnsupportedParamsError(
                        f"provider '{provider}' cannot send {part['type']} message parts: {exc.message}",
                        provider=provider,
                    ) from None
                if isinstance(value, Splice):
                    slots.setdefault(slot, []).extend(value)
                elif value is not MISSING:
                    slots.setdefault(slot, []).append(value)
        return slots

    def render(messages: Sequence[Any]) -> tuple[list[Any], dict[str, Any]]:
        lifted: dict[str, list[Any]] = {}
        turns: list[tuple[str, list[Part]]] = []
        for role, parts in normalize(messages, tool_result_sep):
            lift = next((lift for lift in lifts if role in lift[0]), None)
            if lift is not None:
                lifted.setdefault(lift[1], []).extend(parts)
                continue
            role = role_map.get(role, role)
            if merge and turns and turns[-1][0] == role:
                turns[-1][1].extend(parts)
            else:
                turns.append((role, list(parts)))
        variables: dict[str, Any] = {}
        for _roles, into, mode, sep in lifts:
            lifted_parts = lifted.get(into)
            if not lifted_parts:
                continue
            if mode == "text":
                variables[into] = sep.join(p["text"] for p in lifted_parts if p["type"] == "text")
            else:
                variables[into] = render_parts(lifted_parts).get("content")
        wire = []
        for role, parts in turns:
            context: dict[str, Any] = {"role": role, **render_parts(parts)}
            rendered = by_role.get(role, message_template)(context)
            if isinstance(rendered, list):  # one message as several wire items (Responses API input items)
                wire.extend(rendered)
            elif rendered is not MISSING:
                wire.append(rendered)
        return wire, variables

    return render


def _passthrough(strip_fields: tuple[str, ...]) -> Renderer:
    """Messages go out as given (validated to be a list); named fields are stripped from copies."""

    def render(messages: Sequence[Any]) -> tuple[list[Any], dict[str, Any]]:
        if not isinstance(messages, (list, tuple)) or not messages:
            raise BadRequestError("messages must be a non-empty list of {'role': ..., 'content': ...} dicts")
        out = messages if isinstance(messages, list) else list(messages)
        if any(not isinstance(m, dict) for m in out):
            out = [m if isinstance(m, dict) else dict(_as_dict(m, i)) for i, m in enumerate(out)]
        if strip_fields and any(field in m for m in out for field in strip_fields):
            out = [{k: v for k, v in m.items() if k not in strip_fields} for m in out]
        return out, {}

    return render
