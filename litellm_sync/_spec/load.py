"""Reading providers YAML: parse, validate each file, merge files in order, resolve `extends`.

Merge rules (files over the bundled spec, and an entry over the one it extends): mappings merge key by
key, any other value replaces, and null deletes the key. Error `rules` accumulate instead: the
overriding entry's rules are tried first, then the inherited ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
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


def _cache_dir() -> Path | None:
    """Where validated specs are cached by content hash; LITELLM_SYNC_CACHE_DIR=off disables it."""
    configured = os.environ.get("LITELLM_SYNC_CACHE_DIR")
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "litellm_sync"


def _schema_tag() -> bytes:
    # The cache is only valid for the schema that validated it.
    return (Path(__file__).parent / "schema.py").read_bytes()


def _cached(text: bytes) -> tuple[Path | None, dict[str, Any] | None]:
    """A spec file's validated data from the cache (by content hash), and the cache path to write."""
    directory = _cache_dir()
    if directory is None:
        return None, None
    digest = hashlib.sha256(_schema_tag() + b"\0" + text).hexdigest()
    path = directory / f"spec-{digest}.json"
    try:
        return path, json.loads(path.read_bytes())
    except (OSError, ValueError):
        return path, None


def _store(path: Path | None, data: Mapping[str, Any]) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data, default=str), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        pass  # a read-only home only costs speed


def read_source(source: Any) -> tuple[str, dict[str, Any]]:
    """Parse one source (a path, or an already-parsed mapping) into (name, data)."""
    if isinstance(source, Mapping):
        return "<dict>", dict(source)
    name = os.fspath(source)
    try:
        text = Path(name).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([f"{name}: cannot read: {getattr(exc, 'strerror', None) or exc}"]) from None
    import yaml  # imported on a cache miss only: parsing YAML is the slow part of a load

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError([f"{name}: {where}invalid YAML: {problem}"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError([f"{name}: the top level must be a mapping with 'providers' (and 'dialects')"])
    return name, data


def validate_file(name: str, data: Mapping[str, Any]) -> list[str]:
    """Every schema problem of one file, as 'file: dotted.path: message'."""
    from .schema import SpecFileSchema, validate_tool_calls  # marshmallow loads only when a file is validated

    checked = _without_nulls(data)
    errors = SpecFileSchema().validate(checked)
    problems = [f"{name}: {path}: {message}" for path, message in _flatten(errors, "", checked)]
    for section in ("dialects", "providers"):
        entries = data.get(section)
        if not isinstance(entries, Mapping):
            continue
        for entry_name, entry in entries.items():
            choice = (((entry or {}).get("response") or {}).get("choice") or {}) if isinstance(entry, dict) else {}
            if "tool_calls" in choice:
                where = f"{section}.{entry_name}.response.choice.tool_calls"
                problems.extend(f"{name}: {where}{p}" for p in validate_tool_calls(choice["tool_calls"]))
            if isinstance(entry, dict):
                problems.extend(
                    f"{name}: {section}.{entry_name}.{path}: {message}" for path, message in template_problems(entry)
                )
    return problems


def template_problems(entry: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every template in one entry that does not compile, as (dotted path inside the entry, message)."""
    from .._engine.template import TemplateError, compile_template

    found: list[tuple[str, Any]] = []

    def add(path: str, value: Any) -> None:
        if value is not None:
            found.append((path, value))

    def add_each(path: str, mapping: Any) -> None:
        if isinstance(mapping, Mapping):
            for key, value in mapping.items():
                add(f"{path}.{key}", value)

    def add_rule(path: str, rule: Any) -> None:
        if not isinstance(rule, Mapping):
            return
        for key in ("template", "default"):
            if key in rule:
                add(f"{path}.{key}", rule[key])
        for key in ("map", "set", "headers"):
            add_each(f"{path}.{key}", rule.get(key))
        for case, sub in (rule.get("cases") or {}).items() if isinstance(rule.get("cases"), Mapping) else ():
            add_rule(f"{path}.cases.{case}", sub)

    for key in ("body", "stream_body"):
        add(key, entry.get(key))
    add("auth.value", (entry.get("auth") or {}).get("value") if isinstance(entry.get("auth"), Mapping) else None)
    add_each("headers", entry.get("headers"))
    endpoints = entry.get("endpoints")
    for endpoint_name, endpoint in (endpoints or {}).items() if isinstance(endpoints, Mapping) else ():
        if isinstance(endpoint, Mapping):
            where = f"endpoints.{endpoint_name}"
            for key in ("path", "stream_path"):
                add(f"{where}.{key}", endpoint.get(key))
            add_each(f"{where}.query", endpoint.get("query"))
            add_each(f"{where}.stream_query", endpoint.get("stream_query"))
    messages = entry.get("messages")
    if isinstance(messages, Mapping):
        add("messages.message", messages.get("message"))
        for kind, rule in (messages.get("parts") or {}).items() if isinstance(messages.get("parts"), Mapping) else ():
            rules = rule if isinstance(rule, list) else [rule]
            for index, item in enumerate(rules):
                where = f"messages.parts.{kind}" + (f"[{index}]" if isinstance(rule, list) else "")
                is_slot = isinstance(item, Mapping) and "template" in item and set(item) <= {"template", "slot"}
                add(f"{where}.template" if is_slot else where, item["template"] if is_slot else item)
    params = entry.get("params")
    for param, rule in (params or {}).items() if isinstance(params, Mapping) else ():
        add_rule(f"params.{param}", rule)
    problems = []
    for path, raw in found:
        try:
            compile_template(raw)
        except TemplateError as exc:
            problems.append((path, str(exc)))
        except (TypeError, ValueError, AttributeError) as exc:
            problems.append((path, f"not a valid template: {exc}"))
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


def load_layers(sources: list[Any], origins: dict[str, str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Read, validate and merge the bundled spec and the given sources; the names of what was read.

    When `origins` is given it is filled with 'section.entry' -> the files that define or change that entry,
    so later problems (extends, compile) can name the file.
    """
    merged: dict[str, Any] = {}
    names: list[str] = []
    problems: list[str] = []
    for source in [bundled_spec_path(), *sources]:
        cache_path, data = (None, None)
        if not isinstance(source, Mapping):
            with contextlib.suppress(OSError):
                cache_path, data = _cached(Path(source).read_bytes())
        if data is not None:
            names.append(os.fspath(source))
            _note_origins(origins, os.fspath(source), data)
            merged = merge(merged, data)
            continue
        name, data = read_source(source)
        names.append(name)
        file_problems = validate_file(name, data)
        problems.extend(file_problems)
        if not file_problems:
            _store(cache_path, data)
            _note_origins(origins, name, data)
            merged = merge(merged, data)
    if problems:
        raise SpecError(problems)
    return merged, names


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


def resolve_entries(merged: Mapping[str, Any], origins: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """Every provider with its `extends` chain applied (dialects and providers share one namespace)."""
    dialects = merged.get("dialects") or {}
    providers = merged.get("providers") or {}
    problems = [
        f"{origin_prefix(origins, f'providers.{name}')}: '{name}' is both a dialect and a provider: rename one"
        for name in sorted(set(dialects) & set(providers))
    ]
    entries = {**dialects, **providers}
    resolved: dict[str, dict[str, Any]] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> dict[str, Any]:
        if name in resolved:
            return resolved[name]
        entry = entries[name] or {}
        parent = entry.get("extends")
        if parent is None:
            result = dict(entry)
        elif parent in chain or parent == name:
            cycle = " -> ".join((*chain, name, parent))
            problems.append(f"{origin_prefix(origins, _where(name, dialects))}.extends: cycle {cycle}")
            result = dict(entry)
        elif parent not in entries:
            deleted = _deleted_by(origins, parent)
            if deleted is not None:
                source, path = deleted
                problems.append(f"{source}: {path}: set to null, but {_where(name, dialects)} extends '{parent}'")
            else:
                known = ", ".join(sorted(entries))
                where = origin_prefix(origins, _where(name, dialects))
                problems.append(f"{where}.extends: unknown entry '{parent}' (known: {known})")
            result = dict(entry)
        else:
            result = merge(resolve(parent, (*chain, name)), entry)
        resolved[name] = result
        return result

    for name in entries:
        resolve(name, ())
    if problems:
        raise SpecError(problems)
    return {name: resolved[name] for name in providers}


def _where(name: str, dialects: Mapping[str, Any]) -> str:
    return f"dialects.{name}" if name in dialects else f"providers.{name}"
