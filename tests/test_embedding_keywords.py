"""LiteLLM's call-level keywords in `embedding()` and `rerank()`: every keyword of the table in _engine/keywords.py
is given to a call whose request bodies `responses` captures (batches included) and none reaches one; aliases
take effect; chat-only and unsupported keywords are refused by name before anything is sent; mock_response sends
nothing; batch threads carry the call's correlation id and note their retries on the call."""

from __future__ import annotations

import json
import logging
import os
import re
from decimal import Decimal
from typing import Any

import pytest
import responses

import litellm_sync
from litellm_sync import exceptions
from litellm_sync._engine.keywords import KEYWORDS, PARAM, TABLE, UNSUPPORTED
from litellm_sync.cache import MemoryCache
from litellm_sync.hooks import CallEvent
from litellm_sync.retry import RetryPolicy
from litellm_sync.router import Router
from litellm_sync.testing import hashed_vector, mock_embedding

KEY = "sk-test"
EMBED = "openai/text-embedding-3-small"
COHERE_EMBED = "cohere/embed-v4.0"  # batch_size 96: 97 inputs are two requests
RERANK = "cohere/rerank-v3.5"
DOCS = ["Paris is in France.", "Berlin is in Germany.", "Rome is in Italy."]
RERANK_REPLY = {"id": "r-1", "results": [{"index": 2, "relevance_score": 0.9}, {"index": 0, "relevance_score": 0.2},
                                         {"index": 1, "relevance_score": 0.1}],
                "meta": {"billed_units": {"search_units": 1}}}  # fmt: skip
NO_SLEEP = RetryPolicy(max_retries=0, sleep=lambda _s: None)

#: A value for each keyword of the table that embedding() and rerank() take (their own keywords included); the
#: table's other entries are in CHAT_ONLY or are unsupported. A keyword added to the table without a value here
#: fails test_every_keyword_of_the_table_is_covered.
VALUES: dict[str, Any] = {
    "api_key": KEY,
    "api_base": "https://proxy.example/v1",
    "api_version": "2024-10-01",
    "timeout": 5,
    "max_retries": 1,
    "extra_headers": {"X-Team": "search"},
    "drop_params": True,
    "num_retries": 1,
    "request_timeout": 5,
    "base_url": "https://proxy.example/v1",
    "headers": {"X-Trace": "trace-1"},
    "custom_llm_provider": "cohere",
    "additional_drop_params": ["truncate"],
    "input_cost_per_token": 0.000001,
    "output_cost_per_token": 0.000002,
    "caching": False,
    "litellm_call_id": "call-42",
    "tags": ["team-a"],
    "cache": {"no-store": True},
    "metadata": {"team": "search"},
    "user": "u-7",
}
CHAT_ONLY = {"fallbacks": ["cohere/embed-english-v3.0"], "context_window_fallback_dict": {RERANK: RERANK}}
HANDLED = sorted(set(VALUES) | {"mock_response"})  # mock_response sends nothing: its own tests below
REFUSED = sorted(k.name for k in TABLE if k.kind == UNSUPPORTED)
#: The names no body may hold: every keyword but the OpenAI parameters the provider's rules map (`user`).
NEVER_SENT = [k.name for k in TABLE if k.kind != PARAM]
#: What a refusal shows of each name: the name, except where the key redactor masks it (`hf_...` looks like a
#: Hugging Face token): then the reason.
SHOWN = {name: name for name in REFUSED} | {"hf_model_name": "custom prompt templates are not supported"}


@pytest.fixture(autouse=True)
def _no_provider_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if re.search(r"(API_BASE|BASE_URL|_ENDPOINT|API_VERSION|_HOST|_REGION|_LOCATION|_PROJECT)$", name):
            monkeypatch.delenv(name)


def _clean(request: Any) -> dict[str, Any]:
    body = json.loads(request.body)
    text = json.dumps(body)
    for name in NEVER_SENT:
        assert f'"{name}":' not in text, f"{name} reached the body: {text}"
    return body  # type: ignore[no-any-return]


def _rerank_capture(rsps: responses.RequestsMock, replies: list[tuple[int, Any]] | None = None) -> list[Any]:
    sent: list[Any] = []
    queue = list(replies or [])

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        sent.append(request)
        status, body = queue.pop(0) if queue else (200, RERANK_REPLY)
        return status, {"content-type": "application/json"}, json.dumps(body)

    rsps.add_callback(responses.POST, re.compile(r".*/rerank$"), callback=answer)
    return sent


def _given(name: str) -> dict[str, Any]:
    if name.endswith("_cost_per_token"):  # they go together
        return {"input_cost_per_token": 0.000001, "output_cost_per_token": 0.000002}
    return {name: VALUES[name]}


def test_every_keyword_of_the_table_is_covered() -> None:
    assert set(HANDLED) | set(CHAT_ONLY) | set(REFUSED) == set(KEYWORDS)
    assert not set(HANDLED) & set(CHAT_ONLY) and not set(HANDLED) & set(REFUSED)


# -- no keyword reaches a body --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(VALUES))
def test_embedding_sends_no_keyword(name: str) -> None:
    given = _given(name)
    model = "embed-v4.0" if name == "custom_llm_provider" else COHERE_EMBED
    base = VALUES["api_base"] if name in ("api_base", "base_url") else None
    texts = [f"text {i}" for i in range(97)]  # two batches: every request body is checked
    with responses.RequestsMock() as rsps, litellm_sync.Client(cache=MemoryCache(), retry_policy=NO_SLEEP) as client:
        reply = mock_embedding(rsps, COHERE_EMBED, dimensions=3, api_base=base, client=client)
        result = client.embedding(model, texts, **{"api_key": KEY, "truncate": "END", **given})
    assert [d.embedding for d in result.data] == [hashed_vector(t, 3) for t in texts]
    assert len(reply.calls) == 2
    bodies = [_clean(call.request) for call in reply.calls]
    assert [text for body in bodies for text in body["texts"]] == texts
    assert all(("truncate" in body) == (name != "additional_drop_params") for body in bodies)
    assert all(("user" in body) == (name == "user") for body in bodies)  # Cohere forwards what it does not know


@pytest.mark.parametrize("name", sorted(VALUES))
def test_rerank_sends_no_keyword(name: str) -> None:
    given = _given(name)
    model = "rerank-v3.5" if name == "custom_llm_provider" else RERANK
    with responses.RequestsMock() as rsps, litellm_sync.Client(cache=MemoryCache(), retry_policy=NO_SLEEP) as client:
        sent = _rerank_capture(rsps)
        result = client.rerank(model, "Which city is in Italy?", DOCS, **{"api_key": KEY, "max_tokens_per_doc": 512,
                                                                           **given})  # fmt: skip
    assert [r.index for r in result.results] == [2, 0, 1]
    (request,) = sent
    body = _clean(request)
    assert body["query"] == "Which city is in Italy?" and body["documents"] == DOCS
    assert ("user" in body) == (name == "user")


@pytest.mark.parametrize("model", [EMBED, COHERE_EMBED, "gemini/gemini-embedding-001", "voyage/voyage-3.5"])
def test_all_keywords_at_once(model: str) -> None:
    given = {k: v for k, v in VALUES.items() if k not in ("custom_llm_provider", "base_url", "api_base", "user",
                                                          "timeout", "max_retries", "cache", "caching")}  # fmt: skip
    events: list[Any] = []
    with responses.RequestsMock() as rsps, litellm_sync.Client(hooks=[events.append]) as client:
        reply = mock_embedding(rsps, model, dimensions=2, client=client)
        client.embedding(model, ["a b", "c"], **given)
    assert reply.calls and all(_clean(call.request) for call in reply.calls)
    (event,) = [e for e in events if isinstance(e, CallEvent)]
    assert event.correlation_id == "call-42" and event.metadata["tags"] == ["team-a"]
    assert event.metadata["team"] == "search"


def test_router_passes_keywords_through_and_none_is_sent() -> None:
    router = Router(model_list=[{"model_name": "embed", "litellm_params": {"model": COHERE_EMBED, "api_key": KEY}}])
    with responses.RequestsMock() as rsps:
        reply = mock_embedding(rsps, COHERE_EMBED, dimensions=2, client=router.client)
        router.embedding("embed", ["a"], request_timeout=5, headers={"X-Trace": "t"}, tags=["x"], caching=False,
                         litellm_call_id="c-1")  # fmt: skip
    (call,) = reply.calls
    _clean(call.request)
    assert call.request.headers["X-Trace"] == "t"
    assert max(call.request.req_kwargs["timeout"]) == pytest.approx(5, abs=0.5)


# -- the aliases and call keywords take effect -----------------------------------------------------------------


def test_aliases_take_effect_in_embedding() -> None:
    failures = [503]

    def flaky(request: Any) -> Any:
        if failures:
            return failures.pop(), {"content-type": "application/json"}, json.dumps({"message": "busy"})
        return None

    events: list[Any] = []
    with responses.RequestsMock() as rsps, litellm_sync.Client(retry_policy=NO_SLEEP, hooks=[events.append]) as client:
        reply = mock_embedding(rsps, COHERE_EMBED, dimensions=2, api_base="https://proxy.example", client=client)
        original = reply.callback
        reply.callback = lambda request: flaky(request) or original(request)
        result = client.embedding(
            "embed-v4.0", ["a b c"], api_key=KEY, custom_llm_provider="cohere", num_retries=1, request_timeout=7,
            base_url="https://proxy.example", headers={"X-Trace": "t-1"}, input_cost_per_token=0.000001,
            output_cost_per_token=0.000002,
        )
    assert len(reply.calls) == 2  # num_retries=1: the 503 was retried although the Client retries nothing
    request = reply.calls[-1].request
    assert request.url.startswith("https://proxy.example/") and request.headers["X-Trace"] == "t-1"
    assert max(request.req_kwargs["timeout"]) == pytest.approx(7, abs=0.5)  # request_timeout=7
    assert result.provider == "cohere" and result.usage.prompt_tokens == 3
    assert result.cost == Decimal("0.000001") * 3  # this call's price
    (event,) = [e for e in events if isinstance(e, CallEvent)]
    assert [note.error for note in event.retries] == ["ServiceUnavailableError"]


def test_aliases_take_effect_in_rerank() -> None:
    with responses.RequestsMock() as rsps, litellm_sync.Client(retry_policy=NO_SLEEP) as client:
        sent = _rerank_capture(rsps, [(503, {"message": "busy"})])
        result = client.rerank("rerank-v3.5", "q", DOCS, api_key=KEY, custom_llm_provider="cohere", num_retries=1,
                               request_timeout=3, headers={"X-Trace": "t-2"}, input_cost_per_token=0.000002,
                               output_cost_per_token=0.0)  # fmt: skip
    assert len(sent) == 2
    assert sent[-1].headers["X-Trace"] == "t-2" and max(sent[-1].req_kwargs["timeout"]) == pytest.approx(3, abs=0.5)
    assert result.cost is None  # priced per token for this call, and Cohere reports search units only


def test_additional_drop_params_drops_named_arguments_too() -> None:
    with responses.RequestsMock() as rsps, litellm_sync.Client() as client:
        reply = mock_embedding(rsps, EMBED, dimensions=2, client=client)
        client.embedding(EMBED, "hi", api_key=KEY, dimensions=256, additional_drop_params=["dimensions"])
        client.embedding(EMBED, "hi", api_key=KEY, dimensions=256)
    assert "dimensions" not in json.loads(reply.calls[0].request.body)
    assert json.loads(reply.calls[1].request.body)["dimensions"] == 256
    with responses.RequestsMock() as rsps, litellm_sync.Client() as client:
        sent = _rerank_capture(rsps)
        result = client.rerank(RERANK, "q", DOCS, api_key=KEY, top_n=1, additional_drop_params=["top_n"])
    assert "top_n" not in json.loads(sent[0].body) and [r.index for r in result.results] == [2]  # cut here


def test_caching_keyword_controls_the_cache() -> None:
    with responses.RequestsMock() as rsps, litellm_sync.Client(cache=MemoryCache()) as client:
        reply = mock_embedding(rsps, EMBED, dimensions=2, client=client)
        for _ in range(2):
            assert not client.embedding(EMBED, "hi", api_key=KEY, caching=False).cache_hit
        client.embedding(EMBED, "hi", api_key=KEY)
        assert client.embedding(EMBED, "hi", api_key=KEY, caching=True).cache_hit
        assert len(reply.calls) == 3
    with litellm_sync.Client() as plain, pytest.raises(exceptions.ConfigurationError, match="no cache"):
        plain.embedding(EMBED, "hi", api_key=KEY, caching=True)
    with litellm_sync.Client() as plain, pytest.raises(exceptions.ConfigurationError, match="no cache"):
        plain.rerank(RERANK, "q", DOCS, api_key=KEY, caching=True)


def test_an_alias_and_its_target_must_agree() -> None:
    with litellm_sync.Client() as client, pytest.raises(exceptions.ConfigurationError, match="num_retries"):
        client.embedding(EMBED, "hi", api_key=KEY, num_retries=1, max_retries=2)


# -- refused before sending ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REFUSED)
@pytest.mark.parametrize("kind", ["embedding", "rerank"])
def test_unsupported_keywords_are_refused_by_name(kind: str, name: str) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps, litellm_sync.Client() as client:
        sent = _rerank_capture(rsps)
        reply = mock_embedding(rsps, EMBED, client=client)
        with pytest.raises(exceptions.UnsupportedParamsError) as info:
            if kind == "embedding":
                client.embedding(EMBED, "hi", api_key=KEY, **{name: "x"})
            else:
                client.rerank(RERANK, "q", DOCS, api_key=KEY, **{name: "x"})
        assert not sent and not reply.calls
    assert SHOWN[name] in str(info.value) and "drop_params=True" in str(info.value)
    assert info.value.request_sent is False


def test_unsupported_keywords_are_dropped_under_drop_params(caplog: pytest.LogCaptureFixture) -> None:
    given = dict.fromkeys(REFUSED, "x")
    with responses.RequestsMock() as rsps, litellm_sync.Client(drop_params=True) as client:
        reply = mock_embedding(rsps, EMBED, client=client)
        sent = _rerank_capture(rsps)
        client.embedding(EMBED, "hi", api_key=KEY, **given)
        client.rerank(RERANK, "q", DOCS, api_key=KEY, **given)
    _clean(reply.calls[0].request)
    _clean(sent[0])
    assert "roles" in caplog.text  # dropped with a warning, not silently


@pytest.mark.parametrize("name", sorted(CHAT_ONLY))
def test_chat_only_keywords_are_refused_with_what_to_use(name: str) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps, litellm_sync.Client() as client:
        reply = mock_embedding(rsps, COHERE_EMBED, client=client)
        sent = _rerank_capture(rsps)
        with pytest.raises(exceptions.UnsupportedParamsError, match=name) as embedding_error:
            client.embedding(COHERE_EMBED, "hi", api_key=KEY, **{name: CHAT_ONLY[name]})
        with pytest.raises(exceptions.UnsupportedParamsError, match=name) as rerank_error:
            litellm_sync.rerank(RERANK, "q", DOCS, api_key=KEY, client=client, **{name: CHAT_ONLY[name]})
        assert not reply.calls and not sent
    assert "embedding()" in str(embedding_error.value) and "rerank()" in str(rerank_error.value)
    assert "Router" in str(embedding_error.value)


# -- mock_response ---------------------------------------------------------------------------------------------


def test_embedding_mock_response_sends_nothing() -> None:
    events: list[Any] = []
    with responses.RequestsMock() as rsps, litellm_sync.Client(hooks=[events.append]) as client:
        one = litellm_sync.embedding(EMBED, ["a b", "c"], client=client, mock_response=[0.5, -1])  # LiteLLM's form
        each = client.embedding(EMBED, ["a", "b"], mock_response=[[1.0], [2.0]], encoding_format="base64")
        assert not rsps.calls  # no key was needed either
    assert [d.embedding for d in one.data] == [[0.5, -1.0], [0.5, -1.0]] and [d.index for d in one.data] == [0, 1]
    assert one.usage.prompt_tokens == 3 and one.cost == Decimal("0.02") * 3 / 1_000_000
    assert [d.embedding for d in each.data] == ["AACAPw==", "AAAAQA=="]  # base64 of float32 1.0 and 2.0
    assert [e.response for e in events if isinstance(e, CallEvent)] == [one, each]


def test_mock_response_raises_the_exception_it_names() -> None:
    events: list[Any] = []
    with litellm_sync.Client(hooks=[events.append]) as client:
        with pytest.raises(exceptions.RateLimitError):
            client.embedding(EMBED, "hi", mock_response="litellm.RateLimitError")
        with pytest.raises(exceptions.Timeout):
            client.rerank(RERANK, "q", DOCS, mock_response=exceptions.Timeout("slow"))
    assert [type(e.error).__name__ for e in events if isinstance(e, CallEvent)] == ["RateLimitError", "Timeout"]


def test_rerank_mock_response_ranks_the_scores() -> None:
    with litellm_sync.Client() as client:
        result = client.rerank(RERANK, "q", DOCS, mock_response=[0.1, 0.7, 0.4], top_n=2, return_documents=True)
    assert [(r.index, r.relevance_score) for r in result.results] == [(1, 0.7), (2, 0.4)]
    assert result.results[0].document == {"text": DOCS[1]}


@pytest.mark.parametrize("bad", ["some text", True, [], [[1.0]], [1, "x"]])
def test_bad_mock_responses_say_what_to_pass(bad: Any) -> None:
    with litellm_sync.Client() as client:
        with pytest.raises(exceptions.ConfigurationError, match="mock_response"):
            client.embedding(EMBED, ["a", "b"], mock_response=bad)
        with pytest.raises(exceptions.ConfigurationError, match="relevance scores"):
            client.rerank(RERANK, "q", DOCS, mock_response=bad)


# -- batch threads carry the call's context -------------------------------------------------------------------


def test_batch_threads_log_and_retry_under_the_calls_correlation_id(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="litellm_sync")
    failures = [503]
    events: list[Any] = []
    texts = [f"text {i}" for i in range(200)]  # three batches of Cohere's 96, sent on the pool's threads
    with responses.RequestsMock() as rsps, litellm_sync.Client(retry_policy=NO_SLEEP, hooks=[events.append]) as client:
        reply = mock_embedding(rsps, COHERE_EMBED, dimensions=2, client=client)
        original = reply.callback

        def flaky(request: Any) -> Any:
            if failures and json.loads(request.body)["texts"][0] == "text 96":  # the second batch fails once
                return failures.pop(), {"content-type": "application/json"}, json.dumps({"message": "busy"})
            return original(request)

        reply.callback = flaky
        client.embedding(COHERE_EMBED, texts, api_key=KEY, num_retries=1, metadata={"request_id": "req-batch"})
    assert len(reply.calls) == 4
    sends = [r for r in caplog.records if r.getMessage().startswith("POST ")]
    assert len(sends) == 4 and all(r.threadName.startswith("litellm_sync-embedding") for r in sends)
    assert [r.correlation_id for r in sends] == ["req-batch"] * 4  # type: ignore[attr-defined]
    retried = [r for r in caplog.records if r.getMessage().startswith("retrying")]
    assert [r.correlation_id for r in retried] == ["req-batch"]  # type: ignore[attr-defined]
    (event,) = [e for e in events if isinstance(e, CallEvent)]
    assert event.correlation_id == "req-batch" and len(event.retries) == 1  # noted on the call from its thread


def test_litellms_client_keyword_is_refused_by_name_in_both_forms() -> None:
    class OpenAIClient:  # what LiteLLM code passes as client=
        pass

    with litellm_sync.Client() as client:
        with pytest.raises(exceptions.UnsupportedParamsError, match="client=OpenAIClient"):
            litellm_sync.embedding(EMBED, "hi", api_key=KEY, client=OpenAIClient())  # type: ignore[arg-type]
        with pytest.raises(exceptions.UnsupportedParamsError, match="client=OpenAIClient"):
            litellm_sync.rerank(RERANK, "q", DOCS, api_key=KEY, client=OpenAIClient())  # type: ignore[arg-type]
        with pytest.raises(exceptions.UnsupportedParamsError, match="client"):
            client.embedding(EMBED, "hi", api_key=KEY, client=OpenAIClient())
