"""The built wheel carries providers.yaml: build it, install it in a fresh venv, import it from elsewhere.

The repository is copied first (without VCS data and caches) so the build never writes build/ or
*.egg-info into the working tree, and concurrent test runs cannot collide.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
IGNORED = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", "build", "dist", "*.egg-info", ".pytest_cache",
                                 ".ruff_cache", ".hypothesis", ".benchmarks", ".venv", "tests")

CHECK = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    import litellm_sync
    package = Path(litellm_sync.__file__).resolve().parent
    assert str(package).startswith(sys.prefix), (package, sys.prefix)
    assert (package / "providers.yaml").is_file()
    assert (package / "py.typed").is_file()
    client = litellm_sync.Client()
    provider, model, info = client.resolve("anthropic/claude-sonnet-4-5")
    request = provider.builder.build(model, [{"role": "user", "content": "hi"}], {}, stream=False, api_key="k",
                                     api_base=None, api_version=None, extra_headers=None, drop_params=False,
                                     info=info)
    print(json.dumps({"providers": len(client.spec.providers), "source": client.spec.sources[0],
                      "max_tokens": json.loads(request.body)["max_tokens"]}))
    """
)


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{args[:4]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def test_wheel_installs_and_carries_the_spec(tmp_path: Path) -> None:
    import json

    source = tmp_path / "src"
    shutil.copytree(REPO, source, ignore=IGNORED)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LITELLM_SYNC_PROVIDERS")}
    env["LITELLM_SYNC_CACHE_DIR"] = str(tmp_path / "cache")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INDEX"] = "1"  # no network: build and install offline
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels),
          str(source)], tmp_path, env)
    (wheel,) = wheels.glob("litellm_sync-*.whl")

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], tmp_path, env)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # --ignore-installed: the system site-packages may hold litellm_sync already (CI installs it there); the
    # venv must get its own copy from the wheel.
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--ignore-installed", str(wheel)],
         tmp_path, env)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    output = _run([str(python), "-c", CHECK], elsewhere, env)
    result = json.loads(output.strip().splitlines()[-1])
    assert result["providers"] >= 5
    assert Path(result["source"]).name == "providers.yaml"
    assert str(venv) in result["source"]
    assert result["max_tokens"] == 64000


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
