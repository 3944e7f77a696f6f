"""Every example runs unattended against the fake provider (LITELLM_SYNC_FAKE=1) and prints what it should."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = REPO_ROOT / "examples"

# Script -> lines (or line prefixes, ending with "...") its output must contain.
EXPECTED: dict[str, list[str]] = {
    "quickstart.py": ["Echo: In one sentence, what is a synchronous API?"],
    "deepseek_completion.py": [
        "deepseek-chat: Echo: Why is the sky blue?",
        "deepseek-reasoner reasoning: 9.11 has 11 hundredths...",
        "deepseek-reasoner answer: 9.9 is larger than 9.11.",
    ],
    "streaming.py": ["Echo: Count from one to ten in words, separated by spaces.", "[10 prompt + 11 completion..."],
    "tools.py": [
        "model called get_weather({'city': 'Paris'})",
        "final answer: Echo: What's the weather in Paris right now?",
    ],
    "threads.py": [
        *(f"Reply with just the number {n}. -> Echo: Reply with just the number {n}." for n in range(16)),
        "16 answers from 8 threads sharing one Client",
    ],
    "observability.py": [
        "req-1: cache_hit=False cost=...",
        "req-2: cache_hit=True cost=0",
        "span 'chat gpt-4o-mini': request_id=req-1 cache_hit=False",
        "span 'chat gpt-4o-mini': request_id=req-2 cache_hit=True",
        'litellm_sync_requests_total{model="gpt-4o-mini",outcome="success",provider="openai"} 1.0',
        'litellm_sync_requests_total{model="gpt-4o-mini",outcome="cache_hit",provider="openai"} 1.0',
    ],
    "custom_provider.py": [
        "acme/acme-chat-1: context 32768, $0.50/M in, $1.50/M out",
        "Echo: Hello, ACME!",
        "cost: $...",
    ],
}


def example_env(tmp_path: Path, fake: bool = True) -> dict[str, str]:
    """The current environment without provider keys, with the repo importable and fake mode on."""
    env = {
        k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN")) and not k.startswith("LITELLM")
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["LITELLM_SYNC_CACHE_DIR"] = str(tmp_path / "cache")
    if fake:
        env["LITELLM_SYNC_FAKE"] = "1"
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # Run from outside the repository: examples must find their files relative to themselves.
    return subprocess.run(
        [sys.executable, *args], cwd=REPO_ROOT.parent, env=env, capture_output=True, text=True, timeout=60
    )


def assert_lines(output: str, expected: list[str]) -> None:
    lines = output.splitlines()
    for want in expected:
        if want.endswith("..."):
            assert any(line.startswith(want[:-3]) for line in lines), f"no line starting {want[:-3]!r} in {output!r}"
        else:
            assert want in lines, f"missing line {want!r} in {output!r}"


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_example_runs_in_fake_mode(script: str, tmp_path: Path) -> None:
    result = run([str(EXAMPLES / script)], example_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert_lines(result.stdout, EXPECTED[script])


def test_every_example_is_tested() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts - {"flask_app.py"} == set(EXPECTED)


def test_quickstart_without_keys_falls_back_to_fake(tmp_path: Path) -> None:
    result = run([str(EXAMPLES / "quickstart.py")], example_env(tmp_path, fake=False))
    assert result.returncode == 0, result.stderr
    assert "fake provider" in result.stderr and "OPENAI_API_KEY" in result.stderr
    assert_lines(result.stdout, EXPECTED["quickstart.py"])


def test_quickstart_fake_flag(tmp_path: Path) -> None:
    env = example_env(tmp_path, fake=False)
    env["OPENAI_API_KEY"] = "sk-not-used"  # --fake wins over a configured key: nothing leaves the machine
    result = run([str(EXAMPLES / "quickstart.py"), "--fake"], env)
    assert result.returncode == 0, result.stderr
    assert_lines(result.stdout, EXPECTED["quickstart.py"])


def test_flask_app_imports(tmp_path: Path) -> None:
    pytest.importorskip("flask")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import flask_app; "
        "print(sorted(r.rule for r in flask_app.create_app().url_map.iter_rules() if r.endpoint != 'static'))"
    )
    result = run(["-c", code, str(EXAMPLES)], example_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['/', '/chat', '/stream']"


def test_django_app_imports_and_checks(tmp_path: Path) -> None:
    pytest.importorskip("django")
    app = EXAMPLES / "django_app" / "app.py"
    result = run([str(app), "check"], example_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    code = "import sys; sys.path.insert(0, sys.argv[1]); import app; print([str(p.pattern) for p in app.urlpatterns])"
    result = run(["-c", code, str(app.parent)], example_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['', 'chat', 'stream']"


def test_getting_started_names_the_json_field_the_apps_read() -> None:
    doc = (REPO_ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    for app in (EXAMPLES / "flask_app.py", EXAMPLES / "django_app" / "app.py"):
        assert re.findall(r'data\.get\("(\w+)"\)', app.read_text(encoding="utf-8")) == ["message"], app
    assert "`POST /chat`" in doc and 'JSON `{"message": "your prompt"}`' in doc
