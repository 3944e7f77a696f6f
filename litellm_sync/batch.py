"""Batch jobs: `batch_completion` (many calls at once, answers in input order) and `run` (a JSONL file of prompts
through a resumable runner: retries, rate limits, a budget, progress), plus the `litellm-sync batch` command.

    results = litellm_sync.batch_completion("openai/gpt-4o-mini", [[user("Hi")], [user("Bye")]], max_workers=8)
    summary = litellm_sync.batch.run("in.jsonl", "out.jsonl", model="openai/gpt-4o-mini", max_workers=16, rpm=500)

See docs/batch.md for the file formats and the restart rules.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Callable

from ._batch.progress import Progress, duration, usd
from ._batch.records import (
    BadLine,
    BatchFileError,
    Item,
    OutputFile,
    error_record,
    id_key,
    is_finished,
    read_input,
    success_record,
)
from ._batch.runner import Runner, Totals
from ._engine.redact import get_logger
from .api import get_default_client
from .client import Client
from .exceptions import ConfigurationError

if TYPE_CHECKING:
    from .router import Router

__all__ = [
    "BadLine",
    "BatchFileError",
    "BatchSummary",
    "Item",
    "OutputFile",
    "batch_completion",
    "error_record",
    "id_key",
    "is_finished",
    "read_input",
    "run",
    "success_record",
]

log = get_logger()
MAX_REPORTED_LINES = 20  # bad input lines logged one by one; the rest are counted (all are in the summary)


def batch_completion(
    model: str,
    list_of_messages: Iterable[Sequence[Any]],
    *,
    max_workers: int = 8,
    client: Client | None = None,
    **params: Any,
) -> list[Any]:
    """Call `model` once per message list on `max_workers` threads sharing one Client (the default one unless
    given); returns, in input order, each call's ChatResponse or the exception it raised. Keywords are passed to
    every `completion` call (api_key, api_base, timeout, max_retries, temperature, ...)."""
    if params.get("stream"):
        raise ConfigurationError("batch_completion returns whole responses; call completion(stream=True) per item")
    if max_workers < 1:
        raise ConfigurationError(f"max_workers must be at least 1, got {max_workers}")
    client = client if client is not None else get_default_client()
    conversations = list(list_of_messages)
    results: list[Any] = [None] * len(conversations)

    def one(index: int) -> None:
        try:
            results[index] = client.completion(model, conversations[index], **params)
        except Exception as error:  # each item's failure is its result; the others go on
            results[index] = error

    if conversations:
        workers = min(max_workers, len(conversations))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="litellm-batch") as pool:
            for _ in pool.map(one, range(len(conversations))):
                pass
    return results


@dataclass(frozen=True)
class BatchSummary:
    """What `run` did. `stopped` is None when the run went through its items, else "budget" or "interrupted";
    `remaining` items have no record yet and are done by running again with the same paths."""

    items: int  # valid items in the input
    succeeded: int  # this run
    failed: int  # this run, recorded with their error
    skipped: int  # finished by an earlier run
    remaining: int
    bad_lines: tuple[BadLine, ...]
    retries: int
    rate_limited: int
    prompt_tokens: int
    completion_tokens: int
    cost: Decimal  # this run, priced responses only
    unpriced: int  # responses whose price is unknown
    elapsed: float
    stopped: str | None
    output_path: str

    @property
    def complete(self) -> bool:
        """Every valid item has a record in the output."""
        return self.remaining == 0

    def __str__(self) -> str:
        done = self.succeeded + self.failed
        rate = done / self.elapsed if self.elapsed > 0 else 0.0
        lines = [
            f"batch: {self.items} items: {self.succeeded} succeeded, {self.failed} failed, "
            f"{self.skipped} already done, {self.remaining} remaining; {len(self.bad_lines)} bad input lines",
            f"  tokens: {self.prompt_tokens} prompt + {self.completion_tokens} completion; cost {usd(self.cost)}"
            + (f" (+ {self.unpriced} responses with no known price)" if self.unpriced else ""),
            f"  elapsed {duration(self.elapsed)} ({rate:.1f} items/s), {self.retries} retries "
            f"({self.rate_limited} for rate limits)",
        ]
        lines += [f"  bad input {line}" for line in self.bad_lines[:MAX_REPORTED_LINES]]
        if len(self.bad_lines) > MAX_REPORTED_LINES:
            lines.append(f"  ... and {len(self.bad_lines) - MAX_REPORTED_LINES} more bad lines")
        if self.stopped == "budget":
            lines.append("  stopped: the budget is spent; raise budget= and run again to finish")
        elif self.stopped == "interrupted":
            lines.append("  stopped: interrupted; run again with the same paths to finish")
        lines.append(f"  output: {self.output_path}")
        return "\n".join(lines)


def run(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    model: str | None = None,
    router: Router | str | None = None,
    client: Client | None = None,
    max_workers: int = 8,
    rpm: int | None = None,
    tpm: int | None = None,
    budget: Decimal | float | str | None = None,
    state: Any = None,
    max_attempts: int = 6,
    backoff: tuple[float, float] = (0.5, 30.0),
    retry_errors: bool = False,
    progress: bool | None = None,
    fsync: bool = False,
    api_key: str | None = None,
    api_base: str | None = None,
    timeout: float | None = None,
    **params: Any,
) -> BatchSummary:
    """Run every item of the JSONL input through `model` (or a Router's model group `model`) and append one
    record per item to the output; items already finished there are skipped. See docs/batch.md.

    rpm/tpm: limits for this model (enforced by an internal Router; `state="redis://..."` shares them with other
    processes). budget: USD; no new call starts once the recorded cost reaches it. max_attempts: calls per item
    for retryable errors, with exponential `backoff` (initial, cap) seconds or the provider's Retry-After.
    retry_errors: also retry items recorded with a permanent error. progress: None shows it on a terminal only.
    """
    if max_workers < 1 or max_attempts < 1:
        raise ConfigurationError("max_workers and max_attempts must be at least 1")
    spend_limit = _budget(budget)
    if os.path.abspath(input_path) == os.path.abspath(output_path):
        raise ConfigurationError("the batch output must be another file than its input")
    call, close = _caller(model, router, client, rpm, tpm, state, api_key, api_base, timeout, params)
    try:
        items, bad = read_input(input_path)
        _report_bad_lines(os.fspath(input_path), bad)
        output = OutputFile(output_path, retry_errors=retry_errors, fsync=fsync)
        try:
            return _execute(items, bad, output, call, max_workers, max_attempts, backoff, spend_limit, progress)
        finally:
            output.close()
    finally:
        close()


def _execute(
    items: list[Item],
    bad: list[BadLine],
    output: OutputFile,
    call: Callable[[Item], Any],
    max_workers: int,
    max_attempts: int,
    backoff: tuple[float, float],
    budget: Decimal | None,
    show: bool | None,
) -> BatchSummary:
    started = time.monotonic()
    todo = [item for item in items if id_key(item.id) not in output.finished]
    spent = sum((Decimal(str(r["cost"])) for r in output.previous.values() if r.get("cost") is not None), Decimal())
    totals = Totals(total=len(todo))
    display = Progress(len(todo), show)
    runner = Runner(call, todo, output.write, totals, max_workers=min(max_workers, max(len(todo), 1)),
                    max_attempts=max_attempts, backoff=backoff, budget=budget, spent=spent,
                    on_record=display.update)  # fmt: skip
    try:
        runner.run()
    finally:
        display.close()
    if runner.fatal is not None:
        log.error("batch stopped after %d records: %s", totals.done, runner.fatal)
        raise runner.fatal
    summary = BatchSummary(
        items=len(items), succeeded=totals.succeeded, failed=totals.failed, skipped=len(items) - len(todo),
        remaining=len(todo) - totals.done, bad_lines=tuple(bad), retries=totals.retries,
        rate_limited=totals.rate_limited, prompt_tokens=totals.prompt_tokens,
        completion_tokens=totals.completion_tokens, cost=totals.cost, unpriced=totals.unpriced,
        elapsed=time.monotonic() - started, stopped=runner.stopped, output_path=output.path,
    )  # fmt: skip
    if display.enabled:
        display.stream.write(str(summary) + "\n")
    return summary


def _budget(budget: Decimal | float | str | None) -> Decimal | None:
    if budget is None:
        return None
    try:
        value = Decimal(str(budget))
    except InvalidOperation:
        raise ConfigurationError(f"budget must be a number of USD, got {budget!r}") from None
    if not value.is_finite() or value < 0:
        raise ConfigurationError(f"budget must be a non-negative number of USD, got {budget!r}")
    return value


def _report_bad_lines(path: str, bad: list[BadLine]) -> None:
    for line in bad[:MAX_REPORTED_LINES]:
        log.warning("batch input %s %s (skipped)", path, line)
    if len(bad) > MAX_REPORTED_LINES:
        log.warning("batch input %s: %d more bad lines skipped", path, len(bad) - MAX_REPORTED_LINES)


def _caller(
    model: str | None,
    router: Router | str | None,
    client: Client | None,
    rpm: int | None,
    tpm: int | None,
    state: Any,
    api_key: str | None,
    api_base: str | None,
    timeout: float | None,
    params: dict[str, Any],
) -> tuple[Callable[[Item], Any], Callable[[], None]]:
    """The function that makes one item's call, and what to close afterwards."""
    if params.get("stream"):
        raise ConfigurationError("a batch records whole responses: stream is not a batch parameter")
    from .router import Router

    if router is not None:
        if rpm is not None or tpm is not None or state is not None or api_key or api_base:
            raise ConfigurationError("with router=, set rpm, tpm, state, keys and bases in the router's config")
        own = not isinstance(router, Router)
        chosen = router if isinstance(router, Router) else Router.from_yaml(os.fspath(router), client=client)
        groups = chosen.model_groups
        if model is None and len(groups) != 1:
            if own:
                chosen.close()
            raise ConfigurationError(f"name the model group with model=; the router has {', '.join(sorted(groups))}")
        group = model or next(iter(groups))
        extra = {**params, **({"timeout": timeout} if timeout is not None else {})}
        return (lambda item: chosen.completion(group, item.messages, **extra, **item.params)), (
            chosen.close if own else lambda: None)
    if model is None:
        raise ConfigurationError("pass model= (provider/model) or router=")
    client = client if client is not None else get_default_client()
    client.resolve(model)  # an unknown model fails now, before any item
    if rpm is None and tpm is None and state is None:
        options = {"api_key": api_key, "api_base": api_base, "timeout": timeout, "max_retries": 0, **params}
        return (lambda item: client.completion(model, item.messages, **options, **item.params)), lambda: None
    limited = Router(
        [{"model_name": "batch", "model_info": {"id": f"batch:{model}:{api_base or ''}"},
          "litellm_params": {"model": model, "api_key": api_key, "api_base": api_base, "rpm": rpm, "tpm": tpm,
                             **({"timeout": timeout} if timeout is not None else {})}}],
        client=client, state=state, num_retries=0, rate_limit_wait=60.0, enable_pre_call_checks=False,
    )  # fmt: skip
    return (lambda item: limited.completion("batch", item.messages, **params, **item.params)), limited.close


# -- command line ---------------------------------------------------------------------------------------------


def add_subcommand(sub: Any, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add `litellm-sync batch INPUT.jsonl OUTPUT.jsonl ...` to the CLI's subparsers."""
    from ._cli_args import parse_param

    p = sub.add_parser("batch", parents=list(parents), help="run a JSONL file of prompts (resumable)",
                       description="Each input line: {\"id\": ..., \"messages\": [...], \"params\": {...}}. "
                                   "Rerun with the same paths to finish an interrupted batch.")  # fmt: skip
    p.add_argument("input", metavar="INPUT.jsonl")
    p.add_argument("output", metavar="OUTPUT.jsonl", help="appended to; ids already finished there are skipped")
    p.add_argument("--model", help="provider/model (with --router: the model group)")
    p.add_argument("--router", metavar="CONFIG.yaml", help="route through a Router configured by this YAML")
    p.add_argument("--workers", type=int, default=8, metavar="N", help="concurrent calls (default 8)")
    p.add_argument("--api-base", help="override the provider's base URL")
    p.add_argument("--api-key", help="API key (default: the provider's environment variable)")
    p.add_argument("--rpm", type=int, metavar="N", help="requests per minute at most")
    p.add_argument("--tpm", type=int, metavar="N", help="tokens per minute at most")
    p.add_argument("--state", metavar="URL", help="redis://... to share --rpm/--tpm with other processes")
    p.add_argument("--budget", metavar="USD", help="start no call once this much has been spent")
    p.add_argument("--max-attempts", type=int, default=6, metavar="N", help="calls per item (default 6)")
    p.add_argument("--retry-errors", action="store_true", help="also retry items recorded with an error")
    p.add_argument("--timeout", type=float, help="seconds per call")
    p.add_argument("--no-progress", action="store_true", help="no progress display, even on a terminal")
    p.add_argument("-p", "--param", dest="params", action="append", type=parse_param, metavar="KEY=VALUE",
                   help="a call parameter for every item (repeatable; per-item params win)")
    p.set_defaults(command="batch")


def cmd_batch(args: argparse.Namespace) -> int:
    """Run the batch; print the summary to stderr. Exit 0 when every item succeeded, 1 when some failed, were
    malformed or remain (budget), 130 when interrupted."""
    extra = getattr(args, "providers_files", None)
    client = Client(providers=extra) if extra else None
    try:
        summary = run(
            args.input, args.output, model=args.model, router=args.router, client=client,
            max_workers=args.workers, rpm=args.rpm, tpm=args.tpm, budget=args.budget, state=args.state,
            max_attempts=args.max_attempts, retry_errors=args.retry_errors,
            progress=False if args.no_progress else None, api_key=args.api_key, api_base=args.api_base,
            timeout=args.timeout, **dict(args.params or []),
        )  # fmt: skip
    finally:
        if client is not None:
            client.close()
    if not (sys.stderr.isatty() and not args.no_progress):  # on a terminal run() printed it already
        sys.stderr.write(str(summary) + "\n")
    if summary.stopped == "interrupted":
        return 130
    return 0 if summary.complete and not summary.failed and not summary.bad_lines else 1
