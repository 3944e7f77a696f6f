"""docs/testing.md runs as shown: every python block is a file named by its first line; they are written into
a fresh directory and pytest runs them there, in a separate process (as a user's test suite would)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("flask")
pytest.importorskip("django")

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "testing.md"
BLOCKS = re.findall(r"```python\n# (\S+\.py)\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_every_python_block_is_a_named_file() -> None:
    assert len(BLOCKS) == DOC.read_text(encoding="utf-8").count("```python")
    names = [name for name, _ in BLOCKS]
    assert len(names) == len(set(names)) and len(names) >= 5


def test_the_snippets_pass_as_a_test_suite(tmp_path: Path) -> None:
    tests = 0
    for name, code in BLOCKS:
        (tmp_path / name).write_text(code, encoding="utf-8")
        tests += len(re.findall(r"^def test_", code, re.M))
    env = {k: v for k, v in os.environ.items() if not re.search(r"(API_BASE|BASE_URL|_API_KEY|_HOST)$", k)}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "."],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert f"{tests} passed" in run.stdout
