"""README.md stays true: its provider table is `litellm-sync providers --markdown`, and it links every doc."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from litellm_sync import cli
from litellm_sync._spec import load_spec

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"
TABLE = re.compile(r"<!-- providers:start -->\n(.*?)<!-- providers:end -->", re.S)


def readme() -> str:
    return README.read_text(encoding="utf-8")


def test_provider_table_matches_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("LITELLM_SYNC_PROVIDERS", raising=False)
    match = TABLE.search(readme())
    assert match, "README.md lacks the <!-- providers:start --> ... <!-- providers:end --> block"
    assert cli.main(["providers", "--markdown"]) == 0
    generated = capsys.readouterr().out
    assert match.group(1) == generated, (
        "README.md's provider table is stale: replace the block with the output of `litellm-sync providers --markdown`"
    )


def test_provider_table_lists_bundled_providers() -> None:
    match = TABLE.search(readme())
    assert match
    names = set(re.findall(r"^\| `([^`]+)` \|", match.group(1), re.M))
    assert names == set(load_spec([]).providers)


@pytest.mark.parametrize("doc", sorted(p.name for p in (REPO_ROOT / "docs").glob("*.md")))
def test_readme_links_every_doc(doc: str) -> None:
    assert f"(docs/{doc})" in readme()


def test_readme_commands_and_sections() -> None:
    text = readme()
    assert "pip install . && python examples/quickstart.py" in text
    assert 'pip install ".[test]" && python -m pytest -q' in text
    assert "## Performance" in text and "<!-- benchmarks -->" in text


def test_readme_mentions_existing_files() -> None:
    for name in re.findall(r"`([\w/]+\.(?:py|yaml))`", readme()):
        assert (REPO_ROOT / name).exists() or (REPO_ROOT / "examples" / name).exists(), name
