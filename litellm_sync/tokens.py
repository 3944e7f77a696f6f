"""Token counting: exact with tiktoken where the spec names a model's encoding and it is on disk; else an estimate.

Which tokenizer a model uses is data: `tokenizer:` on a model or a provider in providers.yaml (OpenAI's
models say `o200k_base`). The count is exact when the `tiktoken` extra is installed *and* that encoding's file
is already in tiktoken's cache (TIKTOKEN_CACHE_DIR, else DATA_GYM_CACHE_DIR, else <tmp>/data-gym-cache) with
the checksum tiktoken expects: tiktoken downloads missing files from the internet on first use, and this module
never lets it (a web request must not stall on a download). Otherwise, and for every model whose spec names
no tokenizer, the count is an estimate. docs/token-counting.md gives the rules and figures.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import struct
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable

from ._observe.context import ForkSafeLock
from .exceptions import ConfigurationError, LiteLLMSyncError

if TYPE_CHECKING:
    from .client import Client

_BLOB = "https://openaipublic.blob.core.windows.net/encodings/"
#: tiktoken's encoding files: where tiktoken fetches each (its cache file is named by the URL's sha1) and the
#: sha256 tiktoken checks it against (a cached file that fails the check is downloaded again: never used then).
TIKTOKEN_FILES: Mapping[str, tuple[str, str]] = {
    "o200k_base": (_BLOB + "o200k_base.tiktoken", "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"),
    "cl100k_base": (_BLOB + "cl100k_base.tiktoken", "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"),
    "p50k_base": (_BLOB + "p50k_base.tiktoken", "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069"),
    "r50k_base": (_BLOB + "r50k_base.tiktoken", "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"),
}

# OpenAI's accounting (the "How to count tokens with tiktoken" cookbook, gpt-4o and later): each message costs
# 3 tokens of framing, a `name` one more, and every reply is primed with 3 (<|start|>assistant<|message|>).
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMER = 3
# Function definitions, same source: 7 per function, 3 to open its properties, 3 per property, an enum -3 plus
# 3 per item, 12 to close the list.
FUNC_INIT, PROP_INIT, PROP_KEY, ENUM_INIT, ENUM_ITEM, FUNC_END = 7, 3, 3, -3, 3, 12
# Images (OpenAI's vision guide): 85 at low detail; otherwise 85 + 170 per 512-px tile of the image scaled to
# fit 2048 x 2048 and then to 768 px on its short side. Size unknown (a URL): 765, a 1024 x 1024 image.
IMAGE_LOW, IMAGE_TILE, IMAGE_UNKNOWN = 85, 170, 765

# Encodings loaded so far, by name: filled once per encoding (under the lock), never changed after. The lock is
# held while tiktoken reads a file: a forked child replaces it rather than wait for a thread it does not have.
_encodings: dict[str, Any] = {}
_encodings_lock = ForkSafeLock()


def tiktoken_cache_dir() -> str | None:
    """The directory tiktoken reads its encoding files from (its own rules), or None when caching is off."""
    for variable in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if variable in os.environ:
            return os.environ[variable] or None  # "" turns tiktoken's cache off: every use would download
    import tempfile  # here: `import litellm_sync` does not pay for it

    return os.path.join(tempfile.gettempdir(), "data-gym-cache")


def local_encoding(name: str) -> Any | None:
    """The tiktoken Encoding `name` when tiktoken is installed and the file is already on disk, intact; else None.

    Never starts a download: the file is looked for where tiktoken keeps it and checked against the sha256
    tiktoken expects before tiktoken is asked for the encoding (it then reads that very file)."""
    found = _encodings.get(name)
    if found is not None:
        return found
    known = TIKTOKEN_FILES.get(name)
    directory = tiktoken_cache_dir()
    if known is None or directory is None:
        return None
    url, sha256 = known
    path = os.path.join(directory, hashlib.sha1(url.encode()).hexdigest())
    try:
        with open(path, "rb") as file:
            intact = hashlib.sha256(file.read()).hexdigest() == sha256
    except OSError:
        return None
    if not intact:
        return None
    try:
        import tiktoken
    except ImportError:
        return None
    with _encodings_lock:
        if name not in _encodings:
            _encodings[name] = tiktoken.get_encoding(name)
        return _encodings[name]


def tokenizer_for(model: str | None, client: Client | None = None) -> str | None:
    """The tokenizer the spec names for a model (the model's `tokenizer:`, else its provider's), or None."""
    if not model:
        return None
    if client is None:
        from .api import get_default_client

        client = get_default_client()
    try:
        provider, _name, info = client.resolve(model)
    except ConfigurationError:  # an unknown model is still counted, by estimate
        return None
    if info is not None and info.tokenizer:
        return info.tokenizer
    return provider.model.tokenizer


def estimate_text(text: str) -> int:
    """The estimate for one text: its UTF-8 bytes over four, rounded up (about four characters a token in
    English; a CJK character, three bytes, counts 3/4)."""
    return (len(text.encode("utf-8", "surrogatepass")) + 3) // 4


def token_counter(
    model: str | None = None,
    messages: Sequence[Any] | None = None,
    text: str | Sequence[str] | None = None,
    *,
    tools: Sequence[Any] | None = None,
    client: Client | None = None,
) -> int:
    """Prompt tokens of `messages` (with OpenAI's per-message framing and reply primer), of `text` (a string
    or strings, counted bare) and of `tools` (OpenAI function definitions), for `model`.

    Exact when the spec names a tiktoken encoding for the model and `local_encoding` has it; otherwise an
    estimate by the same rules with `estimate_text` per text. No network, ever. model=None: the estimate."""
    name = tokenizer_for(model, client)
    encoding = local_encoding(name) if name else None
    count: Callable[[str], int]
    if encoding is not None:
        encode = encoding.encode

        def count(value: str) -> int:
            return len(encode(value, disallowed_special=()))

    else:
        count = estimate_text
    total = 0
    if text is not None:
        for item in [text] if isinstance(text, str) else text:
            total += count(str(item))
    if messages:
        total += sum(_message_tokens(message, count) for message in messages) + REPLY_PRIMER
    if tools:
        total += _tools_tokens(tools, count)
    return total


def encode(model: str, text: str, *, client: Client | None = None) -> list[int]:
    """The token ids of `text` under the model's tiktoken encoding (exact only; no estimate can give ids)."""
    return list(_require(model, client).encode(text, disallowed_special=()))


def decode(model: str, tokens: Sequence[int], *, client: Client | None = None) -> str:
    """The text of token ids under the model's tiktoken encoding."""
    return str(_require(model, client).decode(list(tokens)))


def _require(model: str, client: Client | None) -> Any:
    name = tokenizer_for(model, client)
    if name is None:
        raise LiteLLMSyncError(
            f"the spec names no tokenizer for '{model}': add `tokenizer:` (a tiktoken encoding) to the model or its "
            "provider in YAML, or use token_counter(), which estimates"
        )
    encoding = local_encoding(name)
    if encoding is None:
        raise LiteLLMSyncError(
            f"the tiktoken encoding '{name}' is not available offline: pip install 'litellm_sync[tiktoken]' and "
            f"put {name}.tiktoken in tiktoken's cache (TIKTOKEN_CACHE_DIR; see docs/token-counting.md)"
        )
    return encoding


def _field(message: Any, key: str) -> Any:
    return message.get(key) if isinstance(message, Mapping) else getattr(message, key, None)


def _message_tokens(message: Any, count: Callable[[str], int]) -> int:
    total = TOKENS_PER_MESSAGE
    role = _field(message, "role")
    if isinstance(role, str):
        total += count(role)
    name = _field(message, "name")
    if isinstance(name, str):
        total += count(name) + TOKENS_PER_NAME
    content = _field(message, "content")
    if isinstance(content, str):
        total += count(content)
    elif isinstance(content, list):
        for part in content:
            total += _part_tokens(part, count)
    for call in _field(message, "tool_calls") or ():
        function = _field(call, "function")
        for key in ("name", "arguments"):
            value = _field(function, key) if function is not None else None
            if isinstance(value, str):
                total += count(value)
    call_id = _field(message, "tool_call_id")
    if isinstance(call_id, str):
        total += count(call_id)
    return total


def _part_tokens(part: Any, count: Callable[[str], int]) -> int:
    if isinstance(part, str):
        return count(part)
    if not isinstance(part, Mapping):
        return 0
    text = part.get("text")
    if isinstance(text, str):
        return count(text)
    if part.get("type") in ("image_url", "image"):
        image = part.get("image_url")
        url, detail = (image.get("url"), image.get("detail")) if isinstance(image, Mapping) else (image, None)
        return image_tokens(url if isinstance(url, str) else None, detail if isinstance(detail, str) else "auto")
    return 0


def image_tokens(url: str | None, detail: str = "auto") -> int:
    """OpenAI's rule for one image: 85 at low detail, else 85 + 170 per 512-px tile after scaling (the size is
    read from a data: URL's PNG, GIF, JPEG or WebP header; 765 when it cannot be)."""
    if detail == "low":
        return IMAGE_LOW
    size = _data_url_size(url) if url else None
    if size is None:
        return IMAGE_UNKNOWN
    width, height = float(size[0]), float(size[1])
    if max(width, height) > 2048:
        scale = 2048 / max(width, height)
        width, height = width * scale, height * scale
    if min(width, height) > 768:
        scale = 768 / min(width, height)
        width, height = width * scale, height * scale
    return IMAGE_LOW + IMAGE_TILE * math.ceil(width / 512) * math.ceil(height / 512)


def _data_url_size(url: str) -> tuple[int, int] | None:
    if not url.startswith("data:") or ";base64," not in url[:100]:
        return None
    try:
        head = base64.b64decode(url.split(",", 1)[1][:88_000], validate=False)  # 66 kB: past most JPEG headers
    except ValueError:
        return None
    return image_size(head)


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the first bytes of a PNG, GIF, JPEG or WebP file, or None."""
    try:
        if data[:8] == b"\x89PNG\r\n\x1a\n":
            return struct.unpack(">II", data[16:24])  # type: ignore[return-value]
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", data[6:10])  # type: ignore[return-value]
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp_size(data)
        if data[:2] == b"\xff\xd8":
            return _jpeg_size(data)
    except struct.error:
        return None
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            at += 2
            continue
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a start-of-frame: the size
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + length
    return None


def _tools_tokens(tools: Sequence[Any], count: Callable[[str], int]) -> int:
    total = 0
    for tool in tools:
        function = tool.get("function", tool) if isinstance(tool, Mapping) else None
        if not isinstance(function, Mapping):
            total += count(json.dumps(tool, default=str))
            continue
        total += FUNC_INIT
        description = str(function.get("description") or "").rstrip(".")
        total += count(f"{function.get('name', '')}:{description}")
        parameters = function.get("parameters")
        properties = parameters.get("properties") if isinstance(parameters, Mapping) else None
        if isinstance(properties, Mapping) and properties:
            total += PROP_INIT
            for key, spec in properties.items():
                total += PROP_KEY
                spec = spec if isinstance(spec, Mapping) else {}
                enum = spec.get("enum")
                if isinstance(enum, list):
                    total += ENUM_INIT
                    for item in enum:
                        total += ENUM_ITEM + count(str(item))
                kind = spec.get("type", "")
                if not isinstance(kind, str):
                    kind = json.dumps(kind)
                total += count(f"{key}:{kind}:{str(spec.get('description') or '').rstrip('.')}")
    return total + FUNC_END if tools else total
