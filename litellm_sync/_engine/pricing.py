"""What one call costs: the function a response's usage is priced with, from the model's registry info, or from
the prices a call passes itself (input_cost_per_token=, output_cost_per_token=)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Callable

from ..registry import ModelInfo
from ..types import Usage


def cost_function(info: ModelInfo | None) -> Callable[[Usage], Decimal | None] | None:
    """The function that prices a usage with the model's info (None for a model the registry does not list)."""
    if info is None:
        return None

    def cost(usage: Usage) -> Decimal | None:
        return info.cost(
            usage.prompt_tokens or 0,
            usage.completion_tokens or 0,
            usage.cached_tokens or 0,
            usage.cache_creation_tokens or 0,
            usage.reasoning_tokens or 0,
        )

    return cost


def priced(info: ModelInfo | None, provider: str, model: str, prices: tuple[Decimal, Decimal]) -> ModelInfo:
    """The model's info with this call's prices (input_cost_per_token=, output_cost_per_token=): for its cost only."""
    if info is None:
        return ModelInfo(provider, model, input_price=prices[0], output_price=prices[1])
    return dataclasses.replace(info, input_price=prices[0], output_price=prices[1], cached_input_price=None,
                               cache_write_price=None, reasoning_output_price=None)  # fmt: skip
