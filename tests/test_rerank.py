"""rerank(): golden requests and replies per provider (tests/cases/rerank, from each provider's API reference) in
Cohere's shape, documents filled in or left out as asked, costs per query or per token, errors and redaction."""

from __future__ import annotations

import json
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import responses

import litellm_sync
from litellm_sync import exceptions

CASES = sorted((Path(__file__).parent / "cases" / "rerank").glob("*.json"))
CLIENT = litellm_sync.Client(max_retries=0)
KEY = "sk-test"
DOCS = ["Paris is in France.", "Berlin is in Germany.", "Rome is in Italy."]


@pytest.fixture(autouse=True)
def _no_provider_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if re.search(r"(API_BASE|BASE_URL|_ENDPOINT|API_VERSION|_HOST|_REGION)$", name):
            monkeypatch.delenv(name)


def _capture(rsps: responses.RequestsMock, reply: Any, status: int = 200) -> list[Any]:
    sent: list[Any] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        sent.append(request)
        return status, {"content-type": "application/json"}, json.dumps(reply)

    rsps.add_callback(responses.POST, re.compile(".*"), callback=answer)
    return sent


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_golden_rerank(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    expect, read = case["expect"], case["read"]
    with responses.RequestsMock() as rsps:
        sent = _capture(rsps, case["reply"])
        result = CLIENT.rerank(f"{case['provider']}/{case['model']}", case["query"], case["documents"], api_key=KEY,
                               **case["params"])
    assert len(sent) == 1
    assert sent[0].method == expect["method"] and sent[0].url == expect["url"]
    for name, value in expect["headers"].items():
        assert sent[0].headers.get(name) == value, name
    assert json.loads(sent[0].body) == expect["body"]
    shaped = result.to_dict()
    assert shaped["results"] == read["results"]
    assert shaped.get("meta") == read["meta"]
    assert result.cost == (Decimal(read["cost"]) if read["cost"] is not None else None)
    assert result.provider == case["provider"]


def test_every_provider_with_rerank_has_a_golden_case() -> None:
    covered = {json.loads(p.read_text())["provider"] for p in CASES}
    declared = {name for name, spec in CLIENT.spec.providers.items() if "rerank" in spec.operations}
    assert declared <= covered
    assert {"cohere", "jina", "voyage", "together", "bedrock"} <= covered


def test_documents_are_filled_in_from_the_input_or_left_out_as_asked() -> None:
    reply = {"results": [{"index": 2, "relevance_score": 0.9}, {"index": 0, "relevance_score": 0.2}],
             "meta": {"billed_units": {"search_units": 1}}}
    with responses.RequestsMock() as rsps:
        _capture(rsps, reply)
        plain = CLIENT.rerank("cohere/rerank-v3.5", "Italy?", DOCS, api_key=KEY)
        _capture(rsps, reply)
        filled = CLIENT.rerank("cohere/rerank-v3.5", "Italy?", DOCS, api_key=KEY, return_documents=True)
    assert [(r.index, r.relevance_score, r.document) for r in plain.results] == [(2, 0.9, None), (0, 0.2, None)]
    assert [r.document for r in filled.results] == [{"text": DOCS[2]}, {"text": DOCS[0]}]
    voyage = {"data": [{"index": 1, "relevance_score": 0.5, "document": DOCS[1]}], "usage": {"total_tokens": 9}}
    with responses.RequestsMock() as rsps:
        _capture(rsps, voyage)
        without = CLIENT.rerank("voyage/rerank-2.5", "Germany?", DOCS, api_key=KEY, return_documents=False)
    assert without.results[0].document is None and "document" not in without.to_dict()["results"][0]


def test_dict_documents_are_sent_as_text_where_the_api_takes_strings() -> None:
    with responses.RequestsMock() as rsps:
        sent = _capture(rsps, {"results": [{"index": 0, "relevance_score": 1.0}]})
        CLIENT.rerank("cohere/rerank-v3.5", "q", [{"text": "a"}, "b"], api_key=KEY)
    assert json.loads(sent[0].body)["documents"] == ["a", "b"]


def test_top_n_caps_the_results_when_the_provider_sends_more() -> None:
    reply = {"results": [{"index": i, "relevance_score": 1 - i / 10} for i in range(3)]}
    with responses.RequestsMock() as rsps:
        _capture(rsps, reply)
        result = CLIENT.rerank("cohere/rerank-v3.5", "q", DOCS, api_key=KEY, top_n=2)
    assert [r.index for r in result.results] == [0, 1]


def test_search_units_are_priced_per_query() -> None:
    with responses.RequestsMock() as rsps:
        reply = {"results": [{"index": 0, "relevance_score": 0.3}], "meta": {"billed_units": {"search_units": 3}}}
        _capture(rsps, reply)
        result = CLIENT.rerank("cohere/rerank-v3.5", "q", DOCS, api_key=KEY)
    assert result.cost == Decimal("0.006") and litellm_sync.completion_cost(result) == result.cost
    assert CLIENT.get_model_info("cohere/rerank-v3.5").query_price == Decimal("0.002")
    assert {m.name for m in CLIENT.spec.registry.list("cohere", mode="rerank")} >= {"rerank-v3.5"}


@pytest.mark.parametrize("reply", [
    {"results": [{"index": 7, "relevance_score": 0.3}]},          # an index past the documents
    {"results": [{"index": 0}]},                                  # no score
    {"results": "nope"},                                          # no list
    {"unexpected": True},
])
def test_malformed_answers_are_validation_errors(reply: Any) -> None:
    with responses.RequestsMock() as rsps:
        _capture(rsps, reply)
        with pytest.raises(exceptions.APIResponseValidationError):
            CLIENT.rerank("cohere/rerank-v3.5", "q", DOCS, api_key=KEY)


def test_errors_are_mapped_and_redacted() -> None:
    secret = "co-secret-key-987654"
    with responses.RequestsMock() as rsps:
        _capture(rsps, {"message": f"too many requests for {secret}"}, status=429)
        with pytest.raises(exceptions.RateLimitError) as caught:
            CLIENT.rerank("cohere/rerank-v3.5", "q", DOCS, api_key=secret)
    assert secret not in str(caught.value)
    with pytest.raises(exceptions.UnsupportedParamsError, match="no rerank operation"):
        CLIENT.rerank("openai/gpt-4o-mini", "q", DOCS, api_key=KEY)
    for query, documents in (("", DOCS), ("q", []), ("q", "one string")):
        with pytest.raises(exceptions.BadRequestError):
            CLIENT.rerank("cohere/rerank-v3.5", query, documents, api_key=KEY)
    with pytest.raises(exceptions.BadRequestError, match="top_n"):
        CLIENT.rerank("cohere/rerank-v3.5", "q", DOCS, api_key=KEY, top_n=0)


def test_module_function_uses_the_given_client() -> None:
    with responses.RequestsMock() as rsps:
        _capture(rsps, {"results": [{"index": 1, "relevance_score": 0.8}]})
        result = litellm_sync.rerank("cohere/rerank-v3.5", "q", DOCS, client=CLIENT, api_key=KEY)
    assert isinstance(result, litellm_sync.RerankResponse) and result.results[0].index == 1
