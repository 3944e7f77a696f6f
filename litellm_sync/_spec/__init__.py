"""Loading the provider spec: bundled providers.yaml plus user files, validated and compiled once."""

from __future__ import annotations

from typing import Any

from .compile import CompiledSpec, ProviderSpec, compile_spec
from .load import ENV_VAR, bundled_spec_path, load_layers, resolve_entries, user_spec_paths

__all__ = ["ENV_VAR", "CompiledSpec", "ProviderSpec", "bundled_spec_path", "load_spec"]


def load_spec(providers: Any = None) -> CompiledSpec:
    """Load, validate, merge and compile the bundled spec and the user's files (or LITELLM_SYNC_PROVIDERS)."""
    origins: dict[str, str] = {}
    merged, names = load_layers(user_spec_paths(providers), origins)
    entries = resolve_entries(merged, origins)
    return compile_spec(entries, merged.get("http_errors"), names, origins)
