"""Model-level parameter rules: a provider's rules with the `model_params` blocks that select a model laid over
them, compiled once per (model, features) and looked up per call.

A block selects a model by name patterns (`models:`, fnmatch, matched against the name as called and the
registry's name), by registry features the model lists (`features:`) and by features it lacks (`without:`);
every selector a block gives must hold. Feature selectors match only models the registry knows: an unlisted
model is never blocked by them. A matching block's rule for a parameter replaces the provider's rule for it
(later blocks over earlier ones); parameters new to the provider run after its own, in the block's order.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .params import ParamRule, ParamRules

if TYPE_CHECKING:
    from .._spec.model import ModelEntry, ModelParamsModel, ParamRuleModel

# Models seen that the spec does not list are remembered up to this many (then looked up each call).
_MAX_CACHED = 1024


class _Block:
    """One compiled `model_params` block."""

    __slots__ = ("features", "params", "pattern", "without")

    def __init__(self, spec: ModelParamsModel) -> None:
        self.pattern = (
            re.compile("|".join(fnmatch.translate(p) for p in spec.models)) if spec.models else None
        )
        self.features = spec.features
        self.without = spec.without
        self.params = spec.params

    def selects(self, names: tuple[str, ...], features: frozenset[str] | None) -> bool:
        if self.pattern is not None and not any(self.pattern.match(name) for name in names):
            return False
        if self.features or self.without:
            if features is None:  # unknown to the registry: feature selectors never block it
                return False
            return self.features <= features and not (self.without & features)
        return True


class ModelParamRules:
    """The parameter rules of one provider, per model: `for_model` returns the ParamRules to apply."""

    def __init__(
        self,
        params: Mapping[str, ParamRuleModel],
        blocks: Mapping[str, ModelParamsModel],
        forward_unknown: bool,
        models: Mapping[str, ModelEntry] | None = None,
    ) -> None:
        self.base = ParamRules(params, forward_unknown)
        self.specs = params
        self.forward_unknown = forward_unknown
        self.blocks = [_Block(block) for block in blocks.values()]
        self.cache: dict[tuple[str, frozenset[str] | None], ParamRules] = {}
        # Models that the same blocks select share one compiled ParamRules.
        self.combined: dict[tuple[int, ...], ParamRules] = {(): self.base}
        self.fixed = 0
        if self.blocks:
            # Everything the spec lists is compiled at load; only models it does not list are compiled on use.
            for name, entry in (models or {}).items():
                for alias in (name, *entry.aliases):
                    self.cache[(alias, entry.features)] = self._compile((alias, name), entry.features)
            self.fixed = len(self.cache)

    @property
    def rules(self) -> Mapping[str, ParamRule]:
        """The provider's own compiled rules, by parameter name (without any block's)."""
        return self.base.rules

    def for_model(self, model: str, registry_name: str | None, features: frozenset[str] | None) -> ParamRules:
        """The rules for this model (the provider's own when no block selects it)."""
        if not self.blocks:
            return self.base
        rules = self.cache.get((model, features))
        if rules is None:
            names = (model,) if registry_name is None or registry_name == model else (model, registry_name)
            rules = self._compile(names, features)
            if len(self.cache) < self.fixed + _MAX_CACHED:
                self.cache[(model, features)] = rules  # one dict store: safe across threads
        return rules

    def _compile(self, names: tuple[str, ...], features: frozenset[str] | None) -> ParamRules:
        chosen = tuple(index for index, block in enumerate(self.blocks) if block.selects(names, features))
        rules = self.combined.get(chosen)
        if rules is None:
            merged = dict(self.specs)
            for index in chosen:
                merged.update(self.blocks[index].params)
            rules = self.combined[chosen] = ParamRules(merged, self.forward_unknown)
        return rules
