"""Provider variables and the templated base URL: values a provider's templates read that come from the call,
the environment or a default (`variables:` in providers.yaml), e.g. an AWS region or a Google Cloud project.

    variables:
      region: {args: [aws_region_name], env: [AWS_REGION, AWS_DEFAULT_REGION], default: us-east-1}
    base_url: https://bedrock-runtime.${region}.amazonaws.com

Each variable is the first of: the call's keyword arguments named in `args` (taken out of the parameters, so
they never reach the body; a mechanism's call argument such as `aws_region_name` is read too), the first set
environment variable of `env`, then `default`. Absent and `required: true` raises ConfigurationError before
anything is sent, when the base URL comes from the spec (a call with `api_base=` or a base-URL environment
variable names the address itself). Variables are template variables (`$region`, `${region}`) for the whole
request.

A `base_url` holding `${...}` (or a template mapping such as `{$map: $location, cases: ..., default: ...}`) is
a template of `api_version` and the variables; every value interpolated
into it is percent-encoded (all but letters, digits and `-._~`), so a value cannot add a user, a host, a
port, a path or a query; the URL is
validated like any base URL, and its host must be a valid host name (letters, digits, dots and hyphens).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from ..exceptions import ConfigurationError
from .checks import check_base
from .paths import MISSING
from .template import compile_template

if TYPE_CHECKING:
    from .._spec.model import VariableModel

_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?\Z|\[[0-9A-Fa-f:.]+\]\Z|[0-9A-Fa-f:.]+\Z")


class Variables:
    """A provider's compiled `variables:` block."""

    __slots__ = ("args", "provider", "specs")

    def __init__(self, provider: str, specs: Mapping[str, VariableModel]) -> None:
        self.provider = provider
        self.specs = tuple(specs.items())
        self.args = frozenset(arg for spec in specs.values() for arg in spec.args)

    def resolve(
        self, params: Mapping[str, Any], auth_args: Mapping[str, Any]
    ) -> tuple[dict[str, Any], Mapping[str, Any]]:
        """(the variables' values, the params without the call arguments the variables took)."""
        if not self.specs:
            return {}, params
        values: dict[str, Any] = {}
        for name, spec in self.specs:
            value = next(
                (v for arg in spec.args if (v := params.get(arg, auth_args.get(arg))) is not None and v != ""), None
            )
            if value is None:
                value = next((os.environ[e] for e in spec.env if os.environ.get(e)), spec.default)
            if value is not None:
                values[name] = value if isinstance(value, str) else str(value)
        if any(arg in params for arg in self.args):
            params = {k: v for k, v in params.items() if k not in self.args}
        return values, params

    def check_required(self, values: Mapping[str, Any]) -> None:
        """ConfigurationError naming how to give the first `required` variable that has no value."""
        for name, spec in self.specs:
            if spec.required and name not in values:
                ways = [f"pass {arg}=" for arg in spec.args] + [f"set {env}" for env in spec.env]
                raise ConfigurationError(
                    f"Provider '{self.provider}' needs its {name}: {' or '.join(ways) or 'set it in YAML'}."
                )


class BaseUrl:
    """A provider's `base_url`: a plain URL, or a template of `api_version` and the provider's variables."""

    __slots__ = ("provider", "raw", "template")

    def __init__(self, provider: str, raw: str | Mapping[str, Any] | None) -> None:
        self.provider = provider
        self.raw = raw
        self.template = compile_template(raw) if raw and (not isinstance(raw, str) or "${" in raw) else None

    def render(self, context: Mapping[str, Any]) -> str:
        """The validated base URL for one call's context."""
        where = f"the base_url of provider '{self.provider}'"
        if self.template is None:
            return check_base(self.raw, where)
        shown = self.raw if isinstance(self.raw, str) else "a template"
        url = self.template({k: quote(v, safe="") if isinstance(v, str) else v for k, v in context.items()})
        if url is MISSING:
            raise ConfigurationError(
                f"{where} ({shown}) reads a variable this call has no value for: give it as the provider's "
                "`variables:` in providers.yaml say (a call argument or an environment variable), or pass api_base=."
            )
        checked = check_base(url, where)
        host = urlsplit(checked).hostname or ""
        if not _HOST.match(host):
            raise ConfigurationError(
                f"{where} ({shown}) gave the host name {host!r}, which is not a valid host name: check the "
                "values of the provider's variables (a region, a project, a location)."
            )
        return checked
