"""docs/batch.md's examples run as they are: its Python blocks in order, in one namespace, in a scratch directory."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "batch.md"
TEXT = DOC.read_text(encoding="utf-8")


def test_batch_doc_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    blocks = re.findall(r"```python\n(.*?)```", TEXT, re.S)
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    out = capsys.readouterr().out
    assert "The app crashes on login: Echo: The app crashes on login" in out
    assert "2 succeeded, 0 failed, 0 already done, 0 remaining; 1 bad input lines" in out
    assert sorted(json.loads(line)["id"] for line in (tmp_path / "labels.jsonl").read_text().splitlines()) == [
        "t-1", "t-2"]


def test_documented_options_exist() -> None:
    import inspect

    from litellm_sync import batch

    documented = set(re.findall(r"^\| `(\w+)`", TEXT, re.M)) - {"any"}
    assert documented <= set(inspect.signature(batch.run).parameters), documented
