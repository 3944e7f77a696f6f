"""in_background(): events gather while the worker pauses and are told as one batch, each hook in turn; flush()
cuts the pause short; bad arguments are refused; pending events are told at interpreter exit."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

import litellm_sync
from litellm_sync.exceptions import ConfigurationError
from litellm_sync.observability import in_background


def event(name: str) -> litellm_sync.CallEvent:
    return litellm_sync.CallEvent("p", "m", False, 1.0, None, None, True, correlation_id=name)


def poll(condition: Callable[[], bool], within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_a_lone_event_is_told_at_once_and_later_ones_wait_for_the_batch() -> None:
    told: list[tuple[str, str]] = []
    first: Callable[[Any], None] = lambda e: told.append(("first", e.correlation_id))  # noqa: E731
    second: Callable[[Any], None] = lambda e: told.append(("second", e.correlation_id))  # noqa: E731
    background = in_background(first, second, interval=30)  # a pause no test run reaches
    background(event("a"))
    assert poll(lambda: len(told) == 2)  # the worker was idle: told without waiting for a batch
    for name in ("b", "c", "d"):
        background(event(name))
    time.sleep(0.05)
    assert told == [("first", "a"), ("second", "a")]  # gathering while the worker pauses
    assert background.flush(10)  # cuts the 30 s pause short
    # one batch: each hook in turn is told every event, in order
    assert told[2:] == [("first", "b"), ("first", "c"), ("first", "d"), ("second", "b"), ("second", "c"),
                        ("second", "d")]  # fmt: skip


def test_a_failing_hook_does_not_stop_the_others_or_the_worker(caplog: pytest.LogCaptureFixture) -> None:
    told: list[str | None] = []

    def broken(e: Any) -> None:
        raise ValueError("boom")

    background = in_background(broken, lambda e: told.append(e.correlation_id))
    for name in ("a", "b"):
        background(event(name))
    assert background.flush(10)
    background(event("c"))
    assert background.flush(10)
    assert told == ["a", "b", "c"]
    assert any("boom" in r.getMessage() for r in caplog.records)


def test_events_from_many_threads_are_all_told_once() -> None:
    names: list[str | None] = []
    background = in_background(lambda e: names.append(e.correlation_id), interval=0.001)

    def send(sender: int) -> None:
        for number in range(200):
            background(event(f"{sender}-{number}"))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert background.flush(10)
    assert sorted(map(str, names)) == sorted(f"{t}-{n}" for t in range(8) for n in range(200))
    for sender in range(8):  # each thread's events in the order it sent them
        mine = [n for n in names if str(n).startswith(f"{sender}-")]
        assert mine == [f"{sender}-{n}" for n in range(200)]
    assert background.dropped == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"max_queue": 0}, "max_queue=0"),
        ({"max_queue": "10"}, "max_queue='10'"),
        ({"interval": -1}, "interval=-1"),
        ({"interval": 3600}, "between 0 and 60"),
        ({"interval": True}, "interval=True"),
    ],
)
def test_bad_arguments_are_refused(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(")):
        in_background(print, **arguments)


def test_a_hook_that_is_not_callable_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="a hook is a callable"):
        in_background("not a hook")  # type: ignore[arg-type]


def test_pending_events_are_told_at_interpreter_exit(tmp_path: Path) -> None:
    out = tmp_path / "told.txt"
    script = textwrap.dedent(f"""
        import litellm_sync
        from litellm_sync.observability import in_background

        def write(event):
            with open({str(out)!r}, "a") as f:
                f.write(event.correlation_id + "\\n")

        background = in_background(write, interval=30)
        for name in ("one", "two", "three"):
            background(litellm_sync.CallEvent("p", "m", False, 1.0, None, None, True, correlation_id=name))
        # no flush: the interpreter's exit tells what is pending
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert out.read_text().split() == ["one", "two", "three"]


def test_a_filling_queue_ends_the_pause_early() -> None:
    told: list[str | None] = []
    background = in_background(lambda e: told.append(e.correlation_id), max_queue=8, interval=30)
    background(event("a"))
    assert poll(lambda: told == ["a"])
    background(event("b"))  # gathers for the next batch
    background(event("c"))  # a quarter of max_queue waiting: the worker stops pausing
    assert poll(lambda: told == ["a", "b", "c"])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_while_another_thread_held_the_lock_still_tells_its_events() -> None:
    """The lock is taken per dropped event (and to start the worker): a fork while another thread holds it must
    not leave the child's first event waiting forever on a lock no thread of the child will release."""
    told: list[str | None] = []
    background = in_background(lambda e: told.append(e.correlation_id))
    background(event("parent"))
    assert background.flush(10)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with background._lock:  # as _drop holds it while counting a dropped event
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first event starts its own worker
        try:
            background(event("child"))
            os.write(write, json.dumps([background.flush(5), told]).encode())
        finally:
            os._exit(0)
    os.close(write)
    release.set()
    holder.join()
    ready = poll(lambda: select.select([read], [], [], 0)[0] != [], within=10)
    if not ready:
        os.kill(pid, signal.SIGKILL)
    with os.fdopen(read) as pipe:
        answer = pipe.read() if ready else ""
    os.waitpid(pid, 0)
    assert answer, "the forked child hung on the parent's lock"
    assert json.loads(answer) == [True, ["parent", "child"]]


def test_a_hook_raising_system_exit_does_not_end_the_worker() -> None:
    told: list[str | None] = []

    def leaving(e: Any) -> None:
        if e.correlation_id == "a":
            raise SystemExit(3)
        told.append(e.correlation_id)

    background = in_background(leaving)
    background(event("a"))
    assert background.flush(10)  # the worker lives on: the flush marker is told
    background(event("b"))
    assert background.flush(10)
    assert told == ["b"]
