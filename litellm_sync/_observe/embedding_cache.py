"""An embedding call cached input by input: each input's vector is a cache entry of its own, so a call with 3 new
inputs among 100 sends only the 3 and takes the other 97 from the cache.

`embedding()` (and the Router's look-up before it routes) hands the pipeline an `EmbeddingInputs` as the call's
cache request. The pipeline's `Call.lookup` asks it for the call's answer (`lookup`): every input found is a hit
(nothing sent, `cache_hit` True, usage 0 tokens, cost 0); otherwise it notes which inputs to send (`positions`: each
distinct input missing from the cache, once) and `embedding()` sends those alone, batched as usual. `join` then
rejoins cached and fresh vectors in input order (index = the input's position; usage and cost: the part sent), and
the pipeline's `Call._store` has `store` write each fresh vector under its own key.

An input's key (`cache.cache_key`) is the provider, the model, the operation "embeddings", that one input and every
parameter that changes the vector (dimensions, input_type, encoding_format, ...); never the API key, the base URL or
other call options. `encoding_format="float"` is the default and keyed as if not given; base64 entries are keyed
apart and hold the base64 text as the provider sent it (float entries hold floats): a cached vector comes back
exactly as it was stored. An entry that cannot be read back, or holds no vector of the call's form, is a miss.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .._engine.redact import get_logger
from ..types import Embedding, EmbeddingResponse, Usage

log = get_logger()
OPERATION = "embeddings"  # the operation every entry is keyed by, apart from chat and rerank entries
_NUMBERS = frozenset({float, int})


class EmbeddingInputs:
    """The inputs of one embedding call as the response cache sees them (one per call: it holds the call's state)."""

    __slots__ = ("found", "fresh", "inputs", "keys", "model", "positions", "seen")

    def __init__(self, inputs: list[Any]) -> None:
        self.inputs = inputs
        self.keys: list[str | None] | None = None  # each input's key, once looked up (None: that input is not cached)
        self.found: dict[str, Any] = {}  # key -> the vector read back from the cache
        self.positions: list[int] | None = None  # the inputs to send (None: every one, as given)
        self.fresh: list[tuple[str, Any]] = []  # key -> vector sent for and read back, to store
        self.model: str | None = None
        self.seen = False  # some input was found by a look-up (the Router's attempt then looks again)

    def todo(self) -> list[Any]:
        """The inputs to send, in order: each distinct input the cache did not have, once."""
        if self.positions is None:
            return self.inputs
        return [self.inputs[position] for position in self.positions]

    def lookup(self, call: Any, cache: Any, cache_module: Any, tried: set[str] | None) -> Any:
        """The call's answer when the cache holds every input (a CachedEmbeddingResponse), else None with the inputs
        to send noted. `call`: the pipeline's Call (provider, model, params, options; its `key` is set to one key for
        the whole call, which `tried` holds so that deployments of one model are looked up once)."""
        options: Mapping[str, Any] = call.options
        if options.get("no-cache") and options.get("no-store"):
            return None  # caching=False: neither read nor stored, sent as given
        params = call.params
        if params.get("encoding_format") == "float":  # the default: the same vectors as not asking
            params = {name: value for name, value in params.items() if name != "encoding_format"}
        want_base64 = params.get("encoding_format") == "base64"
        keys = [cache_module.cache_key(call.provider, call.model, {"input": item}, params, False, operation=OPERATION)
                for item in self.inputs]  # fmt: skip
        self.keys = keys
        call.key = hashlib.sha256("".join(key or "-" for key in keys).encode("ascii")).hexdigest()
        found: dict[str, Any] = {}
        self.model = None  # the Router looks up each deployment's model in turn: this look-up's own
        if not options.get("no-cache") and (tried is None or call.key not in tried):
            if tried is not None:
                tried.add(call.key)
            found = self._read(cache, cache_module, keys, want_base64)
        self.found = found
        self.seen = self.seen or bool(found)
        positions: list[int] = []
        taken: set[str] = set()
        for position, key in enumerate(keys):
            if key is None:
                positions.append(position)
            elif key not in found and key not in taken:
                taken.add(key)
                positions.append(position)
        self.positions = positions
        if positions:
            return None
        from .records import CachedEmbeddingResponse

        data = _rejoin(keys, {}, found)
        usage = Usage(prompt_tokens=0, total_tokens=0)  # nothing was sent: no token was billed
        return CachedEmbeddingResponse(data, self.model or call.model, usage, call.provider, Decimal(0))

    def _read(self, cache: Any, cache_module: Any, keys: list[str | None], want_base64: bool) -> dict[str, Any]:
        found: dict[str, Any] = {}
        distinct = list(dict.fromkeys(key for key in keys if key is not None))
        try:
            entries = cache.get_many(distinct)  # one round trip where the backend can (Redis: MGET)
        except Exception as exc:  # any backend's failure is a miss: the inputs still go out
            log.warning("cache lookup failed, treating it as a miss: %s: %s", type(exc).__name__, exc)
            return found
        for key, data in zip(distinct, entries):
            if not isinstance(data, bytes):
                continue
            try:
                answer = cache_module.decode(key, data)
            except cache_module.BadEntry as why:
                log.debug("cache entry %s… unreadable (%s): a miss", key[:12], why)
                continue
            vector = _entry_vector(answer, want_base64)
            if vector is None:
                log.debug("cache entry %s… holds no vector of this call's form: a miss", key[:12])
                continue
            found[key] = vector
            self.model = self.model or answer.model or None
        return found

    def join(self, response: EmbeddingResponse) -> EmbeddingResponse:
        """The call's answer from `response` (the vectors of `todo()`, in that order) and the vectors found in the
        cache, in input order; usage and cost are the part sent. Notes the fresh vectors for `store`."""
        keys = self.keys
        if keys is None:
            return response  # not looked up: the inputs were sent as given
        vectors = [item.embedding for item in response.data]
        sent = self.positions if self.positions is not None else list(range(len(keys)))
        self.fresh = [(key, vector) for position, vector in zip(sent, vectors)
                      if (key := keys[position]) is not None]  # fmt: skip
        self.model = response.model
        if len(sent) == len(keys):
            return response  # every input sent, in order: nothing to rejoin
        data = _rejoin(keys, dict(zip(sent, vectors)), {**self.found, **dict(self.fresh)})
        return EmbeddingResponse(data, response.model, response.usage, response.provider, response.cost)

    def store(self, call: Any, cache: Any, cache_module: Any, ttl: float | None) -> None:
        """Store each fresh vector as its own entry (an EmbeddingResponse of that one vector)."""
        for key, vector in self.fresh:
            entry = cache_module.encode(key, EmbeddingResponse([Embedding(vector, 0)], self.model, None, call.provider))
            cache.set(key, entry, ttl)


def _rejoin(keys: list[str | None], sent: dict[int, Any], known: dict[str, Any]) -> list[Embedding]:
    """Every input's vector in input order: the one sent for that position, else the one known for its key (a list
    that an earlier position took too is copied: each position has its own list)."""
    data: list[Embedding] = []
    used: set[str] = set()
    for position, key in enumerate(keys):
        if position in sent:
            vector = sent[position]
        else:
            vector = known[key]  # type: ignore[index]  # a position without a key is always sent
            if key in used and isinstance(vector, list):
                vector = list(vector)
        if key is not None:
            used.add(key)
        data.append(Embedding(vector, position))
    return data


def _entry_vector(answer: Any, want_base64: bool) -> Any:
    """The one vector an entry holds when it is of the call's form (base64 text or a list of numbers), else None."""
    data = getattr(answer, "data", None) if isinstance(answer, EmbeddingResponse) else None
    if not isinstance(data, list) or len(data) != 1 or not isinstance(data[0], Embedding):
        return None
    vector = data[0].embedding
    if want_base64:
        if not isinstance(vector, str):
            return None
        try:
            raw = base64.b64decode(vector, validate=True)
        except (binascii.Error, ValueError):
            return None
        return vector if raw and len(raw) % 4 == 0 else None
    if not isinstance(vector, list) or not vector:
        return None
    return vector if set(map(type, vector)) <= _NUMBERS else None  # what JSON reads back: no bool, str or None
