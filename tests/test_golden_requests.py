"""Golden requests: unified inputs built into each dialect's exact wire request, checked against hand-written files.

Every file in ``tests/cases/golden/<dialect>/`` holds one case: ``provider``, ``model``, ``messages``, ``params``,
``stream`` (and optionally ``api_base``) plus ``expect``: either ``{"method", "url", "headers" (a subset, lowercase
names), "body" (exact JSON)}`` or ``{"error": "<exception class name>"}``. The expected bodies were written from
each provider's public API reference (OpenAI Chat Completions, Azure OpenAI, Anthropic Messages, Gemini
generateContent, Cohere v2 chat, Ollama /api/chat, OpenAI Responses), not captured from the engine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import litellm_sync
from litellm_sync import exceptions

CASES_DIR = Path(__file__).parent / "cases" / "golden"
CASE_FILES = sorted(CASES_DIR.glob("*/*.json"))
DIALECTS = ("openai", "azure", "anthropic", "gemini", "cohere", "ollama", "openai_responses", "bedrock")


@pytest.fixture(scope="module")
def client() -> litellm_sync.Client:
    return litellm_sync.Client()


@pytest.fixture(autouse=True)
def _no_base_url_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The expected URLs are the spec's defaults: environment overrides must not leak in.
    for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL", "GEMINI_API_BASE",
                 "OLLAMA_API_BASE", "OLLAMA_HOST", "AZURE_API_VERSION", "OPENAI_API_VERSION", "DEEPSEEK_API_BASE",
                 "AWS_REGION", "AWS_DEFAULT_REGION", "BEDROCK_API_BASE", "VERTEXAI_API_BASE", "VERTEXAI_LOCATION",
                 "VERTEX_LOCATION", "GOOGLE_CLOUD_LOCATION"):
        monkeypatch.delenv(name, raising=False)


def _build(client: litellm_sync.Client, case: dict[str, Any]) -> Any:
    provider, model, info = client.resolve(f"{case['provider']}/{case['model']}")
    return provider.builder.build(
        model,
        case["messages"],
        case["params"],
        stream=case["stream"],
        api_key="sk-test",
        api_base=case.get("api_base"),
        api_version=None,
        extra_headers=None,
        drop_params=False,
        info=info,
    )


def test_every_dialect_has_cases() -> None:
    found = {path.parent.name for path in CASE_FILES}
    assert set(DIALECTS) <= found
    for dialect in DIALECTS:
        names = {path.stem for path in CASE_FILES if path.parent.name == dialect}
        assert {"plain", "multi_turn", "tools_auto", "tools_named", "tool_results", "images", "json_object",
                "json_schema", "stop", "reasoning_effort", "stream"} <= names, dialect


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_request(client: litellm_sync.Client, path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    expect = case["expect"]
    if "error" in expect:
        error_class = getattr(exceptions, expect["error"])
        with pytest.raises(error_class):
            _build(client, case)
        return
    request = _build(client, case)
    assert request.method == expect["method"]
    assert request.url == expect["url"]
    for name, value in expect["headers"].items():
        assert request.headers.get(name) == value, name
    assert json.loads(request.body) == expect["body"]


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_request_with_drop_params(client: litellm_sync.Client, path: Path) -> None:
    """drop_params=True drops refused parameters (``expect.dropped``) and changes nothing else."""
    case = json.loads(path.read_text(encoding="utf-8"))
    expect = case["expect"]
    provider, model, info = client.resolve(f"{case['provider']}/{case['model']}")

    def build() -> Any:
        return provider.builder.build(
            model, case["messages"], case["params"], stream=case["stream"], api_key="sk-test",
            api_base=case.get("api_base"), api_version=None, extra_headers=None, drop_params=True, info=info,
        )

    if "drop_params" in expect:  # message content is never dropped
        with pytest.raises(getattr(exceptions, expect["error"])):
            build()
        return
    body = json.loads(build().body)
    if "error" not in expect:
        assert body == expect["body"]
        return
    for name in expect["dropped"]:
        assert name not in body
    kept = {k: v for k, v in case["params"].items() if k not in expect["dropped"]}
    plain = json.loads(_build(client, {**case, "params": kept}).body)
    assert body == plain


def test_golden_inputs_are_not_mutated(client: litellm_sync.Client) -> None:
    case = json.loads((CASES_DIR / "anthropic" / "tool_results.json").read_text(encoding="utf-8"))
    before = json.dumps(case, sort_keys=True)
    _build(client, case)
    _build(client, case)
    assert json.dumps(case, sort_keys=True) == before
