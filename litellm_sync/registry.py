"""The model registry: what each model can do and costs, and how a model string resolves to a provider."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .exceptions import AmbiguousModelError, UnknownModelError

if TYPE_CHECKING:
    from ._spec.model import ModelEntry, PricingSourceModel

_MILLION = Decimal(1_000_000)
PRICE_KEYS = ("input", "output", "cached_input", "cache_write", "reasoning_output")


@dataclass(frozen=True)
class ModelInfo:
    """One model of one provider, as the spec declares it. Prices are USD per million tokens; None = unknown."""

    provider: str
    name: str
    context_window: int | None = None
    max_output_tokens: int | None = None
    features: frozenset[str] = frozenset()
    input_price: Decimal | None = None
    output_price: Decimal | None = None
    cached_input_price: Decimal | None = None
    cache_write_price: Decimal | None = None
    reasoning_output_price: Decimal | None = None
    aliases: tuple[str, ...] = ()
    deprecation_date: str | None = None
    pricing_checked: str | None = None
    pricing_url: str | None = None
    #: The provider that serves this model when it is called through this one (`route:` in the spec).
    route: str | None = None
    #: What the model does: "chat", "embedding" or "rerank" (LiteLLM's `mode`).
    mode: str = "chat"
    #: Embedding models: the dimensions of the vector they return by default (LiteLLM's `output_vector_size`).
    output_vector_size: int | None = None
    #: Rerank models priced per query (Cohere's search units): USD per query; None when unknown or by token.
    query_price: Decimal | None = None
    #: The tiktoken encoding that counts this model's tokens exactly (`tokenizer:` in the spec), or None.
    tokenizer: str | None = None

    @property
    def max_input_tokens(self) -> int | None:
        """The context window, under LiteLLM's name."""
        return self.context_window

    def supports(self, feature: str) -> bool:
        """Whether the spec lists this feature for the model."""
        return feature in self.features

    def __getitem__(self, key: str) -> Any:
        """LiteLLM's dict access: `info["max_input_tokens"]`, `info["input_cost_per_token"]`, `info["supports_vision"]`
        (its key names, see `litellm_sync.model_cost`); KeyError for a name LiteLLM's entries do not have."""
        from ._litellm import litellm_entry

        return litellm_entry(self)[key]

    def get(self, key: str, default: Any = None) -> Any:
        """LiteLLM's `info.get("max_tokens")`: the value under LiteLLM's key name, else default."""
        try:
            value = self[key]
        except KeyError:
            return default
        return default if value is None else value

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (prices as strings, exact)."""
        return {
            "provider": self.provider,
            "model": self.name,
            "context_window": self.context_window,
            "max_input_tokens": self.context_window,
            "max_output_tokens": self.max_output_tokens,
            "features": sorted(self.features),
            "mode": self.mode,
            "output_vector_size": self.output_vector_size,
            "pricing": {
                key: (None if price is None else str(price))
                for key, price in zip(
                    PRICE_KEYS,
                    (
                        self.input_price,
                        self.output_price,
                        self.cached_input_price,
                        self.cache_write_price,
                        self.reasoning_output_price,
                    ),
                )
            },
            "query_price": None if self.query_price is None else str(self.query_price),
            "aliases": list(self.aliases),
            "deprecation_date": self.deprecation_date,
            "pricing_checked": self.pricing_checked,
            "pricing_url": self.pricing_url,
        }

    def rerank_cost(self, search_units: int | None, prompt_tokens: int | None) -> Decimal | None:
        """USD for one rerank call: per query (search unit; one when the provider reports none) when the model
        is priced so, else by its input tokens; None when unpriced."""
        if self.query_price is not None:
            return self.query_price * (search_units if search_units is not None else 1)
        if self.input_price is not None and prompt_tokens is not None:
            return self.cost(prompt_tokens, 0)
        return None

    def cost(
        self,
        prompt_tokens: int,
        completion_tokens: int,
        cached_tokens: int = 0,
        cache_creation_tokens: int = 0,
        reasoning_tokens: int = 0,
    ) -> Decimal | None:
        """USD for one call; prompt_tokens includes cached and cache-write tokens. None when unpriced.

        An embedding or rerank model has no output price: its input tokens are its cost."""
        output_price = self.output_price
        if output_price is None and self.mode != "chat" and not completion_tokens:
            output_price = Decimal(0)
        if self.input_price is None or output_price is None:
            return None
        cached_tokens = cached_tokens or 0
        cache_creation_tokens = cache_creation_tokens or 0
        fresh = max(prompt_tokens - cached_tokens - cache_creation_tokens, 0)
        total = fresh * self.input_price
        total += cached_tokens * (self.cached_input_price if self.cached_input_price is not None else self.input_price)
        total += cache_creation_tokens * (
            self.cache_write_price if self.cache_write_price is not None else self.input_price
        )
        if self.reasoning_output_price is not None and reasoning_tokens:
            reasoning = min(reasoning_tokens, completion_tokens)
            total += reasoning * self.reasoning_output_price + (completion_tokens - reasoning) * output_price
        else:
            total += completion_tokens * output_price
        return total / _MILLION


def model_info_from_spec(provider: str, name: str, entry: ModelEntry, source: PricingSourceModel) -> ModelInfo:
    """Build a ModelInfo from a `models:` entry of the spec model (prices already exact Decimals)."""
    pricing = entry.pricing
    return ModelInfo(
        provider=provider,
        name=name,
        context_window=entry.context_window,
        max_output_tokens=entry.max_output_tokens,
        features=entry.features,
        input_price=pricing.input,
        output_price=pricing.output,
        cached_input_price=pricing.cached_input,
        cache_write_price=pricing.cache_write,
        reasoning_output_price=pricing.reasoning_output,
        aliases=entry.aliases,
        deprecation_date=entry.deprecation_date,
        pricing_checked=source.checked,
        pricing_url=source.url,
        route=entry.route,
        mode=entry.mode,
        output_vector_size=entry.output_vector_size,
        query_price=pricing.per_query,
        tokenizer=entry.tokenizer,
    )


@dataclass(frozen=True)
class Registry:
    """All models of all providers, indexed for lookup and resolution."""

    models: Mapping[tuple[str, str], ModelInfo]
    providers: frozenset[str]
    #: Bare model name (or alias) -> the providers that accept it without a prefix.
    bare: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, infos: Iterable[ModelInfo], providers: Iterable[str], bare_providers: Iterable[str]) -> Registry:
        """Index models by (provider, name) and by alias; bare names come from bare_providers only."""
        models: dict[tuple[str, str], ModelInfo] = {}
        bare: dict[str, list[str]] = {}
        allow_bare = set(bare_providers)
        for info in infos:
            for name in (info.name, *info.aliases):
                models[(info.provider, name)] = info
                if info.provider in allow_bare and info.provider not in bare.setdefault(name, []):
                    bare[name].append(info.provider)
        return cls(models, frozenset(providers), {k: tuple(v) for k, v in bare.items()})

    def with_models(self, infos: Iterable[ModelInfo], bare: Iterable[ModelInfo] = ()) -> Registry:
        """A new registry with these models added or replaced (their aliases kept); the names of `bare` resolve
        without a provider prefix, to that provider only (register_model)."""
        models = dict(self.models)
        for info in infos:
            for name in (info.name, *info.aliases):
                models[(info.provider, name)] = info
        names = dict(self.bare)
        for info in bare:
            names[info.name] = (info.provider,)
        return Registry(models, self.providers, names)

    def get(self, provider: str, model: str) -> ModelInfo | None:
        """The model's info, or None when the spec does not list it."""
        return self.models.get((provider, model))

    def resolve(self, model: str) -> tuple[str, str]:
        """'provider/model' or a bare known name -> (provider, model as the provider spells it).

        The provider prefix is matched exactly, then case-insensitively ('OPENAI/gpt-4o-mini' is openai's
        model); the model part is passed on as written, since providers' model ids are case-sensitive."""
        if not isinstance(model, str) or not model.strip():
            raise UnknownModelError("model must be a non-empty string such as 'openai/gpt-4o-mini'.")
        prefix, slash, rest = model.partition("/")
        provider = prefix if slash and prefix in self.providers else None
        if provider is None:
            candidates = self.bare.get(model, ())
            if len(candidates) == 1:
                info = self.models.get((candidates[0], model))
                return (info.route if info is not None and info.route else candidates[0]), model
            if candidates:
                options = tuple(f"{p}/{model}" for p in candidates)
                raise AmbiguousModelError(f"'{model}' is served by several providers; name one.", options)
            provider = self._provider_folded(prefix) if slash else None
        if provider is not None:
            if not rest:
                raise UnknownModelError(f"'{model}' names provider '{provider}' but no model after the slash.")
            info = self.models.get((provider, rest))
            if info is not None and info.route:  # served by another provider (OpenAI's Responses-only models)
                return info.route, rest
            return provider, rest
        if slash:
            raise UnknownModelError(
                f"Unknown model '{model}': '{prefix}' is not a provider the spec knows (litellm-sync providers "
                "lists them; a model id that contains a slash still needs its provider in front), or use a model "
                "the spec lists (litellm-sync models).",
                self.suggest(model),
            )
        raise UnknownModelError(
            f"Unknown model '{model}': prefix it with a provider ('openai/{model}', or "
            f"'openai_compatible/{model}' with api_base=) or use a model the spec lists "
            "(litellm-sync models).",
            self.suggest(model),
        )

    def _provider_folded(self, prefix: str) -> str | None:
        """The one provider whose name equals prefix ignoring case (None if none, or several)."""
        folded = prefix.casefold()
        matches = [name for name in self.providers if name.casefold() == folded]
        return matches[0] if len(matches) == 1 else None

    def features(self) -> frozenset[str]:
        """Every feature some model lists."""
        return frozenset(feature for info in self.models.values() for feature in info.features)

    def suggest(self, model: str, limit: int = 5) -> tuple[str, ...]:
        """Close matches among qualified and bare names."""
        names = {f"{p}/{m}" for p, m in self.models} | set(self.bare)
        return tuple(difflib.get_close_matches(model, sorted(names), n=limit, cutoff=0.6))

    def list(
        self, provider: str | None = None, feature: str | None = None, mode: str | None = None
    ) -> list[ModelInfo]:
        """Models (aliases folded), optionally of one provider, with one feature and of one mode ("chat",
        "embedding", "rerank"), sorted by name."""
        seen: dict[tuple[str, str], ModelInfo] = {}
        for (p, _name), info in self.models.items():
            if (provider is None or p == provider) and (feature is None or feature in info.features) and (
                mode is None or info.mode == mode
            ):
                seen[(info.provider, info.name)] = info
        return [seen[key] for key in sorted(seen)]
