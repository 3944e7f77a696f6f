"""The `litellm-sync` command line: chat, list models, price tokens, validate YAML, list and probe providers.

Every subcommand is a small function taking the parsed arguments and returning an exit code; `main` maps
exceptions to one `error: ...` line on stderr (never a traceback) and to the exit codes in `EXIT_CODES`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Callable, TextIO

from ._spec import load_spec
from .api import cost_per_token, get_default_client, list_models
from .client import Client
from .exceptions import APIError, ConfigurationError, LiteLLMSyncError, SpecError
from .helpers import system_message, user_message

EXIT_OK = 0
EXIT_FAILURE = 1  # spec problems, provider error, failed health check
EXIT_USAGE = 2  # bad command line (argparse)
EXIT_CONFIG = 3  # configuration error: missing key, unknown model or provider

EPILOG = """\
exit codes:
  0  success
  1  spec problems (validate), provider/API error, failed health check
  2  usage error (bad arguments)
  3  configuration error (missing API key, unknown model or provider; health PROVIDER skipped)

examples:
  litellm-sync chat openai/gpt-4o-mini "Say hi" --system "Be brief" -p temperature=0.2
  litellm-sync models --provider anthropic --feature tools
  litellm-sync cost openai/gpt-4o-mini --prompt-tokens 1000 --completion-tokens 200
  litellm-sync validate my_providers.yaml
  litellm-sync providers --markdown
"""


# ---------------------------------------------------------------------------------------------------------
# Helpers


def _client(args: argparse.Namespace) -> Client:
    """A Client over the extra spec files given with --providers, else the shared default client."""
    extra = getattr(args, "providers_files", None)
    return Client(providers=extra) if extra else get_default_client()


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


def _print_table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    """Left-aligned columns separated by two spaces; the first row is the header."""
    if not rows:
        return
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")


def _price(value: Decimal | None) -> str:
    return "-" if value is None else format(value.normalize(), "f")


def _usd(value: Decimal) -> str:
    """A USD amount with every significant digit (prices are exact decimals)."""
    text = format(value.normalize(), "f")
    return f"${text}"


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _dump_json(data: Any, out: TextIO) -> None:
    out.write(json.dumps(data, indent=2, default=_json_default) + "\n")


# ---------------------------------------------------------------------------------------------------------
# Subcommands


def cmd_chat(args: argparse.Namespace) -> int:
    """Send one prompt; stream the text to stdout, or print the whole response as JSON."""
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    messages = [system_message(args.system)] if args.system else []
    messages.append(user_message(prompt))
    params = dict(args.params or [])
    options: dict[str, Any] = {"api_key": args.api_key, "api_base": args.api_base}
    if args.timeout is not None:
        options["timeout"] = args.timeout
    client = _client(args)
    if args.no_stream:
        response = client.completion(args.model, messages, **options, **params)
        if args.json:
            _dump_json(response.to_dict(), sys.stdout)
        else:
            sys.stdout.write((response.content or "") + "\n")
        return EXIT_OK
    with client.completion(args.model, messages, stream=True, **options, **params) as stream:
        if args.json:
            _dump_json(stream.response().to_dict(), sys.stdout)
            return EXIT_OK
        for text in stream.text():
            sys.stdout.write(text)
            sys.stdout.flush()
    sys.stdout.write("\n")
    return EXIT_OK


def cmd_models(args: argparse.Namespace) -> int:
    """List the models the spec knows, optionally of one provider and with one feature."""
    if getattr(args, "providers_files", None):
        client = _client(args)
        if args.provider:
            client.spec.provider(args.provider)
        models = client.spec.registry.list(args.provider, args.feature)
    else:
        if args.provider:
            get_default_client().spec.provider(args.provider)  # UnknownModelError names the known ones
        models = list_models(args.provider, args.feature)
    if args.json:
        _dump_json([info.to_dict() for info in models], sys.stdout)
        return EXIT_OK
    rows = [["MODEL", "CONTEXT", "MAX OUT", "IN $/M", "OUT $/M", "FEATURES"]]
    for info in models:
        rows.append(
            [
                f"{info.provider}/{info.name}",
                "-" if info.context_window is None else str(info.context_window),
                "-" if info.max_output_tokens is None else str(info.max_output_tokens),
                _price(info.input_price),
                _price(info.output_price),
                ",".join(sorted(info.features)) or "-",
            ]
        )
    _print_table(rows, sys.stdout)
    if not models:
        sys.stderr.write("no models match\n")
    return EXIT_OK


def cmd_cost(args: argparse.Namespace) -> int:
    """Print the USD cost of the given token counts, or 'unknown price'."""
    counts = (args.prompt_tokens, args.completion_tokens, args.cached_tokens)
    if getattr(args, "providers_files", None):
        cost = _client(args).cost_per_token(args.model, *counts)
    else:
        cost = cost_per_token(args.model, *counts)
    if cost is None:
        sys.stdout.write(f"unknown price: the spec lists no pricing for {args.model}\n")
    else:
        sys.stdout.write(f"{_usd(cost)}\n")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """Load each file over the bundled spec; print 'ok' or every problem."""
    failed = False
    for path in args.files:
        try:
            load_spec([path])
        except SpecError as exc:
            failed = True
            for problem in exc.problems:
                sys.stdout.write(problem + "\n")
        else:
            sys.stdout.write(f"{path}: ok\n")
    return EXIT_FAILURE if failed else EXIT_OK


def provider_rows(client: Client) -> list[dict[str, str]]:
    """One row per provider: name, description, key environment variables, docs URL."""
    rows = []
    for name, spec in client.spec.providers.items():
        auth = spec.entry.get("auth") or {}
        env = ", ".join(auth.get("env") or ())
        if env and auth.get("optional"):
            env += " (optional)"
        rows.append({"provider": name, "description": spec.description, "env": env, "docs": spec.docs or ""})
    return rows


def providers_markdown(client: Client) -> str:
    """The README's provider table, in Markdown."""
    lines = ["| Provider | Description | API key variables | Docs |", "| --- | --- | --- | --- |"]
    for row in provider_rows(client):
        env = ", ".join(f"`{v.strip()}`" for v in row["env"].replace(" (optional)", "").split(",") if v.strip())
        if row["env"].endswith("(optional)"):
            env += " (optional)"
        docs = f"[docs]({row['docs']})" if row["docs"] else ""
        description = row["description"].replace("|", "\\|")
        lines.append(f"| `{row['provider']}` | {description} | {env or '-'} | {docs} |")
    return "\n".join(lines) + "\n"


def cmd_providers(args: argparse.Namespace) -> int:
    """List providers as a table, Markdown or JSON."""
    client = _client(args)
    if args.markdown:
        sys.stdout.write(providers_markdown(client))
        return EXIT_OK
    rows = provider_rows(client)
    if args.json:
        _dump_json(rows, sys.stdout)
        return EXIT_OK
    table = [["PROVIDER", "DESCRIPTION", "KEY ENV", "DOCS"]]
    table += [[r["provider"], r["description"], r["env"] or "-", r["docs"] or "-"] for r in rows]
    _print_table(table, sys.stdout)
    return EXIT_OK


def _health_functions() -> tuple[Callable[..., Any], Callable[..., Any]]:
    import litellm_sync

    check = getattr(litellm_sync, "health_check", None)
    check_all = getattr(litellm_sync, "health_check_all", None)
    if check is None or check_all is None:
        raise ConfigurationError("this version of litellm_sync has no health checks")
    return check, check_all


def cmd_health(args: argparse.Namespace) -> int:
    """Probe one provider (or every provider with a key configured); exit 1 when any probe errs."""
    check, check_all = _health_functions()
    client = _client(args)
    # Pass a client only for --providers, so the plain call matches the documented module-level API.
    extra = {"client": client} if getattr(args, "providers_files", None) else {}
    if args.provider:
        client.spec.provider(args.provider)  # UnknownModelError (exit 3) names the known providers
        results = [
            check(args.provider, api_key=args.api_key, api_base=args.api_base, timeout=args.timeout, **extra)
        ]
    else:
        results = list(check_all(timeout=args.timeout, **extra))
    if args.json:
        _dump_json([_health_dict(r) for r in results], sys.stdout)
    else:
        rows = [["PROVIDER", "STATUS", "LATENCY", "ERROR"]]
        rows += [
            [
                r.provider,
                r.status,
                "-" if r.latency_ms is None else f"{r.latency_ms:.0f} ms",
                r.error or "",
            ]
            for r in results
        ]
        _print_table(rows, sys.stdout)
    if any(r.status == "error" for r in results):
        return EXIT_FAILURE
    # The one provider asked for could not be probed (no key, nothing to probe): a configuration problem.
    return EXIT_CONFIG if args.provider and results[0].status == "skipped" else EXIT_OK


def _health_dict(result: Any) -> dict[str, Any]:
    fields = ("provider", "ok", "status", "latency_ms", "error")
    return {name: getattr(result, name, None) for name in fields}


# ---------------------------------------------------------------------------------------------------------
# Parser


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
    p.add_argument("--timeout", type=float, help="seconds (default: the client's)")
    p.set_defaults(func=cmd_chat)


def _add_models(sub: Any, spec: argparse.ArgumentParser) -> None:
    p = sub.add_parser("models", parents=[spec], help="list the models the spec knows")
    p.add_argument("--provider", metavar="P", help="only this provider's models")
    p.add_argument("--feature", metavar="F", help="only models with this feature (tools, vision, reasoning, ...)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_models)


def _add_cost(sub: Any, spec: argparse.ArgumentParser) -> None:
    p = sub.add_parser("cost", parents=[spec], help="price token counts for a model (USD)")
    p.add_argument("model")
    p.add_argument("--prompt-tokens", type=int, required=True, metavar="N", help="input tokens (cached included)")
    p.add_argument("--completion-tokens", type=int, required=True, metavar="N")
    p.add_argument("--cached-tokens", type=int, default=0, metavar="N", help="of the prompt tokens, cache hits")
    p.set_defaults(func=cmd_cost)


def _add_validate(sub: Any) -> None:
    p = sub.add_parser("validate", help="check providers YAML files against the schema")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_validate)


def _add_providers(sub: Any, spec: argparse.ArgumentParser) -> None:
    p = sub.add_parser("providers", parents=[spec], help="list providers, their key variables and docs")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true", help="print the Markdown table used in README.md")
    fmt.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_providers)


def _add_health(sub: Any, spec: argparse.ArgumentParser) -> None:
    p = sub.add_parser("health", parents=[spec], help="probe providers (all with a key set, or one)")
    p.add_argument("provider", nargs="?", help="one provider (default: every provider)")
    p.add_argument("--api-key", help="API key for the one provider")
    p.add_argument("--api-base", help="base URL for the one provider")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per probe (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_health)


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
    from .batch import add_subcommand as _add_batch

    _add_batch(sub, [spec])
    return parser


# ---------------------------------------------------------------------------------------------------------
# Entry point


def _error(message: str, lines: Iterable[str] = ()) -> None:
    sys.stderr.write(f"error: {message}\n")
    for line in lines:
        sys.stderr.write(f"  {line}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see EPILOG)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return int(args.func(args))
    except SpecError as exc:
        _error(f"{len(exc.problems)} problem(s) in the provider spec:", exc.problems)
        return EXIT_FAILURE
    except ConfigurationError as exc:
        _error(str(exc))
        return EXIT_CONFIG
    except APIError as exc:
        _error(f"{type(exc).__name__}: {exc}")
        return EXIT_FAILURE
    except LiteLLMSyncError as exc:
        _error(str(exc))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130
    except BrokenPipeError:  # `litellm-sync chat ... | head`
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
