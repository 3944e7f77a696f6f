"""docs/router.md's examples run as they are: its Python blocks in order, in one namespace, beside its YAML block
saved as router.yaml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "router.md"
TEXT = DOC.read_text(encoding="utf-8")


def test_router_doc_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    python_blocks = re.findall(r"```python\n(.*?)```", TEXT, re.S)
    (yaml_block,) = re.findall(r"```yaml\n(.*?)```", TEXT, re.S)
    (tmp_path / "router.yaml").write_text(yaml_block)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("FAKE_PROVIDER_URL", "")
    assert len(python_blocks) >= 5
    namespace: dict[str, object] = {}
    for block in python_blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    assert "not sent; capacity returns in" in capsys.readouterr().out
