"""The `litellm-sync` argument parser: subcommands, options, and the argument types that refuse bad values.

`litellm_sync.cli` runs the commands; this module only describes the command line (argparse exits with 2 on
a usage error before any command runs).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

EPILOG = """\
exit codes:
  0  success
  1  spec problems (validate), provider/API error, failed health check
  2  usage error (bad arguments, an unknown --feature, impossible token counts)
  3  configuration error (missing API key, unknown model or provider; health PROVIDER skipped)

examples:
  litellm-sync chat openai/gpt-4o-mini "Say hi" --system "Be brief" -p temperature=0.2
  litellm-sync models --provider anthropic --feature tools
  litellm-sync cost openai/gpt-4o-mini --prompt-tokens 1000 --completion-tokens 200
  litellm-sync validate my_providers.yaml
  litellm-sync providers --markdown
"""


def _count(text: str) -> int:
    """argparse type: a whole number of tokens, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of tokens, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a token count cannot be negative, got {value}")
    return value


def _seconds(text: str) -> float:
    """argparse type: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"a timeout must be a positive number of seconds, got {text}")
    return value


def parse_param(text: str) -> tuple[str, Any]:
    """'key=value' -> (key, value), the value parsed as JSON when it is JSON, else kept as a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return key.strip(), value


def _spec_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--providers",
        dest="providers_files",
        action="append",
        metavar="FILE",
        help="extra providers YAML layered over the bundled spec (repeatable; default: $LITELLM_SYNC_PROVIDERS)",
    )
    return parent


def _add_chat(sub: Any, spec: argparse.ArgumentParser) -> None:
    p = sub.add_parser("chat", parents=[spec], help="send a prompt and stream the answer", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="provider/model, e.g. openai/gpt-4o-mini, or a bare name the spec lists")
    p.add_argument("prompt", help="the user message ('-' reads it from stdin)")
    p.add_argument("--system", metavar="TEXT", help="a system message sent before the prompt")
    p.add_argument("--json", action="store_true", help="print the whole final response as JSON")
    p.add_argument("-p", "--param", dest="params", action="append", type=parse_param, metavar="KEY=VALUE",
                   help="a call parameter (repeatable); the value is parsed as JSON when possible")
    p.add_argument("--api-base", help="override the provider's base URL")
    p.add_argument("--api-key", help="API key (default: the provider's environment variable)")
    p.add_argument("--no-stream", action="store_true", help="make one non-streaming call")
    p.add_argument("--timeout", type=_seconds, help="seconds (default: the client's)")
    p.set_defaults(command="chat")


def _add_models(sub: Any, spec: argparse.ArgumentParser) -> None:
    p = sub.add_parser("models", parents=[spec], help="list the models the spec knows")
    p.add_argument("--provider", metavar="P", help="only this provider's models")
    p.add_argument("--feature", metavar="F", help="only models with this feature (tools, vision, reasoning, ...)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(command="models")


def _add_cost(sub: Any, spec: argparse.ArgumentParser) -> None:
    p = sub.add_parser("cost", parents=[spec], help="price token counts for a model (USD)")
    p.add_argument("model")
    p.add_argument("--prompt-tokens", type=_count, required=True, metavar="N", help="input tokens (cached included)")
    p.add_argument("--completion-tokens", type=_count, required=True, metavar="N")
    p.add_argument("--cached-tokens", type=_count, default=0, metavar="N", help="of the prompt tokens, cache hits")
    p.set_defaults(command="cost")


def _add_validate(sub: Any) -> None:
    p = sub.add_parser("validate", help="check providers YAML files against the schema")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(command="validate")


def _add_providers(sub: Any, spec: argparse.ArgumentParser) -> None:
    p = sub.add_parser("providers", parents=[spec], help="list providers, their key variables and docs")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true", help="print the Markdown table used in README.md")
    fmt.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(command="providers")


def _add_health(sub: Any, spec: argparse.ArgumentParser) -> None:
    p = sub.add_parser("health", parents=[spec], help="probe providers (every one set up here, or one)")
    p.add_argument("provider", nargs="?", help="one provider (default: every provider with a key or address set)")
    p.add_argument("--api-key", help="API key for the one provider")
    p.add_argument("--api-base", help="base URL for the one provider")
    p.add_argument("--timeout", type=_seconds, default=10.0, help="seconds per probe (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(command="health")


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="litellm-sync",
        description="Call any LLM provider declared in providers.yaml, and inspect the spec.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"litellm-sync {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    spec = _spec_options()
    _add_chat(sub, spec)
    _add_models(sub, spec)
    _add_cost(sub, spec)
    _add_validate(sub)
    _add_providers(sub, spec)
    _add_health(sub, spec)
    from .batch import add_subcommand as add_batch  # the batch command's options live with the batch runner

    add_batch(sub, [spec])
    return parser
