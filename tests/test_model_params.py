"""Model-level parameter rules (`model_params`): which models a block selects, how its rules lay over the
provider's, refusal and drop_params, spec validation, and that the rules are compiled at load, not per call."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest

import litellm_sync
from litellm_sync.exceptions import SpecError, UnsupportedParamsError

MESSAGES = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def client() -> litellm_sync.Client:
    return litellm_sync.Client()


def _body(client: litellm_sync.Client, model: str, params: dict[str, Any], drop_params: bool = False) -> Any:
    provider, name, info = client.resolve(model)
    request = provider.builder.build(
        name, MESSAGES, params, stream=False, api_key="sk-test", api_base="http://127.0.0.1:9",
        api_version=None, extra_headers=None, drop_params=drop_params, info=info,
    )
    return json.loads(request.body)


def _acme(model_params: dict[str, Any], **extra: Any) -> litellm_sync.Client:
    entry = {
        "extends": "openai_chat",
        "base_url": "http://127.0.0.1:9/v1",
        "models": {
            "big-1": {"features": ["reasoning"], "aliases": ["big-latest"]},
            "small-1": {"features": []},
            "tiny-1": {"features": []},
        },
        "model_params": model_params,
        **extra,
    }
    return litellm_sync.Client(providers={"providers": {"acme": entry}})


def test_refusal_says_what_to_do(client: litellm_sync.Client) -> None:
    with pytest.raises(UnsupportedParamsError) as caught:
        _body(client, "anthropic/claude-opus-4-8", {"temperature": 0.2})
    message = str(caught.value)
    assert "takes no temperature" in message and "drop_params=True" in message
    assert caught.value.request_sent is False


def test_drop_params_drops_with_a_warning(client: litellm_sync.Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="litellm_sync"):
        body = _body(client, "anthropic/claude-opus-4-8", {"temperature": 0.2, "top_k": 5}, drop_params=True)
    assert "temperature" not in body and "top_k" not in body
    dropped = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("temperature" in m and "claude-opus-4-8" in m for m in dropped)


def test_alias_gets_the_models_rules(client: litellm_sync.Client) -> None:
    body = _body(client, "anthropic/claude-opus-4-7-20260416", {"reasoning_effort": "high"})
    assert body["thinking"] == {"type": "adaptive"} and body["output_config"] == {"effort": "high"}


def test_older_models_keep_the_provider_rules(client: litellm_sync.Client) -> None:
    body = _body(client, "anthropic/claude-sonnet-4-5", {"temperature": 0.2, "reasoning_effort": "low"})
    assert body["temperature"] == 0.2
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}


def test_unlisted_models_stay_unblocked(client: litellm_sync.Client) -> None:
    # Feature selectors need the registry: a model it does not list is never refused by them.
    body = _body(client, "anthropic/claude-opus-9-preview", {"temperature": 0.2, "reasoning_effort": "low"})
    assert body["temperature"] == 0.2 and body["thinking"]["type"] == "enabled"
    assert _body(client, "openai/my-finetune", {"reasoning_effort": "low"})["reasoning_effort"] == "low"


def test_name_patterns_select_unlisted_models_too(client: litellm_sync.Client) -> None:
    assert _body(client, "ollama/gpt-oss:latest", {"reasoning_effort": "minimal"})["think"] == "low"
    assert _body(client, "ollama/qwen3:8b", {"reasoning_effort": "low"})["think"] is True


def test_unknown_effort_value_is_refused_on_adaptive_models(client: litellm_sync.Client) -> None:
    with pytest.raises(UnsupportedParamsError, match="not supported"):
        _body(client, "anthropic/claude-opus-4-8", {"reasoning_effort": "extreme"})


def test_selectors_combine_and_later_blocks_win() -> None:
    acme = _acme({
        "small_models": {"models": ["small-*", "tiny-*"], "params": {"seed": {"refuse": "no seed"}}},
        "small_without_reasoning": {
            "models": ["small-*"], "without": ["reasoning"], "params": {"seed": {"to": "sampling.seed"}},
        },
        "reasoners": {"features": ["reasoning"], "params": {"temperature": {"drop": "fixed"}}},
    })
    assert _body(acme, "acme/small-1", {"seed": 1})["sampling"] == {"seed": 1}  # the later block replaced the rule
    with pytest.raises(UnsupportedParamsError, match="no seed"):
        _body(acme, "acme/tiny-1", {"seed": 1})
    assert _body(acme, "acme/big-latest", {"temperature": 1, "seed": 3}) == {
        "model": "big-latest", "messages": MESSAGES, "seed": 3,
    }
    assert _body(acme, "acme/other", {"seed": 2, "temperature": 1})["seed"] == 2  # unlisted, matches no pattern


def test_a_later_file_can_delete_a_block() -> None:
    relaxed = litellm_sync.Client(providers={"providers": {"anthropic": {"model_params": {"fixed_sampling": None}}}})
    assert _body(relaxed, "anthropic/claude-opus-4-8", {"temperature": 0.3})["temperature"] == 0.3


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ({"params": {"seed": {"refuse": "x"}}}, "needs a selector"),
        ({"features": ["telepathy"], "params": {}}, "model_params.b.features"),
        ({"models": ["x*"], "params": {"seed": {"nope": 1}}}, "model_params.b.params.seed.nope"),
        ({"models": ["x*"]}, "model_params.b.params"),
        ({"models": ["x*"], "colour": "red", "params": {}}, "model_params.b.colour"),
    ],
)
def test_blocks_are_validated(block: dict[str, Any], expected: str) -> None:
    with pytest.raises(SpecError) as caught:
        _acme({"b": block})
    assert expected in str(caught.value)


def test_rules_are_compiled_at_load_and_shared(client: litellm_sync.Client) -> None:
    anthropic = client.spec.provider("anthropic").builder.params
    _, _, opus_info = client.resolve("anthropic/claude-opus-4-8")
    assert opus_info is not None
    compiled = len(anthropic.cache)
    first = anthropic.for_model("claude-opus-4-8", "claude-opus-4-8", opus_info.features)
    assert len(anthropic.cache) == compiled  # listed models were compiled when the spec loaded
    assert first is anthropic.for_model("claude-opus-4-8", "claude-opus-4-8", opus_info.features)
    sonnet5 = client.resolve("anthropic/claude-sonnet-5")[2]
    assert sonnet5 is not None
    assert first is anthropic.for_model("claude-sonnet-5", "claude-sonnet-5", sonnet5.features)  # same blocks
    older = client.resolve("anthropic/claude-sonnet-4-5")[2]
    assert older is not None
    assert anthropic.for_model("claude-sonnet-4-5", "claude-sonnet-4-5", older.features) is anthropic.base
    gemini = client.spec.provider("gemini").builder.params
    assert not gemini.blocks and gemini.for_model("gemini-2.5-flash", None, None) is gemini.base


def test_unlisted_names_are_cached_within_a_bound() -> None:
    acme = _acme({"no_reasoning": None, "small": {"models": ["small-*"], "params": {"seed": {"refuse": "no seed"}}}})
    rules = acme.spec.provider("acme").builder.params
    errors: list[BaseException] = []

    def call(start: int) -> None:
        try:
            for index in range(start, start + 700):
                name = f"small-{index}" if index % 2 else f"other-{index}"
                rules.for_model(name, None, None)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(n * 700,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(rules.cache) <= rules.fixed + 1024
    assert len(rules.combined) == 2  # the provider's own rules, and those with the one block
    with pytest.raises(UnsupportedParamsError):
        _body(acme, "acme/small-99999", {"seed": 1})
