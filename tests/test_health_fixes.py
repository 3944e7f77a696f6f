"""Code-health regressions: the auth mechanism cache stays bounded, `resolve` reads the spec once, a stream's
`close()` stops once, and responses carry `_hidden_params` api_base / model_id."""

from __future__ import annotations

import ast
import contextvars
import dataclasses
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import responses

import litellm_sync
from litellm_sync._engine.auth import CACHE_SIZE
from litellm_sync._engine.auth_token import TokenExchangeMechanism
from litellm_sync._engine.response import ChunkAssembler
from litellm_sync.limits import Limits
from litellm_sync.router import Router
from litellm_sync.stream import ChatStream
from litellm_sync.testing import FakeProviderServer, Reply, mock_completion

TOKEN_URL = "https://iam.example/token"


def _exchanges(mocked: responses.RequestsMock) -> int:
    return sum(call.request.url == TOKEN_URL for call in mocked.calls)


def _token(mechanism: TokenExchangeMechanism, key: str) -> str:
    return mechanism.prepare({"api_key": key}, {}).cache.current()


@responses.activate
def test_the_token_cache_keeps_at_most_cache_size_keys_and_drops_the_least_recently_used() -> None:
    responses.add(responses.POST, TOKEN_URL, json={"access_token": "tok", "expires_in": 3600})
    mechanism = TokenExchangeMechanism("p", {"url": TOKEN_URL, "form": {"apikey": "${api_key}"}})
    assert _token(mechanism, "oldest") == "tok" and _token(mechanism, "kept") == "tok"
    assert _exchanges(responses.mock) == 2
    for index in range(CACHE_SIZE + 200):  # many tenants' keys: before the fix every one stayed forever
        mechanism.prepare({"api_key": f"key-{index}"}, {})
        if index % 100 == 0:
            assert _token(mechanism, "kept") == "tok"  # a hit: no exchange, and "kept" is recently used again
    assert len(mechanism._cache.entries) == CACHE_SIZE
    assert _exchanges(responses.mock) == 2  # every "kept" call was a hit
    assert _token(mechanism, "kept") == "tok" and _exchanges(responses.mock) == 2
    assert _token(mechanism, "oldest") == "tok" and _exchanges(responses.mock) == 3  # dropped: exchanged anew
    assert len(mechanism._cache.entries) == CACHE_SIZE


def test_a_forked_child_starts_with_an_empty_bounded_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    mechanism = TokenExchangeMechanism("p", {"url": TOKEN_URL})
    built: list[int] = []
    first = mechanism.cached("k", lambda: built.append(1) or object())
    assert mechanism.cached("k", lambda: built.append(2) or object()) is first and built == [1]
    parent = mechanism._cache
    parent.lock.acquire()  # a parent thread was building when the process forked
    try:
        monkeypatch.setattr(os, "getpid", lambda: -7)
        child_value = mechanism.cached("k", lambda: built.append(3) or object())  # no deadlock
        assert child_value is not first and built == [1, 3] and mechanism._cache is not parent
    finally:
        parent.lock.release()


class _RegistryDuringResolve:
    """A registry whose `resolve` lets `register_model` land (as another thread's would) before it answers."""

    def __init__(self, real: Any, client: litellm_sync.Client, update: dict[str, Any]) -> None:
        self.real, self.client, self.update = real, client, update

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def resolve(self, model: str) -> tuple[str, str]:
        answer = self.real.resolve(model)
        if self.update:
            litellm_sync.register_model(self.update, client=self.client)
            self.update = {}
        return answer  # type: ignore[no-any-return]


def test_resolve_answers_from_one_spec_when_register_model_swaps_it_meanwhile() -> None:
    with litellm_sync.Client() as client:
        litellm_sync.register_model({"openai/acme-chat": {"input_cost_per_token": 0.000001}}, client=client)
        before = client.spec
        wrapper = _RegistryDuringResolve(before.registry, client, {"openai/acme-chat": {"input_cost_per_token": 0.5}})
        client.spec = dataclasses.replace(before, registry=wrapper)
        provider, model, info = client.resolve("openai/acme-chat")
        assert client.spec.registry.get("openai", "acme-chat").input_price == Decimal("500000.0")  # it did land
        # Before the fix the info came from the new spec and the provider from the old one.
        assert (provider.name, model) == ("openai", "acme-chat") and provider is before.provider("openai")
        assert info is not None and info.input_price == Decimal("1.000000")
        assert client.resolve("openai/acme-chat")[2].input_price == Decimal("500000.0")  # the next call sees it


CHUNK = (
    b'data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'
)


class _CountingHttp:
    """A stream's HTTP response over events in memory that counts how it is closed."""

    at_eof = False

    def __init__(self) -> None:
        self.headers = {"content-type": "text/event-stream"}
        self.closes: list[bool] = []

    def chunks(self, stage: str) -> Iterator[bytes]:
        yield from (CHUNK, CHUNK, CHUNK, b"data: [DONE]\n\n")

    def read(self, limits: Limits) -> bytes:
        return b""

    def close(self, reuse: bool) -> None:
        self.closes.append(reuse)


def _stream(http: _CountingHttp) -> ChatStream:
    with litellm_sync.Client() as client:
        spec = client.spec.provider("openai")
    assembler = ChunkAssembler("m", "openai", None, spec.stream.tool_calls_finish_reason)
    return ChatStream(http, spec.stream, spec.errors, assembler, ())


@pytest.mark.parametrize("context", [True, False], ids=["in-call-context", "no-context"])
@pytest.mark.parametrize("started", [True, False], ids=["started", "never-iterated"])
def test_an_end_listener_that_raises_at_close_runs_once_and_the_connection_is_closed_once(
    context: bool, started: bool
) -> None:
    http = _CountingHttp()
    stream = _stream(http)
    if context:
        stream.context = contextvars.copy_context()
    told: list[bool] = []

    def listener(response: Any, error: Exception | None, complete: bool) -> None:
        told.append(complete)
        raise RuntimeError("listener broke")

    stream.notify_end(listener)
    if started:
        stream.prefetch()
    stops: list[int] = []
    stop = stream._stop

    def counted_stop() -> None:
        stops.append(1)
        stop()

    stream._stop = counted_stop  # type: ignore[method-assign]
    # Before the fix: in a context the RuntimeError made close() run _stop again and swallow the error; without
    # one it escaped before the connection was closed, and nothing closed it after.
    with pytest.raises(RuntimeError, match="listener broke"):
        stream.close()
    assert told == [False] and stops == [1] and http.closes == [False]
    stream.close()  # a second close does nothing
    assert told == [False] and stops == [1] and http.closes == [False]


def test_close_from_inside_the_entered_call_context_still_stops_once() -> None:
    http = _CountingHttp()
    stream = _stream(http)
    stream.context = contextvars.copy_context()
    told: list[bool] = []
    stream.notify_end(lambda response, error, complete: told.append(complete))
    assert next(stream).choices[0].delta.content == "hi"
    stream.context.run(stream.close)  # the context is entered already: close falls back to running here
    assert told == [False] and http.closes == [False]


HI = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("api_base", "shown"),
    [
        (None, "https://api.openai.com/v1"),  # the spec's base URL
        ("https://gw.example/v1/", "https://gw.example/v1"),
        ("https://user:pass@gw.example:8443/v1?key=q-secret&x=1", "https://gw.example:8443/v1"),
        ("https://gw.example/k/sk-live-0123456789abcdef/v1", "https://gw.example/k/[REDACTED]/v1"),
    ],
)
def test_a_response_says_the_base_url_it_was_sent_to_without_credentials(api_base: str | None, shown: str) -> None:
    key = "sk-live-0123456789abcdef"
    with litellm_sync.Client() as client, responses.RequestsMock() as rsps:
        mock_completion(rsps, "openai/gpt-4o-mini", "fine", api_base=api_base, client=client)
        response = client.completion("openai/gpt-4o-mini", HI, api_key=key, api_base=api_base)
        mock_completion(rsps, "openai/gpt-4o-mini", stream=True, chunks=["fi", "ne"], api_base=api_base, client=client)
        with client.completion("openai/gpt-4o-mini", HI, api_key=key, api_base=api_base, stream=True) as stream:
            rebuilt = stream.response()
    for answer in (response, rebuilt):
        hidden = answer._hidden_params
        assert hidden["api_base"] == shown and hidden["model_id"] is None  # no Router: LiteLLM's None too
        assert hidden["custom_llm_provider"] == "openai" and hidden["cache_hit"] is False
        assert "pass" not in str(hidden) and "q-secret" not in str(hidden)
    assert rebuilt.content == "fine"
    # The origin is no field of the answer: not dumped, so neither cached nor compared.
    assert "api_base" not in str(response.to_dict()) and "_origin" not in repr(response)



def test_only_bases_with_nothing_to_hide_are_remembered_as_fit_to_show() -> None:
    key = "sk-live-0123456789abcdef"
    bases = ["https://user:pass@gw.example:8443/v1?key=q-secret", f"https://gw.example/k/{key}/v1",
             "https://gw.example/plain/v1", "https://gw.example/plain/v1"]
    with litellm_sync.Client() as client, responses.RequestsMock() as rsps:
        for base in bases:
            mock_completion(rsps, "openai/gpt-4o-mini", "fine", api_base=base, client=client)
            shown = client.completion("openai/gpt-4o-mini", HI, api_key=key, api_base=base)._hidden_params["api_base"]
            assert "pass" not in shown and "q-secret" not in shown and key not in shown
        remembered = client.resolve("openai/gpt-4o-mini")[0].builder.connection.plain_bases
    assert remembered == {"https://gw.example/plain/v1"}

def test_a_router_answer_names_the_deployment_that_served_it() -> None:
    with FakeProviderServer() as first, FakeProviderServer() as second:
        first.enqueue(Reply(status=500, json={"error": {"message": "down", "type": "server_error"}}))
        model_list = [
            {"model_name": "chat", "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "sk-a",
                                                      "api_base": first.url}, "model_info": {"id": "primary"}},
            {"model_name": "backup", "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "sk-b",
                                                        "api_base": second.url}},
        ]  # fmt: skip
        with Router(model_list, fallbacks=[{"chat": ["backup"]}], num_retries=0) as router:
            answered = router.completion("chat", HI)  # the first deployment fails: the backup answers
            backup_id = router.model_groups["backup"][0].id
            with router.completion("chat", HI, stream=True) as streamed:
                rebuilt = streamed.response()
    assert backup_id and answered._hidden_params["model_id"] == backup_id  # its generated id
    assert answered._hidden_params["api_base"] == second.url
    assert rebuilt._hidden_params["model_id"] == "primary" and rebuilt._hidden_params["api_base"] == first.url



def test_a_client_call_with_fallbacks_names_no_deployment() -> None:
    """fallbacks= on a Client call runs a per-call Router with internal ids: the answer's model_id stays None,
    as for any Client call (LiteLLM's too), while api_base says where the fallback was sent."""
    with FakeProviderServer() as down, FakeProviderServer() as up, litellm_sync.Client(max_retries=0) as client:
        down.enqueue(Reply(status=500, json={"error": {"message": "down", "type": "server_error"}}))
        answered = client.completion("openai/gpt-4o-mini", HI, api_key="sk-a", api_base=down.url,
                                     fallbacks=[{"model": "openai/gpt-4o", "api_key": "sk-b", "api_base": up.url}])
    assert answered.model == "gpt-4o"  # the fallback answered
    assert answered._hidden_params["model_id"] is None
    assert answered._hidden_params["api_base"] == up.url

def test_the_stream_modules_split_from_stream_py_import_no_transport_and_no_web_layer() -> None:
    """tests/test_transport.py scans stream.py; what was split from it (its event reading) keeps the same rule."""
    source = Path(litellm_sync.__file__).parent / "_engine" / "stream_events.py"
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.add("." * node.level + (node.module or ""))
    assert "..types" in modules and ".errors" in modules  # the scan found the imports
    for forbidden in ("urllib3", "requests", "..web", ".transport", "litellm_sync.web", "http.client"):
        assert not any(m == forbidden or m.startswith(forbidden + ".") for m in modules), (forbidden, modules)


def test_a_hook_sees_the_same_hidden_params_for_a_streamed_call_as_for_a_plain_one() -> None:
    events: list[litellm_sync.CallEvent] = []
    base = "https://gw.example/v1"
    with litellm_sync.Client(hooks=[events.append]) as client, responses.RequestsMock() as rsps:
        mock_completion(rsps, "openai/gpt-4o-mini", "fine", api_base=base, client=client)
        client.completion("openai/gpt-4o-mini", HI, api_key="sk-test", api_base=base)
        mock_completion(rsps, "openai/gpt-4o-mini", stream=True, chunks=["fi", "ne"], api_base=base, client=client)
        with client.completion("openai/gpt-4o-mini", HI, api_key="sk-test", api_base=base, stream=True) as stream:
            assert "".join(chunk.choices[0].delta.content or "" for chunk in stream) == "fine"
    plain, streamed = (e for e in events if isinstance(e, litellm_sync.CallEvent))
    assert streamed.response is not None and streamed.response.content == "fine"
    assert plain.response._hidden_params["api_base"] == streamed.response._hidden_params["api_base"] == base
