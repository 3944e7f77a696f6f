"""The load cache: a warm load compiles to exactly the requests a cold load does, for every spec in the
repository and for generated ones; the cache lives only where it is told (never in $HOME during tests)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import litellm_sync._spec as spec_module
from litellm_sync import ConfigurationError, LiteLLMSyncError
from litellm_sync._spec import CompiledSpec, load_spec

ROOT = Path(__file__).resolve().parents[1]
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
# Every YAML block of the docs that is a whole spec file (not a fragment, nor the layout sketch of placeholders).
DOC_SPECS = [
    (f"{path.relative_to(ROOT)}#{index}", block)
    for path in DOCS
    for index, block in enumerate(re.findall(r"```yaml\n(.*?)```", path.read_text("utf-8"), re.S))
    # (router configs have a providers: block of their own, beside model_list:)
    if re.search(r"^providers:", block, re.M) and "{name: entry" not in block and "model_list:" not in block
]

SIMPLE = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "Hi"}]
RICH = [
    {"role": "system", "content": "sys"},
    {"role": "user", "content": [{"type": "text", "text": "look"},
                                 {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
    {"role": "assistant", "content": None, "reasoning_content": "hmm",
     "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}}]},
    {"role": "tool", "tool_call_id": "c1", "content": "{\"ok\": true}"},
]
TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]
PARAM_SETS: list[dict[str, Any]] = [
    {},
    {"temperature": 0.3, "max_tokens": 7, "stop": ["x"], "top_p": 0.5, "seed": 1, "user": "u"},
    {"logprobs": True, "top_logprobs": 2, "tools": TOOLS, "tool_choice": "auto", "parallel_tool_calls": False},
    {"response_format": {"type": "json_object"}, "reasoning_effort": "low", "n": 2},
    {"tool_choice": {"type": "function", "function": {"name": "f"}}, "tools": TOOLS, "max_completion_tokens": 9},
]


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("LITELLM_SYNC_CACHE_DIR", str(directory))
    monkeypatch.delenv("LITELLM_SYNC_PROVIDERS", raising=False)
    return directory


def _requests(spec: CompiledSpec) -> dict[str, Any]:
    """Every provider's requests for several messages and parameter sets, plain and streaming: URL, headers
    and body, or the error raised while building."""
    out: dict[str, Any] = {}
    for name, provider in sorted(spec.providers.items()):
        listed = spec.registry.list(provider=name)
        model = listed[0].name if listed else "some-model"
        info = spec.registry.get(name, model)
        for p_index, params in enumerate(PARAM_SETS):
            for m_index, messages in enumerate((SIMPLE, RICH)):
                for stream in (False, True):
                    key = f"{name}/{p_index}/{m_index}/{stream}"
                    out[key] = _build(provider, model, messages, params, stream, info)
    return out


def _build(provider: Any, model: str, messages: Any, params: dict[str, Any], stream: bool, info: Any) -> Any:
    for api_base in (None, "https://api.example.test/v1"):
        try:
            request = provider.builder.build(
                model, messages, params, stream=stream, api_key="sk-test", api_base=api_base, api_version=None,
                extra_headers=None, drop_params=True, info=info,
            )
        except ConfigurationError as exc:
            if api_base is None:
                continue  # no base URL in the spec (Azure, say): give one
            return (type(exc).__name__, str(exc))
        except LiteLLMSyncError as exc:
            return (type(exc).__name__, str(exc))
        return (request.method, request.url, request.headers, json.loads(request.body) if request.body else None)
    raise AssertionError("unreachable")


def _cold_then_warm(source: Any, monkeypatch: pytest.MonkeyPatch, cache_dir: Path) -> tuple[Any, Any]:
    cold = load_spec(source)
    assert list(cache_dir.glob("spec-*.pickle")), "a cold load of files writes the cache"
    with monkeypatch.context() as patch:
        def parsed_again(*_args: Any) -> Any:
            raise AssertionError("a warm load must not parse or validate the files again")

        patch.setattr(spec_module, "load_layers", parsed_again)
        warm = load_spec(source)
    return cold, warm


def _repository_specs() -> Iterator[Any]:
    yield pytest.param([], id="providers.yaml")
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        yield pytest.param([path], id=f"examples/{path.name}")
    for name, block in DOC_SPECS:
        yield pytest.param(("doc", block), id=name)
    yield pytest.param("docs", id="all docs specs together")


@pytest.mark.parametrize("source", list(_repository_specs()))
def test_every_repository_spec_compiles_the_same_warm_as_cold(
    source: Any, monkeypatch: pytest.MonkeyPatch, cache_dir: Path, tmp_path: Path
) -> None:
    if isinstance(source, tuple):
        (tmp_path / "doc.yaml").write_text(source[1], encoding="utf-8")
        source = [tmp_path / "doc.yaml"]
    elif source == "docs":
        source = []
        for index, (_name, block) in enumerate(DOC_SPECS):
            (tmp_path / f"doc{index}.yaml").write_text(block, encoding="utf-8")
            source.append(tmp_path / f"doc{index}.yaml")
        assert len(source) >= 5
    cold, warm = _cold_then_warm(source, monkeypatch, cache_dir)
    assert sorted(cold.providers) == sorted(warm.providers)
    assert cold.registry == warm.registry
    built = _requests(cold)
    assert built == _requests(warm)
    assert sum(1 for value in built.values() if len(value) == 4) > len(built) // 2  # mostly real requests


def test_boolean_map_keys_survive_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_dir: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text(
        "providers:\n  acme:\n    extends: openai_chat\n    base_url: https://acme.test/v1\n"
        "    params: {logprobs: {map: {true: yes-mapped}}, seed: {map: {3: three}}}\n",
        encoding="utf-8",
    )
    for spec in _cold_then_warm(path, monkeypatch, cache_dir):
        request = spec.provider("acme").builder.build(
            "m", SIMPLE, {"logprobs": True, "seed": 3}, stream=False, api_key="k", api_base=None, api_version=None,
            extra_headers=None, drop_params=False, info=None,
        )
        body = json.loads(request.body)
        assert (body["logprobs"], body["seed"]) == ("yes-mapped", "three")


_scalars = st.one_of(st.booleans(), st.integers(-3, 3), st.sampled_from(["a", "b", "yes", "1", "true", "null"]))
_values = st.one_of(_scalars, st.lists(_scalars, max_size=2), st.dictionaries(st.sampled_from(["x", "y"]), _scalars))
_rules = st.fixed_dictionaries(
    {"map": st.dictionaries(_scalars, _values, min_size=1, max_size=4)},
    optional={"to": st.sampled_from(["target", "nested.target", "extra_body.x"]),
              "set": st.dictionaries(st.sampled_from(["flags.a", "flags.b"]), _values, max_size=2),
              "headers": st.dictionaries(st.sampled_from(["x-one", "x-two"]), st.sampled_from(["v", "${model}"]),
                                         max_size=1)},
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rules=st.dictionaries(st.sampled_from(["p_one", "p_two", "logprobs", "seed"]), _rules, min_size=1, max_size=3),
       http_errors=st.dictionaries(st.sampled_from([418, 429, 503, "4xx"]),
                                   st.sampled_from(["RateLimitError", "BadRequestError"]), max_size=2))
def test_generated_specs_compile_the_same_warm_as_cold(
    rules: dict[str, Any], http_errors: dict[Any, str], tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    directory = tmp_path_factory.mktemp("generated")
    path = directory / "gen.yaml"
    spec = {"providers": {"gen": {"extends": "openai_chat", "base_url": "https://gen.test/v1", "params": rules}}}
    if http_errors:
        spec["http_errors"] = http_errors
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    with monkeypatch.context() as patch:
        patch.setenv("LITELLM_SYNC_CACHE_DIR", str(directory / "cache"))
        cold, warm = _cold_then_warm(path, patch, directory / "cache")
    calls = [{name: key} for name, rule in rules.items() for key in rule["map"]] + [{name: "other"} for name in rules]
    for spec_ in (cold, warm):
        assert spec_.provider("gen").errors.by_status == cold.provider("gen").errors.by_status
    built = [[_build(s.provider("gen"), "m", SIMPLE, params, False, None) for params in calls] for s in (cold, warm)]
    assert built[0] == built[1]


def test_a_damaged_cache_file_is_ignored_and_rewritten(cache_dir: Path) -> None:
    load_spec([])
    (entry,) = cache_dir.glob("spec-*.pickle")
    entry.write_bytes(b"not a pickle")
    assert "openai" in load_spec([]).providers  # loaded from the files again, and the entry rewritten
    assert entry.read_bytes() != b"not a pickle"


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX file modes")
def test_a_cache_file_others_can_write_is_not_unpickled(monkeypatch: pytest.MonkeyPatch, cache_dir: Path) -> None:
    load_spec([])
    (entry,) = cache_dir.glob("spec-*.pickle")
    entry.chmod(0o666)  # writable by others: someone could have planted it, so it is not unpickled
    calls: list[Any] = []
    real = spec_module.load_layers
    monkeypatch.setattr(spec_module, "load_layers", lambda *a: calls.append(a) or real(*a))
    load_spec([])
    assert calls


def _run_load(env: dict[str, str]) -> None:
    code = "from litellm_sync._spec import load_spec; load_spec([])"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60, cwd=str(ROOT))


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_CACHE_HOME", "LITELLM_SYNC_PROVIDERS")}
    env.update(HOME=str(home), USERPROFILE=str(home), PYTHONPATH=str(ROOT), **extra)
    return env


def test_the_test_suite_leaves_home_untouched(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    assert os.environ.get("LITELLM_SYNC_CACHE_DIR")  # set by the session fixture in conftest.py
    _run_load(_env(home))  # a subprocess inherits the suite's private cache dir
    assert list(home.iterdir()) == []


def test_cache_off_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    _run_load(_env(home, LITELLM_SYNC_CACHE_DIR="off"))
    assert list(home.iterdir()) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG layout of the user cache dir")
def test_by_default_the_cache_is_in_the_user_cache_dir(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = _env(home)
    env.pop("LITELLM_SYNC_CACHE_DIR")
    _run_load(env)
    assert len(list((home / ".cache" / "litellm_sync").glob("spec-*.pickle"))) == 1


def test_a_read_only_cache_dir_only_costs_speed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("x")
    monkeypatch.setenv("LITELLM_SYNC_CACHE_DIR", str(blocked / "cache"))  # under a file: cannot be created
    assert "openai" in load_spec([]).providers
