"""Router overhead per call over `Client.completion`: in process, and with its state in Redis.

    python benchmarks/router.py            # about 20 seconds
    python benchmarks/router.py --quick

Two measurements, each interleaved in blocks (A, B, A, B, ...) and reported as medians:
- decision overhead: `Router.completion` over `Client.completion` with the HTTP call replaced by a stub that
  returns a prepared response, so only the Router's own work (choice, state, bookkeeping) is timed;
- end to end: the same calls against benchmarks/server.py on loopback (noisier: the difference of two
  ~0.5 ms figures).
Redis rows need `redis-server` on PATH and the redis package; the script starts its own server on a free port.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import litellm_sync  # noqa: E402
from litellm_sync.router import Router  # noqa: E402

MODEL = "openai/gpt-4o-mini"
KEY = "sk-bench-0000000000000000"
MESSAGES = [{"role": "user", "content": "Say hello in five words."}]


def start_bench_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, str(HERE / "server.py")], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline() if process.stdout else ""
    if not line.startswith("PORT="):
        process.kill()
        raise RuntimeError(f"benchmark server did not start: {line!r}")
    return process, f"http://127.0.0.1:{int(line.strip()[5:])}"


def start_redis() -> tuple[subprocess.Popen[bytes], str] | None:
    binary = shutil.which("redis-server")
    try:
        import redis
    except ImportError:
        return None
    if binary is None:
        return None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", tempfile.mkdtemp()],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(200):
        try:
            redis.Redis.from_url(url).ping()
            return process, url
        except redis.exceptions.ConnectionError:
            time.sleep(0.02)
    process.kill()
    return None


def model_list(url: str) -> list[dict[str, Any]]:
    return [
        {"model_name": "chat", "litellm_params": {"model": MODEL, "api_key": KEY, "api_base": url, "rpm": 10**9}},
        {"model_name": "chat", "litellm_params": {"model": MODEL, "api_key": KEY, "api_base": url + "/", "rpm": 10**9}},
    ]


def per_call_us(function: Callable[[], Any], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - started) / calls * 1e6


def interleaved(base: Callable[[], Any], routed: Callable[[], Any], calls: int, blocks: int) -> tuple[float, float]:
    """Median per-call microseconds of base and routed, measured in alternating blocks."""
    per_call_us(base, calls // 4)
    per_call_us(routed, calls // 4)  # warm both
    base_times, routed_times = [], []
    for _ in range(blocks):
        base_times.append(per_call_us(base, calls))
        routed_times.append(per_call_us(routed, calls))
    return statistics.median(base_times), statistics.median(routed_times)


class StubClient(litellm_sync.Client):
    """A Client whose completion returns a prepared response: isolates the Router's own work."""

    def __init__(self, response: Any) -> None:
        super().__init__(max_retries=0)
        self.response = response

    def completion(self, model: str, messages: Any, **kwargs: Any) -> Any:
        return self.response


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    calls, blocks = (200, 5) if args.quick else (1000, 9)
    server, url = start_bench_server()
    redis_server = start_redis()
    rows: list[tuple[str, float, float]] = []
    try:
        client = litellm_sync.Client(max_retries=0)
        response = client.completion(MODEL, MESSAGES, api_base=url, api_key=KEY)
        stub = StubClient(response)
        states: list[tuple[str, Any]] = [("in process", None)]
        if redis_server is not None:
            states.append(("Redis", redis_server[1]))
        for label, state in states:
            with Router(model_list(url), client=stub, state=state, namespace="bench-stub") as router:
                base, routed = interleaved(
                    lambda: stub.completion(MODEL, MESSAGES, api_base=url, api_key=KEY),
                    lambda r=router: r.completion("chat", MESSAGES), calls * 5, blocks,
                )
                rows.append((f"decision overhead, {label}", base, routed))
            with Router(model_list(url), client=client, state=state, namespace="bench-http") as router:
                base, routed = interleaved(
                    lambda: client.completion(MODEL, MESSAGES, api_base=url, api_key=KEY),
                    lambda r=router: r.completion("chat", MESSAGES), calls, blocks,
                )
                rows.append((f"end to end, {label}", base, routed))
    finally:
        server.terminate()
        server.wait(10)
        if redis_server is not None:
            redis_server[0].terminate()
            redis_server[0].wait(10)
    print(f"Python {sys.version.split()[0]}, {calls} calls x {blocks} blocks, medians")
    print(f"{'measure':<34} | {'Client':>10} | {'Router':>10} | {'overhead/call':>13}")
    print("-" * 34 + "-|-" + "-" * 10 + "-|-" + "-" * 10 + "-|-" + "-" * 13)
    for name, base, routed in rows:
        print(f"{name:<34} | {base:>7.1f} us | {routed:>7.1f} us | {routed - base:>10.1f} us")
    if redis_server is None:
        print("(Redis rows skipped: redis-server or the redis package is missing)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
