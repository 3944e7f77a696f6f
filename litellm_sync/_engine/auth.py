"""Auth mechanisms: a spec's `auth:` names one (aws_sigv4, google_oauth), written once in code as a
`requests.auth.AuthBase` that signs the final prepared request.

A provider's `auth:` is either the key form (`env`, `header`, `value`, `query`, `optional`: a header or query
template filled with the API key) or names a mechanism with its options, beside which the key form may stay:

    auth: {mechanism: aws_sigv4, service: bedrock, region: "${aws_region_name}"}
    auth: {mechanism: google_oauth, scopes: ["https://www.googleapis.com/auth/cloud-platform"]}

With both, a key (api_key= or the `env` variables) wins and the mechanism signs the calls that have none.
A mechanism is one `Mechanism` subclass plus one entry in `MECHANISMS`; its module is imported only when a
spec names it, so optional packages (botocore, google-auth) load only when used. See docs/auth.md.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from ..exceptions import ConfigurationError
from .paths import MISSING
from .template import TemplateError, compile_template

# name -> "module:Class", imported on first use.
MECHANISMS: Mapping[str, str] = MappingProxyType(
    {
        "aws_sigv4": "litellm_sync._engine.auth_aws:AwsSigV4Mechanism",
        "google_oauth": "litellm_sync._engine.auth_google:GoogleOAuthMechanism",
        "token_exchange": "litellm_sync._engine.auth_token:TokenExchangeMechanism",
    }
)

KEY_FIELDS = ("env", "header", "value", "query", "optional")

#: Entries a mechanism's cache keeps (credential and token sources, keyed by credentials); the least recently
#: used goes first, so a process that sees many keys (one per tenant) holds a bounded number of them.
CACHE_SIZE = 1024


if TYPE_CHECKING:
    from .._spec.model import AuthModel


class AuthSpecError(TemplateError):
    """A problem in an `auth:` block found while compiling a provider (reported with the provider's path)."""


def missing_extra(provider: str, mechanism: str, package: str, extra: str) -> ConfigurationError:
    """The error for a mechanism whose optional package is not installed: it names the extra to install."""
    return ConfigurationError(
        f"Provider '{provider}' authenticates with {mechanism}, which needs the {package} package: "
        f'pip install "litellm_sync[{extra}]"'
    )


class Mechanism:
    """One auth mechanism, compiled from a provider's `auth:` options and shared by every thread.

    Subclasses declare `options` (option -> kind: "template", "strings" or "bool"), `required` options and
    `call_args`: the call arguments they take (taken out of the call's params so they never reach the body);
    `public_args` of those are also put in the template context (never secrets). `prepare` returns the
    AuthBase for one call; it raises ConfigurationError when credentials or settings are missing.
    """

    name: ClassVar[str] = ""
    key_hint = ""  # set by compile_auth when the entry also takes a key
    options: ClassVar[Mapping[str, str]] = {}
    required: ClassVar[tuple[str, ...]] = ()
    call_args: ClassVar[tuple[str, ...]] = ()
    public_args: ClassVar[tuple[str, ...]] = ()
    defaults: ClassVar[Mapping[str, Any]] = {}  # option -> value when the block does not set it
    takes_key: ClassVar[bool] = False  # True: the key is the mechanism's input (it signs calls that have one)
    cache_size: ClassVar[int] = CACHE_SIZE

    def __init__(self, provider: str, spec: Mapping[str, Any]) -> None:
        self.provider = provider
        self.templates = {k: compile_template(v) for k, v in spec.items() if self.options.get(k) == "template"}
        self.spec = {**self.defaults, **spec}
        self._cache = _Cache()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(provider={self.provider!r})"

    def option(self, name: str, context: Mapping[str, Any] = MappingProxyType({})) -> Any:
        """An option's value for one call (templates rendered against the context); None when unset."""
        if name in self.templates:
            value = self.templates[name](context)
            return None if value is MISSING or value == "" else value
        return self.spec.get(name)

    def cached(self, key: Any, build: Callable[[], Any]) -> Any:
        """A value built once per process and key (credential sources, token sources), under a lock; at most
        `cache_size` keys are kept, the least recently used dropped first (a dropped value still works for
        whoever holds it; the next call with its key builds a new one).

        After a fork the child starts with an empty cache and a new lock: nothing the parent built (locks,
        pooled sockets inside credential objects) is reused across processes."""
        cache = self._cache
        if cache.pid != os.getpid():
            cache = self._cache = _Cache()
        found = cache.entries.get(key)
        if found is not None:  # a hit takes no lock: a thread building another key (a slow credential probe) and
            # the threads using keys already built never wait for each other; a key dropped meanwhile by another
            with contextlib.suppress(KeyError):  # thread still works for this call
                cache.entries.move_to_end(key)
            return found
        with cache.lock:
            found = cache.entries.get(key)
            if found is not None:
                return found
            found = cache.entries[key] = build()
            while len(cache.entries) > self.cache_size:
                cache.entries.popitem(last=False)
            return found

    def prepare(self, context: Mapping[str, Any], args: Mapping[str, Any]) -> Any:
        """The requests AuthBase for one call."""
        raise NotImplementedError

    def auth_for(self, context: Mapping[str, Any], args: Mapping[str, Any]) -> Any:
        """`prepare`, with a setup error also saying how to use a key instead when the entry takes one."""
        try:
            return self.prepare(context, args)
        except ConfigurationError as exc:
            if not self.key_hint:
                raise
            raise ConfigurationError(f"{exc} {self.key_hint}") from None


class _Cache:
    """One process's cache of a mechanism: its owner's process id, a lock and the entries in use order."""

    __slots__ = ("entries", "lock", "pid")

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.entries: OrderedDict[Any, Any] = OrderedDict()


def mechanism_class(name: str) -> type[Mechanism]:
    """The class registered under a mechanism name; AuthSpecError listing the known names otherwise."""
    target = MECHANISMS.get(name) if isinstance(name, str) else None
    if target is None:
        known = ", ".join(sorted(MECHANISMS))
        raise AuthSpecError(f"auth.mechanism: unknown mechanism {name!r} (known: {known})")
    module, _, attribute = target.partition(":")
    cls: type[Mechanism] = getattr(importlib.import_module(module), attribute)
    return cls


def auth_problems(block: Any) -> dict[str, list[str]]:
    """Problems in one `auth:` block naming a mechanism, keyed by option (for the block schema)."""
    if not isinstance(block, Mapping):
        return {"_schema": ["Expected a mapping."]}
    try:
        cls = mechanism_class(block["mechanism"])
    except AuthSpecError as exc:
        return {"mechanism": [str(exc).split(": ", 1)[1]]}
    problems: dict[str, list[str]] = {}
    for key, value in block.items():
        if key == "mechanism" or value is None:
            continue
        kind = "strings" if key == "env" else "bool" if key == "optional" else "text" if key in KEY_FIELDS else None
        kind = kind or cls.options.get(key)
        if kind is None:
            allowed = ", ".join(sorted({*cls.options, *KEY_FIELDS}))
            problems[key] = [f"Unknown option of mechanism {cls.name} (allowed: {allowed})."]
        elif (message := _kind_problem(kind, value)) is not None:
            problems[key] = [message]
    for key in cls.required:
        if key not in block:
            problems.setdefault(key, []).append(f"Missing data for required option of mechanism {cls.name}.")
    return problems


def _kind_problem(kind: str, value: Any) -> str | None:
    if kind == "strings":
        ok = isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        return None if ok else "Expected a string or a list of strings."
    if kind == "bool":
        return None if isinstance(value, bool) else "Not a valid boolean."
    if kind == "text":
        return None if isinstance(value, str) else "Not a valid string."
    try:
        compile_template(value)
    except (TemplateError, TypeError, ValueError, AttributeError) as exc:
        return f"Not a valid template: {exc}"
    return None


def compile_auth(provider: str, auth: AuthModel) -> Mechanism | None:
    """The compiled mechanism a provider's (merged) `auth:` names, or None for the key form only."""
    block = auth.mechanism
    if block is None:
        return None
    problems = auth_problems(block)
    if problems:
        key, messages = next(iter(problems.items()))
        raise AuthSpecError(f"auth.{key}: {messages[0]}")
    options = {k: v for k, v in block.items() if k != "mechanism" and k not in KEY_FIELDS}
    mechanism = mechanism_class(block["mechanism"])(provider, options)
    if mechanism.takes_key:
        mechanism.key_hint = f"{'set ' + ' or '.join(auth.env) + ' or ' if auth.env else ''}pass api_key="
    elif auth.header or auth.query:
        where = " or ".join(auth.env)
        mechanism.key_hint = f"Or use a key instead: {'set ' + where + ' or ' if where else ''}pass api_key=."
    return mechanism


def split_call_args(mechanism: Mechanism | None, params: Mapping[str, Any]) -> tuple[dict[str, Any], Mapping[str, Any]]:
    """(the call arguments the mechanism takes, the params left for the body rules)."""
    if mechanism is None or not any(name in params for name in mechanism.call_args):
        return {}, params
    taken = {name: params[name] for name in mechanism.call_args if name in params}
    return taken, {k: v for k, v in params.items() if k not in taken}


def first_env(*names: str) -> str | None:
    """The first of the environment variables that is set and not empty."""
    return next((os.environ[n] for n in names if os.environ.get(n)), None)


def mechanism_variables(block: Any) -> frozenset[str]:
    """The template variables an `auth:` block's mechanism adds to request templates (none if it names none
    or an unknown one: that is reported by `auth_problems`)."""
    if not isinstance(block, Mapping) or not isinstance(block.get("mechanism"), str):
        return frozenset()
    try:
        return frozenset(mechanism_class(block["mechanism"]).public_args)
    except AuthSpecError:
        return frozenset()


def public_context(mechanism: Mechanism | None, args: Mapping[str, Any]) -> dict[str, Any]:
    """The call arguments a mechanism shares with templates (never secrets), e.g. aws_region_name."""
    if mechanism is None or not args:
        return {}
    return {name: args[name] for name in mechanism.public_args if args.get(name) is not None}
