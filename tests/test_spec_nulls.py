"""A `null` left after merging deletes a key: the field then takes its schema default, and a spec that still
lacks something required is a SpecError with its path, never a bare Python error (found by the mutated-spec
property test: a dialect with `headers: null`)."""

from __future__ import annotations

import json

import pytest
import responses

import litellm_sync

OK = {"id": "x", "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}


def test_a_null_field_in_a_dialect_is_absent_and_takes_its_default() -> None:
    spec = {"providers": {"acme": {"extends": "openai_chat", "base_url": "https://acme.example/v1",
                                   "headers": None, "stream_body": None}}}
    with responses.RequestsMock() as rsps, litellm_sync.Client(providers=spec, max_retries=0) as client:
        rsps.add("POST", "https://acme.example/v1/chat/completions", json=OK)
        assert client.completion("acme/m", [{"role": "user", "content": "Hi"}], api_key="k").content == "ok"
        sent = rsps.calls[0].request
    assert json.loads(sent.body) == {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}


def test_a_null_required_block_is_a_spec_error_with_its_path() -> None:
    spec = {"dialects": {"mine": {"headers": None, "endpoints": {"chat": {"path": "/c"}}}},
            "providers": {"acme": {"extends": "mine", "base_url": "https://acme.example"}}}
    with pytest.raises(litellm_sync.SpecError, match=r"providers\.acme: missing response"):
        litellm_sync.Client(providers=spec)
