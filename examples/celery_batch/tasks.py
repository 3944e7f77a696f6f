"""Celery recipe for batch jobs beyond one machine: one task per item, results kept in Redis keyed by id (so a
redelivered or resubmitted task never pays twice), rate limits shared by every worker through the Router's Redis
state, and one budget for the whole job.

Run a worker (any number, on any host, all with the same two variables):

    export BATCH_REDIS_URL=redis://localhost:6379/0      # broker, results and the Router's shared state
    export BATCH_ROUTER_CONFIG=router.yaml               # model_list with rpm/tpm, as in docs/router.md
    celery -A tasks worker --pool threads --concurrency 8

then submit a JSONL file and collect the output with `python submit.py` (see README.md next to this file).
"""

from __future__ import annotations

import json
import os
import random
import threading
from decimal import Decimal
from typing import Any

import redis
from celery import Celery

from litellm_sync import batch
from litellm_sync.exceptions import APIError, AuthenticationError, ConfigurationError, RateLimitError
from litellm_sync.router import Router, RouterRateLimitError

REDIS_URL = os.environ.get("BATCH_REDIS_URL", "redis://localhost:6379/0")
ROUTER_CONFIG = os.environ.get("BATCH_ROUTER_CONFIG", "router.yaml")
CLAIM_SECONDS = 600  # an item in flight is reserved this long; a worker that died mid-call frees it by expiry
MAX_RETRIES = 8  # retries of one item for errors other than rate limits (those wait without counting)

#: Extra keywords for the Router each worker builds (tests pass an injected clock here).
ROUTER_OPTIONS: dict[str, Any] = {}

app = Celery("litellm_batch", broker=REDIS_URL)
app.conf.update(
    task_acks_late=True,  # a worker killed mid-task leaves the task to be delivered again
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    task_ignore_result=True,  # results go to the job's Redis hash, keyed by id
)

_lock = threading.Lock()
_shared: dict[int, tuple[Router, redis.Redis]] = {}  # per process id: a forked worker builds its own


def _resources() -> tuple[Router, redis.Redis]:
    pid = os.getpid()
    with _lock:
        if pid not in _shared:
            router = Router.from_yaml(ROUTER_CONFIG, state=REDIS_URL, **ROUTER_OPTIONS)
            _shared[pid] = (router, redis.Redis.from_url(REDIS_URL))
        return _shared[pid]


class Job:
    """A job's keys in Redis: results (hash id -> record), claims of items in flight, spend and budget."""

    def __init__(self, name: str, client: redis.Redis) -> None:
        self.name = name
        self.redis = client
        self.results = f"batch:{name}:results"

    def record(self, key: str) -> dict[str, Any] | None:
        raw = self.redis.hget(self.results, key)
        return None if raw is None else json.loads(raw)

    def finished(self, key: str) -> bool:
        record = self.record(key)
        return record is not None and batch.is_finished(record, retry_errors=False)

    def claim(self, key: str) -> bool:
        return bool(self.redis.set(f"batch:{self.name}:claim:{key}", "1", nx=True, ex=CLAIM_SECONDS))

    def release(self, key: str) -> None:
        self.redis.delete(f"batch:{self.name}:claim:{key}")

    def save(self, key: str, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":"), default=float)
        self.redis.hset(self.results, key, line)
        if record.get("cost") is not None:
            self.redis.incrbyfloat(f"batch:{self.name}:spent", float(record["cost"]))

    def over_budget(self) -> bool:
        budget, spent = self.redis.mget(f"batch:{self.name}:budget", f"batch:{self.name}:spent")
        return budget is not None and Decimal((spent or b"0").decode()) >= Decimal(budget.decode())


@app.task(bind=True, max_retries=None)
def complete_item(self: Any, job_name: str, item: dict[str, Any], model_group: str) -> str:
    """Call one item through the shared Router and store its record; idempotent by id."""
    router, client = _resources()
    job = Job(job_name, client)
    key = batch.id_key(item["id"])
    if job.finished(key):
        return "already done"  # a redelivery or a resubmission: never pay twice
    if job.over_budget():
        return "over budget"  # left without a record: resubmit with a larger budget to finish
    if not job.claim(key):
        raise self.retry(countdown=5)  # another worker has it in flight; check again later
    try:
        response = router.completion(model_group, item["messages"], **item.get("params", {}))
    except (ConfigurationError, AuthenticationError):
        job.release(key)
        raise  # the job cannot succeed until the configuration is fixed: fail loudly, record nothing
    except APIError as error:
        # A rate limit (the provider's 429, or the Router's "no capacity, nothing sent") waits without using up
        # the item's retries; other retryable errors are retried MAX_RETRIES times; the rest are recorded.
        limited = isinstance(error, RouterRateLimitError) or (isinstance(error, RateLimitError) and error.retryable)
        if limited or (error.retryable and self.request.retries < MAX_RETRIES):
            job.release(key)
            wait = error.retry_after if error.retry_after is not None else 2 ** min(self.request.retries, 6)
            raise self.retry(countdown=wait * (1 + random.random() / 4), max_retries=None) from None
        record = batch.error_record(item["id"], error, self.request.retries + 1)
    except BaseException:
        job.release(key)
        raise
    else:
        record = batch.success_record(item["id"], response)
    job.save(key, record)  # saved before the claim is released: nobody can start this id in between
    job.release(key)
    return "failed" if record["error"] else "done"
