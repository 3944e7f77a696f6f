"""`mock_embedding`: a provider's own embeddings reply, written from its spec's reader, registered with
`responses` at the URL the call uses; every request gets one vector per input it carries.

    @responses.activate
    def test_search_index():
        mock_embedding(responses, "cohere/embed-v4.0", dimensions=4)
        resp = litellm_sync.embedding("cohere/embed-v4.0", ["a", "b"], api_key="k")   # Cohere's wire format

Each vector is a function of its text (`embed(text)`; by default `dimensions` floats from a hash of it), so
equal texts get equal vectors. Where the inputs sit in a request body is found once, by rendering the
operation's body template with probe inputs: no provider is special-cased.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from .._engine.operations import Operation
from .._engine.paths import compile_path, get_path
from ..exceptions import ConfigurationError
from .mock import _matchers
from .replies import MockSpecError, first_path, put

_PROBES = ("\x00probe-0", "\x00probe-1")
_KEY = "sk-mock-placeholder"


def hashed_vector(text: str, dimensions: int = 8) -> list[float]:
    """`dimensions` floats in [-1, 1) from a hash of the text: the same text, the same vector."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    while len(digest) < dimensions:
        digest += hashlib.sha256(digest).digest()
    return [round(byte / 128 - 1, 6) for byte in digest[:dimensions]]


def _paths(value: Any, wanted: str, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if value == wanted:
        return [here]
    if isinstance(value, Mapping):
        return [p for k, v in value.items() for p in _paths(v, wanted, (*here, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _paths(v, wanted, (*here, i))]
    return []


def _input_layout(
    operation: Operation, model: str, api_base: str | None, args: Mapping[str, Any]
) -> tuple[Any, tuple[Any, ...]]:
    """(the request for two probe inputs, and the path of the list the inputs are items of followed by the
    path from an item to its text); a body that carries one input has the list path None."""
    request = operation.build(model, {"input": list(_PROBES)}, args, api_key=_KEY, api_base=api_base,
                              api_version=None, extra_headers=None, drop_params=True, info=None)
    body = json.loads(request.body or b"{}")
    first, second = (_paths(body, probe) for probe in _PROBES)
    if len(first) != 1 or len(second) > 1:
        raise MockSpecError(f"cannot mock {operation.provider}'s embeddings: its body does not carry each input once")
    if not second:
        return request, (None, first[0])
    split = next(i for i, (a, b) in enumerate(zip(first[0], second[0])) if a != b)
    return request, (first[0][:split], first[0][split + 1:])


def mock_embedding(
    rsps: Any,
    model: str,
    *,
    dimensions: int = 8,
    embed: Callable[[str], Sequence[float]] | None = None,
    api_base: str | None = None,
    client: Any = None,
    **call_args: Any,
) -> Any:
    """Register on rsps (a `responses.RequestsMock` or the module) the provider's embeddings reply for model;
    returns the registered `responses` object (its `.calls` are the requests it answered). call_args: what the
    URL needs from the call (`vertex_project=`, `aws_region_name=`)."""
    from ..api import get_default_client

    client = client or get_default_client()
    provider, name, info = client.resolve(model)
    operation = provider.operations.get("embeddings")
    if operation is None:
        raise ConfigurationError(f"provider '{provider.name}' declares no embeddings operation to mock")
    operation = operation.for_model(name, info.name if info is not None else None)
    request, (list_path, text_path) = _input_layout(operation, name, api_base, call_args)
    reader = operation.spec.response
    vector_of = embed or (lambda text: hashed_vector(text, dimensions))

    def reply(sent: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(sent.body or b"{}")
        items = [body] if list_path is None else get_path(body, list_path)
        texts = [str(get_path(item, text_path)) for item in items] if isinstance(items, list) else []
        return 200, {"content-type": "application/json"}, json.dumps(_write(reader, texts, vector_of))

    parts = urlsplit(request.url)
    query = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True) if v != _KEY}
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return rsps.add_callback(request.method, url, callback=reply, match=_matchers(query, {}))


def _write(reader: Any, texts: list[str], vector_of: Callable[[str], Sequence[float]]) -> Any:
    """The reply body the reader reads back as these texts' vectors, with usage of one token per word."""
    items = []
    for index, text in enumerate(texts):
        vector = [float(x) for x in vector_of(text)]
        path = first_path(reader.embedding)
        item: Any = vector if not compile_path(path or ".") else put({}, path, vector)
        if reader.index is not None and isinstance(item, dict):
            put(item, first_path(reader.index), index)
        if reader.item_tokens is not None and isinstance(item, dict):
            put(item, first_path(reader.item_tokens), len(text.split()))
        items.append(item)
    items_path = first_path(reader.items)
    single = len(items) == 1 and not isinstance(items[0], list)
    value: Any = items[0] if single and reader.items in (".",) else items
    body: Any = value if not compile_path(items_path or ".") else put({}, items_path, value)
    tokens = sum(len(t.split()) for t in texts)
    for field, paths in reader.usage:
        if isinstance(body, dict) and field == "prompt_tokens" and len(paths) == 1:
            where = ".".join(p for p in (first_path(reader.usage_from), first_path(paths[0])) if p and p != ".")
            put(body, where, tokens)
    return body
