"""What the cache, budgets and observability cost per call, against the same loopback server as run.py.

    python benchmarks/observe.py            # about 30 seconds
    python benchmarks/observe.py --quick

Measured, interleaved in one run (blocks alternate, so machine noise hits every variant alike):
- memory cache hit: a `Client(cache=MemoryCache())` answering from the cache (target <= 50 us per call);
- per-call overhead of hooks + tracing + metrics: a plain Client against one with an OpenTelemetry hook (SDK
  TracerProvider, spans to a no-op exporter through a SimpleSpanProcessor), a Prometheus hook (own registry) and a
  plain counting hook (target <= 10% of the plain call); and a Client with budgets (memory ledger);
- the same three hooks wrapped in `in_background(...)` (told by a worker thread in batches; each block ends with
  `flush()`, so the figure includes telling what the worker had left): the same work costs less there, because
  run right after a call's HTTP work, caches cold, the OpenTelemetry SDK's span costs about 2.5 times what it
  costs among a batch of spans;
- the seam with nothing configured: Pipeline.begin + Call.end alone, in microseconds (the "0 when not enabled").

    python benchmarks/observe.py --url http://127.0.0.1:PORT --json   # against a server already running
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from run import KEY, MESSAGES, MODEL, Server  # noqa: E402

import litellm_sync  # noqa: E402
from litellm_sync._observe.pipeline import Pipeline  # noqa: E402
from litellm_sync.budgets import Budget, Budgets  # noqa: E402
from litellm_sync.cache import MemoryCache  # noqa: E402
from litellm_sync.observability import in_background  # noqa: E402

BATCHED = "  same, in_background(...) batched"


def per_call_us(call: Callable[[], Any], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - started) / count * 1e6


def wall_and_cpu_us(
    call: Callable[[], Any], count: int, after: Callable[[], Any] = lambda: None
) -> tuple[float, float]:
    """Per call: wall time, and this process's CPU time (every thread; the server is another process). The CPU
    figure is the steadier one on a shared machine: other processes' load shows in wall time much more."""
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        call()
    after()
    return (time.perf_counter() - started) / count * 1e6, (time.process_time() - cpu) / count * 1e6


def observed_hooks() -> list[Any]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
    from prometheus_client import CollectorRegistry

    from litellm_sync.observability import opentelemetry_hook, prometheus_hook

    class Discard(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Discard()))
    counted = [0]

    def count(event: litellm_sync.CallEvent) -> None:
        counted[0] += 1

    return [opentelemetry_hook(provider), prometheus_hook(CollectorRegistry()), count]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--url", help="a benchmarks/server.py already running (to compare two checkouts on one server)")
    parser.add_argument("--rounds", type=int, help="blocks per variant (default 15, --quick 5)")
    parser.add_argument("--json", action="store_true", help="print the medians as one JSON object")
    args = parser.parse_args(argv)
    rounds, block = (5, 100) if args.quick else (15, 200)
    rounds = args.rounds or rounds
    server: Any = Server() if args.url is None else argparse.Namespace(url=args.url, stop=lambda: None)
    try:
        plain = litellm_sync.Client()
        otel, prom, count = observed_hooks()
        observed = litellm_sync.Client(hooks=[otel, prom, count])
        background = in_background(otel, prom, count)
        off_thread = litellm_sync.Client(hooks=[background])
        metrics_only = litellm_sync.Client(hooks=[prom, count])
        tracing_only = litellm_sync.Client(hooks=[otel])
        budgeted = litellm_sync.Client(budgets=Budgets([Budget(1_000_000), Budget(1_000_000, per="user")]))
        cached = litellm_sync.Client(cache=MemoryCache())

        def call(client: litellm_sync.Client) -> Callable[[], Any]:
            return lambda: client.completion(MODEL, MESSAGES, api_base=server.url, api_key=KEY, user="bench")


        variants = {"plain": call(plain), "hooks+otel+prometheus": call(observed),
                    BATCHED: call(off_thread),
                    "  prometheus + a hook only": call(metrics_only), "  otel only (SDK span)": call(tracing_only),
                    "budgets (2 limits, memory)": call(budgeted), "memory cache hit": call(cached)}  # fmt: skip
        for run in variants.values():  # warm up: pools, spec, the cache entry
            per_call_us(run, 20)
        figures: dict[str, list[float]] = {name: [] for name in variants}
        cpu: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(rounds):
            for name, run in variants.items():
                after = background.flush if name == BATCHED else lambda: None
                wall, spent = wall_and_cpu_us(run, block * (10 if name == "memory cache hit" else 1), after)
                figures[name].append(wall)
                cpu[name].append(spent)
        pipeline = Pipeline()

        def seam() -> None:
            params: dict[str, Any] = {}
            pipeline.begin("openai", "gpt-4o-mini", None, MESSAGES, params, False).end(None, None, True)

        seam_us = statistics.median(per_call_us(seam, 20000) for _ in range(5))
        for client in (plain, observed, off_thread, metrics_only, tracing_only, budgeted, cached):
            client.close()
    finally:
        server.stop()

    median = {name: statistics.median(values) for name, values in figures.items()}
    cpu_median = {name: statistics.median(values) for name, values in cpu.items()}
    if args.json:
        print(json.dumps({**median, **{f"cpu {name.strip()}": v for name, v in cpu_median.items()}, "seam": seam_us}))
        return 0
    base, cpu_base = median["plain"], cpu_median["plain"]
    print(f"{'measure':34} | {'per call':>10} | {'vs plain':>8} | {'CPU/call':>10} | {'vs plain':>8} | target")
    print("-" * 34 + "-|-" + "-" * 10 + "-|-" + "-" * 8 + "-|-" + "-" * 10 + "-|-" + "-" * 8 + "-|-------")
    for name, value in median.items():
        ratio = "" if name == "plain" else f"{value / base - 1:+.1%}"
        spent = cpu_median[name]
        cpu_ratio = "" if name == "plain" else f"{spent / cpu_base - 1:+.1%}"
        target = {"hooks+otel+prometheus": "<= +10%", BATCHED: "<= +10%",
                  "memory cache hit": "<= 50 us"}.get(name, "")
        print(f"{name:34} | {value:8.1f} us | {ratio:>8} | {spent:7.1f} us | {cpu_ratio:>8} | {target}")
    print(f"{'seam alone, nothing configured':34} | {seam_us:8.2f} us | {seam_us / base:+8.2%} |")
    for name in ("hooks+otel+prometheus", BATCHED):
        met = median[name] <= base * 1.10 and cpu_median[name] <= cpu_base * 1.10
        print(f"\n{name.strip()}: +10% target met (wall and CPU): {met}", end="")
    print(f"\nmemory cache hit: 50 us target met: {median['memory cache hit'] <= 50}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
