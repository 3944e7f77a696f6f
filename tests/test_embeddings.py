"""embedding(): golden requests per provider (tests/cases/embeddings, written from each provider's API reference),
batches split and sent in parallel then rejoined in order, base64, costs, errors through the provider's table,
key redaction, the spec's `operations:` checks, and one call against the fake server on a real socket."""

from __future__ import annotations

import array
import base64
import json
import os
import re
import sys
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import responses

import litellm_sync
from litellm_sync import exceptions
from litellm_sync.testing import FakeProviderServer

CASES = sorted((Path(__file__).parent / "cases" / "embeddings").glob("*.json"))
CLIENT = litellm_sync.Client(max_retries=0)
KEY = "sk-test"


@pytest.fixture(autouse=True)
def _no_provider_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if re.search(r"(API_BASE|BASE_URL|_ENDPOINT|API_VERSION|_HOST|_REGION|_LOCATION|_PROJECT)$", name):
            monkeypatch.delenv(name)


def _capture(rsps: responses.RequestsMock, reply: Any, status: int = 200, sent: list[Any] | None = None) -> list[Any]:
    sent = sent if sent is not None else []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        sent.append(request)
        return status, {"content-type": "application/json"}, json.dumps(reply)

    rsps.add_callback(responses.POST, re.compile(".*"), callback=answer)
    return sent


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_golden_embedding_request(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    expect = case["expect"]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sent = _capture(rsps, case["reply"])
        result = CLIENT.embedding(f"{case['provider']}/{case['model']}", case["input"], api_key=KEY,
                                  api_base=case.get("api_base"), **case["params"])
    assert len(sent) == 1
    request = sent[0]
    assert request.method == expect["method"]
    assert request.url == expect["url"]
    for name, value in expect["headers"].items():
        assert request.headers.get(name) == value, name
    assert json.loads(request.body) == expect["body"]
    read = case["read"]
    assert result.object == "list" and result.provider == case["provider"]
    assert [item.embedding for item in result.data] == read["data"]
    assert [item.index for item in result.data] == list(range(len(read["data"])))
    assert result.to_dict().get("usage") == read["usage"]


def test_every_provider_with_embeddings_has_a_golden_case() -> None:
    covered = {json.loads(p.read_text())["provider"] for p in CASES}
    declared = {name for name, spec in CLIENT.spec.providers.items() if "embeddings" in spec.operations}
    assert declared - {"openai_compatible"} <= covered
    assert {"openai", "azure", "mistral", "cohere", "gemini", "ollama", "voyage", "jina", "together", "fireworks",
            "deepinfra", "nvidia_nim", "huggingface", "bedrock", "vertex_ai"} <= covered


# -- batches ----------------------------------------------------------------------------------------------

BATCHING = {
    "providers": {
        "tiny": {
            "extends": "openai_chat",
            "base_url": "https://tiny.example/v1",
            "auth": {"env": ["TINY_KEY"]},
            "operations": {"embeddings": {
                "path": "/embeddings", "body": {"model": "$model", "input": "$input"}, "batch_size": 3,
                "response": {"items": "data", "embedding": "embedding", "index": "index",
                             "usage": {"from": "usage", "prompt_tokens": "prompt_tokens"}},
                "by_model": [{"models": ["one-*"], "batch_size": 1}],
            }},
            "models": {"tiny-embed": {"mode": "embedding", "pricing": {"input": "1.00"}}},
        }
    }
}


def _numbered_reply(request: Any) -> tuple[int, dict[str, str], str]:
    """Each input 'n<k>' gets the vector [k, k]; the items come back in reverse order (indexes say where)."""
    inputs = json.loads(request.body)["input"]
    items = [{"index": i, "embedding": [float(t[1:]), float(t[1:])]} for i, t in enumerate(inputs)]
    body = {"data": list(reversed(items)), "usage": {"prompt_tokens": len(inputs)}}
    return 200, {}, json.dumps(body)


def test_inputs_over_the_batch_size_are_split_sent_in_parallel_and_rejoined_in_order() -> None:
    client = litellm_sync.Client(providers=BATCHING, max_retries=0)
    barrier = threading.Barrier(2, timeout=10)  # two batches must be in flight at once, or this breaks
    lock = threading.Lock()
    bodies: list[list[str]] = []

    def reply(request: Any) -> tuple[int, dict[str, str], str]:
        with lock:
            bodies.append(json.loads(request.body)["input"])
            first_two = len(bodies) <= 2
        if first_two:
            barrier.wait()
        return _numbered_reply(request)

    inputs = [f"n{k}" for k in range(10)]
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.POST, "https://tiny.example/v1/embeddings", callback=reply)
        result = client.embedding("tiny/tiny-embed", inputs, api_key=KEY, max_workers=2)
    assert sorted(bodies) == sorted([["n0", "n1", "n2"], ["n3", "n4", "n5"], ["n6", "n7", "n8"], ["n9"]])
    assert [item.index for item in result.data] == list(range(10))
    assert [item.embedding for item in result.data] == [[float(k), float(k)] for k in range(10)]
    assert result.usage is not None and result.usage.prompt_tokens == 10 and result.usage.total_tokens == 10
    assert result.cost == litellm_sync.completion_cost(result) and str(result.cost) == "0.00001"


def test_a_by_model_variant_changes_the_batch_size() -> None:
    client = litellm_sync.Client(providers=BATCHING, max_retries=0)
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.POST, "https://tiny.example/v1/embeddings", callback=_numbered_reply)
        result = client.embedding("tiny/one-at-a-time", ["n1", "n2", "n3"], api_key=KEY)
        assert len(rsps.calls) == 3
    assert [item.embedding for item in result.data] == [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]


def test_a_failing_batch_fails_the_call_with_the_mapped_error_and_no_key() -> None:
    client = litellm_sync.Client(providers=BATCHING, max_retries=0)
    secret = "sk-very-secret-key-123"

    def reply(request: Any) -> tuple[int, dict[str, str], str]:
        if "n4" in json.loads(request.body)["input"]:
            return 429, {}, json.dumps({"error": {"message": f"slow down, {secret}", "type": "rate_limit"}})
        return _numbered_reply(request)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.POST, "https://tiny.example/v1/embeddings", callback=reply)
        with pytest.raises(exceptions.RateLimitError) as caught:
            client.embedding("tiny/tiny-embed", [f"n{k}" for k in range(9)], api_key=secret)
    assert secret not in str(caught.value) and secret not in repr(caught.value)
    assert caught.value.provider == "tiny" and caught.value.status_code == 429


def test_a_count_mismatch_is_a_validation_error() -> None:
    with responses.RequestsMock() as rsps:
        _capture(rsps, {"object": "list", "data": [{"index": 0, "embedding": [1.0]}], "model": "m"})
        with pytest.raises(exceptions.APIResponseValidationError, match="1 embeddings for 2 inputs"):
            CLIENT.embedding("openai/text-embedding-3-small", ["a", "b"], api_key=KEY)


# -- base64 -----------------------------------------------------------------------------------------------


def _b64(values: list[float]) -> str:
    packed = array.array("f", values)
    if sys.byteorder == "big":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode()


def test_base64_from_the_provider_is_decoded_to_floats_when_floats_were_asked() -> None:
    reply = {"object": "list", "model": "m", "usage": {"prompt_tokens": 1, "total_tokens": 1},
             "data": [{"object": "embedding", "index": 0, "embedding": _b64([0.5, -2.0, 3.25])}]}
    with responses.RequestsMock() as rsps:
        _capture(rsps, reply)
        result = CLIENT.embedding("openai/text-embedding-3-small", "hi", api_key=KEY)
    assert result.data[0].embedding == [0.5, -2.0, 3.25]


def test_base64_asked_passes_through_and_floats_are_encoded() -> None:
    text = _b64([1.5, 2.0])
    with responses.RequestsMock() as rsps:
        sent = _capture(rsps, {"data": [{"index": 0, "embedding": text}], "model": "m"})
        passed = CLIENT.embedding("openai/text-embedding-3-small", "hi", api_key=KEY, encoding_format="base64")
    assert json.loads(sent[0].body)["encoding_format"] == "base64"
    assert passed.data[0].embedding == text
    with responses.RequestsMock() as rsps:  # Gemini only returns floats: they are packed as OpenAI would send them
        _capture(rsps, {"embeddings": [{"values": [1.5, 2.0]}]})
        packed = CLIENT.embedding("gemini/gemini-embedding-001", "hi", api_key=KEY, encoding_format="base64")
    assert packed.data[0].embedding == text


def test_text_that_is_not_base64_is_a_validation_error() -> None:
    with responses.RequestsMock() as rsps:
        _capture(rsps, {"data": [{"index": 0, "embedding": "not base64!"}], "model": "m"})
        with pytest.raises(exceptions.APIResponseValidationError, match="not base64"):
            CLIENT.embedding("openai/text-embedding-3-small", "hi", api_key=KEY)


# -- costs, registry --------------------------------------------------------------------------------------


def test_cost_from_the_registry_price_per_input_token() -> None:
    with responses.RequestsMock() as rsps:
        _capture(rsps, {"data": [{"index": 0, "embedding": [0.1]}], "model": "text-embedding-3-large",
                        "usage": {"prompt_tokens": 1000, "total_tokens": 1000}})
        result = CLIENT.embedding("openai/text-embedding-3-large", "hi", api_key=KEY)
    assert str(result.cost) == "0.00013"  # 1,000 tokens at USD 0.13 per million
    assert CLIENT.completion_cost(result) == result.cost
    assert result.to_dict()["cost"] == pytest.approx(0.00013)


def test_an_unpriced_model_costs_none_not_zero() -> None:
    with responses.RequestsMock() as rsps:
        _capture(rsps, [[0.1, 0.2]])
        result = CLIENT.embedding("huggingface/BAAI/bge-small-en-v1.5", "hi", api_key=KEY)
    assert result.cost is None


def test_registry_lists_embedding_models_with_dimensions() -> None:
    info = CLIENT.get_model_info("openai/text-embedding-3-small")
    assert (info.mode, info.output_vector_size, info.max_input_tokens, str(info.input_price)) == (
        "embedding", 1536, 8191, "0.02")
    listed = CLIENT.spec.registry.list(mode="embedding")
    assert {(m.provider, m.name) for m in listed} >= {("openai", "text-embedding-3-small"), ("cohere", "embed-v4.0"),
                                                      ("bedrock", "amazon.titan-embed-text-v2:0")}
    assert all(m.mode == "embedding" for m in listed)
    assert all(m.mode == "chat" for m in CLIENT.spec.registry.list("openai", "tools"))
    assert info.to_dict()["mode"] == "embedding" and info.to_dict()["output_vector_size"] == 1536


# -- errors -----------------------------------------------------------------------------------------------


def test_http_errors_go_through_the_providers_table_without_the_key() -> None:
    secret = "sk-live-abcdef123456"
    with responses.RequestsMock() as rsps:
        _capture(rsps, {"error": {"message": f"Incorrect API key provided: {secret}", "code": "invalid_api_key"}},
                 status=401)
        with pytest.raises(exceptions.AuthenticationError) as caught:
            CLIENT.embedding("openai/text-embedding-3-small", "hi", api_key=secret)
    assert secret not in str(caught.value)
    with responses.RequestsMock() as rsps:
        _capture(rsps, {"message": "invalid request: input_type must be one of ..."}, status=400)
        with pytest.raises(exceptions.BadRequestError, match="input_type"):
            CLIENT.embedding("cohere/embed-v4.0", "hi", api_key=KEY, input_type="nonsense")


def test_a_provider_without_the_operation_says_so_before_sending() -> None:
    with pytest.raises(exceptions.UnsupportedParamsError, match="no embeddings operation") as caught:
        CLIENT.embedding("groq/llama-3.1-8b-instant", "hi", api_key=KEY)
    assert caught.value.request_sent is False
    with pytest.raises(exceptions.UnsupportedParamsError, match="no chat endpoint"):
        CLIENT.completion("voyage/voyage-3.5", [{"role": "user", "content": "hi"}], api_key=KEY)


def test_refused_parameters_and_bad_input_are_refused_before_sending() -> None:
    with pytest.raises(exceptions.UnsupportedParamsError, match="dimensions"):
        CLIENT.embedding("huggingface/BAAI/bge-small-en-v1.5", "hi", api_key=KEY, dimensions=8)
    with pytest.raises(exceptions.UnsupportedParamsError, match="temperature"):  # Gemini refuses unknown params
        CLIENT.embedding("gemini/gemini-embedding-001", "hi", api_key=KEY, temperature=1)
    for bad in ([], "", [""], [3], None):
        with pytest.raises(exceptions.BadRequestError):
            CLIENT.embedding("openai/text-embedding-3-small", bad, api_key=KEY)
    with pytest.raises(exceptions.BadRequestError, match="encoding_format"):
        CLIENT.embedding("openai/text-embedding-3-small", "hi", api_key=KEY, encoding_format="int8")
    with pytest.raises(exceptions.MissingAPIKeyError):
        litellm_sync.Client(providers=BATCHING).embedding("tiny/tiny-embed", "hi")


# -- the spec ---------------------------------------------------------------------------------------------


def _problems(spec: dict[str, Any]) -> list[str]:
    with pytest.raises(exceptions.SpecError) as caught:
        litellm_sync.Client(providers=spec)
    return caught.value.problems


def test_spec_problems_in_operations_name_their_path() -> None:
    base = {"extends": "openai_chat", "base_url": "https://x.example"}
    problems = _problems({"providers": {"acme": {**base, "operations": {"embedings": {"path": "/e"}}}}})
    assert any("providers.acme.operations" in p and "embedings" in p for p in problems)
    problems = _problems({"providers": {"acme": {**base, "operations": {"embeddings": {
        "path": "/e", "response": {"items": "data"}}}}}})
    assert any("operations.embeddings.response.embedding: missing" in p for p in problems)
    problems = _problems({"providers": {"acme": {**base, "operations": {"rerank": {
        "path": "/r", "response": {"items": "results", "index": "index"}, "by_model": [{"batch_size": 2}]}}}}})
    assert any("operations.rerank.by_model" in p and "models" in p for p in problems)
    problems = _problems({"providers": {"acme": {**base, "operations": {"embeddings": {
        "path": "/e", "body": {"x": "$nothing"}, "response": {"items": "data", "embedding": "e"}}}}}})
    assert any("operations.embeddings.body" in p for p in problems)
    problems = _problems({"providers": {"acme": {**base, "operations": {"rerank": {"body": {}}}}}})
    assert any("providers.acme.operations.rerank.path: Missing" in p for p in problems)
    assert any("providers.acme.operations.rerank.response: Missing" in p for p in problems)


def test_a_layered_file_changes_one_key_of_a_bundled_operation() -> None:
    client = litellm_sync.Client(providers={"providers": {"cohere": {"operations": {"embeddings": {"batch_size": 2}}}}})
    assert client.spec.provider("cohere").operations["embeddings"].batch_size == 2
    assert client.spec.provider("cohere").operations["embeddings"].endpoint.method == "POST"


def test_hooks_see_embedding_calls() -> None:
    events: list[Any] = []
    client = litellm_sync.Client(providers=BATCHING, max_retries=0, hooks=[events.append])
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.POST, "https://tiny.example/v1/embeddings", callback=_numbered_reply)
        client.embedding("tiny/tiny-embed", ["n1"], api_key=KEY)
    assert len(events) == 1 and events[0].provider == "tiny" and events[0].error is None
    assert events[0].response.data[0].embedding == [1.0, 1.0]


def test_embeddings_count_toward_budgets_and_carry_metadata() -> None:
    from litellm_sync.budgets import Budget

    events: list[Any] = []
    client = litellm_sync.Client(providers=BATCHING, max_retries=0, budgets=[Budget("0.00001")], hooks=[events.append])
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.POST, "https://tiny.example/v1/embeddings", callback=_numbered_reply)
        client.embedding("tiny/tiny-embed", [f"n{k}" for k in range(10)], api_key=KEY, metadata={"request_id": "r-1"})
        assert all("metadata" not in json.loads(call.request.body) for call in rsps.calls)
    spent = client.spend()
    assert (spent.usd, spent.calls) == (Decimal("0.00001"), 1)  # 10 tokens at USD 1.00 per million
    assert events[0].correlation_id == "r-1" and events[0].metadata == {"request_id": "r-1"}
    with pytest.raises(exceptions.BudgetExceededError):  # the limit is reached: nothing more is sent
        client.embedding("tiny/tiny-embed", ["n1"], api_key=KEY)


# -- a real socket ----------------------------------------------------------------------------------------


def test_embeddings_against_the_fake_server(server: FakeProviderServer) -> None:
    texts = [f"text number {k} " + "word " * k for k in range(7)]
    with litellm_sync.Client(max_retries=0) as client:
        result = client.embedding("openai_compatible/fake-embed", texts, api_key=KEY, api_base=server.url)
    assert [item.embedding for item in result.data] == [[float(len(t)), float(len(t.split()))] for t in texts]
    assert result.usage is not None and result.usage.prompt_tokens == sum(len(t.split()) for t in texts)
    assert [r.path for r in server.requests] == ["/embeddings"]


# -- the worked example of docs/providers-yaml.md ---------------------------------------------------------

DOC = Path(__file__).resolve().parents[1] / "docs" / "providers-yaml.md"


def test_the_documented_operations_example_does_what_the_doc_says() -> None:
    import yaml

    found = re.search(r"<!-- example: operations -->\n```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert found is not None
    client = litellm_sync.Client(providers=yaml.safe_load(found.group(1)), max_retries=0)
    lock = threading.Lock()
    bodies: list[dict[str, Any]] = []

    def reply(request: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body)
        with lock:
            bodies.append(body)
        vectors = [{"values": [float(len(item["text"]))]} for item in body["items"]]
        return 200, {}, json.dumps({"vectors": vectors, "billing": {"tokens": len(vectors)}})

    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.POST, "https://api.vectors.example/v1/embed", callback=reply)
        small = client.embedding("vectors/vectors-small", ["a", "b"], api_key=KEY, input_type="query", dimensions=128)
        assert bodies == [{"model": "vectors-small", "items": [{"text": "a", "kind": "query"},
                                                                {"text": "b", "kind": "query"}], "size": 128}]
        assert small.usage is not None and small.usage.prompt_tokens == 2 and small.cost is not None
        bodies.clear()
        many = client.embedding("vectors/vectors-small", ["x" * k for k in range(1, 101)], api_key=KEY)
        assert sorted(len(b["items"]) for b in bodies) == [36, 64]
        assert [item.embedding for item in many.data] == [[float(k)] for k in range(1, 101)]
        bodies.clear()
        client.embedding("vectors/vectors-large-2", ["y"] * 20, api_key=KEY)
        assert sorted(len(b["items"]) for b in bodies) == [4, 8, 8]
        rsps.add(responses.POST, "https://api.vectors.example/v1/rank",
                 json={"ranking": [{"position": 1, "score": 0.7}]})
        ranked = client.rerank("vectors/vectors-rank", "q", ["a", {"text": "b"}], api_key=KEY, top_n=1)
        assert json.loads(rsps.calls[-1].request.body) == {"model": "vectors-rank", "question": "q",
                                                           "passages": ["a", "b"], "limit": 1}
        assert [(r.index, r.relevance_score) for r in ranked.results] == [(1, 0.7)]


# -- litellm_sync.testing.mock_embedding ------------------------------------------------------------------


@pytest.mark.parametrize("model", sorted(
    f"{name}/{(CLIENT.spec.registry.list(name, mode='embedding') or [None])[0].name}"  # type: ignore[union-attr]
    for name, spec in CLIENT.spec.providers.items()
    if "embeddings" in spec.operations and CLIENT.spec.registry.list(name, mode="embedding")
))
def test_mock_embedding_answers_in_each_providers_own_format(model: str) -> None:
    from litellm_sync.testing import hashed_vector, mock_embedding

    texts = ["a red fox", "b", "a red fox", "four words in here"]
    extra: dict[str, Any] = {"vertex_project": "p"} if model.startswith("vertex_ai/") else {}
    if not CLIENT.resolve(model)[0].entry.get("base_url"):  # the user gives the address (Azure, any server)
        extra["api_base"] = "https://mine.example"
    with responses.RequestsMock() as rsps:
        registered = mock_embedding(rsps, model, dimensions=5, client=CLIENT, **extra)
        result = CLIENT.embedding(model, texts, api_key=KEY, **extra)
    assert [item.embedding for item in result.data] == [hashed_vector(t, 5) for t in texts]
    assert result.data[0].embedding == result.data[2].embedding != result.data[1].embedding
    assert len(registered.calls) >= 1
    if result.usage is not None:
        assert result.usage.prompt_tokens == 11  # one token a word


def test_many_threads_share_one_client_and_each_gets_its_own_vectors(server: FakeProviderServer) -> None:
    spec = {"providers": {"small_batches": {"extends": "openai_compatible", "operations": {"embeddings": {
        "batch_size": 2}}}}}
    errors: list[BaseException] = []

    def worker(client: litellm_sync.Client, number: int) -> None:
        try:
            for round_ in range(4):
                texts = [f"t{number}-{round_}-{k} " + "w " * (number + k) for k in range(5)]
                result = client.embedding("small_batches/m", texts, api_key=KEY, api_base=server.url, max_workers=3)
                assert [item.embedding for item in result.data] == [
                    [float(len(t)), float(len(t.split()))] for t in texts]
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    with litellm_sync.Client(providers=spec, max_retries=0, pool_size=8) as client:
        threads = [threading.Thread(target=worker, args=(client, n)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == [] and not any(thread.is_alive() for thread in threads)
    assert len(server.requests) == 8 * 4 * 3  # five inputs in batches of two: three requests a call
