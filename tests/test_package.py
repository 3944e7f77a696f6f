"""The built wheel works on its own: built, installed with its dependencies into a plain virtualenv (no system
site-packages), imported from another directory, and used for a call and for the `litellm-sync` command.

The repository is copied first (without VCS data and caches) so the build never writes build/ or
*.egg-info into the working tree, and concurrent test runs cannot collide. The dependencies come from the
package index pip is configured with (pip's own cache makes a second run quick); offline, point pip at a
wheelhouse with PIP_FIND_LINKS=DIR PIP_NO_INDEX=1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
IGNORED = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", "build", "dist", "*.egg-info", ".pytest_cache",
                                 ".ruff_cache", ".mypy_cache", ".hypothesis", ".benchmarks", ".venv", "tests")

# Runs inside the new virtualenv, from an unrelated directory: only the installed wheel can answer.
CHECK = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import litellm_sync
    from litellm_sync.testing import FakeProviderServer
    package = Path(litellm_sync.__file__).resolve().parent
    assert str(package).startswith(sys.prefix), (package, sys.prefix)
    assert (package / "providers.yaml").is_file()
    assert (package / "py.typed").is_file()
    client = litellm_sync.Client(max_retries=0)
    with FakeProviderServer() as fake:
        reply = client.completion("anthropic/claude-sonnet-4-5", [{"role": "user", "content": "hi"}],
                                  api_key="k", api_base=fake.url)
        sent = fake.requests[-1]
    print(json.dumps({"providers": len(client.spec.providers), "content": reply.content, "path": sent.path,
                      "max_tokens": sent.json["max_tokens"], "prefix": sys.prefix}))
    """
)


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, (
        f"{' '.join(map(str, args[:5]))} ... failed (exit {done.returncode}):\n{done.stdout[-2000:]}\n"
        f"{done.stderr[-4000:]}\n(offline? give pip a wheelhouse: PIP_FIND_LINKS=DIR PIP_NO_INDEX=1)"
    )
    return done.stdout


def test_wheel_installs_with_its_dependencies_into_a_plain_venv(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(REPO, source, ignore=IGNORED)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LITELLM_SYNC_PROVIDERS", "VIRTUAL_ENV")}
    env["LITELLM_SYNC_CACHE_DIR"] = str(tmp_path / "cache")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    wheels = tmp_path / "wheels"
    # Built with this interpreter's setuptools (no build isolation: nothing to download to build).
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels),
          str(source)], tmp_path, env)
    (wheel,) = wheels.glob("litellm_sync-*.whl")

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, env)  # no system site-packages
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    # This interpreter's pip installs into the venv (--python), which saves bootstrapping pip into it.
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", str(wheel)], tmp_path, env)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    isolated = {**env, "HOME": str(tmp_path / "home"), "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"}
    result = json.loads(_run([str(python), "-c", CHECK], elsewhere, isolated).strip().splitlines()[-1])
    assert Path(result["prefix"]) == venv
    assert result["providers"] >= 5
    assert (result["content"], result["path"], result["max_tokens"]) == ("Echo: hi", "/v1/messages", 64000)

    # The console script is installed and reads the packaged spec.
    script = bin_dir / ("litellm-sync.exe" if os.name == "nt" else "litellm-sync")
    providers = json.loads(_run([str(script), "providers", "--json"], elsewhere, isolated))
    assert {row["provider"] for row in providers} >= {"openai", "anthropic", "gemini"}
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").rglob("*"))  # nothing written to HOME


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
