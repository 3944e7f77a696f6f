"""The `litellm-sync` command line: chat, list models, price tokens, validate YAML, list and probe providers.

Every subcommand is a small function taking the parsed arguments and returning an exit code; `main` maps
exceptions to one `error: ...` line on stderr (never a traceback) and to the `EXIT_*` codes. The parser is
in `_cli_args`.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, TextIO

from ._cli_args import build_parser, parse_param
from ._spec import load_spec
from .api import get_default_client
from .client import Client
from .exceptions import APIError, ConfigurationError, LiteLLMSyncError, MissingAPIKeyError, SpecError
from .helpers import system_message, user_message

EXIT_OK = 0
EXIT_FAILURE = 1  # spec problems, provider error, failed health check
EXIT_USAGE = 2  # bad command line (argparse)
EXIT_CONFIG = 3  # configuration error: missing key, unknown model or provider

__all__ = ["EXIT_CONFIG", "EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "build_parser", "cli_message", "main", "parse_param"]

# ---------------------------------------------------------------------------------------------------------
# Helpers


class UsageError(Exception):
    """A command line that parses but asks for something impossible (exit 2, like argparse's errors)."""


# The library's messages name Python arguments; on the command line the same thing is an option.
_CLI_WORDS = (("api_key=", "--api-key"), ("api_base=", "--api-base"))


def cli_message(text: str) -> str:
    """A library message in command-line words: `pass api_key=` becomes `pass --api-key`, and so on."""
    for python, option in _CLI_WORDS:
        text = text.replace(python, option)
    return text


def _client(args: argparse.Namespace) -> Client:
    """A Client over the extra spec files given with --providers, else the shared default client."""
    extra = getattr(args, "providers_files", None)
    return Client(providers=extra) if extra else get_default_client()


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
        return str(value)  # exact, as ModelInfo.to_dict() writes prices
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _dump_json(data: Any, out: TextIO) -> None:
    out.write(json.dumps(data, indent=2, default=_json_default) + "\n")


def _response_json(response: Any) -> dict[str, Any]:
    """ChatResponse.to_dict() with the cost as the Decimal's exact string (to_dict() gives a float)."""
    data: dict[str, Any] = response.to_dict()
    if response.cost is not None:
        data["cost"] = str(response.cost)
    return data


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
            _dump_json(_response_json(response), sys.stdout)
        else:
            sys.stdout.write((response.content or "") + "\n")
        return EXIT_OK
    with client.completion(args.model, messages, stream=True, **options, **params) as stream:
        if args.json:
            _dump_json(_response_json(stream.response()), sys.stdout)
            return EXIT_OK
        for text in stream.text():
            sys.stdout.write(text)
            sys.stdout.flush()
    sys.stdout.write("\n")
    return EXIT_OK


def cmd_models(args: argparse.Namespace) -> int:
    """List the models the spec knows, optionally of one provider and with one feature."""
    client = _client(args)
    if args.provider:
        client.spec.provider(args.provider)  # UnknownModelError (exit 3) names the known providers
    registry = client.spec.registry
    if args.feature is not None and args.feature not in registry.features():
        known = sorted(registry.features())
        close = difflib.get_close_matches(args.feature, known, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise UsageError(f"unknown feature '{args.feature}'.{hint} Known features: {', '.join(known)}.")
    models = registry.list(args.provider, args.feature)
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
    if args.cached_tokens > args.prompt_tokens:
        raise UsageError(
            f"--cached-tokens ({args.cached_tokens}) is more than --prompt-tokens ({args.prompt_tokens}); "
            "the prompt tokens include the cached ones"
        )
    cost = _client(args).cost_per_token(args.model, args.prompt_tokens, args.completion_tokens, args.cached_tokens)
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


def cmd_health(args: argparse.Namespace) -> int:
    """Probe one provider, or every provider this machine is set up for; exit 1 when any probe errs.

    Without PROVIDER, providers with no key (and keyless local ones with no address set) are listed as
    skipped and do not fail the command."""
    import litellm_sync  # the module-level functions, looked up at call time (tests replace them)

    client = _client(args)
    # Pass a client only for --providers, so the plain call matches the documented module-level API.
    extra = {"client": client} if getattr(args, "providers_files", None) else {}
    if args.provider:
        client.spec.provider(args.provider)  # UnknownModelError (exit 3) names the known providers
        one = litellm_sync.health_check(
            args.provider, api_key=args.api_key, api_base=args.api_base, timeout=args.timeout, **extra
        )
        results = [one]
    elif args.api_key or args.api_base:
        raise UsageError("--api-key and --api-base apply to one provider: name it (litellm-sync health PROVIDER)")
    else:
        results = list(litellm_sync.health_check_all(timeout=args.timeout, **extra))
    if args.json:
        _dump_json([_health_dict(r) for r in results], sys.stdout)
    else:
        rows = [["PROVIDER", "STATUS", "LATENCY", "ERROR"]]
        rows += [
            [
                r.provider,
                r.status,
                "-" if r.latency_ms is None else f"{r.latency_ms:.0f} ms",
                cli_message(r.error or ""),
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
    data = {name: getattr(result, name, None) for name in fields}
    if data["error"]:
        data["error"] = cli_message(data["error"])
    return data


# ---------------------------------------------------------------------------------------------------------
# Parser


def cmd_batch(args: argparse.Namespace) -> int:
    """`batch`: run a JSONL file of prompts, resumably (litellm_sync/batch.py; loaded only for this command)."""
    from .batch import cmd_batch as run_batch

    return run_batch(args)


COMMANDS = {
    "chat": cmd_chat,
    "models": cmd_models,
    "cost": cmd_cost,
    "validate": cmd_validate,
    "providers": cmd_providers,
    "health": cmd_health,
    "batch": cmd_batch,
}


# ---------------------------------------------------------------------------------------------------------
# Entry point


def _error(message: str, lines: Iterable[str] = ()) -> None:
    sys.stderr.write(f"error: {message}\n")
    for line in lines:
        sys.stderr.write(f"  {line}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see `_cli_args.EPILOG`)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return int(COMMANDS[args.command](args))
    except UsageError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except SpecError as exc:
        _error(f"{len(exc.problems)} problem(s) in the provider spec:", exc.problems)
        return EXIT_FAILURE
    except MissingAPIKeyError as exc:
        where = " or ".join(exc.env_vars) or "the provider's key variable"
        _error(f"No API key for provider '{exc.provider}': set {where} or pass --api-key.")
        return EXIT_CONFIG
    except ConfigurationError as exc:
        _error(cli_message(str(exc)))
        return EXIT_CONFIG
    except APIError as exc:
        _error(f"{type(exc).__name__}: {cli_message(str(exc))}")
        return EXIT_FAILURE
    except LiteLLMSyncError as exc:
        _error(cli_message(str(exc)))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130
    except BrokenPipeError:  # `litellm-sync chat ... | head`
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
