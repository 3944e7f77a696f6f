"""Fork safety: a Client used in the parent and then in forked children (gunicorn --preload, Celery prefork)
never shares a pooled socket with its parent or a sibling: each child gets its own answers, none times out."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

import pytest
import requests

import litellm_sync
from litellm_sync.testing import FakeProviderServer

CHILDREN = 6
CALLS = 3

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")


def _child(client: litellm_sync.Client, url: str, number: int, write_end: int) -> None:
    """Runs in the child: CALLS calls, one JSON line of (asked, got or error) each, then exits at once."""
    code = 0
    try:
        for call in range(CALLS):
            prompt = f"child{number}-{call}"
            try:
                answer = client.completion(
                    "openai/gpt-4o-mini", [{"role": "user", "content": prompt}], api_key="k", api_base=url,
                    timeout=5, max_retries=0,
                )
                line = {"asked": prompt, "got": answer.content}
            except Exception as exc:  # reported to the parent, which fails the test
                line = {"asked": prompt, "error": f"{type(exc).__name__}: {exc}"}
            os.write(write_end, (json.dumps(line) + "\n").encode())
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _run_children(client: litellm_sync.Client, url: str) -> list[dict[str, Any]]:
    read_end, write_end = os.pipe()
    pids = []
    for number in range(CHILDREN):
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            _child(client, url, number, write_end)
        pids.append(pid)
    os.close(write_end)
    deadline = time.monotonic() + 30
    remaining = set(pids)
    while remaining and time.monotonic() < deadline:
        for pid in list(remaining):
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done:
                remaining.discard(pid)
        time.sleep(0.02)
    for pid in remaining:  # only the children this test started
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as reader:
        lines = [json.loads(line) for line in reader.read().splitlines()]
    assert not remaining, f"{len(remaining)} child(ren) still running after 30 s"
    return lines


@pytest.mark.parametrize("own_session", [True, False], ids=["client-session", "caller-session"])
def test_forked_children_get_their_own_answers(own_session: bool) -> None:
    with FakeProviderServer() as server:
        client = litellm_sync.Client(session=None if own_session else requests.Session())
        parent = client.completion("openai/gpt-4o-mini", [{"role": "user", "content": "parent"}],
                                   api_key="k", api_base=server.url)
        assert parent.content == "Echo: parent"
        assert client.transport.connection_pools(), "the parent keeps a pooled connection the children inherit"
        lines = _run_children(client, server.url)
        assert len(lines) == CHILDREN * CALLS
        for line in lines:
            assert "error" not in line, line
            assert line["got"] == f"Echo: {line['asked']}", line
        # The parent's own pooled connection still works after its children used (and dropped) theirs.
        again = client.completion("openai/gpt-4o-mini", [{"role": "user", "content": "parent again"}],
                                  api_key="k", api_base=server.url)
        assert again.content == "Echo: parent again"
        client.close()
