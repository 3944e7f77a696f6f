"""Dotted paths into JSON values (`choices.0.message.content`), compiled once into key tuples."""

from __future__ import annotations

import functools
from typing import Any, Callable, Union

Key = Union[str, int]
Path = tuple[Key, ...]


class _Missing:
    """Sentinel for 'no value here', distinct from JSON null."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def compile_path(text: str) -> Path:
    """Split 'a.0.b' into ('a', 0, 'b'); an empty string or '.' is the root."""
    if text in ("", "."):
        return ()
    return tuple(int(part) if part.lstrip("-").isdigit() else part for part in text.split("."))


def get_path(value: Any, path: Path) -> Any:
    """The value at path, or MISSING where any step is absent or of the wrong type."""
    for key in path:
        if isinstance(value, dict):
            value = value.get(key, MISSING) if isinstance(key, str) else MISSING
        elif isinstance(value, list) and isinstance(key, int):
            try:
                value = value[key]
            except IndexError:
                return MISSING
        else:
            return MISSING
        if value is MISSING:
            return MISSING
    return value


def set_path(target: dict[str, Any], path: Path, value: Any) -> None:
    """Set value at path inside target, creating intermediate objects."""
    node = target
    for key in path[:-1]:
        child = node.get(key)  # type: ignore[call-overload,arg-type]
        if not isinstance(child, dict):
            child = {}
            node[key] = child  # type: ignore[index]
        node = child
    node[path[-1]] = value  # type: ignore[index]


_NO_DICT: Any = {}  # what a missing intermediate key reads as; never handed out, never mutated


def _compile_one(path: Path) -> Callable[[Any], Any]:
    """One path as a getter. All-string paths (the common case) chain `dict.get` calls: a missing key costs
    no exception, and a null or non-object step raises AttributeError, which reads as MISSING."""
    if not path or not all(isinstance(key, str) for key in path):
        return lambda value: get_path(value, path)
    if len(path) == 1:
        (a,) = path

        def get1(value: Any) -> Any:
            return value.get(a, MISSING) if isinstance(value, dict) else MISSING

        return get1
    if len(path) == 2:
        a, b = path

        def get2(value: Any) -> Any:
            try:
                return value.get(a, _NO_DICT).get(b, MISSING)
            except AttributeError:
                return MISSING

        return get2
    if len(path) == 3:
        a, b, c = path

        def get3(value: Any) -> Any:
            try:
                return value.get(a, _NO_DICT).get(b, _NO_DICT).get(c, MISSING)
            except AttributeError:
                return MISSING

        return get3
    *head, last = path

    def get_n(value: Any) -> Any:
        try:
            for key in head:
                value = value.get(key, _NO_DICT)
            return value.get(last, MISSING)
        except AttributeError:
            return MISSING

    return get_n


def _missing(_value: Any) -> Any:
    return MISSING


def make_getter(spec: str | list[str] | None) -> Callable[[Any], Any]:
    """Compile one path, or a list of paths tried in order, into value -> first non-null value or MISSING."""
    if spec is None:
        return _missing
    getters = [_compile_one(compile_path(p)) for p in ([spec] if isinstance(spec, str) else spec)]
    if len(getters) == 1:
        return getters[0]

    def get_first(value: Any) -> Any:
        for getter in getters:
            found = getter(value)
            if found is not MISSING and found is not None:
                return found
        return MISSING

    return get_first


def compile_fields(fields: list[str | list[str] | None]) -> Callable[[Any], tuple[Any, ...]]:
    """Compile several fields (each a path, a list of fallback paths, or None) into ONE function returning a
    tuple with each field's first non-null value (or MISSING).

    The function is generated Python source that walks the paths' common prefixes once (`delta` is fetched
    once for `delta.content` and `delta.role`): this is the per-chunk hot path of every stream. Providers
    that share a dialect share the same field lists, so compiled functions are shared too.
    """
    return _compile_fields(tuple(f if f is None or isinstance(f, str) else tuple(f) for f in fields))


@functools.cache
def _compile_fields(fields: tuple[str | tuple[str, ...] | None, ...]) -> Callable[[Any], tuple[Any, ...]]:
    trie: dict[Key, Any] = {}
    slots: list[list[str]] = []
    for index, field in enumerate(fields):
        alternatives = [] if field is None else [field] if isinstance(field, str) else list(field)
        names = []
        for alternative, text in enumerate(alternatives):
            name = f"s{index}_{alternative}"
            names.append(name)
            node = trie
            for key in compile_path(text):
                node = node.setdefault(key, {})
            node.setdefault(None, []).append(name)  # type: ignore[call-overload]
        slots.append(names)
    every = [name for names in slots for name in names]
    lines = ["def read_fields(o):"]
    if every:
        lines.append(f"    {' = '.join(every)} = None")
    _emit(trie, "o", 1, lines, iter(range(1_000_000)))
    results = []
    for names in slots:
        expression = "MISSING"
        for name in reversed(names):
            expression = f"({name} if {name} is not None else {expression})"
        results.append(expression)
    lines.append(f"    return ({', '.join(results)}{',' if len(results) == 1 else ''})")
    namespace: dict[str, Any] = {"MISSING": MISSING}
    exec(compile("\n".join(lines), "<litellm_sync fields>", "exec"), namespace)
    return namespace["read_fields"]  # type: ignore[no-any-return]


def _emit(node: dict[Key, Any], var: str, depth: int, lines: list[str], counter: Any) -> None:
    """Emit code reading node's children out of the variable `var` (of unknown type)."""
    pad = "    " * depth
    for name in node.get(None, ()):  # type: ignore[call-overload]
        lines.append(f"{pad}{name} = {var}")
    by_kind = (
        ("dict", [k for k in node if isinstance(k, str)]),
        ("list", [k for k in node if isinstance(k, int)]),
    )
    for kind, keys in by_kind:
        if not keys:
            continue
        lines.append(f"{pad}if {var}.__class__ is {kind}:")
        for key in keys:
            child = f"t{next(counter)}"
            if kind == "dict":
                lines.append(f"{pad}    {child} = {var}.get({key!r})")
            else:
                lines.append(f"{pad}    {child} = {var}[{key}] if -len({var}) <= {key} < len({var}) else None")
            _emit(node[key], child, depth + 1, lines, counter)
