"""Batch jobs: batch_completion's order and exceptions; batch.run's files, restarts, retries, rate-limit pauses,
budget, bad lines, progress and CLI, all counted at the fake provider."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import litellm_sync
from litellm_sync import batch, cli
from litellm_sync._batch.progress import Progress
from litellm_sync._batch.runner import Totals
from litellm_sync.exceptions import BadRequestError, MissingAPIKeyError
from litellm_sync.testing import FakeProviderServer, RecordedRequest, Reply

MODEL = "openai/gpt-4o-mini"
ROOT = Path(__file__).resolve().parents[1]


def chat_body(text: str = "ok") -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}}  # fmt: skip


def error_reply(status: int, message: str, **headers: str) -> Reply:
    return Reply(status=status, json={"error": {"message": message}}, headers=headers)


def write_input(path: Path, ids: range | list[Any], extra: list[str] = ()) -> Path:  # type: ignore[assignment]
    lines = [json.dumps({"id": i, "messages": [{"role": "user", "content": f"item {i}"}]}) for i in ids]
    path.write_text("\n".join([*lines, *extra]) + "\n")
    return path


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def called_ids(requests: list[RecordedRequest]) -> Counter[str]:
    """Which item each request at the provider was for (the prompt says 'item <id>')."""
    return Counter(r.json["messages"][-1]["content"].split(" ", 1)[1] for r in requests)  # type: ignore[index]


def options(server: FakeProviderServer) -> dict[str, Any]:
    return {"model": MODEL, "api_key": "sk-test-key", "api_base": server.url, "progress": False}


# -- batch_completion ----------------------------------------------------------------------------------------


def test_batch_completion_keeps_input_order_and_returns_exceptions(server: FakeProviderServer) -> None:
    prompts = [[{"role": "user", "content": f"prompt {i}"}] for i in range(24)]
    server.enqueue(*[error_reply(400, "bad prompt")] * 3)
    results = litellm_sync.batch_completion(MODEL, prompts, max_workers=6, api_key="sk-x", api_base=server.url,
                                            max_retries=0)  # fmt: skip
    assert len(results) == 24
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 3 and all(isinstance(e, BadRequestError) for e in errors)
    for i, result in enumerate(results):
        if not isinstance(result, Exception):
            assert result.content == f"Echo: prompt {i}"  # each answer at its prompt's index
    assert len(server.requests) == 24


def test_batch_completion_one_worker_puts_the_failure_at_its_index(server: FakeProviderServer) -> None:
    server.enqueue(Reply(json=chat_body("first")), error_reply(404, "no such model"))
    prompts = [[{"role": "user", "content": str(i)}] for i in range(3)]
    results = batch.batch_completion(MODEL, prompts, max_workers=1, api_key="sk-x", api_base=server.url)
    assert results[0].content == "first"
    assert isinstance(results[1], litellm_sync.NotFoundError)
    assert results[2].content == "Echo: 2"
    assert batch.batch_completion(MODEL, [], api_key="sk-x", api_base=server.url) == []


# -- run: files, bad lines, permanent and retryable failures -------------------------------------------------


def test_run_writes_one_record_per_item_and_reports_bad_lines(
    server: FakeProviderServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = write_input(tmp_path / "in.jsonl", range(10), extra=[
        "{not json", '{"id": 3, "messages": [{"role": "user", "content": "again"}]}', '["a list"]',
        '{"id": 11, "messages": []}', '{"id": 12, "messages": [{"role": "user", "content": "x"}], "params": 5}',
        "", '{"id": 13, "messages": [{"role": "user", "content": "item 13"}], "params": {"temperature": 0}}',
    ])  # fmt: skip
    out = tmp_path / "out.jsonl"
    with caplog.at_level(logging.WARNING, logger="litellm_sync"):
        summary = batch.run(source, out, **options(server), max_workers=4)
    assert [(b.line, b.problem.split(" (")[0]) for b in summary.bad_lines] == [
        (11, "not valid JSON"), (12, "id 3 repeats line 4; ids must be unique"),
        (13, "expected a JSON object, got list"), (14, 'id 11: "messages" must be a non-empty list of message objects'),
        (15, 'id 12: "params" must be an object'),
    ]  # fmt: skip
    assert sum("line 11: not valid JSON" in r.getMessage() for r in caplog.records) == 1
    assert (summary.items, summary.succeeded, summary.failed, summary.remaining) == (11, 11, 0, 0)
    rows = records(out)
    assert sorted(r["id"] for r in rows) == [*range(10), 13]
    row = next(r for r in rows if r["id"] == 13)
    assert row["response"]["choices"][0]["message"]["content"] == "Echo: item 13"
    assert row["error"] is None and row["usage"]["total_tokens"] == row["response"]["usage"]["total_tokens"]
    assert row["cost"] == pytest.approx(row["response"]["cost"])
    temperature = [r.json for r in server.requests if r.json["messages"][0]["content"] == "item 13"]  # type: ignore
    assert temperature[0]["temperature"] == 0  # type: ignore[index]
    assert summary.prompt_tokens == sum(r["usage"]["prompt_tokens"] for r in rows)
    assert "11 succeeded, 0 failed" in str(summary) and "bad input line 11: not valid JSON" in str(summary)


def test_permanent_failures_are_recorded_and_the_run_goes_on(server: FakeProviderServer, tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", range(6))
    out = tmp_path / "out.jsonl"
    server.enqueue(error_reply(400, "prompt rejected"), error_reply(503, "busy"), error_reply(503, "busy"))
    summary = batch.run(source, out, **options(server), max_workers=1, max_attempts=2, backoff=(0.01, 0.01))
    assert (summary.succeeded, summary.failed, summary.retries) == (4, 2, 1)
    failed = {r["id"]: r["error"] for r in records(out) if r["error"]}
    assert failed[0]["type"] == "BadRequestError" and failed[0]["retryable"] is False
    assert failed[1] == {"type": "ServiceUnavailableError", "message": "busy", "status_code": 503, "code": None,
                         "retryable": True, "attempts": 2}  # fmt: skip
    assert "sk-test-key" not in out.read_text()

    # Restart: the permanent failure stays; the retryable one (and only it) is tried again and appended.
    server.clear()
    again = batch.run(source, out, **options(server))
    assert (again.skipped, again.succeeded) == (5, 1)
    assert list(called_ids(server.requests)) == ["1"]
    latest = {r["id"]: r for r in records(out)}
    assert latest[1]["error"] is None and latest[0]["error"]["type"] == "BadRequestError"

    server.clear()  # retry_errors=True retries recorded permanent errors too
    assert batch.run(source, out, **options(server), retry_errors=True).succeeded == 1
    assert list(called_ids(server.requests)) == ["0"]


def test_a_missing_key_stops_the_run_without_recording_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    out = tmp_path / "out.jsonl"
    with pytest.raises(MissingAPIKeyError, match="OPENAI_API_KEY"):
        batch.run(write_input(tmp_path / "in.jsonl", range(5)), out, model=MODEL, progress=False)
    assert out.read_text() == ""
    with pytest.raises(litellm_sync.UnknownModelError):
        batch.run(tmp_path / "in.jsonl", out, model="nosuchprovider/x", progress=False)
    with pytest.raises(batch.BatchFileError, match="cannot read the batch input"):
        batch.run(tmp_path / "missing.jsonl", out, model=MODEL, api_key="sk-x", progress=False)


def test_a_torn_last_line_is_cut_and_a_foreign_file_refused(server: FakeProviderServer, tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", range(3))
    out = tmp_path / "out.jsonl"
    batch.run(source, out, **options(server))
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:2]) + lines[2][: len(lines[2]) // 2])  # a crash mid-write of the third
    server.clear()
    summary = batch.run(source, out, **options(server))
    assert (summary.skipped, summary.succeeded) == (2, 1)
    assert sorted(r["id"] for r in records(out)) == [0, 1, 2]
    foreign = tmp_path / "notes.jsonl"
    foreign.write_text('{"hello": 1}\n')
    with pytest.raises(batch.BatchFileError, match="line 1 is not a batch record"):
        batch.run(source, foreign, **options(server))


# -- rate limits ---------------------------------------------------------------------------------------------


def test_a_429_storm_slows_the_run_without_losing_items(server: FakeProviderServer, tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", range(40))
    out = tmp_path / "out.jsonl"
    storm = [error_reply(429, "slow down", **{"retry-after-ms": "20"})] * 30
    server.enqueue(*storm)
    summary = batch.run(source, out, **options(server), max_workers=4, max_attempts=2)
    assert (summary.succeeded, summary.failed, summary.remaining) == (40, 0, 0)
    assert summary.rate_limited == 30 and summary.retries == 30
    assert len(server.requests) == 70  # every 429 retried, nothing else repeated
    assert Counter(r["id"] for r in records(out)) == Counter(range(40))


class TimedServer(FakeProviderServer):
    """Records when each request arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[float] = []

    def _respond(self, request: RecordedRequest) -> Reply:
        self.arrivals.append(time.monotonic())
        return super()._respond(request)


def test_one_workers_429_pauses_every_worker(tmp_path: Path) -> None:
    with TimedServer() as server:
        server.enqueue(error_reply(429, "slow down", **{"retry-after-ms": "800"}))
        server.enqueue(*[Reply(json=chat_body(), delay=0.05)] * 40)  # without the pause, calls would go on
        summary = batch.run(write_input(tmp_path / "in.jsonl", range(40)), tmp_path / "out.jsonl",
                            **options(server), max_workers=4)  # fmt: skip
        first = server.arrivals[0]
        # Calls already on their way when the 429 came back may land just after it; then nobody calls until the
        # Retry-After has passed (margins leave room for a slow machine).
        assert [t - first for t in server.arrivals if first + 0.3 < t < first + 0.75] == []
        assert max(server.arrivals) - first >= 0.8
    assert summary.succeeded == 40 and summary.rate_limited == 1


def test_rpm_is_enforced_through_a_router(server: FakeProviderServer, tmp_path: Path) -> None:
    from litellm_sync.router import Router

    source = write_input(tmp_path / "in.jsonl", range(8))
    now = [1_800_000_000.0]  # a frozen minute, advanced by hand through the Router's injected clock
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    router = Router([{"model_name": "chat", "litellm_params": {"model": MODEL, "api_key": "sk-x",
                                                               "api_base": server.url, "rpm": 3}}],
                    clock=lambda: now[0], sleep=sleep, rate_limit_wait=120)  # fmt: skip
    with router:
        summary = batch.run(source, tmp_path / "out.jsonl", router=router, progress=False, max_workers=2)
    assert summary.succeeded == 8 and len(server.requests) == 8
    assert len(sleeps) >= 2  # 8 calls at 3 a minute: at least two waits for the next minute


# -- budget and progress -------------------------------------------------------------------------------------


def test_budget_stops_new_calls_and_counts_earlier_spend(server: FakeProviderServer, tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", range(20))
    out = tmp_path / "out.jsonl"
    one = litellm_sync.completion(MODEL, [{"role": "user", "content": "item 0"}], api_key="sk", api_base=server.url)
    server.clear()
    summary = batch.run(source, out, **options(server), max_workers=1, budget=one.cost * 5)
    assert summary.stopped == "budget" and summary.succeeded == 5 and summary.remaining == 15
    assert not summary.complete and "budget is spent" in str(summary)
    assert len(server.requests) == 5
    summary = batch.run(source, out, **options(server), max_workers=1, budget=one.cost * 7)  # 5 spent before
    assert summary.succeeded == 2 and summary.skipped == 5
    summary = batch.run(source, out, **options(server), max_workers=3)
    assert summary.complete and summary.stopped is None and len(records(out)) == 20


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_on_a_terminal_and_nothing_otherwise(server: FakeProviderServer, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    terminal = FakeTTY()
    display = Progress(4, stream=terminal)
    display._bar = None  # the built-in line, whether or not tqdm is installed
    totals = Totals(total=4, succeeded=3, failed=1, retries=2)
    display.update(totals)
    display.close()
    assert terminal.getvalue().startswith("\r4/4 done, ") and "1 errors, 2 retries" in terminal.getvalue()
    assert Progress(4, stream=io.StringIO()).enabled is False
    batch.run(write_input(tmp_path / "in.jsonl", range(3)), tmp_path / "out.jsonl",
              **{**options(server), "progress": None})  # fmt: skip
    assert capsys.readouterr().err == ""  # stderr is not a terminal here


# -- command line --------------------------------------------------------------------------------------------


def test_cli_batch(server: FakeProviderServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_input(tmp_path / "in.jsonl", range(5))
    out = tmp_path / "out.jsonl"
    args = ["batch", str(source), str(out), "--model", MODEL, "--workers", "3", "--api-base", server.url,
            "--api-key", "sk-x", "-p", "temperature=0.5"]  # fmt: skip
    assert cli.main(args) == 0
    err = capsys.readouterr().err
    assert "5 succeeded, 0 failed" in err and f"output: {out}" in err
    assert all(r.json["temperature"] == 0.5 for r in server.requests)  # type: ignore[index]
    with source.open("a") as handle:
        handle.write("oops\n")
    assert cli.main(args) == 1  # a bad line makes the exit status 1, the rest is done
    assert "bad input line 6: not valid JSON" in capsys.readouterr().err
    assert cli.main(["batch", str(source), str(out)]) == 3
    assert "pass model=" in capsys.readouterr().err


# -- crash and restart ---------------------------------------------------------------------------------------

CHILD = textwrap.dedent("""
    import sys
    from litellm_sync import batch
    batch.run(sys.argv[1], sys.argv[2], model="openai/gpt-4o-mini", api_key="sk-x", api_base=sys.argv[3],
              max_workers=4, progress=False)
""")


def test_sigkill_halfway_then_restart_calls_no_finished_id_again(
    server: FakeProviderServer, tmp_path: Path
) -> None:
    source = write_input(tmp_path / "in.jsonl", range(200))
    out = tmp_path / "out.jsonl"
    server.enqueue(*[Reply(json=chat_body(), delay=0.01)] * 200)  # slow enough to be killed halfway
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(source), str(out), server.url], env=env,
                             stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and child.poll() is None:
            if out.exists() and out.read_bytes().count(b"\n") >= 60:
                break
            time.sleep(0.005)
        assert child.poll() is None, child.stderr.read() if child.stderr else ""  # type: ignore[union-attr]
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(10)
        if child.stderr:
            child.stderr.close()
    finished_first = {r["id"] for r in records(out)}
    calls_first = called_ids(server.requests)
    assert 60 <= len(finished_first) < 200
    server.clear()

    summary = batch.run(source, out, **options(server), max_workers=4)
    rows = records(out)
    assert Counter(r["id"] for r in rows) == Counter(range(200))  # each id exactly once
    assert all(r["error"] is None for r in rows)
    calls_second = called_ids(server.requests)
    assert not {int(i) for i in calls_second} & finished_first  # no finished id called again
    assert summary.skipped == len(finished_first) and summary.succeeded == 200 - len(finished_first)
    in_flight = set(calls_first) & set(calls_second)  # sent before the kill, not yet recorded
    assert len(in_flight) <= 4
    assert all(n == 1 for n in calls_second.values())


def test_the_fake_server_records_no_request_whose_body_was_cut_off() -> None:
    """What a SIGKILL mid-send leaves: headers and part of the body. No provider acts on it, so it is not a call."""
    import socket
    from urllib.parse import urlsplit

    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "item 1"}]}).encode()
    with FakeProviderServer() as server:  # its own: the shared one keeps other tests' connections open
        address = urlsplit(server.url)
        for head, sent in ((f"Content-Length: {len(body)}", body[:10]), ("Transfer-Encoding: chunked",
                                                                          b"ff\r\n" + body)):  # fmt: skip
            with socket.create_connection((address.hostname, address.port)) as sock:
                sock.sendall(f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n{head}\r\n\r\n".encode() + sent)
                assert server.wait_for_open_connections(1, timeout=10)  # accepted, the body still coming
            assert server.wait_for_open_connections(0, timeout=10)  # read to its cut-off end and closed
        assert server.requests == []
        litellm_sync.completion(MODEL, [{"role": "user", "content": "item 2"}], api_key="sk-x", api_base=server.url)
        assert list(called_ids(server.requests)) == ["2"]  # a whole request is still recorded


def test_concurrent_writers_never_interleave_a_line(tmp_path: Path) -> None:
    from litellm_sync._batch.records import OutputFile

    output = OutputFile(tmp_path / "out.jsonl")
    long = "x" * 100_000

    def write(n: int) -> None:
        for i in range(50):
            output.write({"id": f"{n}-{i}", "response": None, "error": {"message": long}, "usage": None,
                          "cost": None})  # fmt: skip

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    output.close()
    assert len({r["id"] for r in records(tmp_path / "out.jsonl")}) == 200


INTERRUPTED = textwrap.dedent("""
    import sys
    from litellm_sync import batch
    summary = batch.run(sys.argv[1], sys.argv[2], model="openai/gpt-4o-mini", api_key="sk-x", api_base=sys.argv[3],
                        max_workers=4, progress=False)
    print(summary.stopped, summary.succeeded, summary.remaining)
""")


def test_ctrl_c_lets_calls_in_flight_finish_and_be_written(server: FakeProviderServer, tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", range(100))
    out = tmp_path / "out.jsonl"
    server.enqueue(*[Reply(json=chat_body(), delay=0.05)] * 100)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    child = subprocess.Popen([sys.executable, "-c", INTERRUPTED, str(source), str(out), server.url], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (out.exists() and out.read_bytes().count(b"\n") >= 8):
        time.sleep(0.005)
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=30)
    assert child.returncode == 0, stderr
    stopped, succeeded, remaining = stdout.split()
    assert stopped == "interrupted" and int(remaining) > 0 and "finishing the" in stderr
    rows = records(out)
    assert len(rows) == int(succeeded) == len(server.requests)  # every call made has its record: none lost
    assert Counter(str(r["id"]) for r in rows) == called_ids(server.requests)


class _Answer:
    cost = None

    def to_dict(self) -> dict[str, Any]:
        return {"usage": {"prompt_tokens": 2, "completion_tokens": 1}}


def test_ctrl_c_while_the_run_waits_never_leaves_a_call_in_flight_unwritten() -> None:
    """The run must not return while a call is in flight, wherever the Ctrl-C lands. (Waiting with Thread.join
    lost that call's record: before Python 3.13 an interrupted join marks a running thread stopped, gh-90882.)"""
    from litellm_sync._batch.records import Item
    from litellm_sync._batch.runner import Runner

    called: list[Any] = []
    written: list[dict[str, Any]] = []
    first_worker_called = threading.Event()

    def main_waits_for_workers() -> bool:  # every worker started: the main thread is past Thread.start
        frame = sys._current_frames().get(threading.main_thread().ident or 0)
        names = []
        while frame is not None:
            names.append(frame.f_code.co_name)
            frame = frame.f_back
        return "run" in names and "start" not in names

    def call(item: Item) -> _Answer:
        called.append(item.id)
        if threading.current_thread().name == "litellm-batch-0" and not first_worker_called.is_set():
            first_worker_called.set()
            while not main_waits_for_workers():
                time.sleep(0.001)
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)  # Ctrl-C, to the main thread
            assert runner.stop.wait(10)  # the run saw it; this call stays in flight a little longer
            time.sleep(0.2)
        else:
            time.sleep(0.002)
        return _Answer()

    items = [Item(i, [{"role": "user", "content": "hi"}]) for i in range(1000)]
    runner = Runner(call, items, written.append, Totals(total=1000), max_workers=2, max_attempts=1,
                    backoff=(0.01, 0.01), budget=None, spent=Decimal())  # fmt: skip
    runner.run()
    assert runner.stopped == "interrupted" and first_worker_called.is_set()
    assert sorted(r["id"] for r in written) == sorted(called) and len(called) < 1000  # every call has its record


def test_rpm_and_tpm_for_a_model_go_through_a_router(server: FakeProviderServer, tmp_path: Path) -> None:
    summary = batch.run(write_input(tmp_path / "in.jsonl", range(5)), tmp_path / "out.jsonl", **options(server),
                        rpm=1000, tpm=100_000, max_workers=2)  # fmt: skip
    assert summary.succeeded == 5 and len(server.requests) == 5
    with pytest.raises(litellm_sync.ConfigurationError, match="router's config"):
        batch.run(tmp_path / "in.jsonl", tmp_path / "out2.jsonl", router="router.yaml", rpm=5, progress=False)
