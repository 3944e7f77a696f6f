"""Loading a resolved provider entry into the typed spec model: the schema's `post_load` builds frozen objects.

The fields, their types and their defaults are those of `schema.ProviderSchema` (described once); this
module only adds the hook that turns the loaded values into `model` objects, compiling templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, post_load

from .._engine.reader import USAGE_FIELDS
from .._engine.template import TemplateError
from . import schema as s
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
)


def _filled(schema: type[s.Schema], loaded: Any) -> dict[str, Any]:
    """A nested block as loaded, or the schema's defaults when the entry did not have it."""
    return loaded if loaded else schema().load({})


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
                keep_block=part["keep_block"],
            )
            for part in loaded["parts"]
        ),
        usage_from=usage["from_"],
        usage=tuple(
            (field, tuple(value["sum"]) if isinstance(value, dict) else (value,))
            for field in USAGE_FIELDS
            if (value := usage.get(field)) is not None
        ),
        finish_reasons=dict(loaded["finish_reasons"]),
        tool_calls_finish_reason=loaded["tool_calls_finish_reason"],
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
    rules = raw if s.is_slot_rule_list(raw) else [raw]
    return tuple(
        (rule.get("slot", "content"), Tpl(rule["template"])) if s.is_slot_rule(rule) else ("content", Tpl(rule))
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
    )


class ProviderModelSchema(s.ProviderSchema):
    """ProviderSchema whose load() returns a ProviderModel (per-file validation uses ProviderSchema itself).

    """


    @post_load(pass_original=True)
    def make_model(self, data: dict[str, Any], original: Mapping[str, Any], **_kwargs: Any) -> ProviderModel:
        auth = _filled(s.AuthSchema, data["auth"])
        version = _filled(s.ApiVersionSchema, data["api_version"])
        endpoints = _filled(s.EndpointsSchema, data["endpoints"])
        health = _filled(s.HealthSchema, data["health"])
        source = _filled(s.PricingSourceSchema, data["pricing_source"])
        try:
            models_endpoint = _endpoint(endpoints.get("models"))
            return ProviderModel(
                description=data["description"],
                docs=data["docs"],
                base_url=data["base_url"],
                base_url_env=tuple(data["base_url_env"]),
                auth=AuthModel(
                    env=tuple(auth["env"]), header=auth["header"], value=Tpl(auth["value"]), query=auth["query"],
                    optional=auth["optional"],
                ),
                headers=tuple((k.lower(), Tpl(v)) for k, v in data["headers"].items() if v),  # "" sends none
                api_version=ApiVersionModel(env=tuple(version["env"]), default=version["default"]),
                endpoints=EndpointsModel(chat=_endpoint(endpoints.get("chat")), models=models_endpoint),
                body=Tpl(data["body"] or s.DEFAULT_BODY),  # an empty body means the default one too
                stream_body=Tpl(data["stream_body"]) if data["stream_body"] else None,
                unknown_params=data["unknown_params"],
                stream=_stream(_filled(s.StreamSchema, data["stream"])),
                errors=_errors(_filled(s.ErrorsSchema, data["errors"])),
                models={name: _model_entry(entry) for name, entry in data["models"].items()},
                pricing_source=PricingSourceModel(**source),
                health=HealthModel(
                    probe=health["probe"] or ("models" if models_endpoint else "chat"), model=health["model"]
                ),
                bare_names=data["bare_names"],
                messages=_messages(_filled(s.MessagesSchema, data["messages"])),
                params={name: _param_rule(name, rule) for name, rule in data["params"].items() if rule is not None},
                response=_reader(data["response"]) if data["response"] is not None else None,
                raw=original,
            )
        except TemplateError as exc:
            raise ValidationError(str(exc)) from None
