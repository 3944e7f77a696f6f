"""Structured output: a `response_format` given as a type becomes OpenAI's json_schema form; replies load into it.

`completion(..., response_format=X)` with X a marshmallow Schema (class or instance), a pydantic model class
or a bare JSON Schema dict is rewritten to `{"type": "json_schema", "json_schema": {name, schema, strict}}`
before anything else sees the call (cache keys, hooks, the dialect's parameter rules in providers.yaml, which
translate it for each wire format). The reply text is then loaded back: `response.parsed` holds the object,
and a reply that is not JSON or does not validate raises `StructuredOutputError` with the text and the
validation messages. `{"type": "json_schema" | "json_object" | "text", ...}` pass through unchanged, as always.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, Callable

from .._observe.context import ForkSafeLock
from ..exceptions import ConfigurationError, StructuredOutputError
from .jsonschema import strictify
from .template import copy_json

_OPENAI_TYPES = ("json_schema", "json_object", "text")
_FENCE = re.compile(r"^\s*```(?:json|JSON)?\s*\n(.*)\n\s*```\s*$", re.DOTALL)
_WRAPPED = "items"  # the property a `many=True` schema's list is sent under (strict mode wants an object root)
# The json_schema form of each pydantic model class, built on its first call (model_json_schema() costs ~0.5 ms a
# call): written once per class under the lock, copied out per call; weak keys, so a discarded class is dropped.
_PYDANTIC_FORMS: weakref.WeakKeyDictionary[type, dict[str, Any]] = weakref.WeakKeyDictionary()
_PYDANTIC_LOCK = ForkSafeLock()


class Structured:
    """How one call's reply text is loaded into the caller's type; `parse(response)` does it."""

    def __init__(self, name: str, load: Callable[[Any], Any], unwrap: bool = False) -> None:
        self.name = name
        self._load = load
        self._unwrap = unwrap

    def parse(self, response: Any, secrets: Sequence[str] = ()) -> Any:
        """The first choice's text loaded into the type; StructuredOutputError (the call's secrets masked in
        it) when it is not JSON or does not validate."""
        try:
            return self._parse(response)
        except StructuredOutputError as error:
            raise error.redact_secrets(secrets) from None

    def _parse(self, response: Any) -> Any:
        provider, model = getattr(response, "provider", None), getattr(response, "model", None)
        text = response.content if response is not None else None
        if not isinstance(text, str) or not text.strip():
            refusal = _refusal(response)
            why = f"the model refused: {refusal}" if refusal else "the reply has no text"
            raise StructuredOutputError(
                f"{why}, so it cannot be loaded into {self.name}; check finish_reason (a 'length' stop needs a higher "
                "max_tokens) and the prompt",
                raw=text or "", errors=refusal or "no text", provider=provider, model=model, response=response,
            )
        fenced = _FENCE.match(text)
        try:
            data = json.loads(fenced.group(1) if fenced else text)
        except (ValueError, RecursionError) as exc:
            raise StructuredOutputError(
                f"the reply is not JSON ({exc}), so it cannot be loaded into {self.name}; check finish_reason (a "
                "'length' stop cut it short: raise max_tokens) and that the model supports json_schema output",
                raw=text, errors=str(exc), provider=provider, model=model, response=response,
            ) from None
        if self._unwrap:
            data = data.get(_WRAPPED) if isinstance(data, dict) else data
        try:
            return self._load(data)
        except StructuredOutputError:
            raise
        except Exception as exc:
            errors = _errors(exc)
            if errors is None:  # the type's own code failed on the data (a validator that raised): still ours
                errors = f"{type(exc).__name__}: {exc}"
            raise StructuredOutputError(
                f"the reply does not validate against {self.name}: {_short(errors)}; the text is in .raw and every "
                "message in .errors",
                raw=text, errors=errors, provider=provider, model=model, response=response,
            ) from None

    def attach(self, answer: Any, secrets: Sequence[str] = ()) -> Any:
        """A response with `parsed` set, or a stream whose `response()` will set it; returns the answer."""
        if hasattr(answer, "choices"):
            answer.parsed = self.parse(answer, secrets)
        else:
            answer.parse_as = functools.partial(self.parse, secrets=tuple(secrets))
        return answer


def prepare(response_format: Any) -> tuple[Any, Structured | None]:
    """The response_format to send and how to load the reply (None: nothing to load, sent as given)."""
    # A marshmallow Schema or a pydantic model exists only if its library is imported: neither is imported here.
    marshmallow = sys.modules.get("marshmallow")
    if marshmallow is not None:
        schema_class = marshmallow.Schema
        if isinstance(response_format, type) and issubclass(response_format, schema_class):
            response_format = response_format()
        if isinstance(response_format, schema_class):
            return _from_marshmallow(response_format)
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(response_format, type) and issubclass(response_format, pydantic.BaseModel):
        return _from_pydantic(response_format)
    if (
        isinstance(response_format, Mapping)
        and response_format.get("type") not in _OPENAI_TYPES
        and _looks_like_schema(response_format)
    ):
        return _from_json_schema(response_format)
    return response_format, None


def _from_marshmallow(schema: Any) -> tuple[dict[str, Any], Structured]:
    from .from_marshmallow import marshmallow_schema, optional_nulls

    try:
        body, strict = marshmallow_schema(schema)
    except Exception as exc:  # a field this converter cannot read: say which schema
        raise ConfigurationError(
            f"response_format={type(schema).__name__}: its JSON Schema could not be derived ({exc}); pass "
            "response_format={'type': 'json_schema', 'json_schema': {...}} with the schema written out"
        ) from None
    name = type(schema).__name__
    unwrap = bool(schema.many)
    if unwrap:
        defs = body.pop("$defs", None)
        body = {"type": "object", "properties": {_WRAPPED: {"type": "array", "items": body}},
                "required": [_WRAPPED], "additionalProperties": False}
        if defs:
            body["$defs"] = defs

    def load(data: Any) -> Any:
        return schema.load(optional_nulls(schema, data))

    return _openai_form(name, body, strict), Structured(name, load, unwrap)


def _from_pydantic(model: type) -> tuple[dict[str, Any], Structured]:
    with _PYDANTIC_LOCK:
        form = _PYDANTIC_FORMS.get(model)
    if form is None:
        form = _pydantic_form(model)
        with _PYDANTIC_LOCK:
            _PYDANTIC_FORMS[model] = form
    # A copy per call: the engine may write into what it sends; the cached form holds no reference to the class.
    return copy_json(form), Structured(model.__name__, model.model_validate)  # type: ignore[attr-defined]


def _pydantic_form(model: type) -> dict[str, Any]:
    name = model.__name__
    try:
        body, strict = strictify(model.model_json_schema())  # type: ignore[attr-defined]
    except Exception as exc:  # pydantic could not write one (an arbitrary type): say which model
        raise ConfigurationError(
            f"response_format={name}: pydantic could not give its JSON Schema ({exc}); use JSON-friendly field types"
        ) from None
    body.pop("title", None)
    if body.get("type") != "object":
        raise ConfigurationError(
            f"response_format={name}: structured output needs an object at the root (a BaseModel with fields), "
            f"not {body.get('type') or 'this schema'}; wrap the value in a model with one field"
        )
    return _openai_form(name, body, strict)


def _from_json_schema(schema: Mapping[str, Any]) -> tuple[dict[str, Any], Structured]:
    body = dict(schema)
    strict_form, strict = strictify(body)
    title = body.get("title")
    name = title if isinstance(title, str) and title else "response"
    # A caller's own schema is sent as written; strict only when it is in strict form already.
    return _openai_form(name, body, strict and strict_form == body), Structured(name, _same)


def _same(data: Any) -> Any:
    return data


def _openai_form(name: str, schema: dict[str, Any], strict: bool) -> dict[str, Any]:
    clean = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64] or "response"
    return {"type": "json_schema", "json_schema": {"name": clean, "schema": schema, "strict": strict}}


def _looks_like_schema(value: Mapping[str, Any]) -> bool:
    return value.get("type") == "object" or any(
        key in value for key in ("properties", "$schema", "anyOf", "oneOf", "$defs")
    )


def _refusal(response: Any) -> str | None:
    choices = getattr(response, "choices", None)
    if not choices:
        return None
    refusal = getattr(choices[0].message, "refusal", None)
    return refusal if isinstance(refusal, str) and refusal else None


def _errors(exc: Exception) -> Any:
    """The validation messages of a marshmallow or pydantic error (JSON-ready), or None for another error."""
    marshmallow = sys.modules.get("marshmallow")
    if marshmallow is not None and isinstance(exc, marshmallow.ValidationError):
        return exc.normalized_messages()
    pydantic_core = sys.modules.get("pydantic_core")
    if pydantic_core is not None and isinstance(exc, pydantic_core.ValidationError):
        return [
            {"loc": ".".join(str(part) for part in error["loc"]), "msg": error["msg"], "type": error["type"]}
            for error in exc.errors(include_url=False)
        ]
    return None


def _short(errors: Any) -> str:
    text = json.dumps(errors, default=str)
    return text if len(text) <= 300 else text[:297] + "..."
