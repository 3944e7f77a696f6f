"""The spec model: the schema loads each provider into one frozen, typed object with its defaults filled and
its templates compiled; it survives the cache's pickle unchanged; the engine reads only it."""

from __future__ import annotations

import dataclasses
import json
import pickle
from decimal import Decimal
from pathlib import Path

import pytest

from litellm_sync import SpecError
from litellm_sync._spec import load_spec
from litellm_sync._spec.model import ParamRuleModel, ProviderModel, ReaderModel, StreamModel, Tpl

ENGINE = Path(__file__).resolve().parents[1] / "litellm_sync" / "_engine"

MINIMAL = {
    "providers": {
        "bare": {
            "base_url": "https://bare.test",
            "endpoints": {"chat": {"path": "/chat"}},
            "response": {"choice": {"content": "text"}},
        }
    }
}


def test_a_minimal_provider_gets_every_default_from_the_schema() -> None:
    model = load_spec(MINIMAL).provider("bare").model
    assert isinstance(model, ProviderModel)
    assert model.auth.value == Tpl("${api_key}") and model.auth.env == () and model.auth.header is None
    assert model.body == Tpl({"model": "$model", "messages": "$messages"}) and model.stream_body is None
    assert model.endpoints.chat is not None and model.endpoints.chat.method == "POST"
    assert model.endpoints.models is None and model.health.probe == "chat"
    assert (model.unknown_params, model.bare_names, model.messages.mode) == ("forward", True, "passthrough")
    assert model.messages.message == Tpl({"role": "$role", "content": "$content"})
    assert isinstance(model.stream, StreamModel) and model.stream.format == "sse" and model.stream.events == {}
    assert model.errors.message == ["error.message", "message", "error"]
    assert model.errors.request_id_headers == ("x-request-id",)
    assert isinstance(model.response, ReaderModel) and model.response.choice.content == "text"
    assert model.response.usage_from == "." and model.response.choice.tool_calls == ()


def test_the_model_is_frozen_and_typed() -> None:
    spec = load_spec([])
    anthropic = spec.provider("anthropic").model
    with pytest.raises(dataclasses.FrozenInstanceError):
        anthropic.base_url = "https://evil.test"  # type: ignore[misc]
    assert anthropic.messages.lift[0].into == "system" and anthropic.messages.lift[0].as_ == "parts"
    assert isinstance(anthropic.params["max_tokens"], ParamRuleModel)
    assert set(anthropic.stream.events) >= {"content_block_delta", "message_delta"}
    assert all(isinstance(reader, ReaderModel) for reader in anthropic.stream.events.values())
    gpt = spec.provider("openai").model.models["gpt-4o-mini"]
    assert isinstance(gpt.pricing.input, Decimal) and "tools" in gpt.features


def test_templates_are_compiled_while_loading(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("providers:\n  p: {extends: openai_chat, base_url: https://p.test, body: {$nope: 1}}\n", "utf-8")
    with pytest.raises(SpecError, match=r"providers\.p\.body: unknown directive '\$nope'"):
        load_spec(path)
    body = load_spec([]).provider("openai").model.body
    assert callable(body.fn) and body.fn({"model": "m", "messages": []}) == {"model": "m", "messages": []}


def test_every_model_survives_pickle_unchanged() -> None:
    for name, provider in load_spec([]).providers.items():
        copy = pickle.loads(pickle.dumps(provider.model))
        assert copy == provider.model, name


def test_map_keys_keep_their_yaml_types(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(
        "providers:\n  p:\n    extends: openai_chat\n    base_url: https://p.test\n"
        "    params: {logprobs: {map: {true: on, 2: two, 'true': text}}}\n",
        encoding="utf-8",
    )
    rule = load_spec(path).provider("p").model.params["logprobs"]
    assert {type(key) for key in rule.map} == {bool, int, str}


def test_a_null_the_schema_allows_keeps_its_meaning(tmp_path: Path) -> None:
    path = tmp_path / "null.yaml"
    path.write_text(
        "providers:\n  p:\n    extends: openai_chat\n    base_url: https://p.test\n"
        "    params: {user: {to: null, headers: {x-user: $value}}, seed: {template: null}}\n",
        encoding="utf-8",
    )
    provider = load_spec(path).provider("p")
    assert provider.model.params["user"].to is None
    request = provider.builder.build(
        "m", [{"role": "user", "content": "hi"}], {"user": "u1", "seed": 3}, stream=False, api_key="k",
        api_base=None, api_version=None, extra_headers=None, drop_params=False, info=None,
    )
    body = json.loads(request.body)
    assert "user" not in body and request.headers["x-user"] == "u1"
    assert body["seed"] is None


@pytest.mark.parametrize("module", sorted(p.name for p in ENGINE.glob("*.py")))
def test_the_engine_reads_no_yaml_defaults(module: str) -> None:
    """Defaults live in the schema: the engine's compile code has no `spec.get(key, default)` of its own."""
    source = (ENGINE / module).read_text(encoding="utf-8")
    for pattern in ('spec.get("', "entry.get(", 'spec["', "entry["):
        assert pattern not in source, (module, pattern)
