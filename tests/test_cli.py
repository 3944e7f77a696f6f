"""Tests for the `litellm-sync` command line: every subcommand through `cli.main`, with exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import litellm_sync
from litellm_sync import cli
from litellm_sync.testing import FakeProviderServer, Reply

REPO_ROOT = Path(__file__).resolve().parent.parent
SECRET = "sk-cli-test-secret-0123456789abcdef"

ACME_YAML = """\
providers:
  acme:
    extends: openai_chat
    description: ACME test provider
    docs: https://docs.acme.example
    base_url: https://api.acme.example/v1
    auth: {env: [ACME_TEST_API_KEY]}
    bare_names: false
    models:
      acme-big:
        context_window: 100000
        max_output_tokens: 8000
        features: [tools, streaming]
        pricing: {input: "2.00", output: "8.00", cached_input: "0.50"}
      acme-free:
        context_window: 4096
        features: [streaming]
"""


@pytest.fixture
def acme(tmp_path: Path) -> str:
    path = tmp_path / "acme.yaml"
    path.write_text(ACME_YAML, encoding="utf-8")
    return str(path)


@pytest.fixture(autouse=True)
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ACME_TEST_API_KEY", "LITELLM_SYNC_PROVIDERS"):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def openai_args(server: FakeProviderServer) -> list[str]:
    return ["--api-base", server.url + "/v1", "--api-key", SECRET]


# -- chat -----------------------------------------------------------------------------------------------


def test_chat_streams_text(server: FakeProviderServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "chat", "openai/gpt-4o-mini", "hello there", *openai_args(server))
    assert (code, out, err) == (0, "Echo: hello there\n", "")
    assert server.requests[-1].json["stream"] is True  # type: ignore[index]


def test_chat_system_and_params(server: FakeProviderServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(
        capsys,
        "chat",
        "openai/gpt-4o-mini",
        "hi",
        "--system",
        "be brief",
        "-p",
        "temperature=0.25",
        "-p",
        "user=alice",
        "-p",
        'metadata={"a": 1}',
        *openai_args(server),
    )
    assert code == 0
    body: Any = server.requests[-1].json
    assert body["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    assert body["temperature"] == 0.25
    assert body["user"] == "alice"
    assert body["metadata"] == {"a": 1}


@pytest.mark.parametrize("extra", [[], ["--no-stream"]])
def test_chat_json(server: FakeProviderServer, capsys: pytest.CaptureFixture[str], extra: list[str]) -> None:
    code, out, _ = run(capsys, "chat", "openai/gpt-4o-mini", "json please", "--json", *extra, *openai_args(server))
    assert code == 0
    data = json.loads(out)
    assert data["choices"][0]["message"]["content"] == "Echo: json please"
    assert data["usage"]["completion_tokens"] == 3
    assert server.requests[-1].json.get("stream", False) is (not extra)  # type: ignore[union-attr]


def test_chat_no_stream_prints_text(server: FakeProviderServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "chat", "openai/gpt-4o-mini", "plain", "--no-stream", *openai_args(server))
    assert (code, out) == (0, "Echo: plain\n")


def test_chat_other_dialect(server: FakeProviderServer, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--api-base", server.url, "--api-key", SECRET]
    code, out, _ = run(capsys, "chat", "anthropic/claude-haiku-4-5", "bonjour", *args)
    assert (code, out) == (0, "Echo: bonjour\n")
    assert server.requests[-1].path == "/v1/messages"


def test_chat_prompt_from_stdin(
    server: FakeProviderServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("from stdin"))
    code, out, _ = run(capsys, "chat", "openai/gpt-4o-mini", "-", *openai_args(server))
    assert (code, out) == (0, "Echo: from stdin\n")


def test_chat_provider_error_exit_1(server: FakeProviderServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.enqueue(Reply(status=400, json={"error": {"message": "bad temperature", "type": "invalid_request_error"}}))
    code, out, err = run(capsys, "chat", "openai/gpt-4o-mini", "hi", *openai_args(server))
    assert code == 1
    assert out == ""
    assert err.startswith("error: BadRequestError: bad temperature")
    assert err.count("\n") == 1 and "Traceback" not in err and SECRET not in err


def test_chat_missing_key_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "chat", "openai/gpt-4o-mini", "hi")
    assert (code, out) == (3, "")
    assert err == "error: No API key for provider 'openai': set OPENAI_API_KEY or pass --api-key.\n"


def test_errors_name_options_not_python_arguments(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_COMPATIBLE_API_BASE", raising=False)
    code, _, err = run(capsys, "chat", "openai_compatible/my-model", "hi")
    assert code == 3
    assert "pass --api-base" in err and "api_base=" not in err
    code, _, err = run(capsys, "chat", "no-such-model-xyz", "hi")
    assert code == 3
    assert "--api-base" in err and "api_base=" not in err


def test_chat_json_cost_is_the_exact_decimal(server: FakeProviderServer, capsys: pytest.CaptureFixture[str]) -> None:
    for extra in ([], ["--no-stream"]):
        code, out, _ = run(capsys, "chat", "openai/gpt-4o-mini", "price me", "--json", *extra, *openai_args(server))
        assert code == 0
        data = json.loads(out)
        usage = data["usage"]
        expected = litellm_sync.cost_per_token("openai/gpt-4o-mini", usage["prompt_tokens"], usage["completion_tokens"])
        assert expected is not None and expected > 0
        assert data["cost"] == str(expected)  # a string, exact: never a float


def test_chat_unknown_model_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "chat", "no-such-model-xyz", "hi")
    assert code == 3
    assert err.startswith("error: Unknown model 'no-such-model-xyz'")


def test_bad_param_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "chat", "openai/gpt-4o-mini", "hi", "-p", "novalue")
    assert code == 2
    assert "expected key=value" in err


def test_param_parsing() -> None:
    assert cli.parse_param("n=2") == ("n", 2)
    assert cli.parse_param("stop=[\"a\"]") == ("stop", ["a"])
    assert cli.parse_param("flag=true") == ("flag", True)
    assert cli.parse_param("user=bob") == ("user", "bob")
    assert cli.parse_param("text=a=b") == ("text", "a=b")


# -- models and cost ------------------------------------------------------------------------------------


def test_models_table(acme: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "models", "--providers", acme, "--provider", "acme")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["MODEL", "CONTEXT", "MAX", "OUT", "IN", "$/M", "OUT", "$/M", "FEATURES"]
    assert lines[1].split() == ["acme/acme-big", "100000", "8000", "2", "8", "streaming,tools"]
    assert lines[2].split() == ["acme/acme-free", "4096", "-", "-", "-", "streaming"]


def test_models_json_and_feature(acme: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "models", "--providers", acme, "--provider", "acme", "--feature", "tools", "--json")
    assert code == 0
    data = json.loads(out)
    assert [m["model"] for m in data] == ["acme-big"]
    assert data[0]["pricing"]["input"] == "2.00"


def test_models_default_spec(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "models", "--provider", "openai", "--json")
    assert code == 0
    data = json.loads(out)
    assert data == [info.to_dict() for info in litellm_sync.list_models("openai")]
    assert all(m["provider"] == "openai" for m in data)


def test_models_unknown_feature_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "models", "--feature", "visoin")
    assert (code, out) == (2, "")
    assert err.startswith("error: unknown feature 'visoin'. Did you mean 'vision'?")
    for feature in ("vision", "tools", "reasoning", "streaming"):
        assert feature in err
    code, out, _ = run(capsys, "models", "--feature", "vision", "--json")
    assert code == 0 and json.loads(out) and all("vision" in m["features"] for m in json.loads(out))


def test_models_unknown_provider_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "models", "--provider", "nope")
    assert code == 3
    assert err.startswith("error: Unknown provider 'nope'")


def test_cost(acme: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["cost", "acme/acme-big", "--providers", acme, "--prompt-tokens", "1000", "--completion-tokens", "500"]
    code, out, _ = run(capsys, *args)
    assert (code, out) == (0, "$0.006\n")  # 1000 * 2 / 1M + 500 * 8 / 1M
    code, out, _ = run(capsys, *args, "--cached-tokens", "1000")
    assert (code, out) == (0, "$0.0045\n")  # cached at 0.50


def test_cost_unknown_price(acme: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["cost", "acme/acme-free", "--providers", acme, "--prompt-tokens", "10", "--completion-tokens", "5"]
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert out.startswith("unknown price")


def test_cost_default_spec_matches_api(capsys: pytest.CaptureFixture[str]) -> None:
    info = next(m for m in litellm_sync.list_models("openai") if m.input_price is not None)
    code, out, _ = run(capsys, "cost", f"openai/{info.name}", "--prompt-tokens", "1234", "--completion-tokens", "56")
    expected = litellm_sync.cost_per_token(f"openai/{info.name}", 1234, 56)
    assert expected is not None
    assert code == 0
    assert out == f"${format(expected.normalize(), 'f')}\n"


def test_cost_unknown_model_exit_3(acme: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["cost", "acme/nope", "--providers", acme, "--prompt-tokens", "1", "--completion-tokens", "1"]
    code, _, err = run(capsys, *args)
    assert code == 3
    assert err.startswith("error: Provider 'acme' lists no model 'nope'")


@pytest.mark.parametrize(
    "counts",
    [
        ["--prompt-tokens", "-5", "--completion-tokens", "1"],
        ["--prompt-tokens", "5", "--completion-tokens", "-1"],
        ["--prompt-tokens", "5", "--completion-tokens", "1", "--cached-tokens", "-1"],
        ["--prompt-tokens", "ten", "--completion-tokens", "1"],
    ],
)
def test_cost_refuses_negative_counts(capsys: pytest.CaptureFixture[str], counts: list[str]) -> None:
    code, out, err = run(capsys, "cost", "openai/gpt-4o-mini", *counts)
    assert (code, out) == (2, "")
    assert "negative" in err or "whole number" in err


def test_cost_refuses_more_cached_than_prompt_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--prompt-tokens", "100", "--completion-tokens", "1", "--cached-tokens", "101"]
    code, out, err = run(capsys, "cost", "openai/gpt-4o-mini", *args)
    assert (code, out) == (2, "")
    assert "--cached-tokens (101) is more than --prompt-tokens (100)" in err
    code, out, _ = run(capsys, "cost", "openai/gpt-4o-mini", *args[:-1], "100")  # all cached: fine
    assert code == 0 and out.startswith("$")


def test_cost_provider_prefix_is_case_insensitive(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--prompt-tokens", "1000", "--completion-tokens", "10"]
    assert run(capsys, "cost", "OPENAI/gpt-4o-mini", *args) == run(capsys, "cost", "openai/gpt-4o-mini", *args)
    code, _, err = run(capsys, "cost", "opnai/gpt-4o-mini", *args)
    assert code == 3
    assert "'opnai' is not a provider" in err and "openai/gpt-4o-mini" in err
    assert "/opnai/" not in err


def test_cost_requires_counts(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "cost", "openai/gpt-4o-mini", "--prompt-tokens", "1")
    assert code == 2
    assert "--completion-tokens" in err


# -- validate -------------------------------------------------------------------------------------------


def test_validate_ok(acme: str, capsys: pytest.CaptureFixture[str]) -> None:
    example = str(REPO_ROOT / "examples" / "custom_provider.yaml")
    code, out, _ = run(capsys, "validate", acme, example)
    assert code == 0
    assert out == f"{acme}: ok\n{example}: ok\n"


def test_validate_reports_every_problem(acme: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "providers:\n"
        "  broken:\n"
        "    extends: openai_chat\n"
        "    base_url: https://x.example\n"
        "    colour: blue\n"
        "    models:\n"
        "      m1: {context_window: lots}\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "validate", str(bad), acme)
    assert code == 1
    lines = out.splitlines()
    problems = [line for line in lines if line.startswith(str(bad))]
    assert len(problems) >= 2
    assert any("colour" in line for line in problems)
    assert any("context_window" in line for line in problems)
    assert lines[-1] == f"{acme}: ok"


def test_validate_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "missing.yaml")
    code, out, _ = run(capsys, "validate", missing)
    assert code == 1
    assert out.startswith(f"{missing}: cannot read")


def test_broken_extra_spec_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("providers: [1, 2]\n", encoding="utf-8")
    code, out, err = run(capsys, "providers", "--providers", str(bad))
    assert (code, out) == (1, "")
    assert err.startswith("error: ") and str(bad) in err and "Traceback" not in err


# -- providers ------------------------------------------------------------------------------------------


def test_providers_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "providers")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["PROVIDER", "DESCRIPTION", "KEY", "ENV", "DOCS"]
    names = {line.split()[0] for line in lines[1:]}
    assert names == set(litellm_sync.get_default_client().spec.providers)
    openai_line = next(line for line in lines if line.startswith("openai "))
    assert "OPENAI_API_KEY" in openai_line


def test_providers_markdown_and_json(acme: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "providers", "--markdown", "--providers", acme)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "| Provider | Description | API key variables | Docs |"
    assert "| `acme` | ACME test provider | `ACME_TEST_API_KEY` | [docs](https://docs.acme.example) |" in lines
    code, out, _ = run(capsys, "providers", "--json", "--providers", acme)
    rows = {row["provider"]: row for row in json.loads(out)}
    assert rows["acme"]["env"] == "ACME_TEST_API_KEY"


# -- health ---------------------------------------------------------------------------------------------


def test_health_one_provider(server: FakeProviderServer, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("litellm_sync.health")
    code, out, _ = run(capsys, "health", "openai", *openai_args(server), "--json")
    assert code == 0
    [status] = json.loads(out)
    assert (status["provider"], status["ok"], status["status"]) == ("openai", True, "ok")
    assert server.requests[-1].method == "GET"


def test_health_error_exit_1(server: FakeProviderServer, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("litellm_sync.health")
    server.enqueue(Reply(status=401, json={"error": {"message": "bad key", "type": "auth"}}))
    code, out, _ = run(capsys, "health", "openai", *openai_args(server))
    assert code == 1
    assert out.splitlines()[1].split()[:2] == ["openai", "error"]
    assert SECRET not in out


def test_health_skipped_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("litellm_sync.health")
    code, out, _ = run(capsys, "health", "openai")
    assert code == 3
    assert "skipped" in out


def test_health_on_a_fresh_machine_skips_what_is_not_set_up(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # No key anywhere and nothing listening on Ollama's default port: nothing is probed, nothing fails.
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_TOKEN", "_API_BASE", "_BASE_URL", "_ENDPOINT")) or name == "OLLAMA_HOST":
            monkeypatch.delenv(name)
    code, out, err = run(capsys, "health", "--json")
    assert (code, err) == (0, "")
    rows = {row["provider"]: row for row in json.loads(out)}
    assert set(rows) == set(litellm_sync.get_default_client().spec.providers)
    assert {row["status"] for row in rows.values()} == {"skipped"}
    assert rows["openai"]["error"] == "no API key: set OPENAI_API_KEY"
    assert "OLLAMA_API_BASE" in rows["ollama"]["error"]


def test_health_all_probes_a_keyless_provider_once_its_address_is_set(
    server: FakeProviderServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_TOKEN", "_API_BASE", "_BASE_URL", "_ENDPOINT")) or name == "OLLAMA_HOST":
            monkeypatch.delenv(name)
    monkeypatch.setenv("OLLAMA_API_BASE", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
    code, out, _ = run(capsys, "health", "--json")
    assert code == 0
    rows = {row["provider"]: row for row in json.loads(out)}
    assert (rows["ollama"]["status"], rows["openai"]["status"]) == ("ok", "ok")
    assert {request.path for request in server.requests} == {"/api/tags", "/v1/models"}
    server.enqueue(Reply(status=500, json={"error": {"message": "down"}}))
    server.enqueue(Reply(status=500, json={"error": {"message": "down"}}))
    assert run(capsys, "health")[0] == 1  # a provider that is set up and fails does fail the command


def test_health_key_options_need_a_provider(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "health", "--api-key", SECRET)
    assert (code, out) == (2, "")
    assert "name it" in err and SECRET not in err


def test_health_all(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    if not hasattr(litellm_sync, "health_check_all"):
        pytest.skip("health checks not available")
    from litellm_sync.health import HealthStatus

    statuses = [
        HealthStatus("a", True, "ok", 12.3),
        HealthStatus("b", False, "skipped", None, "no key"),
        HealthStatus("c", False, "error", 5.0, "refused"),
    ]
    monkeypatch.setattr(litellm_sync, "health_check_all", lambda timeout=10.0: statuses)
    code, out, _ = run(capsys, "health")
    assert code == 1
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [["a", "ok"], ["b", "skipped"], ["c", "error"]]
    monkeypatch.setattr(litellm_sync, "health_check_all", lambda timeout=10.0: statuses[:2])
    assert run(capsys, "health", "--json")[0] == 0


# -- the program ----------------------------------------------------------------------------------------


def test_help_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("chat", "models", "cost", "validate", "providers", "health"):
        assert command in out
    assert "exit codes:" in out and "configuration error" in out


def test_no_command_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys)
    assert code == 2
    assert "usage:" in err


def test_python_dash_m(acme: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "litellm_sync", "validate", acme],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout) == (0, f"{acme}: ok\n")
