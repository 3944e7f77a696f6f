"""Structured output: a marshmallow Schema or a pydantic model as response_format, sent in each dialect's form
(captured with `responses`), read back into `.parsed`; replies that are not JSON or do not validate raise
StructuredOutputError with the raw text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Optional

import pydantic
import pytest
import responses
from marshmallow import Schema, fields, validate

import litellm_sync
from litellm_sync import APIResponseValidationError, Client, StructuredOutputError
from litellm_sync.cache import MemoryCache
from litellm_sync.testing import mock_completion

MESSAGES = [{"role": "user", "content": "Who wrote the first program?"}]
OPENAI, ANTHROPIC, GEMINI = "openai/gpt-4o-mini", "anthropic/claude-haiku-4-5", "gemini/gemini-2.5-flash"


class Person(Schema):
    """A person."""

    name = fields.String(required=True, metadata={"description": "Full name"})
    age = fields.Integer(validate=validate.Range(min=0, max=150))


class PersonModel(pydantic.BaseModel):
    name: str
    age: Optional[int] = None


PERSON_SCHEMA = {
    "type": "object",
    "description": "A person.",
    "properties": {
        "name": {"type": "string", "description": "Full name"},
        "age": {"type": ["integer", "null"], "minimum": 0, "maximum": 150},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
}
MODEL_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"title": "Name", "type": "string"},
        "age": {"anyOf": [{"type": "integer"}, {"type": "null"}], "title": "Age"},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
}


def _sent_schema(model: str, body: dict[str, Any]) -> Any:
    """The schema as the dialect's wire format carries it (asserting the form around it)."""
    if model == OPENAI:
        form = body["response_format"]
        assert form["type"] == "json_schema" and form["json_schema"]["strict"] is True
        return form["json_schema"]["schema"]
    if model == ANTHROPIC:
        form = body["output_config"]["format"]
        assert form["type"] == "json_schema" and "response_format" not in body
        return form["schema"]
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json" and "response_format" not in body
    return config["responseJsonSchema"]


def _call(model: str, reply: str, response_format: Any, api_key: str = "sk-test") -> tuple[Any, dict[str, Any]]:
    with responses.RequestsMock() as rsps:
        mocked = mock_completion(rsps, model, reply)
        answer = litellm_sync.completion(model, MESSAGES, response_format=response_format, api_key=api_key)
        return answer, json.loads(mocked.calls[0].request.body)


@pytest.mark.parametrize("model", [OPENAI, ANTHROPIC, GEMINI])
def test_marshmallow_round_trip(model: str) -> None:
    answer, body = _call(model, '{"name": "Ada Lovelace", "age": 36}', Person)
    expected = PERSON_SCHEMA
    if model == ANTHROPIC:  # Claude refuses numeric bounds: they move into the description
        age = {"type": ["integer", "null"], "description": "(minimum: 0, maximum: 150)"}
        expected = {**PERSON_SCHEMA, "properties": {**PERSON_SCHEMA["properties"], "age": age}}
    assert _sent_schema(model, body) == expected
    if model == OPENAI:
        assert body["response_format"]["json_schema"]["name"] == "Person"
    assert answer.parsed == {"name": "Ada Lovelace", "age": 36}
    assert answer.content == '{"name": "Ada Lovelace", "age": 36}'


@pytest.mark.parametrize(
    ("model", "sent"),
    [
        (OPENAI, {"type": "string", "minLength": 2, "maxLength": 8, "pattern": "^[a-z]+$"}),
        (ANTHROPIC, {"type": "string", "pattern": "^[a-z]+$", "description": "(minLength: 2, maxLength: 8)"}),
        (GEMINI, {"type": "string", "description": '(minLength: 2, maxLength: 8, pattern: "^[a-z]+$")'}),
    ],
)
def test_constraints_a_dialect_cannot_take_move_into_the_description(model: str, sent: dict[str, Any]) -> None:
    class Handle(Schema):
        handle = fields.String(required=True, validate=[validate.Length(2, 8), validate.Regexp("^[a-z]+$")])

    answer, body = _call(model, '{"handle": "ada"}', Handle)
    assert _sent_schema(model, body)["properties"]["handle"] == sent
    assert answer.parsed == {"handle": "ada"}
    with pytest.raises(StructuredOutputError) as caught:  # still checked when the reply is loaded
        _call(model, '{"handle": "Ada Lovelace"}', Handle)
    assert set(caught.value.errors) == {"handle"}


@pytest.mark.parametrize("model", [OPENAI, ANTHROPIC, GEMINI])
def test_pydantic_round_trip(model: str) -> None:
    answer, body = _call(model, '{"name": "Ada Lovelace", "age": null}', PersonModel)
    assert _sent_schema(model, body) == MODEL_SCHEMA
    assert answer.parsed == PersonModel(name="Ada Lovelace", age=None)
    assert isinstance(answer.parsed, PersonModel)


@pytest.mark.parametrize("model", [OPENAI, ANTHROPIC, GEMINI])
def test_a_reply_that_is_not_json_raises_with_the_text(model: str) -> None:
    with pytest.raises(StructuredOutputError, match="not JSON") as caught:
        _call(model, "Ada Lovelace, 36", Person)
    error = caught.value
    assert isinstance(error, APIResponseValidationError)
    assert error.raw == "Ada Lovelace, 36"
    assert error.provider == model.split("/")[0] and error.request_sent
    assert error.response is not None and error.response.usage.total_tokens == 30  # the call was made: billed


def test_a_reply_that_breaks_the_marshmallow_schema_raises_with_the_messages() -> None:
    reply = '{"name": "Ada", "age": 200}'
    with pytest.raises(StructuredOutputError, match="does not validate against Person") as caught:
        _call(OPENAI, reply, Person)
    assert caught.value.raw == reply
    assert caught.value.errors == {"age": ["Must be greater than or equal to 0 and less than or equal to 150."]}


def test_a_reply_that_breaks_the_pydantic_model_raises_with_the_messages() -> None:
    reply = '{"name": 7, "age": "old"}'
    with pytest.raises(StructuredOutputError, match="does not validate against PersonModel") as caught:
        _call(GEMINI, reply, PersonModel)
    assert caught.value.raw == reply
    assert [(e["loc"], e["type"]) for e in caught.value.errors] == [("name", "string_type"), ("age", "int_parsing")]


def test_a_refusal_raises_and_says_so() -> None:
    with pytest.raises(StructuredOutputError, match="has no text"):
        _call(OPENAI, "", Person)


@pytest.mark.parametrize("model", [OPENAI, ANTHROPIC, GEMINI])
def test_streams_rebuild_a_parsed_response(model: str) -> None:
    with responses.RequestsMock() as rsps:
        mock_completion(rsps, model, stream=True, chunks=['{"name": "Ada', ' Lovelace", "age"', ": 36}"])
        with litellm_sync.completion(model, MESSAGES, stream=True, response_format=PersonModel, api_key="k") as s:
            whole = s.response()
    assert whole.parsed == PersonModel(name="Ada Lovelace", age=36)
    with responses.RequestsMock() as rsps:
        mock_completion(rsps, model, stream=True, chunks=['{"name": ', "oops"])
        with litellm_sync.completion(
            model, MESSAGES, stream=True, response_format=Person, api_key="k"
        ) as s, pytest.raises(StructuredOutputError) as caught:
            s.response()
    assert caught.value.raw == '{"name": oops'


def test_optional_fields_come_back_absent_not_null_at_every_level() -> None:
    class Address(Schema):
        city = fields.String(required=True)
        zip = fields.String()

    class Customer(Schema):
        name = fields.String(required=True)
        nickname = fields.String()
        note = fields.String(allow_none=True)
        home = fields.Nested(Address)
        past = fields.List(fields.Nested(Address))

    reply = {
        "name": "Ada", "nickname": None, "note": None,
        "home": {"city": "London", "zip": None},
        "past": [{"city": "Paris", "zip": "75001"}, {"city": "X", "zip": None}],
    }
    answer, _ = _call(OPENAI, json.dumps(reply), Customer)
    assert answer.parsed == {
        "name": "Ada", "note": None, "home": {"city": "London"},
        "past": [{"city": "Paris", "zip": "75001"}, {"city": "X"}],
    }


def test_many_true_is_sent_under_an_object_and_parsed_as_a_list() -> None:
    reply = '{"items": [{"name": "Ada", "age": 36}, {"name": "Alan", "age": 41}]}'
    answer, body = _call(OPENAI, reply, Person(many=True))
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["items"] == {"type": "array", "items": PERSON_SCHEMA}
    assert schema["required"] == ["items"] and schema["additionalProperties"] is False
    assert answer.parsed == [{"name": "Ada", "age": 36}, {"name": "Alan", "age": 41}]


def test_a_bare_json_schema_and_the_openai_forms() -> None:
    closed = {
        "type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"], "additionalProperties": False
    }
    answer, body = _call(OPENAI, '{"n": 3}', closed)
    form = body["response_format"]
    assert form == {"type": "json_schema", "json_schema": {"name": "response", "schema": closed, "strict": True}}
    assert answer.parsed == {"n": 3}
    loose = {"title": "Counter", "type": "object", "properties": {"n": {"type": "integer"}}}
    answer, body = _call(OPENAI, '{"n": 3}', loose)
    form = body["response_format"]["json_schema"]
    assert form == {"name": "Counter", "schema": loose, "strict": False}  # as written: not in strict form
    given = {"type": "json_schema", "json_schema": {"name": "x", "schema": closed, "strict": True}}
    answer, body = _call(OPENAI, '{"n": 3}', given)
    assert body["response_format"] == given and answer.parsed is None  # passed through, as before
    answer, body = _call(OPENAI, '{"n": 3}', {"type": "json_object"})
    assert body["response_format"] == {"type": "json_object"} and answer.parsed is None


def test_parsed_is_not_part_of_the_record() -> None:
    answer, _ = _call(OPENAI, '{"name": "Ada", "age": 36}', PersonModel)
    assert "parsed" not in answer.to_dict()
    assert answer.parsed.name == "Ada"


def test_a_cache_hit_is_parsed_again() -> None:
    with Client(cache=MemoryCache()) as client, responses.RequestsMock() as rsps:
        mocked = mock_completion(rsps, OPENAI, '{"name": "Ada", "age": 36}', client=client)
        first = client.completion(OPENAI, MESSAGES, response_format=PersonModel, api_key="k")
        again = client.completion(OPENAI, MESSAGES, response_format=PersonModel, api_key="k")
        assert len(mocked.calls) == 1
    assert again.cache_hit and again.parsed == first.parsed == PersonModel(name="Ada", age=36)


def test_the_call_key_is_masked_in_the_raw_text() -> None:
    with pytest.raises(StructuredOutputError) as caught:
        _call(OPENAI, "echo my-key-42", Person, api_key="my-key-42")  # not key-shaped: masked by value
    assert caught.value.raw == "echo [REDACTED]"
    assert "my-key-42" not in str(caught.value) + repr(caught.value)


def test_pydantic_is_imported_only_for_a_pydantic_argument() -> None:
    code = (
        "import sys, litellm_sync\n"
        "from marshmallow import Schema, fields\n"
        "class S(Schema):\n    n = fields.Integer(required=True)\n"
        "r = litellm_sync.completion('openai/gpt-4o-mini', [{'role': 'user', 'content': 'x'}], response_format=S,\n"
        "                            mock_response='{\"n\": 2}')\n"
        "assert r.parsed == {'n': 2}, r.parsed\n"
        "assert 'pydantic' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_marshmallow_is_imported_only_for_a_marshmallow_argument(tmp_path: Any) -> None:
    code = (
        "import sys, litellm_sync, pydantic\n"
        "class M(pydantic.BaseModel):\n    n: int\n"
        "r = litellm_sync.completion('anthropic/claude-haiku-4-5', [{'role': 'user', 'content': 'x'}],\n"
        "                            response_format=M, mock_response='{\"n\": 2}')\n"
        "assert r.parsed == M(n=2), r.parsed\n"
        "print('marshmallow' in sys.modules)\n"
    )
    env = {**os.environ, "LITELLM_SYNC_CACHE_DIR": str(tmp_path)}  # the first run loads the spec (marshmallow)
    runs = [subprocess.run([sys.executable, "-c", code], check=True, timeout=120, env=env, capture_output=True,
                           text=True).stdout.strip() for _ in range(2)]
    assert runs == ["True", "False"]  # from the cached spec: structured output and templates need no marshmallow


def test_a_router_needs_json_schema_for_a_schema_type() -> None:
    from litellm_sync._router.strategies import required_features

    assert "json_schema" in required_features(MESSAGES, {"response_format": Person})
    assert "json_schema" in required_features(MESSAGES, {"response_format": PersonModel})
    assert "json_schema" not in required_features(MESSAGES, {"response_format": {"type": "json_object"}})


def test_a_router_call_is_parsed() -> None:
    router = litellm_sync.Router(
        model_list=[{"model_name": "people", "litellm_params": {"model": OPENAI, "api_key": "sk-test"}}]
    )
    with router, responses.RequestsMock() as rsps:
        mocked = mock_completion(rsps, OPENAI, '{"name": "Ada", "age": null}')
        answer = router.completion("people", MESSAGES, response_format=Person)
        sent = json.loads(mocked.calls[0].request.body)["response_format"]["json_schema"]["schema"]
    assert sent == PERSON_SCHEMA and answer.parsed == {"name": "Ada"}
