"""Reading providers YAML: read each file (bounded), parse and validate it, merge files in order, resolve
`extends`; every problem of every phase is collected for one report.

Merge rules (files over the bundled spec, and an entry over the one it extends): mappings merge key by
key, any other value replaces, and null deletes the key. Error `rules` accumulate instead: the
overriding entry's rules are tried first, then the inherited ones.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..exceptions import SpecError

BUNDLED = "providers.yaml"
ENV_VAR = "LITELLM_SYNC_PROVIDERS"


def bundled_spec_path() -> Path:
    """The providers.yaml shipped in the package, or the repository's copy in a source checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / BUNDLED, here.parent / BUNDLED):
        if candidate.is_file():
            return candidate
    raise SpecError([f"{BUNDLED}: not found next to the package; reinstall litellm_sync"])


def user_spec_paths(providers: str | os.PathLike[str] | Iterable[Any] | Mapping[str, Any] | None) -> list[Any]:
    """Sources to layer over the bundled spec: the argument, else LITELLM_SYNC_PROVIDERS (os.pathsep list)."""
    if providers is None:
        env = os.environ.get(ENV_VAR, "")
        return [p for p in env.split(os.pathsep) if p.strip()]
    if isinstance(providers, (str, os.PathLike, Mapping)):
        return [providers]
    return list(providers)


MAX_BYTES_ENV = "LITELLM_SYNC_MAX_SPEC_BYTES"
DEFAULT_MAX_BYTES = 2 * 1024 * 1024  # 20 times the bundled spec; parsing 2 MiB takes about 3 s
MAX_VALUES_ENV = "LITELLM_SYNC_MAX_SPEC_VALUES"
DEFAULT_MAX_VALUES = 1_000_000
MAX_DEPTH = 64


def _limit(variable: str, default: int) -> int:
    """A positive integer limit from the environment, else the default."""
    raw = os.environ.get(variable, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise SpecError([f"{variable}={raw!r} is not a whole number of bytes or values"]) from None
    if value <= 0:
        raise SpecError([f"{variable}={raw!r} must be a positive number"])
    return value


def read_files(sources: list[Any]) -> tuple[list[tuple[str, Any]], list[str]]:
    """Each source as (name, bytes) or (name, mapping), and the problems of those that cannot be read.

    A file is read up to the size limit (LITELLM_SYNC_MAX_SPEC_BYTES, 2 MiB by default) and no further."""
    limit = _limit(MAX_BYTES_ENV, DEFAULT_MAX_BYTES)
    files: list[tuple[str, Any]] = []
    problems: list[str] = []
    for source in sources:
        if isinstance(source, Mapping):
            files.append(("<dict>", source))
            continue
        name = os.fspath(source)
        try:
            with open(name, "rb") as handle:
                content = handle.read(limit + 1)
        except OSError as exc:
            problems.append(f"{name}: cannot read: {exc.strerror or exc}")
            continue
        if len(content) > limit:
            problems.append(
                f"{name}: larger than the {limit:,}-byte limit for a spec file; split it into several files, or "
                f"raise the limit with the environment variable {MAX_BYTES_ENV}=<bytes>"
            )
            continue
        files.append((name, content))
    return files, problems


def parse(name: str, content: Any) -> tuple[dict[str, Any] | None, list[str]]:
    """One file's data (YAML parsed, or a mapping as given), checked for size after alias expansion."""
    if isinstance(content, Mapping):
        data: Any = dict(content)
    else:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            return None, [f"{name}: cannot read: not UTF-8 text ({exc.reason} at byte {exc.start})"]
        import yaml  # imported on a cache miss only: parsing YAML is a slow part of a load

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        try:
            data = yaml.load(text, Loader=loader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
            problem = getattr(exc, "problem", None) or str(exc)
            return None, [f"{name}: {where}invalid YAML: {problem}"]
        except RecursionError:
            return None, [f"{name}: invalid YAML: nested too deeply"]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [f"{name}: the top level must be a mapping with 'providers' (and 'dialects')"]
    problem = _shape_problem(data, _limit(MAX_VALUES_ENV, DEFAULT_MAX_VALUES))
    if problem:
        return None, [f"{name}: {problem}"]
    return data, []


class _Shape(Exception):
    pass


def _shape_problem(data: Any, budget: int) -> str | None:
    """Why a parsed file is unsafe to walk: more values than the budget once YAML aliases are expanded (a
    "billion laughs" file is tiny but expands to billions), an alias cycle, or too deep a nesting.

    Sizes are counted per distinct node (aliases share one object), so the count itself is cheap."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(value: Any, depth: int) -> int:
        if not isinstance(value, (dict, list)):
            return 1
        key = id(value)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _Shape("a YAML alias refers to a node that contains it; remove the cycle")
        if depth > MAX_DEPTH:
            raise _Shape(f"nested more than {MAX_DEPTH} levels deep")
        active.add(key)
        total = 1
        for item in value.values() if isinstance(value, dict) else value:
            total += 1 + size(item, depth + 1)
            if total > budget:
                raise _Shape(
                    f"more than {budget:,} values, counting each repetition made by a YAML alias; use fewer "
                    f"aliases or split the file, or raise the limit with the environment variable {MAX_VALUES_ENV}=<n>"
                )
        active.discard(key)
        sizes[key] = total
        return total

    try:
        size(data, 0)
    except _Shape as exc:
        return str(exc)
    return None


def validate_file(name: str, data: Mapping[str, Any], names: Any = None) -> list[tuple[str, str]]:
    """Every schema and template problem of one file, as (dotted path, message) pairs."""
    from .schema import SpecFileSchema  # marshmallow loads only when a file is validated
    from .templates import Names, template_problems

    names = names if names is not None else Names.declared_in([data])
    checked = _without_nulls(data)
    errors = SpecFileSchema().validate(checked)
    problems = _flatten(errors, "", checked)
    for section in ("dialects", "providers"):
        entries = data.get(section)
        if not isinstance(entries, Mapping):
            continue
        for entry_name, entry in entries.items():
            if isinstance(entry, dict):
                problems.extend(
                    (f"{section}.{entry_name}.{path}", message) for path, message in template_problems(entry, names)
                )
    return problems


def _flatten(errors: Any, prefix: str = "", data: Any = None) -> list[tuple[str, str]]:
    """marshmallow's nested error dict as (path, message) pairs, walked beside the data it describes so that
    list positions read `[n]` and mapping keys (numbers included) read `.key`."""
    out: list[tuple[str, str]] = []
    if isinstance(errors, dict):
        for key, value in errors.items():
            is_field = isinstance(data, dict) and key in data
            if key == "_schema" or (key == "value" and prefix and not is_field):
                out.extend(_flatten(value, prefix, data))  # a mapping entry's value: same path
                continue
            if key == "key" and not is_field:
                out.extend(_flatten(value, f"{prefix} (key)"))
                continue
            if isinstance(data, list) and isinstance(key, int):
                child = data[key] if key < len(data) else None
                path = f"{prefix}[{key}]"
            else:
                child = data.get(key) if isinstance(data, dict) else None
                path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(_flatten(value, path, child))
    elif isinstance(errors, list):
        for item in errors:
            if isinstance(item, (dict, list)):
                out.extend(_flatten(item, prefix, data))
            else:
                out.append((prefix or "(top)", str(item)))
    else:
        out.append((prefix or "(top)", str(errors)))
    return out


def _without_nulls(value: Any) -> Any:
    """A copy without null mapping values: in a layered file, null means 'delete this key', not a value."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def merge(base: Any, override: Any) -> Any:
    """Deep-merge override into a copy of base (see the module docstring for the rules)."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override
    out = dict(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif key == "rules" and isinstance(value, list) and isinstance(base.get(key), list):
            out[key] = value + base[key]
        else:
            out[key] = merge(base.get(key), value)
    return out


class Layers:
    """The files of a load merged in order, with what the later phases need to report problems."""

    def __init__(self) -> None:
        self.merged: dict[str, Any] = {}
        self.names: list[str] = []
        self.origins: dict[str, str] = {}  # 'section.entry' -> the files that define or change it
        self.broken: set[str] = set()  # 'section.entry' with problems: not compiled (nor what extends them)
        self.complete = True  # False when a file could not be read or parsed at all


def load_layers(files: list[tuple[str, Any]], problems: list[str]) -> Layers:
    """Parse, validate and merge the files in order, adding every problem found to `problems`.

    A file with problems is still merged (so that `extends` and the other entries can be checked too), but
    the entries with problems are marked broken and top-level keys with problems are left out."""
    from .templates import Names

    layers = Layers()
    parsed: list[tuple[str, dict[str, Any]]] = []
    for name, content in files:
        layers.names.append(name)
        data, file_problems = parse(name, content)
        problems.extend(file_problems)
        if data is None:
            layers.complete = False
        else:
            parsed.append((name, data))
    names = Names.declared_in(data for _, data in parsed)
    for name, data in parsed:
        bad_top: set[str] = set()
        for path, message in validate_file(name, data, names):
            problems.append(f"{name}: {path}: {message}")
            head, _, rest = path.partition(".")
            entry = rest.split(".", 1)[0].split("[", 1)[0].split(" ", 1)[0]
            if head in ("dialects", "providers") and entry and isinstance(data.get(head), dict) and entry in data[head]:
                layers.broken.add(f"{head}.{entry}")
            else:
                bad_top.add(head.split("[", 1)[0].split(" ", 1)[0])
        usable = {key: value for key, value in data.items() if key not in bad_top}
        _note_origins(layers.origins, name, usable)
        layers.merged = merge(layers.merged, usable)
    return layers


def _note_origins(origins: dict[str, str] | None, name: str, data: Mapping[str, Any]) -> None:
    if origins is None:
        return
    for section in ("dialects", "providers"):
        if section in data and data[section] is None:
            origins[f"deleted:{section}"] = name  # null deletes the whole section
        for entry, value in (data.get(section) or {}).items():
            key = f"{section}.{entry}"
            if value is None:
                origins[f"deleted:{key}"] = name
            origins[key] = f"{origins[key]}, {name}" if key in origins else name


def _deleted_by(origins: Mapping[str, str] | None, entry: str) -> tuple[str, str] | None:
    """(file, path) of the layer that deleted an entry with null, if one did."""
    for section in ("dialects", "providers"):
        for key in (f"deleted:{section}.{entry}", f"deleted:{section}"):
            if origins and key in origins:
                return origins[key], key.split(":", 1)[1]
    return None


def origin_prefix(origins: Mapping[str, str] | None, where: str) -> str:
    """'file: section.entry' for a problem in one entry: the files that define or change it."""
    source = (origins or {}).get(where)
    return f"{source}: {where}" if source else where


def resolve_entries(layers: Layers, problems: list[str]) -> dict[str, dict[str, Any]]:
    """Every provider with its `extends` chain applied (dialects and providers share one namespace).

    Problems go into `problems`; providers that are broken, or extend a broken entry, are left out."""
    merged, origins = layers.merged, layers.origins
    dialects = merged.get("dialects") or {}
    providers = merged.get("providers") or {}
    problems.extend(
        f"{origin_prefix(origins, f'providers.{name}')}: '{name}' is both a dialect and a provider: rename one"
        for name in sorted(set(dialects) & set(providers))
    )
    entries = {**dialects, **providers}
    resolved: dict[str, tuple[dict[str, Any], bool]] = {}  # name -> (entry, usable)

    def resolve(name: str, chain: tuple[str, ...]) -> tuple[dict[str, Any], bool]:
        if name in resolved:
            return resolved[name]
        entry = entries[name] if isinstance(entries[name], dict) else {}
        usable = _where(name, dialects) not in layers.broken
        parent = entry.get("extends")
        if not isinstance(parent, str):
            result = (dict(entry), usable)
        elif parent in chain or parent == name:
            cycle = " -> ".join((*chain, name, parent))
            problems.append(f"{origin_prefix(origins, _where(name, dialects))}.extends: cycle {cycle}")
            result = (dict(entry), False)
        elif parent not in entries:
            deleted = _deleted_by(origins, parent)
            if deleted is not None:
                source, path = deleted
                problems.append(f"{source}: {path}: set to null, but {_where(name, dialects)} extends '{parent}'")
            elif layers.complete:  # else the entry may be in the file that could not be read
                known = ", ".join(sorted(entries))
                where = origin_prefix(origins, _where(name, dialects))
                problems.append(f"{where}.extends: unknown entry '{parent}' (known: {known})")
            result = (dict(entry), False)
        else:
            base, base_usable = resolve(parent, (*chain, name))
            result = (merge(base, entry), usable and base_usable)
        resolved[name] = result
        return result

    for name in entries:
        resolve(name, ())
    return {name: resolved[name][0] for name in providers if resolved[name][1]}


def _where(name: str, dialects: Mapping[str, Any]) -> str:
    return f"dialects.{name}" if name in dialects else f"providers.{name}"
