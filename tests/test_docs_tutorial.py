"""The YAML tutorials in docs/providers-yaml.md load and work end to end against the fake server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import litellm_sync
from litellm_sync.testing import FakeProviderServer, Reply

DOC = Path(__file__).resolve().parents[1] / "docs" / "providers-yaml.md"
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


@pytest.fixture()
def client() -> Any:
    tutorials = [yaml.safe_load(BLOCKS[0]), yaml.safe_load(BLOCKS[1])]
    with litellm_sync.Client(providers=tutorials, max_retries=0) as made:
        yield made


def test_openai_compatible_tutorial_is_five_lines_and_works(client: litellm_sync.Client) -> None:
    assert len([line for line in BLOCKS[0].splitlines() if line.strip()]) == 5
    with FakeProviderServer() as server:
        answer = client.completion("acme/acme-large", [{"role": "user", "content": "Hi"}], api_key="k",
                                   api_base=server.url + "/v1")
        assert answer.content == "Echo: Hi"
        assert server.requests[-1].headers["authorization"] == "Bearer k"


def test_new_wire_format_tutorial(client: litellm_sync.Client) -> None:
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "Hi"}]
    with FakeProviderServer() as server:
        server.enqueue(Reply(json={"ref": "r-1", "said": [{"kind": "words", "value": "Hello"}], "why": "done",
                                   "counts": {"heard": 3, "spoke": 1}}))
        answer = client.completion("parrot/parrot-1", messages, api_key="pk", api_base=server.url, temperature=0.7)
        sent = server.requests[-1]
        assert sent.path == "/v1/speak"
        assert sent.headers["x-parrot-key"] == "pk"
        assert sent.json == {"voice": "parrot-1", "system_prompt": "be brief", "stream": False,
                             "turns": [{"speaker": "human", "say": "Hi"}], "settings": {"creativity": 0.7}}
        assert (answer.content, answer.choices[0].finish_reason, answer.usage.total_tokens) == ("Hello", "stop", 4)

        server.enqueue(Reply(content_type="application/x-ndjson", events=[
            '{"piece":"Hel","last":false}\n',
            '{"piece":"lo","last":false}\n',
            '{"piece":"","last":true,"why":"done","counts":{"heard":3,"spoke":2}}\n',
        ]))
        with client.completion("parrot/parrot-1", messages, api_key="pk", api_base=server.url, stream=True) as s:
            whole = s.response()
        assert (whole.content, whole.choices[0].finish_reason, whole.usage.completion_tokens) == ("Hello", "stop", 2)

        server.enqueue(Reply(status=400, json={"problem": {"code": "TOO_FAST", "detail": "slow down"}}))
        with pytest.raises(litellm_sync.RateLimitError, match="slow down"):
            client.completion("parrot/parrot-1", messages, api_key="pk", api_base=server.url)
        with pytest.raises(litellm_sync.UnsupportedParamsError, match="cannot stop early"):
            client.completion("parrot/parrot-1", messages, api_key="pk", api_base=server.url, stop=["x"])
