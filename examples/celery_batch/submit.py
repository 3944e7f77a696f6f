"""Submit a JSONL batch to the Celery workers of tasks.py, wait for it, and write the output JSONL in the format of
`litellm-sync batch` (one record per id, in input order; ids already in the output are kept as they are).

    python submit.py INPUT.jsonl OUTPUT.jsonl --job nightly --group chat [--budget 5.00]

Submitting the same job again sends only the items without a result, so it is safe to rerun after a crash of
this script, of a worker, or of the whole cluster.
"""

from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal

import redis
from tasks import REDIS_URL, Job, complete_item

from litellm_sync import batch


def submit(job: Job, items: list[batch.Item], model_group: str, budget: Decimal | None = None) -> int:
    """Queue one task per item that has no finished record yet; returns how many were queued."""
    if budget is not None:
        job.redis.set(f"batch:{job.name}:budget", str(budget))
    queued = 0
    for item in items:
        if not job.finished(batch.id_key(item.id)):
            payload = {"id": item.id, "messages": list(item.messages), "params": dict(item.params)}
            complete_item.delay(job.name, payload, model_group)
            queued += 1
    return queued


def wait(job: Job, items: list[batch.Item], timeout: float | None = None, poll: float = 0.2) -> bool:
    """Wait until every item has a record (True), or the budget is spent and no call is in flight (False)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    idle = 0
    while True:
        done = job.redis.hlen(job.results)
        if done >= len(items):
            return True
        in_flight = any(True for _ in job.redis.scan_iter(f"batch:{job.name}:claim:*", count=1000))
        idle = idle + 1 if job.over_budget() and not in_flight else 0
        if idle >= 3:
            return False
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"job {job.name}: {done} of {len(items)} items done after {timeout}s")
        time.sleep(poll)


def collect(job: Job, items: list[batch.Item], output_path: str) -> int:
    """Append the records of the items not yet in the output file, in input order; returns how many."""
    output = batch.OutputFile(output_path)
    written = 0
    try:
        for item in items:
            key = batch.id_key(item.id)
            record = job.record(key)
            if record is not None and output.previous.get(key) != record:
                output.write(record)
                written += 1
    finally:
        output.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--job", required=True, help="the job's name: its results live under batch:<job>:")
    parser.add_argument("--group", required=True, help="the Router's model group to call")
    parser.add_argument("--budget", type=Decimal, help="USD for the whole job, shared by every worker")
    args = parser.parse_args(argv)
    items, bad = batch.read_input(args.input)
    for line in bad:
        print(f"bad input {line} (skipped)", file=sys.stderr)
    job = Job(args.job, redis.Redis.from_url(REDIS_URL))
    queued = submit(job, items, args.group, args.budget)
    print(f"job {args.job}: {len(items)} items, {queued} queued", file=sys.stderr)
    complete = wait(job, items)
    written = collect(job, items, args.output)
    print(f"job {args.job}: {written} records written to {args.output}"
          + ("" if complete else "; stopped by the budget"), file=sys.stderr)  # fmt: skip
    return 0 if complete and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
