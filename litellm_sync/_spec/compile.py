"""Compiling resolved provider entries into frozen `ProviderSpec`s and one `CompiledSpec`, once per load."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._engine.errors import ErrorMapper
from .._engine.reader import Reader
from .._engine.request import RequestBuilder
from .._engine.stream_rules import StreamRules
from .._engine.template import TemplateError
from ..exceptions import SpecError, UnknownModelError
from ..registry import ModelInfo, Registry, model_info_from_spec
from .load import origin_prefix

DEFAULT_HTTP_ERRORS = {"4xx": "BadRequestError", "5xx": "InternalServerError"}


@dataclass(frozen=True)
class ProviderSpec:
    """One provider, compiled: how to build its requests and read its responses, streams and errors."""

    name: str
    description: str
    docs: str | None
    builder: RequestBuilder
    reader: Reader
    stream: StreamRules
    errors: ErrorMapper
    bare_names: bool
    health_probe: str
    health_model: str | None
    models_list_path: Any
    models_id_path: Any
    entry: Mapping[str, Any]

    def __repr__(self) -> str:
        return f"ProviderSpec({self.name!r})"


@dataclass(frozen=True)
class CompiledSpec:
    """Every provider plus the model registry, ready for calls; built once and shared across threads."""

    providers: Mapping[str, ProviderSpec]
    registry: Registry
    sources: tuple[str, ...]

    def provider(self, name: str) -> ProviderSpec:
        """The provider by name, or UnknownModelError listing the known ones."""
        try:
            return self.providers[name]
        except KeyError:
            known = ", ".join(sorted(self.providers))
            raise UnknownModelError(f"Unknown provider '{name}'. Known providers: {known}.") from None


def compile_provider(
    name: str, entry: Mapping[str, Any], http_errors: Mapping[Any, str], origins: Mapping[str, str] | None = None
) -> ProviderSpec:
    """Compile one resolved entry; raises SpecError naming the file(s) and the entry on any problem."""
    where = origin_prefix(origins, f"providers.{name}")
    missing = [key for key in ("response",) if key not in entry]
    if not (entry.get("endpoints") or {}).get("chat"):
        missing.append("endpoints.chat")
    if not entry.get("base_url") and not entry.get("base_url_env"):
        missing.append("base_url (or base_url_env)")
    if missing:
        raise SpecError([f"{where}: missing {', '.join(missing)} (set it or extend a dialect that has it)"])
    try:
        response_spec = entry["response"]
        finish_reasons = response_spec.get("finish_reasons") or {}
        reader = Reader(response_spec)
        stream = StreamRules(entry.get("stream") or {"events": {"*": response_spec}}, finish_reasons, reader)
        health = entry.get("health") or {}
        models_endpoint = (entry.get("endpoints") or {}).get("models") or {}
        return ProviderSpec(
            name=name,
            description=entry.get("description", ""),
            docs=entry.get("docs"),
            builder=RequestBuilder(name, entry),
            reader=reader,
            stream=stream,
            errors=ErrorMapper(entry.get("errors") or {}, http_errors, name),
            bare_names=bool(entry.get("bare_names", True)),
            health_probe=health.get("probe", "models" if models_endpoint else "chat"),
            health_model=health.get("model"),
            models_list_path=models_endpoint.get("list"),
            models_id_path=models_endpoint.get("id"),
            entry=entry,
        )
    except TemplateError as exc:
        raise SpecError([f"{where}: {exc}"]) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError([f"{where}: cannot compile: {exc!r}"]) from None


def compile_spec(
    entries: Mapping[str, Mapping[str, Any]],
    http_errors: Mapping[Any, str] | None,
    sources: list[str],
    origins: Mapping[str, str] | None = None,
    problems: list[str] | None = None,
) -> CompiledSpec:
    """Compile every provider and build the registry. Problems are added to `problems` when given (the
    caller raises them with those of the other phases), else raised here as one SpecError."""
    table = {**DEFAULT_HTTP_ERRORS, **(http_errors or {})}
    providers: dict[str, ProviderSpec] = {}
    infos: list[ModelInfo] = []
    collect = problems is not None
    problems = problems if problems is not None else []
    for name, entry in entries.items():
        try:
            providers[name] = compile_provider(name, entry, table, origins)
        except SpecError as exc:
            problems.extend(exc.problems)
            continue
        source = entry.get("pricing_source") or {}
        for model, raw in (entry.get("models") or {}).items():
            infos.append(model_info_from_spec(name, model, raw or {}, source))
    if problems and not collect:
        raise SpecError(problems)
    bare = [name for name, spec in providers.items() if spec.bare_names]
    return CompiledSpec(providers, Registry.build(infos, providers, bare), tuple(sources))
