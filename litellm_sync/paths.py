"""Dotted paths into JSON values (`choices.0.message.content`), compiled once into key tuples."""

from __future__ import annotations

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
        child = node.get(key)  # type: ignore[call-overload]
        if not isinstance(child, dict):
            child = {}
            node[key] = child  # type: ignore[index]
        node = child
    node[path[-1]] = value  # type: ignore[index]


def make_getter(spec: str | list[str] | None) -> Callable[[Any], Any]:
    """Compile one path, or a list of paths tried in order, into value -> first non-null value or MISSING."""
    if spec is None:
        return lambda _value: MISSING
    paths = [compile_path(p) for p in ([spec] if isinstance(spec, str) else spec)]
    if len(paths) == 1:
        (only,) = paths
        if len(only) == 1:
            (key,) = only

            def get_one_key(value: Any) -> Any:
                return value.get(key, MISSING) if isinstance(value, dict) else get_path(value, only)

            return get_one_key
        return lambda value: get_path(value, only)

    def get_first(value: Any) -> Any:
        for path in paths:
            found = get_path(value, path)
            if found is not MISSING and found is not None:
                return found
        return MISSING

    return get_first
