"""The schema of `operations:`, named operations beside chat (embeddings, rerank), each with its endpoint,
body, parameter rules, batch size and reader, and `by_model` variants merged over it; and their build into
the spec model (see docs/providers-yaml.md, Operations)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from .build import _endpoint, _param_rule, _usage_plan
from .fields import PathField, StrList, UsageValue
from .model import OperationModel, OperationReaderModel, Tpl
from .schema import OPERATIONS, ParamRuleSchema, _Strict

#: What an operation's request templates may read, besides the chat request's own variables.
OPERATION_VARIABLES = frozenset({"input", "params", "query", "documents"})


class OperationUsageSchema(_Strict):
    from_ = PathField(data_key="from", load_default=".")
    prompt_tokens = UsageValue()
    total_tokens = UsageValue()
    search_units = UsageValue()


class OperationReaderSchema(_Strict):
    items = PathField(load_default=".")  # the list of results (an object there counts as a list of one)
    embedding = PathField(load_default=None)  # in each item: the vector (floats, or base64 float32 text)
    index = PathField(load_default=None)  # in each item: its input position (absent: the item's position)
    score = PathField(load_default=None)  # rerank: the relevance score
    document = PathField(load_default=None)  # rerank: the document sent back (text or {text: ...})
    id = PathField(load_default=None)
    model = PathField(load_default=None)
    usage = fields.Nested(OperationUsageSchema, load_default=dict)
    item_tokens = PathField(load_default=None)  # tokens per item, summed when `usage` finds none


def _base_url(value: Any) -> bool:
    if not isinstance(value, (str, dict)):
        raise ValidationError("Expected a URL string, or a template mapping (a $map or $first) that gives one")
    return True


class OperationSchema(_Strict):
    base_url = fields.Raw(load_default=None, validate=_base_url)  # another host than the provider's (optional)
    path = fields.Str(load_default=None)  # required once files are merged (a layered file may change one key)
    method = fields.Str(validate=validate.OneOf(["GET", "POST"]), load_default="POST")
    query = fields.Dict(keys=fields.Str(), values=fields.Str(), load_default=dict)
    # "segments": a value's '/' stays a path separator, each piece encoded as a segment (a Hub id "org/model")
    path_encoding = fields.Str(validate=validate.OneOf(["segment", "strict", "segments"]), load_default="segment")
    body = fields.Raw(allow_none=True, load_default=None)
    params = fields.Dict(keys=fields.Str(), values=fields.Nested(ParamRuleSchema, allow_none=True), load_default=dict)
    template_params = StrList(load_default=list)  # read by the body template as $params.NAME; no rule sends them
    unknown_params = fields.Str(validate=validate.OneOf(["forward", "refuse"]), load_default="forward")
    batch_size = fields.Int(allow_none=True, validate=validate.Range(min=1), load_default=None)
    response = fields.Nested(OperationReaderSchema, load_default=None)  # required once merged, as `path`
    by_model = fields.List(fields.Dict(keys=fields.Str()), load_default=list)

    @validates_schema(pass_original=True)
    def _variants(self, data: dict[str, Any], original: Any, **_kwargs: Any) -> None:
        errors: dict[int, Any] = {}
        for index, variant in enumerate(original.get("by_model") or ()):
            models = variant.get("models")
            if not (isinstance(models, list) and models and all(isinstance(m, str) for m in models)):
                errors[index] = {"models": ["Expected a non-empty list of model name patterns."]}
                continue
            try:
                OperationSchema().load(self._variant_raw(original, variant))
            except ValidationError as exc:
                errors[index] = exc.messages
        if errors:
            raise ValidationError({"by_model": errors})

    @staticmethod
    def _variant_raw(original: Any, variant: Any) -> Any:
        """A variant over its operation: each key it gives replaces the operation's, except `params`, where
        each rule it gives replaces that parameter's rule (null removes one)."""
        merged = {key: value for key, value in original.items() if key != "by_model"}
        merged.update((key, value) for key, value in variant.items() if key not in ("models", "params"))
        params = variant.get("params")
        if isinstance(params, dict):
            base = merged.get("params")
            combined = {**(base if isinstance(base, dict) else {}), **params}
            merged["params"] = {name: rule for name, rule in combined.items() if rule is not None}
        return {key: value for key, value in merged.items() if value is not None}

    @post_load(pass_original=True)
    def _load_variants(self, data: dict[str, Any], original: Any, **_kwargs: Any) -> dict[str, Any]:
        data["variants"] = [
            (tuple(variant["models"]), OperationSchema().load(self._variant_raw(original, variant)))
            for variant in original.get("by_model") or ()
        ]
        return data


def build_operations(loaded: Mapping[str, Any]) -> dict[str, OperationModel]:
    """The `operations:` blocks; ValidationError (with paths) for one that, merged, still lacks path or response."""
    why = ["Missing: set it (or extend an entry whose operation has it)."]
    missing = {kind: {key: why for key in ("path", "response") if op[key] is None} for kind, op in loaded.items() if op}
    missing = {kind: keys for kind, keys in missing.items() if keys}
    if missing:
        raise ValidationError(missing)
    return {kind: _operation(op) for kind, op in loaded.items() if op is not None}


def _operation(loaded: Mapping[str, Any]) -> OperationModel:
    """One `operations.<name>` block (and its `by_model` variants) as the model."""
    reader = loaded["response"]
    usage = reader["usage"] or {"from_": "."}
    endpoint = _endpoint({**loaded, "stream_path": None, "stream_query": {}, "list": None, "id": None,
                          "strip_prefix": ""})
    assert endpoint is not None
    return OperationModel(
        endpoint=endpoint,
        body=Tpl(loaded["body"] if loaded["body"] is not None else {}),
        params={name: _param_rule(name, rule) for name, rule in loaded["params"].items() if rule is not None},
        template_params=frozenset(loaded["template_params"]),
        unknown_params=loaded["unknown_params"],
        batch_size=loaded["batch_size"],
        response=OperationReaderModel(
            items=reader["items"], embedding=reader["embedding"], index=reader["index"], score=reader["score"],
            document=reader["document"], id=reader["id"], model=reader["model"], usage_from=usage["from_"],
            usage=_usage_plan(usage, ("prompt_tokens", "total_tokens", "search_units")),
            item_tokens=reader["item_tokens"],
        ),
        variants=tuple((models, _operation(variant)) for models, variant in loaded.get("variants", ())),
        base_url=loaded["base_url"],
    )


__all__ = ["OPERATIONS", "OPERATION_VARIABLES", "OperationReaderSchema", "OperationSchema", "build_operations"]
