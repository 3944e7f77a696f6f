"""The OpenAI-compatible services added as pure YAML: each posts to its documented base URL with its key from
its own environment variable; local servers need no key; Cloudflare's account id comes from the environment
or the call."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import responses

import litellm_sync
from litellm_sync.exceptions import ConfigurationError, MissingAPIKeyError

OK = {"id": "x", "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}
MESSAGES = [{"role": "user", "content": "Hi"}]

HOSTED = [
    ("nvidia_nim", "meta/llama-3.3-70b-instruct", "https://integrate.api.nvidia.com/v1", "NVIDIA_NIM_API_KEY"),
    ("nebius", "Qwen/Qwen3-235B-A22B", "https://api.tokenfactory.nebius.com/v1", "NEBIUS_API_KEY"),
    ("sambanova", "Meta-Llama-3.3-70B-Instruct", "https://api.sambanova.ai/v1", "SAMBANOVA_API_KEY"),
    ("moonshot", "kimi-k2-0905-preview", "https://api.moonshot.ai/v1", "MOONSHOT_API_KEY"),
    ("dashscope", "qwen-plus", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "DASHSCOPE_API_KEY"),
    ("zai", "glm-4.6", "https://api.z.ai/api/paas/v4", "ZAI_API_KEY"),
    ("minimax", "MiniMax-M2", "https://api.minimax.io/v1", "MINIMAX_API_KEY"),
    ("novita", "deepseek/deepseek-v3-0324", "https://api.novita.ai/openai/v1", "NOVITA_API_KEY"),
    ("siliconflow", "deepseek-ai/DeepSeek-V3", "https://api.siliconflow.com/v1", "SILICONFLOW_API_KEY"),
    ("hyperbolic", "meta-llama/Llama-3.3-70B-Instruct", "https://api.hyperbolic.xyz/v1", "HYPERBOLIC_API_KEY"),
    ("github", "openai/gpt-4.1", "https://models.github.ai/inference", "GITHUB_TOKEN"),
]
LOCAL = [
    ("vllm", "http://localhost:8000/v1"),
    ("lm_studio", "http://localhost:1234/v1"),
    ("llamafile", "http://localhost:8080/v1"),
    ("llamacpp", "http://localhost:8080/v1"),
]


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture(scope="module")
def client() -> Iterator[litellm_sync.Client]:
    with litellm_sync.Client(max_retries=0) as made:
        yield made


@pytest.mark.parametrize(("provider", "model", "base", "variable"), HOSTED, ids=[h[0] for h in HOSTED])
def test_a_hosted_service_gets_its_base_url_and_key(
    client: litellm_sync.Client, rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch,
    provider: str, model: str, base: str, variable: str,
) -> None:
    for name in client.spec.provider(provider).builder.connection.key_env:
        monkeypatch.delenv(name, raising=False)
    for name in client.spec.provider(provider).builder.connection.base_url_env:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(MissingAPIKeyError, match=variable):
        client.completion(f"{provider}/{model}", MESSAGES)
    monkeypatch.setenv(variable, "secret-key")
    rsps.add("POST", f"{base}/chat/completions", json=OK)
    assert client.completion(f"{provider}/{model}", MESSAGES, temperature=0.1).content == "ok"
    sent = rsps.calls[0].request
    assert sent.headers["authorization"] == "Bearer secret-key"
    assert json.loads(sent.body) == {"model": model, "messages": MESSAGES, "temperature": 0.1}


@pytest.mark.parametrize(("provider", "base"), LOCAL, ids=[p for p, _ in LOCAL])
def test_a_local_server_needs_no_key(
    client: litellm_sync.Client, rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, provider: str,
    base: str,
) -> None:
    connection = client.spec.provider(provider).builder.connection
    for name in (*connection.key_env, *connection.base_url_env):
        monkeypatch.delenv(name, raising=False)
    rsps.add("POST", f"{base}/chat/completions", json=OK)
    assert client.completion(f"{provider}/my-model", MESSAGES).content == "ok"
    assert "authorization" not in rsps.calls[0].request.headers


def test_cloudflare_takes_the_account_id_from_the_environment_or_the_call(
    client: litellm_sync.Client, rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_BASE", "CLOUDFLARE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "cf-token")
    model = "@cf/meta/llama-3.1-8b-instruct"
    with pytest.raises(ConfigurationError, match="CLOUDFLARE_ACCOUNT_ID"):
        client.completion(f"cloudflare/{model}", MESSAGES)
    rsps.add("POST", "https://api.cloudflare.com/client/v4/accounts/acc123/ai/v1/chat/completions", json=OK)
    rsps.add("POST", "https://api.cloudflare.com/client/v4/accounts/acc456/ai/v1/chat/completions", json=OK)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acc123")
    client.completion(f"cloudflare/{model}", MESSAGES)
    client.completion(f"cloudflare/{model}", MESSAGES, cloudflare_account_id="acc456")
    assert json.loads(rsps.calls[1].request.body) == {"model": model, "messages": MESSAGES}
    assert rsps.calls[0].request.headers["authorization"] == "Bearer cf-token"
