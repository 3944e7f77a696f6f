"""Benchmark runner: litellm_sync against raw `requests.Session` + `json` on the same loopback server, measured
interleaved in one run; prints a table and writes benchmarks/results.json.

    python benchmarks/run.py            # full run (a minute or two)
    python benchmarks/run.py --quick    # fewer rounds, same measurements

The server (benchmarks/server.py) runs in its own process so it does not share the client's GIL. Every
ratio is litellm_sync's cost over raw requests' cost measured in the same run (lower is better; 1.0 = free).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

import litellm_sync  # noqa: E402
from litellm_sync._spec import load_spec  # noqa: E402

MODEL = "openai/gpt-4o-mini"
KEY = "sk-bench-0000000000000000"
MESSAGES = [{"role": "user", "content": "Say hello in five words."}]
RAW_HEADERS = {"authorization": f"Bearer {KEY}", "content-type": "application/json", "accept": "application/json"}

TARGETS = {
    "import": 2.0,
    "sequential": 1.15,
    "streaming": 1.5,
    "threaded": 1.2,
    "rss_growth_mb": 5.0,
    "spec_load_ms": 50.0,
}


# -- server ------------------------------------------------------------------------------------------


class Server:
    """benchmarks/server.py in a subprocess."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "server.py")], stdout=subprocess.PIPE, text=True
        )
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line.startswith("PORT="):
            self.process.kill()
            raise RuntimeError(f"benchmark server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.strip()[5:])}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


# -- helpers -----------------------------------------------------------------------------------------


def rss_mb() -> float:
    """Resident set size now, in MB (Linux /proc; falls back to peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return peak_rss_mb()


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak / 1e3


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fresh_interpreter(code: str) -> float:
    # Bytecode as an installed package has it: with PYTHONDONTWRITEBYTECODE set and stale .pyc files, every
    # fresh interpreter would compile the package from source (import measured 2.8x instead of 1.75x).
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip().splitlines()[-1])


# -- the two contenders ------------------------------------------------------------------------------


class Lib:
    """litellm_sync through its public API."""

    def __init__(self, url: str, threads: int = 1) -> None:
        self.url = url
        self.client = litellm_sync.Client(max_retries=0, pool_size=max(threads, 4))

    def call(self) -> Any:
        return self.client.completion(MODEL, MESSAGES, api_base=self.url, api_key=KEY)

    def stream(self, chunks: int) -> int:
        count = 0
        stream = self.client.completion(
            MODEL, MESSAGES, stream=True, api_base=self.url, api_key=KEY, extra_headers={"x-chunks": str(chunks)}
        )
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                count += 1
        return count


class Raw:
    """requests.Session + json, doing the same work by hand: JSON body out, JSON parsed back."""

    def __init__(self, url: str) -> None:
        self.endpoint = url + "/chat/completions"
        self.local = threading.local()

    @property
    def session(self) -> requests.Session:
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()  # Sessions are not thread-safe: one per thread
        return session

    def call(self) -> Any:
        body = json.dumps({"model": "gpt-4o-mini", "messages": MESSAGES}).encode()
        response = self.session.post(self.endpoint, data=body, headers=RAW_HEADERS)
        response.raise_for_status()
        return json.loads(response.content)

    def stream(self, chunks: int) -> int:
        body = json.dumps({"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}).encode()
        headers = {**RAW_HEADERS, "x-chunks": str(chunks)}
        count = 0
        with self.session.post(self.endpoint, data=body, headers=headers, stream=True) as response:
            response.raise_for_status()
            for line in response.iter_lines(chunk_size=65536):
                if not line.startswith(b"data: "):
                    continue
                data = line[6:]
                if data == b"[DONE]":
                    break
                event = json.loads(data)
                if event["choices"] and event["choices"][0]["delta"].get("content"):
                    count += 1
        return count


# -- measurements ------------------------------------------------------------------------------------


def measure_import(runs: int) -> dict[str, Any]:
    code = "import time; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"
    lib, raw = [], []
    fresh_interpreter(code.format(mod="litellm_sync"))  # writes the package's .pyc files, as installing does
    for i in range(runs):
        order = [("litellm_sync", lib), ("requests", raw)]
        for module, into in order if i % 2 == 0 else order[::-1]:
            into.append(fresh_interpreter(code.format(mod=module)))
    lib_s, raw_s = statistics.median(lib), statistics.median(raw)
    return {"litellm_sync_s": lib_s, "requests_s": raw_s, "ratio": lib_s / raw_s}


def measure_first_call(url: str, runs: int) -> dict[str, Any]:
    lib_code = (
        "import time; import litellm_sync; t = time.perf_counter(); "
        f"litellm_sync.completion({MODEL!r}, {MESSAGES!r}, api_base={url!r}, api_key={KEY!r}); "
        "print(time.perf_counter() - t)"
    )
    raw_code = (
        "import time, json; import requests; t = time.perf_counter(); s = requests.Session(); "
        f"json.loads(s.post({url + '/chat/completions'!r}, data=json.dumps({{'model': 'm', 'messages': {MESSAGES!r}}}),"
        f" headers={RAW_HEADERS!r}).content); print(time.perf_counter() - t)"
    )
    lib = [fresh_interpreter(lib_code) for _ in range(runs)]
    raw = [fresh_interpreter(raw_code) for _ in range(runs)]
    return {"litellm_sync_ms": statistics.median(lib) * 1e3, "requests_ms": statistics.median(raw) * 1e3}


def measure_spec_load(runs: int) -> dict[str, Any]:
    load_spec()  # fills the validated-spec cache, as any earlier run would have
    cached = []
    for _ in range(runs):
        started = time.perf_counter()
        load_spec()
        cached.append(time.perf_counter() - started)
    previous = os.environ.get("LITELLM_SYNC_CACHE_DIR")
    os.environ["LITELLM_SYNC_CACHE_DIR"] = "off"
    try:
        cold = []
        for _ in range(max(2, runs // 2)):
            started = time.perf_counter()
            load_spec()
            cold.append(time.perf_counter() - started)
    finally:
        if previous is None:
            del os.environ["LITELLM_SYNC_CACHE_DIR"]
        else:
            os.environ["LITELLM_SYNC_CACHE_DIR"] = previous
    return {"ms": statistics.median(cached) * 1e3, "uncached_ms": statistics.median(cold) * 1e3}


def _block(call: Callable[[], Any], count: int, latencies: list[float]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        started = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - started)
    return time.perf_counter() - wall, time.process_time() - cpu


def measure_sequential(lib: Lib, raw: Raw, rounds: int, block: int) -> dict[str, Any]:
    for _ in range(200):  # warm both pools and caches
        lib.call()
        raw.call()
    stats: dict[str, dict[str, Any]] = {}
    for name in ("litellm_sync", "requests"):
        stats[name] = {"latencies": [], "wall": 0.0, "cpu": 0.0, "calls": 0}
    for i in range(rounds):
        order = [("litellm_sync", lib.call), ("requests", raw.call)]
        for name, call in order if i % 2 == 0 else order[::-1]:
            gc.collect()
            wall, cpu = _block(call, block, stats[name]["latencies"])
            stats[name]["wall"] += wall
            stats[name]["cpu"] += cpu
            stats[name]["calls"] += block
    out: dict[str, Any] = {}
    for name, s in stats.items():
        out[name] = {
            "calls_per_s": s["calls"] / s["wall"],
            "p50_us": percentile(s["latencies"], 0.50) * 1e6,
            "p99_us": percentile(s["latencies"], 0.99) * 1e6,
            "cpu_per_call_us": s["cpu"] / s["calls"] * 1e6,
        }
    out["ratio"] = out["requests"]["calls_per_s"] / out["litellm_sync"]["calls_per_s"]
    out["cpu_ratio"] = out["litellm_sync"]["cpu_per_call_us"] / out["requests"]["cpu_per_call_us"]
    return out


def measure_streaming(lib: Lib, raw: Raw, rounds: int, chunks: int) -> dict[str, Any]:
    lib.stream(100)
    raw.stream(100)
    times: dict[str, list[float]] = {"litellm_sync": [], "requests": []}
    for i in range(rounds):
        order = [("litellm_sync", lib.stream), ("requests", raw.stream)]
        for name, stream in order if i % 2 == 0 else order[::-1]:
            gc.collect()
            started = time.perf_counter()
            got = stream(chunks)
            times[name].append(time.perf_counter() - started)
            if got != chunks:
                raise RuntimeError(f"{name} saw {got} content chunks, expected {chunks}")
    out = {name: {"chunks_per_s": chunks / statistics.median(t)} for name, t in times.items()}
    out["ratio"] = out["requests"]["chunks_per_s"] / out["litellm_sync"]["chunks_per_s"]
    return out


def _threaded_rate(call: Callable[[], Any], threads: int, per_thread: int) -> float:
    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            for _ in range(per_thread):
                call()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for worker_thread in workers:
        worker_thread.start()
    barrier.wait()
    started = time.perf_counter()
    for worker_thread in workers:
        worker_thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return threads * per_thread / elapsed


def measure_threaded(url: str, rounds: int, threads: int, per_thread: int) -> dict[str, Any]:
    lib = Lib(url, threads)
    raw = Raw(url)
    _threaded_rate(lib.call, threads, 20)
    _threaded_rate(raw.call, threads, 20)
    rates: dict[str, list[float]] = {"litellm_sync": [], "requests": []}
    for i in range(rounds):
        order = [("litellm_sync", lib.call), ("requests", raw.call)]
        for name, call in order if i % 2 == 0 else order[::-1]:
            gc.collect()
            rates[name].append(_threaded_rate(call, threads, per_thread))
    lib.client.close()
    out = {name: {"calls_per_s": statistics.median(r)} for name, r in rates.items()}
    out["ratio"] = out["requests"]["calls_per_s"] / out["litellm_sync"]["calls_per_s"]
    out["threads"] = threads
    return out


def measure_memory(lib: Lib, calls: int) -> dict[str, Any]:
    for _ in range(500):
        lib.call()
    gc.collect()
    before = rss_mb()
    for i in range(calls):
        lib.call()
        if i % 50 == 49:
            lib.stream(5)
    gc.collect()
    after = rss_mb()
    return {"calls": calls, "rss_before_mb": before, "rss_after_mb": after, "growth_mb": after - before}


# -- report ------------------------------------------------------------------------------------------


def verdict(value: float, limit: float) -> str:
    return "ok" if value <= limit else "MISSED"


def table(results: dict[str, Any]) -> str:
    imp, seq, stream, thr = results["import"], results["sequential"], results["streaming"], results["threaded"]
    mem, spec, first = results["memory"], results["spec_load"], results["first_call"]
    lib, raw = seq["litellm_sync"], seq["requests"]
    rows = [
        ("import (median, fresh interpreter)", f"{imp['litellm_sync_s'] * 1e3:.0f} ms",
         f"{imp['requests_s'] * 1e3:.0f} ms", f"{imp['ratio']:.2f}x", f"<= {TARGETS['import']}x",
         verdict(imp["ratio"], TARGETS["import"])),
        ("first call incl. spec load", f"{first['litellm_sync_ms']:.1f} ms", f"{first['requests_ms']:.1f} ms",
         "", "", ""),
        ("spec load (cached / uncached)", f"{spec['ms']:.1f} / {spec['uncached_ms']:.0f} ms", "", "",
         f"< {TARGETS['spec_load_ms']:.0f} ms", verdict(spec["ms"], TARGETS["spec_load_ms"])),
        ("sequential calls/s", f"{lib['calls_per_s']:.0f}", f"{raw['calls_per_s']:.0f}", f"{seq['ratio']:.2f}x",
         f"<= {TARGETS['sequential']}x", verdict(seq["ratio"], TARGETS["sequential"])),
        ("  p50 / p99 latency", f"{lib['p50_us']:.0f} / {lib['p99_us']:.0f} us",
         f"{raw['p50_us']:.0f} / {raw['p99_us']:.0f} us", "", "", ""),
        ("  CPU per call", f"{lib['cpu_per_call_us']:.0f} us", f"{raw['cpu_per_call_us']:.0f} us",
         f"{seq['cpu_ratio']:.2f}x", "", ""),
        (f"streaming chunks/s ({results['config']['stream_chunks']} chunks)",
         f"{stream['litellm_sync']['chunks_per_s']:,.0f}", f"{stream['requests']['chunks_per_s']:,.0f}",
         f"{stream['ratio']:.2f}x", f"<= {TARGETS['streaming']}x", verdict(stream["ratio"], TARGETS["streaming"])),
        (f"{thr['threads']} threads, one Client: calls/s", f"{thr['litellm_sync']['calls_per_s']:.0f}",
         f"{thr['requests']['calls_per_s']:.0f}", f"{thr['ratio']:.2f}x", f"<= {TARGETS['threaded']}x",
         verdict(thr["ratio"], TARGETS["threaded"])),
        (f"RSS growth over {mem['calls']:,} calls", f"{mem['growth_mb']:+.2f} MB", "", "",
         f"< {TARGETS['rss_growth_mb']:.0f} MB", verdict(mem["growth_mb"], TARGETS["rss_growth_mb"])),
        ("peak RSS", f"{results['peak_rss_mb']:.0f} MB", "", "", "", ""),
    ]
    header = ("measure", "litellm_sync", "raw requests", "ratio", "target", "")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(header, widths)).rstrip()]
    lines.append("-|-".join("-" * w for w in widths))
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="litellm_sync vs raw requests on a loopback server")
    parser.add_argument("--quick", action="store_true", help="fewer rounds (noisier figures)")
    parser.add_argument("--output", default=str(HERE / "results.json"))
    args = parser.parse_args(argv)
    quick = args.quick
    config = {
        "quick": quick,
        "import_runs": 5 if quick else 11,
        "sequential_rounds": 6 if quick else 20,
        "sequential_block": 250,
        "stream_chunks": 20_000,
        "stream_rounds": 3 if quick else 7,
        "threads": 16,
        "threaded_rounds": 2 if quick else 4,
        "threaded_per_thread": 100 if quick else 250,
        "memory_calls": 10_000,
    }
    server = Server()
    try:
        results: dict[str, Any] = {"config": config}
        results["import"] = measure_import(config["import_runs"])
        results["first_call"] = measure_first_call(server.url, 3 if quick else 5)
        results["spec_load"] = measure_spec_load(5 if quick else 11)
        lib, raw = Lib(server.url), Raw(server.url)
        results["sequential"] = measure_sequential(lib, raw, config["sequential_rounds"], config["sequential_block"])
        results["streaming"] = measure_streaming(lib, raw, config["stream_rounds"], config["stream_chunks"])
        results["threaded"] = measure_threaded(
            server.url, config["threaded_rounds"], config["threads"], config["threaded_per_thread"]
        )
        results["memory"] = measure_memory(lib, config["memory_calls"])
        lib.client.close()
        results["peak_rss_mb"] = peak_rss_mb()
    finally:
        server.stop()
    results["targets"] = TARGETS
    results["machine"] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "requests": requests.__version__,
    }
    results["met"] = {
        "import": results["import"]["ratio"] <= TARGETS["import"],
        "sequential": results["sequential"]["ratio"] <= TARGETS["sequential"],
        "streaming": results["streaming"]["ratio"] <= TARGETS["streaming"],
        "threaded": results["threaded"]["ratio"] <= TARGETS["threaded"],
        "rss_growth": results["memory"]["growth_mb"] < TARGETS["rss_growth_mb"],
        "spec_load": results["spec_load"]["ms"] < TARGETS["spec_load_ms"],
    }
    print(table(results))
    print(f"\nall targets met: {all(results['met'].values())}")
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
