"""The Router configuration's schema (marshmallow, unknown keys refused), its error type, and the helpers that
read a file and put environment values in place of `os.environ/NAME` and `${NAME:-default}`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml
from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, fields, validate

from ..exceptions import ConfigurationError

STRATEGIES = (
    "simple-shuffle",
    "least-busy",
    "latency-based-routing",
    "usage-based-routing",
    "usage-based-routing-v2",
    "cost-based-routing",
)
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_ENV_PREFIX = "os.environ/"


class RouterConfigError(ConfigurationError):
    """The Router's configuration is invalid; `problems` lists each as 'source: path: message'."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        head = f"{len(self.problems)} problem(s) in the router config:\n  " if len(self.problems) > 1 else ""
        super().__init__(head + "\n  ".join(self.problems))


# -- schema ----------------------------------------------------------------------------------------------

_NonNegInt = validate.Range(min=0)
_Positive = validate.Range(min=0, min_inclusive=False)


class ParamsSchema(Schema):
    class Meta:
        unknown = INCLUDE  # the rest are call parameters (temperature, max_tokens, ...) sent with every call

    model = fields.String(required=True, validate=validate.Length(min=1))
    api_key = fields.String(allow_none=True)
    api_base = fields.String(allow_none=True)
    base_url = fields.String(allow_none=True)
    api_version = fields.String(allow_none=True)
    timeout = fields.Float(allow_none=True, validate=_Positive)
    stream_timeout = fields.Float(allow_none=True, validate=_Positive)
    max_retries = fields.Integer(allow_none=True, validate=_NonNegInt)
    rpm = fields.Integer(allow_none=True, validate=_NonNegInt)
    tpm = fields.Integer(allow_none=True, validate=_NonNegInt)
    weight = fields.Float(allow_none=True, validate=_Positive)
    order = fields.Integer(allow_none=True, validate=validate.Range(min=1))
    input_cost_per_token = fields.Float(allow_none=True, validate=_NonNegInt)
    output_cost_per_token = fields.Float(allow_none=True, validate=_NonNegInt)


class _ModelInfo(Schema):
    class Meta:
        unknown = INCLUDE

    id = fields.String()
    max_input_tokens = fields.Integer(allow_none=True, validate=_Positive)


class _Deployment(Schema):
    class Meta:
        unknown = RAISE

    model_name = fields.String(required=True, validate=validate.Length(min=1))
    litellm_params = fields.Nested(ParamsSchema, required=True)
    model_info = fields.Nested(_ModelInfo, load_default=dict)


class _Limit(Schema):
    class Meta:
        unknown = RAISE

    rpm = fields.Integer(allow_none=True, validate=_NonNegInt)
    tpm = fields.Integer(allow_none=True, validate=_NonNegInt)


class _StrategyArgs(Schema):
    class Meta:
        unknown = EXCLUDE  # LiteLLM's ttl and friends: windows here are fixed minutes

    lowest_latency_buffer = fields.Float(validate=validate.Range(min=0))


_Fallbacks = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class _Settings(Schema):
    class Meta:
        unknown = RAISE

    routing_strategy = fields.String(validate=validate.OneOf(STRATEGIES))
    routing_strategy_args = fields.Nested(_StrategyArgs)
    num_retries = fields.Integer(validate=_NonNegInt)
    retry_after = fields.Float(validate=validate.Range(min=0))
    timeout = fields.Float(allow_none=True, validate=_Positive)
    allowed_fails = fields.Integer(validate=_NonNegInt)
    cooldown_time = fields.Float(validate=validate.Range(min=0))
    fallbacks = _Fallbacks
    context_window_fallbacks = _Fallbacks
    content_policy_fallbacks = _Fallbacks
    default_fallbacks = fields.List(fields.String())
    retry_policy = fields.Dict(keys=fields.String(), values=fields.Integer(validate=_NonNegInt))
    enable_pre_call_checks = fields.Boolean()
    rate_limit_wait = fields.Float(validate=validate.Range(min=0))
    group_limits = fields.Dict(keys=fields.String(), values=fields.Nested(_Limit))
    redis_url = fields.String(allow_none=True)
    redis_host = fields.String(allow_none=True)
    redis_port = fields.Integer(allow_none=True)
    redis_password = fields.String(allow_none=True)
    namespace = fields.String(validate=validate.Length(min=1))


class _ProviderDefaults(Schema):
    class Meta:
        unknown = RAISE

    api_key = fields.String(allow_none=True)
    api_base = fields.String(allow_none=True)
    api_version = fields.String(allow_none=True)
    timeout_seconds = fields.Float(allow_none=True, validate=_Positive)
    max_retries = fields.Integer(allow_none=True, validate=_NonNegInt)
    extra_params = fields.Dict(keys=fields.String())


class _LiteLLMSettings(Schema):
    class Meta:
        unknown = RAISE

    num_retries = fields.Integer(validate=_NonNegInt)
    request_timeout = fields.Float(validate=_Positive)
    fallbacks = _Fallbacks
    context_window_fallbacks = _Fallbacks
    content_policy_fallbacks = _Fallbacks
    allowed_fails = fields.Integer(validate=_NonNegInt)
    cooldown_time = fields.Float(validate=validate.Range(min=0))


class FileSchema(Schema):
    class Meta:
        unknown = RAISE

    model_list = fields.List(fields.Nested(_Deployment), required=True, validate=validate.Length(min=1))
    router_settings = fields.Nested(_Settings, load_default=dict)
    litellm_settings = fields.Nested(_LiteLLMSettings, load_default=dict)
    providers = fields.Dict(keys=fields.String(), values=fields.Nested(_ProviderDefaults), load_default=dict)


# -- reading ---------------------------------------------------------------------------------------------


def read_yaml(path: str) -> Any:
    """The YAML document at path, or RouterConfigError saying why it cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except OSError as error:
        raise RouterConfigError([f"{path}: cannot read: {error.strerror or error}"]) from None
    except yaml.YAMLError as error:
        raise RouterConfigError([f"{path}: not valid YAML: {error}"]) from None


def substitute_env(value: Any, path: str, problems: list[str], environ: Mapping[str, str]) -> Any:
    """`os.environ/NAME` (a whole value) and `${NAME}` / `${NAME:-default}` (anywhere in a string), recursively."""
    if isinstance(value, dict):
        return {k: substitute_env(v, _join(path, k), problems, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_env(v, f"{path}[{i}]", problems, environ) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    if value.startswith(_ENV_PREFIX):
        name = value[len(_ENV_PREFIX):]
        if name not in environ:
            problems.append(f"{path}: environment variable {name} is not set")
            return None
        return environ[name]

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        problems.append(f"{path}: environment variable {name} is not set (or write ${{{name}:-default}})")
        return ""

    return _ENV.sub(replace, value) if "${" in value else value


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def flatten_errors(errors: Any, prefix: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if isinstance(errors, dict):
        for key, value in errors.items():
            if key == "_schema" or key == "value":
                out += flatten_errors(value, prefix)
            elif key == "key":
                out += flatten_errors(value, f"{prefix} (key)")
            elif isinstance(key, int):
                out += flatten_errors(value, f"{prefix}[{key}]")
            else:
                out += flatten_errors(value, _join(prefix, key))
    elif isinstance(errors, list):
        for item in errors:
            out += flatten_errors(item, prefix) if isinstance(item, (dict, list)) else [(prefix or "(top)", str(item))]
    else:
        out.append((prefix or "(top)", str(errors)))
    return out
