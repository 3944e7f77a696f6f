"""Loading the provider spec: bundled providers.yaml plus user files, validated and compiled once."""

from __future__ import annotations

from typing import Any

from ..exceptions import SpecError
from . import cache
from .compile import CompiledSpec, ProviderSpec, compile_spec, load_models
from .load import ENV_VAR, bundled_spec_path, load_layers, read_files, resolve_entries, user_spec_paths

__all__ = ["ENV_VAR", "CompiledSpec", "ProviderSpec", "bundled_spec_path", "load_spec"]


def load_spec(providers: Any = None) -> CompiledSpec:
    """Load, validate, merge and compile the bundled spec and the user's files (or LITELLM_SYNC_PROVIDERS).

    Every problem of every file and phase (reading, YAML, schema, templates, `extends`, compiling) is raised
    together in one SpecError. A load made only of files is cached (see `cache`): the next load of the same
    bytes skips YAML and validation and compiles the exact same values."""
    files, problems = read_files([bundled_spec_path(), *user_spec_paths(providers)])
    key = None
    if not problems and all(isinstance(content, bytes) for _, content in files):
        key = cache.cache_key(files)
        hit = cache.read(key)
        if isinstance(hit, tuple) and len(hit) == 3:
            try:
                return compile_spec(*hit)
            except Exception:  # an entry from an incompatible build: load from the files instead
                pass
    layers = load_layers(files, problems)
    entries = resolve_entries(layers, problems)
    models = load_models(entries, layers.origins, problems)
    http_errors = layers.merged.get("http_errors")
    spec = compile_spec(models, http_errors, layers.names, layers.origins, problems)
    if problems:
        raise SpecError(problems)
    if key is not None:
        cache.write(key, (models, http_errors, layers.names))
    return spec
