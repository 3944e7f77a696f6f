"""token_counter: the documented estimate, OpenAI's message/tool/image accounting, tiktoken when its encoding is on
disk (skipped otherwise), and never a network fetch."""

from __future__ import annotations

import base64
import hashlib
import struct
import sys
import types
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import responses

import litellm_sync
from litellm_sync import Client, LiteLLMSyncError, token_counter, tokens
from litellm_sync._router.strategies import estimate_tokens

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},  # 3 + 2 (system) + 7 (28 bytes)
    {"role": "user", "content": "Hello, how are you today?", "name": "bob"},  # 3 + 1 + (1 + 1) + 7 (25 bytes)
]

# The OpenAI cookbook's example ("How to count tokens with tiktoken"): 129 prompt tokens on gpt-4-0613
# (cl100k_base), as the API reports them.
COOKBOOK = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain "
        "English.",
    },
    {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
    {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased "
        "leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client deliverable.",
    },
]

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",  # "get_weather:Weather of a city" = 29 bytes -> 8
        "description": "Weather of a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city"},  # "city:string:The city" (20 bytes) -> 5
                "unit": {"type": "string", "enum": ["c", "f"]},  # "unit:string:" -> 3; enum -3 + (3+1) * 2
            },
        },
    },
}


@pytest.fixture
def no_tiktoken_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tiktoken's cache points at an empty directory, and no encoding is loaded yet."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(tokens, "_encodings", {})
    return tmp_path


@pytest.fixture
def fake_tiktoken(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A stand-in `tiktoken` module that records every get_encoding call (an encoding of one token per byte)."""
    calls: list[str] = []

    class Encoding:
        def encode(self, text: str, disallowed_special: Any = ()) -> list[int]:
            return list(text.encode())

        def decode(self, ids: list[int]) -> str:
            return bytes(ids).decode()

    def get_encoding(name: str) -> Encoding:
        calls.append(name)
        return Encoding()

    module = types.ModuleType("tiktoken")
    module.get_encoding = get_encoding  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tiktoken", module)
    yield calls


def test_estimate_figures(no_tiktoken_cache: Path) -> None:
    assert tokens.estimate_text("") == 0
    assert tokens.estimate_text("hello world") == 3  # 11 bytes
    assert tokens.estimate_text("abcd") == 1
    assert tokens.estimate_text("日本語") == 3  # 9 UTF-8 bytes: a CJK character counts 3/4
    assert token_counter(text="hello world") == 3
    assert token_counter(text=["abcd", "abcde"]) == 3
    assert token_counter(messages=MESSAGES) == 12 + 13 + 3
    # openai names o200k_base, which is not on disk here: the same rules, estimated.
    assert token_counter("openai/gpt-4o", MESSAGES) == 28
    assert token_counter("anthropic/claude-haiku-4-5", MESSAGES) == 28
    assert token_counter("nobody/unknown-model", MESSAGES) == 28  # an unknown model is estimated, not refused


def test_tool_calls_and_tool_results_count(no_tiktoken_cache: Path) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
    messages = [
        {"role": "assistant", "content": None, "tool_calls": [call]},  # 3 + 3 + 3 (11 bytes) + 4 (16 bytes)
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"},  # 3 + 1 + 2 (call_1) + 1
    ]
    assert token_counter(messages=messages) == 13 + 7 + 3


def test_tools_follow_openais_function_accounting(no_tiktoken_cache: Path) -> None:
    expected = 7 + 8 + 3 + (3 + 5) + (3 - 3 + 4 + 4 + 3) + 12
    assert token_counter(tools=[WEATHER]) == expected
    assert token_counter(messages=MESSAGES, tools=[WEATHER]) == 28 + expected
    assert estimate_tokens(MESSAGES, {"tools": [WEATHER]}) == 28 + expected  # the Router's pre-check uses it


def _png(width: int, height: int) -> str:
    head = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + struct.pack(">II", width, height) + b"\x08\x02\x00\x00\x00"
    return "data:image/png;base64," + base64.b64encode(head).decode()


def _jpeg(width: int, height: int) -> str:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x00" * 9
    sof = b"\xff\xc0" + struct.pack(">HBHH", 17, 8, height, width) + b"\x03" + b"\x00" * 9
    return "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8" + app0 + sof).decode()


def _gif(width: int, height: int) -> str:
    return "data:image/gif;base64," + base64.b64encode(b"GIF89a" + struct.pack("<HH", width, height)).decode()


@pytest.mark.parametrize(
    ("url", "detail", "expected"),
    [
        (_png(512, 512), "auto", 85 + 170),
        (_png(1024, 1024), "high", 85 + 170 * 4),  # scaled to 768 x 768: 2 x 2 tiles
        (_png(4096, 2048), "auto", 85 + 170 * 6),  # 2048 x 1024, then 1536 x 768: 3 x 2 tiles
        (_jpeg(800, 600), "auto", 85 + 170 * 4),  # short side 600 <= 768: 2 x 2 tiles
        (_gif(100, 100), "auto", 85 + 170),
        (_png(4096, 4096), "low", 85),
        ("https://example.com/cat.png", "auto", 765),  # size unknown: a 1024 x 1024 image
    ],
)
def test_images_follow_openais_tile_rule(no_tiktoken_cache: Path, url: str, detail: str, expected: int) -> None:
    part = {"type": "image_url", "image_url": {"url": url, "detail": detail}}
    message = {"role": "user", "content": [{"type": "text", "text": "abcd"}, part]}
    assert token_counter(messages=[message]) == 3 + 1 + 1 + expected + 3


def test_no_network_fetch_when_the_encoding_file_is_missing(
    no_tiktoken_cache: Path, fake_tiktoken: list[str]
) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False):  # any HTTP request would fail loudly
        assert token_counter("openai/gpt-4o", MESSAGES) == 28
    assert fake_tiktoken == []  # tiktoken was never asked: it would have downloaded the file
    url, _ = tokens.TIKTOKEN_FILES["o200k_base"]
    (no_tiktoken_cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(b"not the real file")
    assert token_counter("openai/gpt-4o", MESSAGES) == 28  # a file tiktoken would reject (and re-fetch): unused
    assert fake_tiktoken == []
    with pytest.raises(LiteLLMSyncError, match="not available offline"):
        litellm_sync.encode("openai/gpt-4o", "hi")


def test_tiktoken_cache_turned_off_is_never_used(monkeypatch: pytest.MonkeyPatch, fake_tiktoken: list[str]) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # tiktoken would download on every use
    monkeypatch.setattr(tokens, "_encodings", {})
    assert tokens.local_encoding("o200k_base") is None
    assert fake_tiktoken == []


def test_an_intact_local_file_is_used(
    no_tiktoken_cache: Path, fake_tiktoken: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"stand-in encoding file"
    url = "https://example.invalid/o200k_base.tiktoken"
    monkeypatch.setattr(tokens, "TIKTOKEN_FILES", {"o200k_base": (url, hashlib.sha256(data).hexdigest())})
    (no_tiktoken_cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(data)
    # The stand-in counts one token per byte: the exact path is taken, with the same framing.
    assert token_counter("openai/gpt-4o", [{"role": "user", "content": "hello"}]) == 3 + 4 + 5 + 3
    assert token_counter("openai/gpt-4o", text="hello") == 5
    assert fake_tiktoken == ["o200k_base"]
    token_counter("openai/gpt-4o", text="again")
    assert fake_tiktoken == ["o200k_base"]  # loaded once
    assert litellm_sync.encode("openai/gpt-4o", "hi") == [104, 105]
    assert litellm_sync.decode("openai/gpt-4o", [104, 105]) == "hi"
    with pytest.raises(LiteLLMSyncError, match="names no tokenizer"):
        litellm_sync.encode("anthropic/claude-haiku-4-5", "hi")


def test_threads_load_an_encoding_once(
    no_tiktoken_cache: Path, fake_tiktoken: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"stand-in encoding file"
    url = "https://example.invalid/o200k_base.tiktoken"
    monkeypatch.setattr(tokens, "TIKTOKEN_FILES", {"o200k_base": (url, hashlib.sha256(data).hexdigest())})
    (no_tiktoken_cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(data)
    litellm_sync.get_default_client()  # built before the threads start
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda i: token_counter("openai/gpt-4o", text="x" * i), range(64)))
    assert counts == list(range(64))  # one token per byte: every thread got the exact count
    assert fake_tiktoken == ["o200k_base"]


def test_the_tokenizer_is_data_in_the_spec() -> None:
    spec = {
        "providers": {
            "acme": {
                "extends": "openai_chat",
                "base_url": "https://acme.invalid/v1",
                "tokenizer": "o200k_base",
                "models": {"old": {"tokenizer": "cl100k_base"}, "new": {}},
            }
        }
    }
    with Client(providers=spec) as client:
        assert tokens.tokenizer_for("acme/old", client) == "cl100k_base"
        assert tokens.tokenizer_for("acme/new", client) == "o200k_base"
        assert tokens.tokenizer_for("acme/unlisted", client) == "o200k_base"
        assert tokens.tokenizer_for("anthropic/claude-haiku-4-5", client) is None
    assert litellm_sync.get_model_info("openai/gpt-4o").tokenizer is None  # the provider's default applies
    assert tokens.tokenizer_for("openai/gpt-4o") == "o200k_base"


# -- against tiktoken itself, when its encoding file is already on this machine ----------------------------


def _real(name: str) -> Any:
    pytest.importorskip("tiktoken")
    encoding = tokens.local_encoding(name)
    if encoding is None:
        pytest.skip(f"the tiktoken encoding {name} is not in tiktoken's cache (set TIKTOKEN_CACHE_DIR)")
    return encoding


def _spec(tokenizer: str) -> dict[str, Any]:
    return {"providers": {"acme": {"extends": "openai_chat", "base_url": "https://a.invalid", "tokenizer": tokenizer}}}


def test_cl100k_matches_the_cookbook_figure() -> None:
    encoding = _real("cl100k_base")
    with Client(providers=_spec("cl100k_base")) as client:
        assert token_counter("acme/gpt-4-0613", COOKBOOK, client=client) == 129  # what the API reports
        text = "tiktoken is great! 日本語も数えます。"
        assert token_counter("acme/gpt-4", text=text, client=client) == len(encoding.encode(text))
        ids = litellm_sync.encode("acme/gpt-4", text, client=client)
        assert litellm_sync.decode("acme/gpt-4", ids, client=client) == text


def test_o200k_counts_openai_models_exactly() -> None:
    encoding = _real("o200k_base")
    text = "Structured output, token counting and <|endoftext|> as plain text."
    for model in ("openai/gpt-4o", "openai/gpt-4o-mini", "openai/gpt-5"):
        assert token_counter(model, text=text) == len(encoding.encode(text, disallowed_special=()))
