"""LiteLLM's call-level keywords never reach a provider: every keyword of the table in _engine/keywords.py is
given to a call whose request body `responses` captures, for a provider that forwards unknown parameters
(OpenAI's) and for dialects that do not; unsupported keywords are refused by name (or dropped under
drop_params) before anything is sent; the migration doc lists the table as it is and its examples run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import responses

import litellm_sync as litellm
from litellm_sync import api
from litellm_sync._engine.keywords import ALIAS, CALL, KEYWORDS, PIPELINE, TABLE, UNSUPPORTED
from litellm_sync.cache import MemoryCache
from litellm_sync.testing import mock_completion

DOC = Path(__file__).resolve().parents[1] / "docs" / "migrating-from-litellm.md"
MESSAGES = [{"role": "user", "content": "Hello"}]
OPENAI_BASE = "https://api.openai.com/v1"

#: A value for every keyword the call itself or its pipeline handles; a keyword added to the table without one
#: fails test_every_handled_keyword_has_a_value.
VALUES: dict[str, Any] = {
    "num_retries": 1,
    "request_timeout": 5,
    "base_url": OPENAI_BASE,
    "headers": {"X-Trace": "trace-1"},
    "fallbacks": ["openai/gpt-4o"],
    "context_window_fallback_dict": {"openai/gpt-4o-mini": "openai/gpt-4.1"},
    "custom_llm_provider": "openai",
    "additional_drop_params": ["temperature"],
    "input_cost_per_token": 0.000001,
    "output_cost_per_token": 0.000002,
    "caching": False,
    "litellm_call_id": "call-42",
    "tags": ["team-a"],
    "cache": {"no-store": True},
    "metadata": {"team": "search"},
}
HANDLED = sorted(k.name for k in TABLE if k.kind in (ALIAS, CALL, PIPELINE))
REFUSED = sorted(k.name for k in TABLE if k.kind == UNSUPPORTED)


def _body(call: Any) -> dict[str, Any]:
    body = json.loads(call.request.body)
    assert isinstance(body, dict)
    return body


def _assert_clean(body: dict[str, Any], names: list[str]) -> None:
    text = json.dumps(body)
    for name in names:
        assert name not in body, f"{name} reached the body: {text}"
        assert f'"{name}":' not in text, f"{name} reached the body: {text}"


def test_every_handled_keyword_has_a_value() -> None:
    assert sorted(VALUES) == HANDLED


@pytest.mark.parametrize("name", HANDLED)
def test_no_handled_keyword_reaches_the_body(name: str) -> None:
    extra = {name: VALUES[name]}
    if name.endswith("_cost_per_token"):  # they go together
        extra = {"input_cost_per_token": 0.000001, "output_cost_per_token": 0.000002}
    client = litellm.Client(cache=MemoryCache()) if name in ("caching", "cache") else litellm.Client()
    model = "gpt-4o-mini" if name == "custom_llm_provider" else "openai/gpt-4o-mini"
    with client, responses.RequestsMock() as rsps:
        reply = mock_completion(rsps, "openai/gpt-4o-mini", "fine", client=client)
        response = client.completion(model, MESSAGES, api_key="sk-test", temperature=0.5, **extra)
    assert response.content == "fine"
    assert len(reply.calls) == 1
    body = _body(reply.calls[0])
    _assert_clean(body, list(KEYWORDS))
    assert body["model"] == "gpt-4o-mini" and body["messages"] == MESSAGES
    assert ("temperature" in body) == (name != "additional_drop_params")
    if name == "headers":
        assert reply.calls[0].request.headers["X-Trace"] == "trace-1"


@pytest.mark.parametrize("model", ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5", "gemini/gemini-2.5-flash"])
def test_all_keywords_at_once_in_three_dialects(model: str) -> None:
    given = {k: v for k, v in VALUES.items() if k not in ("base_url", "custom_llm_provider", "caching", "cache")}
    given["context_window_fallback_dict"] = {model: model.split("/")[0] + "/other-model"}
    given["fallbacks"] = [model]
    with litellm.Client() as client, responses.RequestsMock() as rsps:
        reply = mock_completion(rsps, model, "fine", client=client)
        response = client.completion(model, MESSAGES, api_key="sk-test", temperature=0.5, **given)
    assert response.content == "fine"
    _assert_clean(_body(reply.calls[0]), list(KEYWORDS))


#: What the refusal shows of each name: the name itself, except where the key redactor masks it (`hf_...` looks
#: like a Hugging Face token, and no error text may hold one): then the reason.
SHOWN = {name: name for name in REFUSED} | {"hf_model_name": "custom prompt templates are not supported"}


@pytest.mark.parametrize("name", REFUSED)
def test_unsupported_keywords_are_refused_by_name_before_sending(name: str) -> None:
    with litellm.Client() as client, responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        reply = mock_completion(rsps, "openai/gpt-4o-mini", "fine", client=client)
        with pytest.raises(litellm.UnsupportedParamsError) as info:
            client.completion("openai/gpt-4o-mini", MESSAGES, api_key="sk-test", **{name: "x"})
        assert len(reply.calls) == 0
    assert SHOWN[name] in str(info.value) and "drop_params=True" in str(info.value)
    assert info.value.request_sent is False


def test_unsupported_keywords_are_dropped_under_drop_params(caplog: pytest.LogCaptureFixture) -> None:
    given = dict.fromkeys(REFUSED, "x")
    with litellm.Client(drop_params=True) as client, responses.RequestsMock() as rsps:
        reply = mock_completion(rsps, "openai/gpt-4o-mini", "fine", client=client)
        client.completion("openai/gpt-4o-mini", MESSAGES, api_key="sk-test", **given)
    _assert_clean(_body(reply.calls[0]), REFUSED)
    assert "roles" in caplog.text  # dropped with a warning, not silently


def test_user_is_a_provider_parameter() -> None:
    """`user` is no LiteLLM keyword: providers with an end-user field get it (Anthropic's metadata.user_id)."""
    with litellm.Client() as client, responses.RequestsMock() as rsps:
        reply = mock_completion(rsps, "anthropic/claude-haiku-4-5", "fine", client=client)
        client.completion("anthropic/claude-haiku-4-5", MESSAGES, api_key="sk-test", user="u-7")
    assert _body(reply.calls[0])["metadata"] == {"user_id": "u-7"}


def test_fallback_dicts_keep_their_keys_out_of_the_body() -> None:
    with litellm.Client() as client, responses.RequestsMock() as rsps:
        mock_completion(rsps, "openai/gpt-4o-mini", status=503, client=client)
        reply = mock_completion(rsps, "anthropic/claude-haiku-4-5", "fine", client=client)
        client.completion("openai/gpt-4o-mini", MESSAGES, api_key="sk-openai", num_retries=0,
                          fallbacks=[{"model": "anthropic/claude-haiku-4-5", "api_key": "sk-ant-fallback",
                                      "request_timeout": 9, "base_url": None}])  # fmt: skip
    request = reply.calls[0].request
    assert request.headers["x-api-key"] == "sk-ant-fallback"
    _assert_clean(_body(reply.calls[0]), [*KEYWORDS, "model_name"])


# -- the migration doc ------------------------------------------------------------------------------------------


def test_doc_lists_the_keyword_table_as_it_is() -> None:
    rows = re.findall(r"^\| `([^`]+)` \| (\w+) \| (.+) \|$", DOC.read_text(encoding="utf-8"), re.M)
    documented = {name: (kind, does) for name, kind, does in rows if name in KEYWORDS or kind in
                  {k.kind for k in TABLE}}  # fmt: skip
    assert documented == {k.name: (k.kind, k.does) for k in TABLE}


def test_doc_examples_run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 6
    with litellm.Client() as default:  # the page registers a model on the default Client: not on the suite's
        monkeypatch.setattr(api, "_default_client", default)
        namespace: dict[str, object] = {}
        for block in blocks:
            exec(compile(block, str(DOC), "exec"), namespace)
    assert capsys.readouterr().out.startswith("$0.0000")
    assert api.get_default_client() is default and default.get_model_info("my-gpt").max_output_tokens == 4096
