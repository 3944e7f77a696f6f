"""Loading a resolved provider entry into the typed spec model: the schema's `post_load` builds frozen objects.

The fields, their types and their defaults are those of `schema.ProviderSchema` (described once); this
module only adds the hook that turns the loaded values into `model` objects, compiling templates.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, missing, post_load

from .._engine.auth import KEY_FIELDS
from .._engine.reader import USAGE_FIELDS
from .._engine.template import TemplateError
from . import schema as s
from .fields import is_slot_rule, is_slot_rule_list, strip_field_nulls
from .model import (
    ApiVersionModel,
    AuthModel,
    BlocksModel,
    ChoiceModel,
    EndpointModel,
    EndpointsModel,
    ErrorRuleModel,
    ErrorsModel,
    HealthModel,
    LiftModel,
    MessagesModel,
    ModelEntry,
    ModelParamsModel,
    OperationModel,
    ParamRuleModel,
    PartRuleModel,
    PricingModel,
    PricingSourceModel,
    ProviderModel,
    ReaderModel,
    StreamErrorModel,
    StreamModel,
    ToolCallsModel,
    Tpl,
    VariableModel,
)


def _filled(schema: type[s.Schema], loaded: Any) -> dict[str, Any]:
    """A nested block as loaded, or the schema's defaults when the entry did not have it."""
    return loaded if loaded else _defaults(schema)


@functools.cache
def _defaults(schema: type[s.Schema]) -> dict[str, Any]:
    """A block's defaults, as its schema loads them from nothing (read only: shared)."""
    return schema().load({})


def _templates(mapping: Mapping[str, Any] | None) -> tuple[tuple[str, Tpl], ...]:
    return tuple((k, Tpl(v)) for k, v in (mapping or {}).items() if v is not None)


def _endpoint(loaded: Mapping[str, Any] | None) -> EndpointModel | None:
    if loaded is None:
        return None
    return EndpointModel(
        path=Tpl(loaded["path"]),
        stream_path=Tpl(loaded["stream_path"]) if loaded["stream_path"] is not None else None,
        method=loaded["method"],
        query=_templates(loaded["query"]),
        stream_query=_templates(loaded["stream_query"]),
        list=loaded["list"],
        id=loaded["id"],
        strip_prefix=loaded["strip_prefix"],
        path_encoding=loaded["path_encoding"],
    )


def _stream(loaded: Mapping[str, Any]) -> StreamModel:
    error = _filled(s.StreamErrorSchema, loaded["error"])
    return StreamModel(
        format=loaded["format"],
        done=loaded["done"],
        type=loaded["type"],
        end_types=tuple(loaded["end_types"]),
        end_when=loaded["end_when"],
        ignore=tuple(loaded["ignore"]),
        error=StreamErrorModel(types=tuple(error["types"]), has=error["has"], when=error["when"]),
        events={name: _reader(spec) for name, spec in loaded["events"].items()},
        supported=loaded["supported"],
    )


def _errors(loaded: Mapping[str, Any]) -> ErrorsModel:
    return ErrorsModel(
        message=loaded["message"],
        code=loaded["code"],
        status=loaded["status"],
        request_id=loaded["request_id"],
        request_id_headers=tuple(h.lower() for h in loaded["request_id_headers"]),
        rules=tuple(
            ErrorRuleModel(
                status=rule["status"],
                match=rule["match"],
                has=rule["has"],
                contains=tuple(c.lower() for c in rule["contains"]),
                headers=tuple((k.lower(), frozenset(v)) for k, v in (rule["headers"] or {}).items()),
                event_types=frozenset(rule["event_types"]),
                class_name=rule["class_"],
                retryable=rule["retryable"],
            )
            for rule in loaded["rules"]
        ),
    )


def _model_entry(loaded: Mapping[str, Any] | None) -> ModelEntry:
    loaded = _filled(s.ModelSchema, loaded)
    return ModelEntry(
        context_window=loaded["context_window"],
        max_output_tokens=loaded["max_output_tokens"],
        features=frozenset(loaded["features"]),
        pricing=PricingModel(**_filled(s.PricingSchema, loaded["pricing"])),
        aliases=tuple(loaded["aliases"]),
        deprecation_date=loaded["deprecation_date"],
        description=loaded["description"],
        route=loaded["route"],
        mode=loaded["mode"],
        output_vector_size=loaded["output_vector_size"],
        tokenizer=loaded["tokenizer"],
    )


def _tool_calls(loaded: Mapping[str, Any], path: Any = None) -> ToolCallsModel:
    return ToolCallsModel(
        path=loaded["path"] if loaded["path"] is not None else path,
        when=loaded["when"],
        has=loaded["has"],
        index=loaded["index"],
        id=loaded["id"],
        name=loaded["name"],
        arguments=loaded["arguments"],
        extra=tuple(loaded["extra"].items()),
    )


def _reader(loaded: Mapping[str, Any]) -> ReaderModel:
    choice = _filled(s.ChoiceSchema, loaded["choice"])
    calls = choice["tool_calls"]
    blocks = choice["blocks"]
    usage = _filled(s.UsageSchema, loaded["usage"])
    return ReaderModel(
        id=loaded["id"],
        model=loaded["model"],
        created=loaded["created"],
        choices=loaded["choices"] or None,
        choice=ChoiceModel(
            index=choice["index"],
            role=choice["role"],
            content=choice["content"],
            reasoning=choice["reasoning"],
            refusal=choice["refusal"],
            finish_reason=choice["finish_reason"],
            tool_calls=tuple(_tool_calls(c) for c in (calls if isinstance(calls, list) else [calls])),
            blocks=BlocksModel(
                path=blocks["path"], when=blocks["when"], has=blocks["has"], index=blocks["index"],
                fields=tuple(blocks["fields_"].items()) if blocks["fields_"] else None,
            ) if blocks else None,
        ),
        parts=tuple(
            PartRuleModel(
                when=part["when"], has=part["has"], text=part["text"], reasoning=part["reasoning"],
                tool_call=_tool_calls(part["tool_call"], ".") if part["tool_call"] else None,
                keep_block=part["keep_block"], parts=part["parts"],
            )
            for part in loaded["parts"]
        ),
        usage_from=usage["from_"],
        usage=_usage_plan(usage, USAGE_FIELDS),
        finish_reasons=dict(loaded["finish_reasons"]),
        tool_calls_finish_reason=loaded["tool_calls_finish_reason"],
        answer_tool=loaded["answer_tool"],
    )


def _param_rule(name: str, loaded: Mapping[str, Any]) -> ParamRuleModel:
    return ParamRuleModel(
        to=loaded.get("to", name),  # absent: the parameter's name; null: no target
        map={key: Tpl(value) for key, value in loaded["map"].items()},
        template=Tpl(loaded["template"]) if "template" in loaded else None,
        switch=loaded["switch"],
        cases={key: _param_rule(name, case) for key, case in loaded["cases"].items()},
        set=tuple((path, Tpl(value)) for path, value in loaded["set"].items()),
        headers=tuple((header, Tpl(value)) for header, value in loaded["headers"].items()),
        refuse=loaded["refuse"],
        drop=loaded["drop"],
        default=Tpl(loaded["default"]) if "default" in loaded else None,
        required=loaded["required"],
        feature=loaded["feature"],
    )


def load_param_rule(name: str, raw: Mapping[str, Any]) -> ParamRuleModel:
    """One parameter rule as written in YAML, loaded into the model (for tests and tools)."""
    return _param_rule(name, s.ParamRuleSchema().load(raw))


def _part_targets(raw: Any) -> tuple[tuple[str, Tpl], ...]:
    """A part type's rendering as (slot, template) pairs: a template (slot `content`), a `{slot, template}`
    rule, or a list of such rules (one part into several slots)."""
    rules = raw if is_slot_rule_list(raw) else [raw]
    return tuple(
        (rule.get("slot", "content"), Tpl(rule["template"])) if is_slot_rule(rule) else ("content", Tpl(rule))
        for rule in rules
    )


def _messages(loaded: Mapping[str, Any]) -> MessagesModel:
    return MessagesModel(
        mode=loaded["mode"],
        strip_fields=tuple(loaded["strip_fields"]),
        lift=tuple(
            LiftModel(roles=frozenset(lift["roles"]), into=lift["into"], as_=lift["as_"], sep=lift["sep"])
            for lift in loaded["lift"]
        ),
        roles=dict(loaded["roles"]),
        merge_consecutive=loaded["merge_consecutive"],
        parts={kind: _part_targets(raw) for kind, raw in loaded["parts"].items() if raw is not None},
        message=Tpl(loaded["message"] or {"role": "$role", "content": "$content"}),
        tool_result_sep=loaded["tool_result_sep"],
        message_by_role={role: Tpl(raw) for role, raw in loaded["message_by_role"].items()},
    )


def _model_params(loaded: Mapping[str, Any]) -> dict[str, ModelParamsModel]:
    return {
        name: ModelParamsModel(
            models=tuple(block["models"]),
            features=frozenset(block["features"]),
            without=frozenset(block["without"]),
            params={param: _param_rule(param, rule) for param, rule in block["params"].items()},
        )
        for name, block in loaded.items()
        if block is not None
    }


def _usage_plan(usage: Mapping[str, Any], names: tuple[str, ...]) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    return tuple(
        (name, tuple(value["sum"]) if isinstance(value, dict) else (value,))
        for name in names
        if (value := usage.get(name)) is not None
    )


def _operations(loaded: Mapping[str, Any]) -> dict[str, OperationModel]:
    from .op_schema import build_operations  # the operations' own module builds them

    return build_operations(loaded)


def _endpoints(loaded: Any) -> EndpointsModel:
    endpoints = _filled(s.EndpointsSchema, loaded)
    return EndpointsModel(chat=_endpoint(endpoints.get("chat")), models=_endpoint(endpoints.get("models")))


def _auth(loaded: Any) -> AuthModel:
    mechanism = None
    if loaded and loaded.get("mechanism") is not None:
        # A named mechanism keeps its whole block (its options are checked by the mechanism); the key fields
        # beside it load as the key form, with the key form's defaults.
        mechanism = dict(loaded)
        loaded = s.AuthSchema().load({k: v for k, v in loaded.items() if k in KEY_FIELDS and v is not None})
    auth = _filled(s.AuthSchema, loaded)
    return AuthModel(
        env=tuple(auth["env"]), header=auth["header"], value=Tpl(auth["value"]), query=auth["query"],
        optional=auth["optional"], mechanism=mechanism,
    )


def _api_version(loaded: Any) -> ApiVersionModel:
    version = _filled(s.ApiVersionSchema, loaded)
    return ApiVersionModel(env=tuple(version["env"]), default=version["default"])


# How each loaded key of a provider entry becomes its part of the model (keys not listed are used as loaded).
_PARTS: dict[str, Any] = {
    "base_url_env": tuple,
    "routes": lambda loaded: tuple((route["prefix"], route["provider"]) for route in loaded),
    "variables": lambda loaded: {
        name: VariableModel(tuple(v["args"]), tuple(v["env"]), v["default"], v["required"])
        for name, v in loaded.items()
    },
    "auth": _auth,
    "headers": lambda loaded: tuple((k.lower(), Tpl(v)) for k, v in loaded.items() if v),  # "" sends none
    "api_version": _api_version,
    "endpoints": _endpoints,
    "body": lambda loaded: Tpl(loaded or s.DEFAULT_BODY),  # an empty body means the default one too
    "stream_body": lambda loaded: Tpl(loaded) if loaded else None,
    "stream": lambda loaded: _stream(_filled(s.StreamSchema, loaded)),
    "errors": lambda loaded: _errors(_filled(s.ErrorsSchema, loaded)),
    "models": lambda loaded: {name: _model_entry(entry) for name, entry in loaded.items()},
    "pricing_source": lambda loaded: PricingSourceModel(**_filled(s.PricingSourceSchema, loaded)),
    "health": lambda loaded: _filled(s.HealthSchema, loaded),
    "messages": lambda loaded: _messages(_filled(s.MessagesSchema, loaded)),
    "params": lambda loaded: {name: _param_rule(name, rule) for name, rule in loaded.items() if rule is not None},
    "response": lambda loaded: _reader(loaded) if loaded is not None else None,
    "model_params": _model_params,
    "operations": _operations,
}


def _assemble(parts: dict[str, Any], raw: Mapping[str, Any]) -> ProviderModel:
    """The ProviderModel from its built parts (see _PARTS)."""
    parts.pop("extends", None)
    health = parts.pop("health")
    probe = health["probe"] or ("models" if parts["endpoints"].models else "chat")
    return ProviderModel(**parts, health=HealthModel(probe=probe, model=health["model"]), raw=raw)


class ProviderModelSchema(s.ProviderSchema):
    """ProviderSchema whose load() returns a ProviderModel (per-file validation uses ProviderSchema itself)."""

    @post_load(pass_original=True)
    def make_model(self, data: dict[str, Any], original: Mapping[str, Any], **_kwargs: Any) -> ProviderModel:
        try:
            return _assemble({key: _PARTS.get(key, _same)(value) for key, value in data.items()}, original)
        except TemplateError as exc:
            raise ValidationError(str(exc)) from None


def _same(value: Any) -> Any:
    return value


class ModelLoader:
    """Loads many resolved entries into models, loading and building each distinct block once.

    Entries that extend the same dialect share the blocks they did not override (merging keeps the very
    same objects), so `openai_chat`'s response reader, say, is loaded and built once for all the providers
    that extend it: a third of the time of a cold load, and a smaller cache file (pickle keeps the sharing)."""

    def __init__(self) -> None:
        self.schema = ProviderModelSchema()
        self.memo: dict[tuple[str, int], Any] = {}
        self.keep: list[Any] = []  # the raw blocks memoised by id() stay alive while the loader does

    def load(self, entry: Mapping[str, Any]) -> ProviderModel:
        """One resolved entry as a model; raises ValidationError (paths as in the entry)."""
        parts: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for name, field in self.schema.fields.items():
            key = field.data_key or name
            raw = entry.get(key)
            memo_key = (name, id(raw))
            # A null left after merging: the key is absent (its default applies).
            present = key in entry and not (raw is None and not field.allow_none)
            if present and memo_key in self.memo:
                parts[name] = self.memo[memo_key]
                continue
            try:
                if present:
                    loaded = field.deserialize(strip_field_nulls(field, raw), key, entry)
                else:
                    default = field.load_default
                    loaded = default() if callable(default) else default
                    if loaded is missing:
                        continue
                parts[name] = _PARTS.get(name, _same)(loaded)
            except ValidationError as exc:
                errors[key] = exc.messages
                continue
            except TemplateError as exc:
                errors[key] = [str(exc)]
                continue
            if present:
                self.memo[memo_key] = parts[name]
                self.keep.append(raw)
        unknown = set(entry) - {field.data_key or name for name, field in self.schema.fields.items()}
        for key in unknown:
            errors[key] = ["Unknown field."]
        if errors:
            raise ValidationError(errors)
        return _assemble(parts, entry)
