"""docs/cache.md, docs/budgets.md and docs/observability.md: their Python blocks run as they are, in order, one
namespace per page (the OpenTelemetry and Prometheus examples need those extras; CI installs them)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("page", ["cache.md", "budgets.md", "observability.md"])
def test_doc_examples_run(page: str, capsys: pytest.CaptureFixture[str]) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    if page == "observability.md" and not os.environ.get("CI"):
        pytest.importorskip("opentelemetry")
        pytest.importorskip("prometheus_client")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(DOCS / page), "exec"), namespace)
    if page == "budgets.md":
        assert capsys.readouterr().out.splitlines() == ["user=alice month", "refused: True"]
    if page == "observability.md":
        assert '"correlation_id": "req-8f2c"' in capsys.readouterr().err
