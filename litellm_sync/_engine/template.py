"""The template language of providers.yaml, compiled once into functions of a context.

A template is any YAML value. At call time it is evaluated against a context (a mapping of names):

- ``"$name.path"``: the value of context ``name`` at a dotted path; null or absent values are *missing*.
- ``"text ${name.path} text"``: string interpolation; missing if any reference is missing.
- ``"$omit"``: always missing. ``"$$x"`` is the literal string ``"$x"``.
- a mapping or list: built item by item; missing items are left out, and a mapping or list that had items
  in the template but ends up empty is itself missing (so optional objects vanish as a whole).
- directives, mappings whose first key starts with ``$``:
  ``{$first: [t1, t2]}`` the first non-missing value; ``{$each: t, do: t}`` maps ``do`` over a list with
  ``$item`` (and ``$index``) bound, or over a mapping's entries with ``$key`` and ``$item`` (the value);
  ``{$slice: t, from: 0, to: -1}`` a list's slice (Python's rules; empty is missing); ``{$json: t}`` JSON
  text of a value; ``{$parse_json: t}`` JSON text parsed (other values pass through);
  ``{$if: t, then: t, else: t}``; ``{$join: t, sep: ""}`` joins a list of strings; ``{$concat: [t1, t2]}``
  joins lists; ``{$map: t, cases: {value: t}, default: t}`` picks a template by a value (``image/png`` ->
  ``png``); ``{$drop_keywords: t, keywords: [minimum], note: true}`` a JSON Schema without those keywords in
  any of its nodes (with note, each dropped constraint is appended to its node's description);
  ``{$splice: t}`` several values in place of one: in a list (a list template, ``$each``, ``$concat``, a
  message part rule's slot) the items of ``t`` are added one by one; ``{$refuse: "reason"}``
  raises UnsupportedParamsError with the reason when evaluated (a message part a provider cannot take);
  ``{$eq: [t1, t2]}`` true when both are present and equal, else false (for ``$if`` inside ``$each``: a filter).

Anything else is a literal. Literal mappings and lists are copied per evaluation, so the engine may write
into what a template returns.

Compiled with a `scope` (the names its place in the spec offers), a reference to any other name is a
TemplateError that suggests the closest known name; so is a `${` that does not close over a valid name.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Mapping
from typing import Any, Callable, Optional

from ..exceptions import UnsupportedParamsError
from .paths import MISSING, compile_path, get_path

Context = Mapping[str, Any]
Template = Callable[[Context], Any]

_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][\w.\-]*)\}")
_NAME = re.compile(r"[A-Za-z_]\w*\Z")
Scope = Optional[Collection[str]]
_DIRECTIVES = ("$first", "$each", "$json", "$parse_json", "$if", "$join", "$concat", "$map", "$slice", "$splice",
               "$refuse", "$drop_keywords", "$eq")
_OPTIONS = {"$each": {"do"}, "$if": {"then", "else"}, "$join": {"sep"}, "$map": {"cases", "default"},
            "$slice": {"from", "to"}, "$drop_keywords": {"keywords", "note"}}


class TemplateError(ValueError):
    """A template that cannot be compiled; the message says which part and why."""


class TemplateRefusal(UnsupportedParamsError):
    """Raised by `{$refuse: "reason"}` when evaluated: the spec says the value it stands for cannot be sent."""


class Splice(list):  # type: ignore[type-arg]
    """The value of `{$splice: t}`: a list whose items a containing list takes one by one."""

    __slots__ = ()


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON-shaped value (faster than copy.deepcopy for plain data)."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


def is_static(raw: Any) -> bool:
    """True when a template has no references or directives, so it always yields the same value."""
    if isinstance(raw, str):
        return not raw.startswith("$") and "${" not in raw
    if isinstance(raw, dict):
        return all(isinstance(k, str) and not k.startswith("$") and is_static(v) for k, v in raw.items())
    if isinstance(raw, list):
        return all(is_static(v) for v in raw)
    return True


def compile_template(raw: Any, scope: Scope = None) -> Template:
    """Compile a YAML value into a function of a context; raises TemplateError when malformed, or when it
    reads a name outside `scope` (when one is given)."""
    if is_static(raw):
        if isinstance(raw, str) and raw.startswith("$$"):
            raw = raw[1:]
        if isinstance(raw, (dict, list)):
            return lambda _ctx: copy_json(raw)
        return lambda _ctx: raw
    if isinstance(raw, str):
        return _compile_string(raw, scope)
    if isinstance(raw, dict):
        first = next(iter(raw))
        if isinstance(first, str) and first.startswith("$"):
            return _compile_directive(raw, scope)
        return _compile_mapping(raw, scope)
    return _compile_list(raw, scope)


def reads_name(raw: Any, name: str) -> bool:
    """Whether a (raw) template reads the variable `name` anywhere (`$name`, `$name.path`, `${name}`)."""
    if isinstance(raw, str):
        if raw.startswith("$$"):
            return False
        if raw.startswith("$") and "${" not in raw:
            return raw[1:].partition(".")[0] == name
        return any(ref.partition(".")[0] == name for ref in _INTERPOLATION.findall(raw))
    if isinstance(raw, dict):
        return any(reads_name(v, name) for v in raw.values())
    if isinstance(raw, list):
        return any(reads_name(v, name) for v in raw)
    return False


def unknown_name(name: str, known: Collection[str]) -> str:
    """'unknown variable ...' with the closest known name suggested and the known ones listed."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if not close:
        close = [k for k in known if k.replace("_", "") == name.replace("_", "").lower()][:1]
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown variable '{name}'{hint}; known here: {', '.join(sorted(known))}"


def _compile_reference(ref: str, scope: Scope, raw: str) -> Template:
    name, _, rest = ref.partition(".")
    if not _NAME.match(name):
        raise TemplateError(f"{raw!r}: '${ref}' is not a reference to a name; write $$ for a literal '$'")
    if scope is not None and name not in scope:
        raise TemplateError(f"{raw!r}: {unknown_name(name, scope)}")
    path = compile_path(rest) if rest else ()

    def reference(ctx: Context) -> Any:
        value = ctx.get(name, MISSING)
        if path and value is not MISSING:
            value = get_path(value, path)
        return MISSING if value is None else value

    return reference


def _compile_string(raw: str, scope: Scope) -> Template:
    if raw == "$omit":
        return lambda _ctx: MISSING
    if raw.startswith("$$"):
        literal = raw[1:]
        return lambda _ctx: literal
    if raw.startswith("$") and "${" not in raw:
        return _compile_reference(raw[1:], scope, raw)
    pieces = _INTERPOLATION.split(raw)
    if any("${" in literal for literal in pieces[::2]):
        raise TemplateError(f"{raw!r}: a '${{' is not closed over a name; write ${{name}} or ${{name.path}}")
    getters: list[Template | str] = [
        _compile_reference(piece, scope, raw) if i % 2 else piece for i, piece in enumerate(pieces)
    ]

    def interpolate(ctx: Context) -> Any:
        out = []
        for piece in getters:
            if isinstance(piece, str):
                out.append(piece)
                continue
            value = piece(ctx)
            if value is MISSING:
                return MISSING
            out.append(value if isinstance(value, str) else json.dumps(value))
        return "".join(out)

    return interpolate


def _compile_mapping(raw: dict[str, Any], scope: Scope) -> Template:
    items = [(key, compile_template(value, scope)) for key, value in raw.items()]

    def mapping(ctx: Context) -> Any:
        out = {}
        for key, template in items:
            value = template(ctx)
            if value is not MISSING:
                out[key] = value
        return out if out else MISSING

    return mapping


def _compile_list(raw: list[Any], scope: Scope) -> Template:
    items = [compile_template(value, scope) for value in raw]

    def sequence(ctx: Context) -> Any:
        out: list[Any] = []
        for template in items:
            value = template(ctx)
            if isinstance(value, Splice):
                out.extend(value)
            elif value is not MISSING:
                out.append(value)
        return out if out else MISSING

    return sequence


def _compile_directive(raw: dict[str, Any], scope: Scope) -> Template:
    name = next(iter(raw))
    options = {k: v for k, v in raw.items() if k != name}
    allowed = _OPTIONS.get(name, set())
    if name not in _DIRECTIVES:
        raise TemplateError(f"unknown directive {name!r}; known: {', '.join(_DIRECTIVES)}")
    extra = set(options) - allowed
    if extra:
        raise TemplateError(f"{name} does not take {', '.join(sorted(extra))}")
    argument = raw[name]
    if name == "$first":
        if not isinstance(argument, list):
            raise TemplateError("$first takes a list of templates")
        return _first([compile_template(t, scope) for t in argument])
    if name == "$concat":
        if not isinstance(argument, list):
            raise TemplateError("$concat takes a list of templates")
        return _concat([compile_template(t, scope) for t in argument])
    if name == "$eq":
        if not isinstance(argument, list) or len(argument) != 2:
            raise TemplateError("$eq takes a list of two templates: {$eq: [$item.name, $value.name]}")
        left, right = (compile_template(t, scope) for t in argument)
        return lambda ctx: (a := left(ctx)) is not MISSING and a == right(ctx)
    if name == "$refuse":
        if not isinstance(argument, str) or not argument.strip():
            raise TemplateError("$refuse takes the reason as a string (what cannot be sent, and what to do instead)")
        return _refuse(argument)
    inner = compile_template(argument, scope)
    if name == "$each":
        if "do" not in options:
            raise TemplateError("$each needs a 'do' template")
        inside = None if scope is None else {*scope, "item", "index", "key"}
        return _each(inner, compile_template(options["do"], inside))
    if name == "$splice":
        return lambda ctx: _apply(inner(ctx), _splice)
    if name == "$json":
        return lambda ctx: _apply(inner(ctx), lambda v: json.dumps(v, separators=(",", ":")))
    if name == "$parse_json":
        return lambda ctx: _apply(inner(ctx), _parse_json)
    if name == "$slice":
        start, stop = options.get("from"), options.get("to")
        bounds = [bound for bound in (start, stop) if bound is not None]
        if any(not isinstance(bound, int) or isinstance(bound, bool) for bound in bounds):
            raise TemplateError("$slice takes integer 'from' and 'to' (negative counts from the end)")
        return lambda ctx: _apply(inner(ctx), lambda v: (v[start:stop] or MISSING) if isinstance(v, list) else v)
    if name == "$drop_keywords":
        from .jsonschema import drop_keywords

        keywords = options.get("keywords")
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise TemplateError("$drop_keywords takes 'keywords': a list of JSON Schema keywords")
        dropped, note = frozenset(keywords), bool(options.get("note", False))
        return lambda ctx: _apply(inner(ctx), lambda v: drop_keywords(v, dropped, note))
    if name == "$map":
        return _map(inner, options.get("cases"), compile_template(options.get("default", "$omit"), scope), scope)
    if name == "$join":
        sep = str(options.get("sep", ""))
        return lambda ctx: _apply(inner(ctx), lambda v: sep.join(v) if isinstance(v, list) else str(v))
    then = compile_template(options.get("then", "$omit"), scope)
    otherwise = compile_template(options.get("else", "$omit"), scope)
    return lambda ctx: then(ctx) if inner(ctx) not in (MISSING, False) else otherwise(ctx)


def _map(source: Template, cases: Any, default: Template, scope: Scope) -> Template:
    """`{$map: t, cases: {value: template}, default: t}`: the case named by the value (a string, or a scalar's
    JSON text: `true`, `3`), else `default` (missing if none)."""
    if not isinstance(cases, dict) or not cases:
        raise TemplateError("$map needs 'cases': a mapping from values to templates")
    table = {str(k) if isinstance(k, str) else json.dumps(k): compile_template(v, scope) for k, v in cases.items()}

    def lookup(ctx: Context) -> Any:
        value = source(ctx)
        if value is MISSING:
            return MISSING
        if isinstance(value, str):
            chosen = table.get(value)
        else:
            chosen = table.get(json.dumps(value)) if isinstance(value, (bool, int, float)) else None
        return (chosen or default)(ctx)

    return lookup


def _splice(value: Any) -> Any:
    items = value if isinstance(value, list) else [value]
    return Splice(items) if items else MISSING


def _refuse(reason: str) -> Template:
    def refuse(_ctx: Context) -> Any:
        raise TemplateRefusal(reason)

    return refuse


def _apply(value: Any, function: Callable[[Any], Any]) -> Any:
    return MISSING if value is MISSING else function(value)


def _parse_json(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if not value.strip():
        return {}
    try:
        return json.loads(value)
    except ValueError:
        return value


def _first(options: list[Template]) -> Template:
    def first(ctx: Context) -> Any:
        for template in options:
            value = template(ctx)
            if value is not MISSING:
                return value
        return MISSING

    return first


def _concat(parts: list[Template]) -> Template:
    def concat(ctx: Context) -> Any:
        out: list[Any] = []
        for template in parts:
            value = template(ctx)
            if isinstance(value, list):
                out.extend(value)
            elif value is not MISSING:
                out.append(value)
        return out if out else MISSING

    return concat


def _each(source: Template, body: Template) -> Template:
    def each(ctx: Context) -> Any:
        items = source(ctx)
        if items is MISSING:
            return MISSING
        if isinstance(items, dict):  # a mapping: $key and $item (the value) per entry, in order
            pairs = list(items.items())
        else:
            pairs = [(None, item) for item in (items if isinstance(items, list) else [items])]
        out: list[Any] = []
        for index, (key, item) in enumerate(pairs):
            value = body({**ctx, "item": item, "index": index, "key": key})
            if isinstance(value, Splice):
                out.extend(value)
            elif value is not MISSING:
                out.append(value)
        return out if out else MISSING

    return each
