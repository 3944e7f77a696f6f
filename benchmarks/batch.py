"""Throughput of `batch.run` (files, resume bookkeeping, retries, progress accounting) over `batch_completion`
(threads and calls only), 1,000 items on 16 workers against the fake provider in its own process.

    python benchmarks/batch.py            # 5 rounds of each, interleaved; about 30 seconds
    python benchmarks/batch.py --quick    # 2 rounds

Prints items/s for both (medians) and the ratio of their times; the target is batch.run within 1.3x.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import litellm_sync  # noqa: E402
from litellm_sync import batch  # noqa: E402

MODEL = "openai/gpt-4o-mini"
KEY = "sk-bench-0000000000000000"
ITEMS = 1000
WORKERS = 16
TARGET = 1.3


def start_fake() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-m", "litellm_sync.testing"], stdout=subprocess.PIPE, text=True,
                               cwd=HERE.parent)  # fmt: skip
    line = process.stdout.readline() if process.stdout else ""
    if not line.startswith("FAKE_PROVIDER_URL="):
        process.kill()
        raise RuntimeError(f"fake provider did not start: {line!r}")
    return process, line.strip().split("=", 1)[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    rounds = 2 if parser.parse_args().quick else 5
    process, url = start_fake()
    work = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    source = work / "in.jsonl"
    conversations = [[{"role": "user", "content": f"Summarise document {i} in one line."}] for i in range(ITEMS)]
    source.write_text("".join(json.dumps({"id": i, "messages": m}) + "\n" for i, m in enumerate(conversations)))
    client = litellm_sync.Client(pool_size=WORKERS)
    options = {"api_key": KEY, "api_base": url, "client": client}
    try:
        batch.batch_completion(MODEL, conversations[:100], max_workers=WORKERS, **options)  # warm up
        plain: list[float] = []
        runner: list[float] = []
        for n in range(rounds):
            started = time.perf_counter()
            results = batch.batch_completion(MODEL, conversations, max_workers=WORKERS, max_retries=0, **options)
            plain.append(time.perf_counter() - started)
            assert not any(isinstance(r, Exception) for r in results)
            started = time.perf_counter()
            summary = batch.run(source, work / f"out-{n}.jsonl", model=MODEL, max_workers=WORKERS, progress=False,
                                **options)  # fmt: skip
            runner.append(time.perf_counter() - started)
            assert summary.succeeded == ITEMS, summary
    finally:
        client.close()
        process.terminate()
        process.wait(10)
    plain_s, runner_s = statistics.median(plain), statistics.median(runner)
    ratio = runner_s / plain_s
    print(f"{ITEMS} items, {WORKERS} workers, {rounds} interleaved rounds (medians)")
    print(f"  batch_completion  {ITEMS / plain_s:8.0f} items/s  ({plain_s * 1000:.0f} ms)")
    print(f"  batch.run         {ITEMS / runner_s:8.0f} items/s  ({runner_s * 1000:.0f} ms, output written)")
    print(f"  ratio             {ratio:8.2f}x  (target <= {TARGET}x: {'ok' if ratio <= TARGET else 'MISSED'})")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
