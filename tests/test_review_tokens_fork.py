"""Review regression: a child forked while another thread loads a tiktoken encoding can still load it."""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest

from litellm_sync import tokens


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_fork_during_an_encoding_load_does_not_hang_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"stand-in encoding file"
    url = "https://example.invalid/o200k_base.tiktoken"
    monkeypatch.setattr(tokens, "TIKTOKEN_FILES", {"o200k_base": (url, hashlib.sha256(data).hexdigest())})
    monkeypatch.setattr(tokens, "_encodings", {})
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    (tmp_path / hashlib.sha1(url.encode()).hexdigest()).write_bytes(data)
    loading, release = threading.Event(), threading.Event()
    parent = os.getpid()

    def get_encoding(name: str) -> Any:
        if os.getpid() == parent:  # the parent's loader holds the lock until told to finish
            loading.set()
            release.wait(10)
        return types.SimpleNamespace(name=name)

    module = types.ModuleType("tiktoken")
    module.get_encoding = get_encoding  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tiktoken", module)
    loader = threading.Thread(target=tokens.local_encoding, args=("o200k_base",))
    loader.start()
    assert loading.wait(10)
    pid = os.fork()
    if pid == 0:  # the child: load the encoding itself, then report by exit code
        try:
            found = tokens.local_encoding("o200k_base")
            os._exit(0 if found is not None else 2)
        except BaseException:
            os._exit(3)
    try:
        deadline = time.monotonic() + 10
        status = None
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.02)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung on the encoding lock its parent's thread held")
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    finally:
        release.set()
        loader.join(10)
