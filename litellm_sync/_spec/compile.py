"""Compiling the spec model into frozen `ProviderSpec`s and one `CompiledSpec`, once per load."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._engine.errors import ErrorMapper
from .._engine.operations import READER_NEEDS, Operation
from .._engine.reader import Reader
from .._engine.request import RequestBuilder
from .._engine.stream_rules import StreamRules
from .._engine.template import TemplateError
from ..exceptions import SpecError, UnknownModelError
from ..registry import ModelInfo, Registry, model_info_from_spec
from .load import origin_prefix
from .model import ProviderModel

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
    model: ProviderModel
    entry: Mapping[str, Any]  # the resolved YAML entry, for tools that show it
    operations: Mapping[str, Operation] = field(default_factory=dict)  # embeddings, rerank (`operations:`)

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


def load_models(
    entries: Mapping[str, Mapping[str, Any]], origins: Mapping[str, str] | None, problems: list[str]
) -> dict[str, ProviderModel]:
    """Each resolved entry loaded by the schema into the spec model; problems (with paths) go to `problems`."""
    from marshmallow import ValidationError

    from .build import ModelLoader
    from .load import _flatten

    loader = ModelLoader()
    models: dict[str, ProviderModel] = {}
    for name, entry in entries.items():
        try:
            models[name] = loader.load(entry)
        except ValidationError as exc:
            where = origin_prefix(origins, f"providers.{name}")
            problems.extend(f"{where}.{path}: {message}" for path, message in _flatten(exc.messages, "", entry))
    return models


def compile_provider(
    name: str, model: ProviderModel, http_errors: Mapping[Any, str], origins: Mapping[str, str] | None = None
) -> ProviderSpec:
    """Compile one provider's model; raises SpecError naming the file(s) and the entry on any problem."""
    where = origin_prefix(origins, f"providers.{name}")
    response = model.response
    missing = [] if response is not None else ["response"]
    if model.endpoints.chat is None and not model.operations:
        missing.append("endpoints.chat")  # (a provider of operations only needs none)
    if not model.base_url and not model.base_url_env:
        missing.append("base_url (or base_url_env)")
    if missing or response is None:
        raise SpecError([f"{where}: missing {', '.join(missing)} (set it or extend a dialect that has it)"])
    try:
        reader = Reader(response)
        models_endpoint = model.endpoints.models
        builder = RequestBuilder(name, model)
        return ProviderSpec(
            name=name,
            description=model.description,
            docs=model.docs,
            builder=builder,
            reader=reader,
            stream=StreamRules(model.stream, response.finish_reasons, reader),
            errors=ErrorMapper(model.errors, http_errors, name),
            bare_names=model.bare_names,
            health_probe=model.health.probe or "chat",
            health_model=model.health.model,
            models_list_path=models_endpoint.list if models_endpoint else None,
            models_id_path=models_endpoint.id if models_endpoint else None,
            model=model,
            entry=model.raw,
            operations=_operations(name, model, builder, where),
        )
    except TemplateError as exc:
        raise SpecError([f"{where}: {exc}"]) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError([f"{where}: cannot compile: {exc!r}"]) from None


def _operations(name: str, model: ProviderModel, builder: RequestBuilder, where: str) -> dict[str, Operation]:
    """The provider's named operations, compiled on its connection; SpecError when a reader lacks a field
    its operation needs (an embeddings reader without `embedding`, a rerank reader without `score`)."""
    problems = []
    for kind, spec in model.operations.items():
        for variant_at, op in [("", spec), *((f".by_model[{i}]", v) for i, (_m, v) in enumerate(spec.variants))]:
            for needed in READER_NEEDS.get(kind, ()):
                if getattr(op.response, needed) is None:
                    problems.append(f"{where}.operations.{kind}{variant_at}.response.{needed}: missing (the "
                                    f"{kind} reader needs it)")
    if problems:
        raise SpecError(problems)
    return {kind: Operation(name, kind, spec, builder.connection) for kind, spec in model.operations.items()}


def compile_spec(
    models: Mapping[str, ProviderModel],
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
    for name, model in models.items():
        try:
            providers[name] = compile_provider(name, model, table, origins)
        except SpecError as exc:
            problems.extend(exc.problems)
            continue
        for model_name, entry in model.models.items():
            infos.append(model_info_from_spec(name, model_name, entry, model.pricing_source))
            if entry.route is not None and entry.route not in models:
                problems.append(f"providers.{name}.models.{model_name}.route: no provider named '{entry.route}'")
    for name, model in models.items():  # `models_from: other`: other's registry entries, under this name too
        source = models.get(model.models_from) if model.models_from else None
        if model.models_from and source is None:
            problems.append(f"providers.{name}.models_from: no provider named '{model.models_from}'")
        if model.responses_via and model.responses_via not in models:
            problems.append(f"providers.{name}.responses_via: no provider named '{model.responses_via}'")
        if source is None:
            continue
        for model_name, entry in source.models.items():
            if model_name not in model.models and entry.mode == "chat":  # embedding models are the source's own
                infos.append(model_info_from_spec(name, model_name, entry, source.pricing_source))
    for name, model in models.items():
        for index, (_prefix, target) in enumerate(model.routes):
            if target not in models:
                where = origin_prefix(origins, f"providers.{name}")
                problems.append(f"{where}.routes[{index}].provider: no provider named '{target}'")
    if problems and not collect:
        raise SpecError(problems)
    bare = [name for name, spec in providers.items() if spec.bare_names]
    return CompiledSpec(providers, Registry.build(infos, providers, bare), tuple(sources))
