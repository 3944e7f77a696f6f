"""Template primitives for block-shaped wire formats: `$splice` (one value becomes several items of the list
around it: a part followed by a Bedrock cachePoint), `$refuse` (a part a provider cannot take, with the reason),
and a tool result's `$blocks` (its parts rendered as blocks, so text and images survive) with the cache mark
moved onto the result. The Anthropic and Bedrock shapes follow their API references (tool_result content blocks;
ToolResultContentBlock, CachePointBlock)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
import yaml

import litellm_sync
from litellm_sync._engine.paths import MISSING
from litellm_sync._engine.template import TemplateError, compile_template, reads_name
from litellm_sync.exceptions import UnsupportedParamsError

OK = {"id": "x", "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}
DOC = Path(__file__).resolve().parents[1] / "docs" / "providers-yaml.md"
PNG = "data:image/png;base64,iVBORw0KGgo="
CACHE = {"type": "ephemeral"}
CALL = {"id": "c1", "type": "function", "function": {"name": "chart", "arguments": "{\"city\": \"Paris\"}"}}


def doc_example(name: str) -> dict[str, Any]:
    found = re.search(rf"<!-- example: {name} -->\n```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert found is not None, name
    loaded: dict[str, Any] = yaml.safe_load(found.group(1))
    return loaded


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture(scope="module")
def client() -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(max_retries=0) as made:
        yield made


def _body(client: litellm_sync.Client, model: str, messages: list[Any], **params: Any) -> Any:
    provider, name, info = client.resolve(model)
    request = provider.builder.build(name, messages, params, stream=False, api_key="k", api_base=None,
                                     api_version=None, extra_headers=None, drop_params=False, info=info)
    return json.loads(request.body)


# -- $splice and $refuse ----------------------------------------------------------------------------------------

def test_splice_adds_items_one_by_one_to_the_list_around_it() -> None:
    splice = {"$splice": ["$a", {"$if": "$mark", "then": {"mark": True}}]}
    assert compile_template(["$x", splice, "$y"])({"x": 1, "a": 2, "mark": 1, "y": 3}) == [1, 2, {"mark": True}, 3]
    assert compile_template(["$x", splice])({"x": 1, "a": 2}) == [1, 2]  # the $if is missing: one item
    each = compile_template({"$each": "$v", "do": {"$splice": ["$item", "$item"]}})
    assert each({"v": ["a", "b"]}) == ["a", "a", "b", "b"]
    assert compile_template({"$concat": [[0], splice]})({"a": 2}) == [0, 2]
    assert compile_template({"$splice": "$a"})({"a": 5}) == [5]  # outside a list: just the list
    assert compile_template({"$splice": "$a"})({}) is MISSING


def test_refuse_raises_with_its_reason_and_needs_one() -> None:
    refuse = compile_template({"$if": "$url", "then": {"$refuse": "send bytes"}, "else": "$data"})
    assert refuse({"data": "b64"}) == "b64"
    with pytest.raises(UnsupportedParamsError, match="send bytes"):
        refuse({"url": "https://x"})
    with pytest.raises(TemplateError, match=r"\$refuse takes the reason"):
        compile_template({"$refuse": ""})


def test_reads_name_finds_references_in_every_form() -> None:
    assert reads_name({"content": {"$first": ["$blocks", "$text"]}}, "blocks")
    assert reads_name(["x ${blocks.0} y"], "blocks")
    assert not reads_name({"content": "$blocks_other", "t": "$$blocks"}, "blocks")


def test_the_splice_example_adds_cache_points_and_refuses_url_images(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", "https://blocks.example/chat/completions", json=OK)
    messages = [{"role": "user", "content": [{"type": "text", "text": "long document", "cache_control": CACHE},
                                             {"type": "text", "text": "question"}]}]
    tools = [{"type": "function", "function": {"name": "a"}, "cache_control": CACHE},
             {"type": "function", "function": {"name": "b"}}]
    with litellm_sync.Client(providers=doc_example("splice"), max_retries=0) as client:
        client.completion("blocks/m", messages, api_key="k", tools=tools)
        image = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x.example/a.png"}}]}]
        with pytest.raises(UnsupportedParamsError, match="cannot send image_url message parts: images go as bytes"):
            client.completion("blocks/m", image, api_key="k")
    body = json.loads(rsps.calls[0].request.body)
    assert body["messages"] == [{"role": "user", "content": [
        {"text": "long document"}, {"cachePoint": {"type": "default"}}, {"text": "question"}]}]
    assert body["tools"] == [{"toolSpec": {"name": "a"}}, {"cachePoint": {"type": "default"}},
                             {"toolSpec": {"name": "b"}}]


# -- tool results as blocks ---------------------------------------------------------------------------------------

def _tool_turns(content: Any, **extra: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": "Chart for Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [CALL]},
            {"role": "tool", "tool_call_id": "c1", "content": content, **extra}]


def test_anthropic_tool_result_keeps_text_and_image_blocks(client: litellm_sync.Client) -> None:
    parts = [{"type": "text", "text": "Chart:"}, {"type": "image_url", "image_url": {"url": PNG}},
             {"type": "text", "text": "rising", "cache_control": CACHE}]
    body = _body(client, "anthropic/claude-sonnet-4-5", _tool_turns(parts))
    assert body["messages"][2] == {"role": "user", "content": [{
        "type": "tool_result", "tool_use_id": "c1", "cache_control": CACHE, "content": [
            {"type": "text", "text": "Chart:"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "text", "text": "rising"},  # the mark moved onto the tool_result
        ]}]}
    plain = _body(client, "anthropic/claude-sonnet-4-5", _tool_turns("sunny"))
    assert plain["messages"][2]["content"] == [{"type": "tool_result", "tool_use_id": "c1", "content": "sunny"}]


def test_bedrock_tool_result_keeps_blocks_and_puts_the_cache_point_after_it(client: litellm_sync.Client) -> None:
    parts = [{"type": "text", "text": "Chart:"}, {"type": "image_url", "image_url": {"url": PNG}}]
    model = "bedrock/global.anthropic.claude-sonnet-4-5-20250929-v1:0"
    body = _body(client, model, _tool_turns(parts, cache_control=CACHE))
    assert body["messages"][2] == {"role": "user", "content": [
        {"toolResult": {"toolUseId": "c1", "content": [
            {"text": "Chart:"}, {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}]}},
        {"cachePoint": {"type": "default"}},
    ]}
    plain = _body(client, model, _tool_turns("sunny"))
    assert plain["messages"][2]["content"] == [{"toolResult": {"toolUseId": "c1", "content": [{"text": "sunny"}]}}]


def test_blocks_are_rendered_only_where_a_template_reads_them(rsps: responses.RequestsMock) -> None:
    # This dialect has no image rule and its tool_result does not read $blocks: an image in a tool message is
    # no error here (as before), while the same image in a user message is.
    spec = {"providers": {"flat": {
        "extends": "openai_chat", "base_url": "https://flat.example",
        "messages": {"mode": "render", "parts": {"text": {"t": "$text"}, "tool_call": {"call": "$name"},
                                                 "tool_result": {"result": "$text"}},
                     "message": {"role": "$role", "content": "$content"}},
    }}}
    rsps.add("POST", "https://flat.example/chat/completions", json=OK)
    parts = [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": PNG}}]
    with litellm_sync.Client(providers=spec, max_retries=0) as flat:
        flat.completion("flat/m", _tool_turns(parts), api_key="k")
        with pytest.raises(UnsupportedParamsError, match="cannot send image_data"):
            flat.completion("flat/m", [{"role": "user", "content": parts}], api_key="k")
    assert json.loads(rsps.calls[0].request.body)["messages"][2] == {"role": "tool", "content": [{"result": "a"}]}


def test_bedrock_text_with_cache_control_is_followed_by_a_cache_point(client: litellm_sync.Client) -> None:
    messages = [{"role": "system", "content": [{"type": "text", "text": "Rules.", "cache_control": CACHE}]},
                {"role": "user", "content": [{"type": "text", "text": "Doc", "cache_control": {
                    "type": "ephemeral", "ttl": "1h"}}, {"type": "text", "text": "Q?"}]}]
    body = _body(client, "bedrock/global.anthropic.claude-sonnet-4-5-20250929-v1:0", messages)
    assert body["system"] == [{"text": "Rules."}, {"cachePoint": {"type": "default"}}]
    assert body["messages"] == [{"role": "user", "content": [
        {"text": "Doc"}, {"cachePoint": {"type": "default", "ttl": "1h"}}, {"text": "Q?"}]}]


def test_bedrock_refuses_url_images_saying_how_to_send_them(client: litellm_sync.Client) -> None:
    messages = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x.example/a.png"}}]}]
    with pytest.raises(UnsupportedParamsError, match=r"bytes, not URLs.*data URL") as caught:
        _body(client, "bedrock/global.anthropic.claude-sonnet-4-5-20250929-v1:0", messages)
    assert caught.value.provider == "bedrock"
