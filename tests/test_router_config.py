"""The Router's configuration: LiteLLM's layout from YAML, secrets from the environment, validation errors with
their paths, and hot reload (a valid file swaps atomically under load; an invalid one is refused)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from litellm_sync.router import Router, RouterConfigError, RouterEvent
from litellm_sync.testing import FakeProviderServer

CASES = Path(__file__).parent / "cases" / "router"
HI = [{"role": "user", "content": "hello"}]


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeProviderServer, ...]]:
    with FakeProviderServer() as a, FakeProviderServer() as b, FakeProviderServer() as c:
        yield a, b, c


@pytest.fixture
def env(servers: tuple[FakeProviderServer, ...], monkeypatch: pytest.MonkeyPatch) -> tuple[FakeProviderServer, ...]:
    for server in servers:
        server.clear()
    a, b, c = servers
    monkeypatch.setenv("ROUTER_TEST_BASE_A", a.url)
    monkeypatch.setenv("ROUTER_TEST_BASE_B", b.url)
    monkeypatch.setenv("ROUTER_TEST_BASE_C", c.url)
    monkeypatch.setenv("ROUTER_TEST_OPENAI_KEY", "sk-openai-from-env")
    monkeypatch.setenv("ROUTER_TEST_ANTHROPIC_KEY", "sk-ant-from-env")
    monkeypatch.delenv("ROUTER_TEST_DEEPSEEK_KEY", raising=False)
    return servers


def test_litellm_layout_from_yaml(env: tuple[FakeProviderServer, ...]) -> None:
    a, b, c = env
    with Router.from_yaml(str(CASES / "litellm_config.yaml")) as router:
        settings = router.settings
        assert settings.routing_strategy == "usage-based-routing-v2"
        assert (settings.num_retries, settings.allowed_fails, settings.cooldown_time) == (1, 2, 30)
        assert settings.fallbacks == {"chat": ("backup",)}
        assert settings.retry_policy == {"RateLimitError": 2, "AuthenticationError": 0}
        assert settings.timeout == 20  # litellm_settings.request_timeout
        chat = {d.id: d for d in router.model_groups["chat"]}
        assert chat["chat-openai"].api_key == "sk-openai-from-env"
        assert chat["chat-openai"].params == {"temperature": 0.2}
        assert chat["chat-anthropic"].api_key == "sk-ant-from-env" and chat["chat-anthropic"].timeout == 30
        (backup,) = router.model_groups["backup"]
        assert backup.api_key == "sk-deepseek-default"  # ${NAME:-default}
        assert "sk-" not in repr(router) and "sk-" not in repr(chat)
        for _ in range(4):
            router.completion("chat", HI)
        assert router.completion("backup", HI).provider == "deepseek"
    sent = a.requests + b.requests
    assert len(sent) == 4
    openai_bodies = [r.json for r in a.requests]
    assert all(isinstance(body, dict) and body["temperature"] == 0.2 for body in openai_bodies)
    assert {r.headers.get("authorization") for r in a.requests} <= {"Bearer sk-openai-from-env"}
    assert c.requests[0].headers["authorization"] == "Bearer sk-deepseek-default"


def test_provider_defaults_block(env: tuple[FakeProviderServer, ...]) -> None:
    _, _, c = env
    with Router.from_yaml(str(CASES / "providers_block.yaml")) as router:
        (cheap,) = router.model_groups["cheap"]
        assert (cheap.api_base, cheap.timeout, dict(cheap.params)) == (c.url, 12, {"temperature": 0.5})
        router.completion("cheap", HI)
    assert c.requests[0].headers["authorization"] == "Bearer sk-from-provider-block"
    assert isinstance(c.requests[0].json, dict) and c.requests[0].json["temperature"] == 0.5


def test_invalid_file_lists_every_problem_with_its_path(env: tuple[FakeProviderServer, ...]) -> None:
    with pytest.raises(RouterConfigError) as caught:
        Router.from_yaml(str(CASES / "invalid.yaml"))
    text = str(caught.value)
    path = str(CASES / "invalid.yaml")
    assert f"{path}: model_list[1].litellm_params.api_key: environment variable ROUTER_TEST_UNSET_VARIABLE is not set" \
        in text
    for expected in (
        "model_list[0].litellm_params.model: Missing data for required field.",
        "model_list[0].litellm_params.rpm: Must be greater than or equal to 0.",
        "model_list[0].litellm_params.weight: Not a valid number.",
        "model_list[1].extra_key: Unknown field.",
        "router_settings.routing_strategy: Must be one of",
    ):
        assert f"{path}: {expected}" in text


def test_router_arguments_are_validated_too(env: tuple[FakeProviderServer, ...]) -> None:
    a, _, _ = env
    good = {"model_name": "chat", "litellm_params": {"model": "openai/gpt-4o-mini", "api_base": a.url}}
    with pytest.raises(RouterConfigError, match=r"Router\(\): router_settings.fallbacks.chat: fallback 'nowhere'"):
        Router([good], fallbacks=[{"chat": ["nowhere"]}])
    with pytest.raises(RouterConfigError, match=r"router_settings.cooldown_tme: Unknown field"):
        Router([good], cooldown_tme=3)
    with pytest.raises(RouterConfigError, match=r"model_list\[0\].litellm_params.model: Unknown model 'nonsense'"):
        Router([{"model_name": "x", "litellm_params": {"model": "nonsense"}}])
    with pytest.raises(RouterConfigError, match=r"model_list\[0\].litellm_params.max_parallel_requests: LiteLLM's"):
        Router([{"model_name": "x", "litellm_params": {"model": "openai/gpt-4o", "max_parallel_requests": 4}}])
    custom = Router([{"model_name": "x", "litellm_params": {"model": "gpt-4o", "custom_llm_provider": "openai"}}])
    assert custom.model_groups["x"][0].model == "openai/gpt-4o"
    with pytest.raises(RouterConfigError, match="redis"):
        Router([good], state="memcached://nowhere")


def _write(path: Path, model: str, base: str) -> None:
    path.write_text(
        "model_list:\n"
        f"  - model_name: chat\n    litellm_params: {{model: {model}, api_key: sk-x, api_base: '{base}'}}\n"
        "router_settings: {num_retries: 0}\n"
    )


def test_reload_swaps_and_refuses_invalid(env: tuple[FakeProviderServer, ...], tmp_path: Path) -> None:
    a, b, _ = env
    path = tmp_path / "router.yaml"
    _write(path, "openai/gpt-4o-mini", a.url)
    events: list[Any] = []
    with Router.from_yaml(str(path), hooks=[events.append]) as router:
        assert router.completion("chat", HI).model == "gpt-4o-mini"
        _write(path, "anthropic/claude-haiku-4-5", b.url)
        assert router.reload() is True
        assert router.completion("chat", HI).provider == "anthropic"
        path.write_text("model_list:\n  - model_name: chat\n    litellm_params: {rpm: many}\n")
        with pytest.raises(RouterConfigError, match=r"model_list\[0\].litellm_params.rpm: Not a valid integer"):
            router.reload()
        assert router.completion("chat", HI).provider == "anthropic"  # the old config keeps serving
    assert [e.kind for e in events if isinstance(e, RouterEvent) and e.kind == "reload"] == ["reload"]


def test_reload_under_load_loses_no_call(env: tuple[FakeProviderServer, ...], tmp_path: Path) -> None:
    a, b, _ = env
    path = tmp_path / "router.yaml"
    _write(path, "openai/gpt-4o-mini", a.url)
    other = tmp_path / "other.yaml"
    _write(other, "anthropic/claude-haiku-4-5", b.url)
    original = tmp_path / "original.yaml"
    shutil.copy(path, original)
    errors: list[BaseException] = []
    done = threading.Event()
    answers = [0]
    lock = threading.Lock()

    def caller(router: Router) -> None:
        while not done.is_set():
            try:
                with router.completion("chat", HI, stream=True) as stream:  # streams span the swaps
                    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Echo: hello"
                with lock:
                    answers[0] += 1
            except BaseException as error:  # any failure is the test's failure
                errors.append(error)
                return

    with Router.from_yaml(str(path)) as router:
        threads = [threading.Thread(target=caller, args=(router,)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for i in range(10):
            shutil.copy(other if i % 2 == 0 else original, path)
            router.reload()
            deadline = time.monotonic() + 5
            start = answers[0]
            while answers[0] < start + 3 and time.monotonic() < deadline:
                time.sleep(0.002)
        done.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert answers[0] == len(a.requests) + len(b.requests)
    assert a.requests and b.requests


def test_watch_reloads_on_change(env: tuple[FakeProviderServer, ...], tmp_path: Path) -> None:
    a, b, _ = env
    path = tmp_path / "router.yaml"
    _write(path, "openai/gpt-4o-mini", a.url)
    with Router.from_yaml(str(path), watch=True, watch_interval=0.02) as router:
        _write(path, "anthropic/claude-haiku-4-5", b.url + "/")
        deadline = time.monotonic() + 5
        while router.model_groups["chat"][0].model != "anthropic/claude-haiku-4-5" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert router.completion("chat", HI).provider == "anthropic"
        path.write_text("model_list: [oops]\n")
        time.sleep(0.1)  # the watcher sees it and refuses it
        assert router.completion("chat", HI).provider == "anthropic"
