"""The Celery recipe (examples/celery_batch) with real `celery worker` processes and a private redis-server: 200 items
on 2 workers, one rpm limit shared through the Router's Redis state, counted at the fake provider; a resubmission
calls nothing again.

Without celery, redis-server or the redis package these tests skip, except under CI (CI set), where they fail.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from litellm_sync.testing import FakeProviderServer, RecordedRequest, Reply

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "examples" / "celery_batch"
SPEED = 60.0  # the workers' Router clock runs 60x: a rate-limit minute lasts one real second
RPM = 40
ITEMS = 200


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI (see .ci/run)")
    pytest.skip(f"{what} is not available")


class TimedServer(FakeProviderServer):
    """Records the wall-clock second each request arrived in."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[float] = []

    def _respond(self, request: RecordedRequest) -> Reply:
        self.arrivals.append(time.time())
        return super()._respond(request)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    for module in ("celery", "redis"):
        try:
            __import__(module)
        except ImportError:
            _missing(f"the {module} package")
    binary = shutil.which("redis-server")
    if binary is None:
        _missing("redis-server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path_factory.mktemp("redis"))],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import redis

    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.02)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(10)


APP = textwrap.dedent("""
    import time
    import tasks
    tasks.ROUTER_OPTIONS.update(clock=lambda: time.time() * %(speed)r, sleep=lambda s: time.sleep(s / %(speed)r))
    app = tasks.app
""") % {"speed": SPEED}


def router_yaml(path: Path, base: str, namespace: str) -> Path:
    path.write_text(textwrap.dedent(f"""
        model_list:
          - model_name: chat
            litellm_params: {{model: openai/gpt-4o-mini, api_key: sk-celery-test, api_base: "{base}", rpm: {RPM}}}
            model_info: {{id: shared}}
        router_settings:
          num_retries: 0
          rate_limit_wait: 120
          namespace: {namespace}
    """))
    return path


def start_worker(name: str, env: dict[str, str], cwd: Path, log: BinaryIO) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "celery_test_app", "worker", "--pool", "solo", "-n", f"{name}@%h",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"],
        cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def test_celery_recipe_shares_one_rpm_across_two_workers(redis_url: str, tmp_path: Path) -> None:
    namespace = "celery-" + uuid.uuid4().hex[:8]
    with TimedServer() as server:
        config = router_yaml(tmp_path / "router.yaml", server.url, namespace)
        (tmp_path / "celery_test_app.py").write_text(APP)
        env = {**os.environ, "BATCH_REDIS_URL": redis_url, "BATCH_ROUTER_CONFIG": str(config),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), str(RECIPE), str(ROOT),
                                                           os.environ.get("PYTHONPATH")]))}  # fmt: skip
        source = tmp_path / "in.jsonl"
        source.write_text("".join(
            f'{{"id": {i}, "messages": [{{"role": "user", "content": "item {i}"}}]}}\n' for i in range(ITEMS)
        ) + "not json\n")  # fmt: skip
        output = tmp_path / "out.jsonl"
        with (tmp_path / "w1.log").open("wb") as log1, (tmp_path / "w2.log").open("wb") as log2:
            workers = [start_worker(f"w{n}", env, tmp_path, log) for n, log in ((1, log1), (2, log2))]
            try:
                submitted = run_submit(source, output, env, tmp_path)
            finally:
                for worker in workers:
                    worker.terminate()
                for worker in workers:
                    worker.wait(20)
        logs = "\n".join((tmp_path / f"w{n}.log").read_text() for n in (1, 2))
        assert submitted.returncode == 1, submitted.stderr + logs  # 1: the bad line; every item is done
        assert "bad input line 201: not valid JSON" in submitted.stderr
        assert f"{ITEMS} records written" in submitted.stderr, submitted.stderr + logs
        rows = [json.loads(line) for line in output.read_text().splitlines()]
        assert Counter(r["id"] for r in rows) == Counter(range(ITEMS))
        assert all(r["error"] is None and r["response"]["choices"] for r in rows)
        assert len(server.requests) == ITEMS  # nobody paid twice
        per_window = Counter(math.floor(t * SPEED / 60) for t in server.arrivals)
        # A call is counted in the minute its capacity was reserved; it may land at the server just after that
        # minute ends, so a window may also see one call in flight per worker from the one before.
        assert max(per_window.values()) <= RPM + 2, per_window
        assert len(per_window) >= math.ceil(ITEMS / (RPM + 2)), per_window  # the limit held the run back
        done_by = [(tmp_path / f"w{n}.log").read_text().count("complete_item[") for n in (1, 2)]
        assert all(done_by), done_by  # both workers took part

        # Submitting the same job again queues nothing and calls nothing; the output gains nothing.
        server.clear()
        again = run_submit(source, output, env, tmp_path)
        assert "0 queued" in again.stderr and "0 records written" in again.stderr, again.stderr
        assert server.requests == []


def run_submit(source: Path, output: Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RECIPE / "submit.py"), str(source), str(output), "--job", "test", "--group", "chat"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
