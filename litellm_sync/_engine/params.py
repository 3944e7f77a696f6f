"""Parameter rules: how each OpenAI-style parameter lands in a provider's request, compiled once.

A rule (all keys optional):

- ``to``: dotted target path in the body (default: the parameter's own name)
- ``map``: scalar value -> template (``$value`` is the given value); ``template``: used for other values
- ``switch`` + ``cases``: pick a sub-rule by the value at a path inside the value (``cases['*']`` = other)
- ``set``: ``{path: template}`` extra writes; ``headers``: ``{name: template}`` extra request headers
- ``refuse``: raise UnsupportedParamsError with this text (dropped with a warning under drop_params)
- ``drop``: accepted but not sent, with this reason logged at debug level
- ``default``: a template applied when the caller gave nothing and no other parameter wrote the target;
  ``required``: error when still absent
- ``feature``: a model feature the registry must list for this value (checked when the model is known)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable

from ..exceptions import BadRequestError, UnsupportedParamsError
from .paths import MISSING, compile_path, get_path, set_path
from .redact import get_logger
from .template import TemplateRefusal

if TYPE_CHECKING:
    from .._spec.model import ParamRuleModel

log = get_logger()


class RequestDraft:
    """What a call writes into while its parameters are applied."""

    __slots__ = ("body", "context", "drop_params", "features", "headers", "model", "provider")

    def __init__(
        self,
        body: dict[str, Any],
        headers: dict[str, str],
        context: dict[str, Any],
        provider: str,
        model: str,
        features: frozenset[str] | None,
        drop_params: bool,
    ) -> None:
        self.body = body
        self.headers = headers
        self.context = context
        self.provider = provider
        self.model = model
        self.features = features
        self.drop_params = drop_params


def unsupported(draft: RequestDraft, name: str, reason: str) -> None:
    """Refuse a parameter, or drop it with a warning when the caller asked for drop_params."""
    if draft.drop_params:
        log.warning("dropping %s for %s/%s: %s", name, draft.provider, draft.model, reason)
        return
    raise UnsupportedParamsError(
        f"{name}: {reason}. Remove it, or pass drop_params=True to drop unsupported parameters.",
        provider=draft.provider,
        model=draft.model,
    )


class ParamRule:
    """One compiled parameter rule."""

    def __init__(self, name: str, spec: ParamRuleModel) -> None:
        self.name = name
        self.target = compile_path(spec.to) if spec.to else ()
        self.map = {key: template.fn for key, template in spec.map.items()}
        self.template = spec.template.fn if spec.template is not None else None
        self.switch = compile_path(spec.switch) if spec.switch is not None else None
        self.cases = {key: ParamRule(name, case) for key, case in spec.cases.items()}
        self.sets = [(compile_path(path), template.fn) for path, template in spec.set]
        self.headers = [(header, template.fn) for header, template in spec.headers]
        self.refuse: str | None = spec.refuse
        self.drop: str | None = spec.drop
        self.default = spec.default.fn if spec.default is not None else None
        self.required = spec.required
        self.feature: str | None = spec.feature

    def apply(self, value: Any, draft: RequestDraft) -> None:
        """Write value into the draft per this rule."""
        if self.refuse is not None:
            unsupported(draft, self.name, self.refuse)
            return
        if self.drop is not None:
            log.debug("not sending %s to %s: %s", self.name, draft.provider, self.drop)
            return
        if self.feature is not None and draft.features is not None and self.feature not in draft.features:
            unsupported(draft, self.name, f"model '{draft.model}' does not support {self.feature}")
            return
        if self.switch is not None:
            key = get_path(value, self.switch)
            # Case names are strings in YAML; other scalars match by their JSON text (true, 3).
            key = key if isinstance(key, str) else json.dumps(key) if isinstance(key, (int, bool)) else None
            case = self.cases.get(key) if key is not None else None
            case = case or self.cases.get("*")
            if case is None:
                unsupported(draft, self.name, f"{self.name} value {key!r} is not supported")
                return
            case.apply(value, draft)
            return
        context = draft.context
        context["value"] = value
        result = value
        try:
            mapped = self.map.get(value) if self.map and isinstance(value, (str, int, bool)) else None
            if mapped is not None:
                result = mapped(context)
            elif self.template is not None:
                result = self.template(context)
            # Every write is evaluated before any is made: a `$refuse` in one leaves the body untouched.
            writes = [(path, template(context)) for path, template in self.sets]
        except TemplateRefusal as refusal:
            unsupported(draft, self.name, str(refusal))
            return
        if result is not MISSING and self.target:
            set_path(draft.body, self.target, result)
        for path, written in writes:
            if written is not MISSING:
                set_path(draft.body, path, written)
        for header, template in self.headers:
            written = template(context)
            if written is not MISSING:
                draft.headers[header] = str(written)

    def apply_default(self, draft: RequestDraft) -> None:
        """Fill the parameter when the caller gave none; raise when it is required and still absent."""
        value = self.default(draft.context) if self.default is not None else MISSING
        if value is not MISSING:
            self.apply(value, draft)
        elif self.required:
            raise BadRequestError(
                f"provider '{draft.provider}' requires {self.name}: pass {self.name}=...",
                provider=draft.provider,
                model=draft.model,
            )


class ParamRules:
    """All of a provider's parameter rules, and what to do with parameters no rule names."""

    def __init__(self, spec: Mapping[str, ParamRuleModel], forward_unknown: bool) -> None:
        self.rules = {name: ParamRule(name, rule) for name, rule in spec.items()}
        # Rules run in the order the spec declares them, whatever the caller's keyword order, so a rule that
        # refines another's target (parallel_tool_calls inside tool_choice) always runs after it.
        self.position = {name: index for index, name in enumerate(self.rules)}
        self.with_defaults = [rule for rule in self.rules.values() if rule.default is not None or rule.required]
        self.forward_unknown = forward_unknown

    def apply(self, params: Mapping[str, Any], draft: RequestDraft) -> None:
        """Apply the call's parameters (None means not given), then defaults."""
        rules = self.rules
        names = params if len(params) < 2 else sorted(params, key=lambda n: self.position.get(n, len(rules)))
        for name in names:
            value = params[name]
            if value is None:
                continue
            rule = rules.get(name)
            if rule is not None:
                rule.apply(value, draft)
            elif self.forward_unknown:
                draft.body[name] = value
            else:
                unsupported(draft, name, f"provider '{draft.provider}' has no parameter named {name}")
        for rule in self.with_defaults:
            # A default fills a gap: not when the caller gave the parameter, nor when another parameter
            # already wrote its target (max_completion_tokens -> max_tokens, say).
            if params.get(rule.name) is None and not (rule.target and get_path(draft.body, rule.target) is not MISSING):
                rule.apply_default(draft)


ParamApplier = Callable[[Mapping[str, Any], RequestDraft], None]
