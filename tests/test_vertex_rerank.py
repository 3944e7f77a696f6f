"""Vertex AI rerank (the ranking API of Vertex AI Search, declared in providers.yaml): what we send to
`rankingConfigs/default_ranking_config:rank`, how record ids come back as indexes, documents, prices and errors.

Wire facts from https://cloud.google.com/generative-ai-app-builder/docs/reference/rest/v1/projects.locations.rankingConfigs/rank
(request `{model, query, records: [{id, title, content}], topN, ignoreRecordDetailsInResponse}`, answer `{records:
[{id, score, ...}]}` sorted by descending score).
"""

from __future__ import annotations

import json
import os
import re
from decimal import Decimal
from typing import Any

import pytest
import responses

import litellm_sync
from litellm_sync import exceptions
from litellm_sync._engine.operations import _whole_number

CLIENT = litellm_sync.Client(max_retries=0)
MODEL = "vertex_ai/semantic-ranker-default-004"
TOKEN = "ya29.test-access-token-1234"
DOCS = ["Paris is in France.", "Berlin is in Germany.", "Rome is in Italy."]
RANK_URL = ("https://discoveryengine.googleapis.com/v1/projects/proj-1/locations/global/rankingConfigs/"
            "default_ranking_config:rank")


@pytest.fixture(scope="module", autouse=True)
def _close_client() -> Any:
    yield
    CLIENT.close()


@pytest.fixture(autouse=True)
def _no_google_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("VERTEX", "GOOGLE_")):
            monkeypatch.delenv(name)


def _capture(rsps: responses.RequestsMock, reply: Any, status: int = 200) -> list[Any]:
    sent: list[Any] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        sent.append(request)
        return status, {"content-type": "application/json"}, json.dumps(reply)

    rsps.add_callback(responses.POST, re.compile(".*"), callback=answer)
    return sent


def _rerank(reply: Any, status: int = 200, **params: Any) -> tuple[Any, list[Any]]:
    params.setdefault("vertex_project", "proj-1")
    params.setdefault("api_key", TOKEN)
    with responses.RequestsMock() as rsps:
        sent = _capture(rsps, reply, status)
        result = CLIENT.rerank(params.pop("model", MODEL), params.pop("query", "Italy?"),
                               params.pop("documents", DOCS), **params)
    return result, sent


def test_the_request_goes_to_the_global_ranking_config_with_one_record_per_document() -> None:
    result, sent = _rerank({"records": [{"id": "2", "score": 0.91}]}, vertex_location="europe-west4")
    assert len(sent) == 1
    assert sent[0].url == RANK_URL  # the ranking API lives in the global location whatever the chat location
    assert sent[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert json.loads(sent[0].body) == {
        "model": "semantic-ranker-default-004",
        "query": "Italy?",
        "records": [{"id": str(i), "content": text} for i, text in enumerate(DOCS)],
        "ignoreRecordDetailsInResponse": True,
    }
    assert [(r.index, r.relevance_score) for r in result.results] == [(2, 0.91)]


def test_record_ids_are_read_back_as_input_positions_in_the_providers_order() -> None:
    reply = {"records": [{"id": "1", "score": 0.8}, {"id": "0", "score": 0.3}, {"id": "2", "score": 0.0001}]}
    result, _ = _rerank(reply)
    assert [(r.index, r.relevance_score) for r in result.results] == [(1, 0.8), (0, 0.3), (2, 0.0001)]
    assert all(r.document is None for r in result.results)


def test_top_n_is_sent_as_topN_and_caps_what_comes_back() -> None:
    reply = {"records": [{"id": str(i), "score": 1 - i / 10} for i in range(3)]}
    result, sent = _rerank(reply, top_n=2)
    assert json.loads(sent[0].body)["topN"] == 2
    assert [r.index for r in result.results] == [0, 1]


def test_documents_are_filled_in_from_the_input_and_titles_are_sent() -> None:
    documents = [{"text": "Rome is the capital.", "title": "Italy"}, "Oslo is in Norway."]
    reply = {"records": [{"id": "0", "score": 0.9}, {"id": "1", "score": 0.1}]}
    result, sent = _rerank(reply, documents=documents, return_documents=True)
    assert json.loads(sent[0].body)["records"] == [
        {"id": "0", "content": "Rome is the capital.", "title": "Italy"},
        {"id": "1", "content": "Oslo is in Norway."},
    ]
    assert [r.document for r in result.results] == [documents[0], {"text": "Oslo is in Norway."}]


def test_cost_is_per_query_and_the_models_are_registered() -> None:
    result, _ = _rerank({"records": [{"id": "0", "score": 0.5}]})
    assert result.cost == Decimal("0.001") and litellm_sync.completion_cost(result) == result.cost
    assert result.provider == "vertex_ai" and result.model == "semantic-ranker-default-004"
    info = CLIENT.get_model_info("vertex_ai/semantic-ranker-fast-004")
    assert info.mode == "rerank" and info.query_price == Decimal("0.001")
    names = {m.name for m in CLIENT.spec.registry.list("vertex_ai", mode="rerank")}
    assert {"semantic-ranker-default-004", "semantic-ranker-fast-004"} <= names


def test_an_unlisted_ranking_model_is_sent_by_name_with_no_price() -> None:
    result, sent = _rerank({"records": [{"id": "0", "score": 0.5}]}, model="vertex_ai/semantic-ranker-default@latest")
    assert json.loads(sent[0].body)["model"] == "semantic-ranker-default@latest"
    assert result.cost is None


@pytest.mark.parametrize("reply", [
    {"records": [{"id": "7", "score": 0.3}]},        # an id past the documents
    {"records": [{"id": "doc-a", "score": 0.3}]},    # an id we never sent
    {"records": [{"id": "-1", "score": 0.3}]},
    {"records": [{"id": "0"}]},                      # no score
    {"records": "nope"},
])
def test_answers_that_do_not_map_back_are_validation_errors(reply: Any) -> None:
    with pytest.raises(exceptions.APIResponseValidationError):
        _rerank(reply)


def test_google_errors_are_mapped_and_the_token_is_redacted() -> None:
    error = {"error": {"code": 403, "status": "PERMISSION_DENIED",
                       "message": f"Discovery Engine API has not been used in project proj-1 ({TOKEN})"}}
    with pytest.raises(exceptions.PermissionDeniedError) as caught:
        _rerank(error, status=403)
    assert TOKEN not in str(caught.value) and "Discovery Engine API" in str(caught.value)
    quota = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "Quota exceeded"}}
    with pytest.raises(exceptions.RateLimitError):
        _rerank(quota, status=429)


def test_a_missing_project_is_a_configuration_error_before_sending() -> None:
    with responses.RequestsMock() as rsps:
        sent = _capture(rsps, {})
        with pytest.raises(exceptions.ConfigurationError, match="vertex_project"):
            CLIENT.rerank(MODEL, "q", DOCS, api_key=TOKEN)
        rsps.assert_all_requests_are_fired = False
    assert sent == []


@pytest.mark.parametrize(("value", "expected"), [
    ("0", 0), ("12", 12), ("007", 7), (3, 3),
    ("", ""), ("-1", "-1"), ("1.5", "1.5"), ("\uff11", "\uff11"), ("1" * 10, "1" * 10), (None, None),
])
def test_only_plain_decimal_text_becomes_an_index(value: Any, expected: Any) -> None:
    assert _whole_number(value) == expected
