"""Generic primitives for providers such as Bedrock and Vertex AI: `variables:` (a call argument, then the
environment, then a default), `base_url` as a template of them (values percent-encoded, then validated),
and error rules that read response headers (`headers:`) or an in-band error's event type (`event_types:`)."""

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
from litellm_sync import SpecError
from litellm_sync._engine.framing.eventstream import encode_message
from litellm_sync._engine.paths import MISSING
from litellm_sync._engine.template import TemplateError, compile_template
from litellm_sync.exceptions import (
    BadRequestError,
    ConfigurationError,
    ContextWindowExceededError,
    RateLimitError,
)

MESSAGES = [{"role": "user", "content": "Hi"}]
OK = {"id": "x", "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}


def _spec(**extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "extends": "openai_chat",
        "base_url": "https://api.${region}.acme.test/v1",
        "variables": {
            "region": {"args": ["acme_region"], "env": ["ACME_REGION", "ACME_DEFAULT_REGION"], "default": "eu-1"},
            "project": {"args": ["acme_project"], "env": ["ACME_PROJECT"], "required": True},
        },
        "endpoints": {"chat": {"path": "/projects/${project}/chat"}},
        "body": {"model": "$model", "messages": "$messages", "meta": {"region": "$region"}},
    }
    entry.update(extra)
    return {"providers": {"acme": entry}}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ACME_REGION", "ACME_DEFAULT_REGION", "ACME_PROJECT"):
        monkeypatch.delenv(name, raising=False)


def _call(rsps: responses.RequestsMock, url: str, spec: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    rsps.add("POST", url, json=OK)
    with litellm_sync.Client(providers=spec or _spec(), max_retries=0) as client:
        client.completion("acme/m", MESSAGES, api_key="k", **kwargs)
    return json.loads(rsps.calls[-1].request.body)


def test_a_call_argument_wins_and_never_reaches_the_body(rsps: responses.RequestsMock, monkeypatch: Any) -> None:
    monkeypatch.setenv("ACME_REGION", "env-region")
    body = _call(rsps, "https://api.call-region.acme.test/v1/projects/p1/chat", acme_region="call-region",
                 acme_project="p1")
    assert body == {"model": "m", "messages": MESSAGES, "meta": {"region": "call-region"}}


def test_the_first_set_environment_variable_then_the_default(rsps: responses.RequestsMock, monkeypatch: Any) -> None:
    monkeypatch.setenv("ACME_PROJECT", "from-env")
    monkeypatch.setenv("ACME_DEFAULT_REGION", "second")
    assert _call(rsps, "https://api.second.acme.test/v1/projects/from-env/chat")["meta"] == {"region": "second"}
    monkeypatch.setenv("ACME_REGION", "")  # empty counts as unset
    monkeypatch.delenv("ACME_DEFAULT_REGION")
    assert _call(rsps, "https://api.eu-1.acme.test/v1/projects/from-env/chat")["meta"] == {"region": "eu-1"}


def test_a_required_variable_that_is_absent_is_a_configuration_error_before_sending() -> None:
    wanted = r"needs its project: pass acme_project= or set ACME_PROJECT"
    client = litellm_sync.Client(providers=_spec(), max_retries=0)
    with client, pytest.raises(ConfigurationError, match=wanted) as e:
        client.completion("acme/m", MESSAGES, api_key="k")
    assert e.value.request_sent is False


def test_values_in_the_base_url_are_percent_encoded_so_they_cannot_change_the_host() -> None:
    with litellm_sync.Client(providers=_spec(), max_retries=0) as client:
        with pytest.raises(ConfigurationError, match="base_url of provider 'acme'"):
            client.completion("acme/m", MESSAGES, api_key="k", acme_project="p", acme_region="evil.test/x?")
        # "@" would make everything before it a user name; encoded, the host stays under acme.test
        with pytest.raises(ConfigurationError):
            client.completion("acme/m", MESSAGES, api_key="k", acme_project="p", acme_region="evil.test@x")


def test_a_base_url_variable_without_a_value_says_how_to_give_it() -> None:
    spec = _spec(variables={"region": {"env": ["ACME_REGION"]}}, endpoints={"chat": {"path": "/chat"}})
    wanted = "reads a variable this call has no value for"
    with litellm_sync.Client(providers=spec, max_retries=0) as client, pytest.raises(ConfigurationError, match=wanted):
        client.completion("acme/m", MESSAGES, api_key="k")


def test_api_base_replaces_the_templated_base_url(rsps: responses.RequestsMock) -> None:
    body = _call(rsps, "https://proxy.test/projects/p/chat", api_base="https://proxy.test", acme_project="p")
    assert body["meta"] == {"region": "eu-1"}


def test_templates_reading_an_undeclared_variable_are_spec_errors() -> None:
    with pytest.raises(SpecError, match=r"providers.acme.base_url: .*unknown variable 'regoin'"):
        litellm_sync.Client(providers=_spec(base_url="https://${regoin}.acme.test"))
    with pytest.raises(SpecError, match=r"providers.acme.variables.model"):
        litellm_sync.Client(providers=_spec(variables={"model": {"default": "x"}}))


# -- error rules that read headers and event types ----------------------------------------------------------

ERRORS = {
    "message": ["message", "Message"],
    "rules": [
        {"headers": {"x-amzn-errortype": "ThrottlingException"}, "class": "RateLimitError"},
        {"headers": {"X-Amzn-ErrorType": ["ValidationException"]}, "contains": ["too long"],
         "class": "ContextWindowExceededError"},
        {"event_types": ["throttlingException"], "class": "RateLimitError"},
        {"event_types": ["validationException"], "class": "BadRequestError"},
    ],
}


@pytest.mark.parametrize(
    ("header", "body", "expected"),
    [
        ("ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/", "Too many requests",
         RateLimitError),
        ("ThrottlingException", "Too many requests", RateLimitError),
        ("ValidationException", "Input is too long for requested model.", ContextWindowExceededError),
        ("ValidationException", "Malformed input request", BadRequestError),
        ("ThrottlingExceptionX", "Too many requests", BadRequestError),  # a token, not a prefix
    ],
)
def test_error_rules_match_a_header_or_its_first_token(
    rsps: responses.RequestsMock, header: str, body: str, expected: type
) -> None:
    rsps.add("POST", "https://api.eu-1.acme.test/v1/projects/p/chat", status=400, json={"message": body},
             headers={"X-Amzn-ErrorType": header})
    client = litellm_sync.Client(providers=_spec(errors=ERRORS), max_retries=0)
    with client, pytest.raises(expected) as caught:
        client.completion("acme/m", MESSAGES, api_key="k", acme_project="p")
    assert type(caught.value) is expected and caught.value.message == body


def test_an_in_band_stream_error_is_classed_by_its_event_type(rsps: responses.RequestsMock) -> None:
    events = encode_message({":event-type": "delta"}, b'{"text": "Hel"}') + encode_message(
        {":message-type": "exception", ":exception-type": "throttlingException"}, b'{"message":"slow down"}'
    )
    spec = _spec(
        errors=ERRORS,
        stream={"format": "eventstream", "type": "event", "done": None, "error": {"types": ["throttlingException"]},
                "events": {"delta": {"choice": {"content": "text"}}}},
    )
    rsps.add("POST", "https://api.eu-1.acme.test/v1/projects/p/chat", body=events,
             content_type="application/vnd.amazon.eventstream")
    with litellm_sync.Client(providers=spec, max_retries=0) as client:
        stream = client.completion("acme/m", MESSAGES, api_key="k", acme_project="p", stream=True)
        with pytest.raises(RateLimitError, match="slow down"):
            for _chunk in stream:
                pass


# -- the examples in docs/providers-yaml.md ------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[1] / "docs" / "providers-yaml.md"


def doc_example(name: str) -> dict[str, Any]:
    """The YAML block under `<!-- example: NAME -->` in docs/providers-yaml.md."""
    found = re.search(rf"<!-- example: {name} -->\n```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert found is not None, name
    loaded: dict[str, Any] = yaml.safe_load(found.group(1))
    return loaded


def test_the_variables_example_posts_where_the_doc_says(rsps: responses.RequestsMock, monkeypatch: Any) -> None:
    monkeypatch.delenv("CLOUDY_LOCATION", raising=False)
    monkeypatch.delenv("CLOUDY_PROJECT", raising=False)
    monkeypatch.delenv("CLOUDY_DEFAULT_PROJECT", raising=False)
    rsps.add("POST", "https://us-east1-llm.cloudy.example/v1/projects/p1/locations/us-east1/chat", json=OK)
    with litellm_sync.Client(providers=doc_example("variables"), max_retries=0) as client:
        assert client.completion("cloudy/m", MESSAGES, api_key="k", cloudy_project="p1").content == "ok"
        with pytest.raises(ConfigurationError, match="CLOUDY_DEFAULT_PROJECT"):
            client.completion("cloudy/m", MESSAGES, api_key="k")
    assert "cloudy_project" not in json.loads(rsps.calls[0].request.body)


def test_the_error_headers_example_classes_aws_errors(rsps: responses.RequestsMock) -> None:
    url = "https://aws-like.example/chat/completions"
    rsps.add("POST", url, status=400, json={"message": "Input is too long for requested model."},
             headers={"x-amzn-ErrorType": "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"})
    rsps.add("POST", url, status=429, json={"Message": "Rate exceeded"},
             headers={"X-Amzn-Errortype": "ThrottlingException"})
    with litellm_sync.Client(providers=doc_example("error-headers"), max_retries=0) as client:
        with pytest.raises(ContextWindowExceededError):
            client.completion("aws_like/m", MESSAGES, api_key="k")
        with pytest.raises(RateLimitError, match="Rate exceeded"):
            client.completion("aws_like/m", MESSAGES, api_key="k")


def test_the_map_example_reshapes_a_media_type(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", "https://pictures.example/chat/completions", json=OK)
    messages = [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "data:image/tiff;base64,SUkqAA=="}},
    ]}]
    with litellm_sync.Client(providers=doc_example("map"), max_retries=0) as client:
        client.completion("pictures/m", messages, api_key="k")
    assert json.loads(rsps.calls[0].request.body)["messages"] == [{"role": "user", "content": [
        {"image": {"format": "png", "bytes": "iVBORw0KGgo="}},
        {"image": {"format": "unknown", "bytes": "SUkqAA=="}},
    ]}]


def test_map_matches_scalars_by_json_text_and_is_missing_without_a_default() -> None:
    template = compile_template({"$map": "$v", "cases": {True: "yes", 3: "three", "a": "$w"}})
    assert [template({"v": v, "w": "W"}) for v in (True, 3, "a", "b", None)] == ["yes", "three", "W", MISSING, MISSING]
    with pytest.raises(TemplateError, match="needs 'cases'"):
        compile_template({"$map": "$v"})


def test_the_each_slice_example_reshapes_history_and_tool_parameters(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", "https://legacy.example/chat/completions", json=OK)
    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
                {"role": "user", "content": "Weather?"}]
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}}}
    with litellm_sync.Client(providers=doc_example("each-slice"), max_retries=0) as client:
        client.completion("legacy/m", messages, api_key="k", tools=[tool])
    body = json.loads(rsps.calls[0].request.body)
    assert body["history"] == messages[:2] and body["message"] == "Weather?"
    assert body["tools"] == [{"name": "get_weather", "parameter_definitions": [
        {"name": "city", "type": "string"}, {"name": "days", "type": "integer"}]}]


def test_slice_bounds_and_each_over_a_mapping() -> None:
    assert compile_template({"$slice": "$v", "from": 1})({"v": [1, 2, 3]}) == [2, 3]
    assert compile_template({"$slice": "$v", "from": -1})({"v": [1, 2, 3]}) == [3]
    assert compile_template({"$slice": "$v", "to": -1})({"v": [1]}) is MISSING
    with pytest.raises(TemplateError, match="integer 'from' and 'to'"):
        compile_template({"$slice": "$v", "from": "1"})
    each = compile_template({"$each": "$v", "do": "${key}=${item}#${index}"})
    assert each({"v": {"a": "x", "b": "y"}}) == ["a=x#0", "b=y#1"]
    assert each({"v": "s"}) is MISSING  # a scalar is one item with no $key, so the interpolation is missing
    assert compile_template({"$each": "$v", "do": "$item"})({"v": "s"}) == ["s"]


def test_a_tool_result_can_send_the_arguments_of_the_call_it_answers(rsps: responses.RequestsMock) -> None:
    spec = {"providers": {"v1": {
        "extends": "openai_chat", "base_url": "https://v1.example",
        "messages": {"mode": "render", "parts": {
            "text": {"text": "$text"},
            "tool_call": {"call": {"name": "$name", "parameters": "$arguments_obj"}},
            "tool_result": {"call": {"name": "$name", "parameters": "$arguments_obj"}, "outputs": ["$content_obj"]},
        }, "message": {"role": "$role", "content": "$content"}},
    }}}
    messages = [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {
            "name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "{\"temp_c\": 21}"},
    ]
    rsps.add("POST", "https://v1.example/chat/completions", json=OK)
    with litellm_sync.Client(providers=spec, max_retries=0) as client:
        client.completion("v1/m", messages, api_key="k")
    assert json.loads(rsps.calls[0].request.body)["messages"][2] == {"role": "tool", "content": [
        {"call": {"name": "get_weather", "parameters": {"city": "Paris"}}, "outputs": [{"temp_c": 21}]}]}


def test_a_provider_that_cannot_stream_answers_a_stream_call_with_one_chunk(rsps: responses.RequestsMock) -> None:
    spec = {"providers": {"plain": {"extends": "openai_chat", "base_url": "https://plain.example",
                                    "stream": {"supported": False}}}}
    rsps.add("POST", "https://plain.example/chat/completions", json=OK)
    with litellm_sync.Client(providers=spec, max_retries=0) as client:
        chunks = list(client.completion("plain/m", MESSAGES, api_key="k", stream=True))
    assert [c.choices[0].delta.content for c in chunks] == ["ok"]
    assert json.loads(rsps.calls[0].request.body) == {"model": "m", "messages": MESSAGES}  # no stream fields
