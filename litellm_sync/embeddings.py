"""`embedding()` and `rerank()`: the provider's `operations:` (embeddings, rerank) called through the same
connection, auth, transport, error table, retries, limits, redaction and hooks as `completion()`.

Embeddings: inputs over the operation's `batch_size` are split into requests sent in parallel threads on the
Client's pool (at most `max_workers` at once) and rejoined in input order, their usage summed. Vectors come
back as floats; base64 (little-endian float32) from the provider is decoded, unless the call asked for
`encoding_format="base64"`, which is then what every vector is. Rerank answers come back in Cohere's shape.
Both go through the Client's pipeline as chat does (hooks, `metadata=`, correlation ids, budgets, payload
logging, the response cache): a cached answer is keyed by the operation, the model, the inputs (query and
documents) and every parameter that changes the answer, apart from chat entries. Embeddings are cached input by
input (_observe/embedding_cache.py): only the inputs the cache lacks are sent (each distinct one once), then
rejoined with the cached vectors in input order; rerank calls are cached whole. Batch threads run in a copy of the
call's context, so their log lines and retries belong to the call.

LiteLLM's call-level keywords (num_retries, request_timeout, base_url, headers, custom_llm_provider, caching,
tags, additional_drop_params, input_cost_per_token, the unsupported ones, ...) are read by the one table
`completion()` reads (_engine/keywords.py) and never sent; fallbacks= is refused (a Router routes these calls
with fallbacks). mock_response= sends nothing: a vector (LiteLLM's form) for embeddings, scores for rerank, or
an exception to raise.
"""

from __future__ import annotations

import array
import base64
import binascii
import contextvars
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from ._engine.checks import check_timeout
from ._engine.keywords import INTERCEPTED, mock_value
from ._engine.operations import Operation, OperationRead, missing_operation
from ._engine.response import parse_json_body
from ._observe.embedding_cache import EmbeddingInputs
from .client import Client, _check_total, _priced
from .exceptions import (
    APIError,
    APIResponseValidationError,
    BadRequestError,
    ConfigurationError,
    UnsupportedParamsError,
)
from .types import Embedding, EmbeddingResponse, RerankResponse, RerankResult, Usage

if TYPE_CHECKING:
    from ._spec import ProviderSpec
    from .registry import ModelInfo

DEFAULT_MAX_WORKERS = 4  # batches of one call in flight at once
#: The call's own keyword arguments LiteLLM's aliases set (num_retries -> max_retries, base_url -> api_base, ...).
_OPTIONS = ("api_key", "api_base", "api_version", "timeout", "max_retries", "drop_params", "extra_headers")


def _read_keywords(
    client: Client, model: str, params: dict[str, Any], given: Mapping[str, Any], function: str
) -> tuple[str, Any]:
    """LiteLLM's call-level keywords read out of `params` (rewritten in place) by the table `completion()` reads:
    the model to call (custom_llm_provider=) and this call's prices (input_cost_per_token=), or None. `given`: the
    call's named parameters (dimensions=, top_n=, ...), put in params first so that additional_drop_params= drops
    them too; each is then in params, None where not given or dropped (read as absent by rules and cache keys)."""
    if not isinstance(client, Client):  # LiteLLM's client= (an OpenAI or HTTP client) given to a module function
        raise UnsupportedParamsError(
            f"{function}: client={type(client).__name__} is not a litellm_sync.Client: LiteLLM's client= (an "
            "OpenAI or HTTP client) is not supported here; pass client=litellm_sync.Client(...) or leave it out",
            model=model, request_sent=False,
        )
    params.update((name, value) for name, value in given.items() if value is not None)
    prices = None
    if not INTERCEPTED.isdisjoint(params):
        from .native import call_keywords  # refuses fallbacks= with what to use instead

        options = {name: params.pop(name, None) for name in _OPTIONS}
        model, left, prices = call_keywords(client, model, params, options, function)
        params.clear()
        params.update(left)
        params.update((name, value) for name, value in options.items() if value is not None)
    for name in given:
        params.setdefault(name, None)
    return model, prices


class _Call:
    """One operation call: the operation for the model and what every request of it shares."""

    def __init__(self, client: Client, kind: str, model: str, options: dict[str, Any], prices: Any = None) -> None:
        provider, name, info = client.resolve(model)
        operation = provider.operations.get(kind)
        if operation is None:
            raise missing_operation(provider.name, kind, name, sorted(provider.operations))
        self.client, self.provider, self.model, self.info = client, provider, name, info
        self.priced: ModelInfo | None = info if prices is None else _priced(info, provider.name, name, prices)
        self.operation: Operation = operation.for_model(name, info.name if info is not None else None)
        timeout, total = options.pop("timeout", None), options.pop("total_timeout", None)
        self.wait = client.timeout if timeout is None else check_timeout(timeout)
        self.total = client.total_timeout if total is None else _check_total(total)
        self.max_retries = options.pop("max_retries", None)
        drop = options.pop("drop_params", None)
        self.request_options = {
            "api_key": options.pop("api_key", None),
            "api_base": options.pop("api_base", None),
            "api_version": options.pop("api_version", None),
            "extra_headers": options.pop("extra_headers", None),
            "drop_params": client.drop_params if drop is None else drop,
        }
        self.deadline = time.monotonic() + self.total

    def send(self, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> OperationRead:
        """Build, send (with retries) and read one request; its errors come out redacted."""
        request = self.operation.build(self.model, inputs, params, info=self.info, **self.request_options)
        client = self.client
        try:
            def attempt() -> bytes:
                http = client._send(self.provider, request, self.model, self.wait, None, self.deadline, self.total)
                return http.read(client.limits)

            data = client.retry.call(attempt, self.max_retries)
            body = parse_json_body(data, self.provider.name, self.model, request.secrets)
            return self.operation.reader.read(body, self.provider.name, self.model, data, request.secrets)
        except APIError as error:
            error.redact_secrets(request.secrets)
            raise

    def begin(self, kind: str, texts: Sequence[Any], request: Any, params: dict[str, Any]) -> Any:
        """Enter the Client's pipeline as chat calls do: `metadata=` and a correlation id, the cache (keyed by the
        operation and `request`), budgets (the texts count as the prompt), hooks and payload logging."""
        messages = [{"role": "user", "content": text if isinstance(text, str) else str(text)} for text in texts]
        return self.client.pipeline.begin(self.provider.name, self.model, self.info, messages, params, False,
                                          operation=kind, request=request)


def cache_request(kind: str, *args: Any) -> tuple[str, Any]:
    """The operation and the request a cache entry of `embedding(model, *args)` or `rerank(model, *args)` is keyed
    by (the Router looks up the same keys before it picks a deployment)."""
    if kind == "embedding":
        return "embeddings", EmbeddingInputs(_check_input(args[0]))
    query, documents = args
    return "rerank", {"query": query, "documents": list(documents)}


def create_embedding(
    client: Client, model: str, input: Any, /, *, dimensions: int | None = None, encoding_format: str | None = None,
    input_type: str | None = None, max_workers: int = DEFAULT_MAX_WORKERS, **params: Any,
) -> EmbeddingResponse:
    """Embed `input` (a string or a list of them) with the model's provider; see the module docstring."""
    inputs = _check_input(input)
    if not isinstance(max_workers, int) or max_workers < 1:
        raise BadRequestError(f"max_workers={max_workers!r}: pass a whole number of threads >= 1")
    mock = params.pop("mock_response", None)
    given = {"dimensions": dimensions, "encoding_format": encoding_format, "input_type": input_type}
    model, prices = _read_keywords(client, model, params, given, "embedding()")
    encoding_format = params.get("encoding_format")
    if encoding_format not in (None, "float", "base64"):
        raise BadRequestError(f"encoding_format={encoding_format!r}: use 'float' (the default) or 'base64'")
    call = _Call(client, "embeddings", model, params, prices)
    cached = EmbeddingInputs(inputs)  # with a cache: only the inputs it lacks are sent, then rejoined
    tracked = call.begin("embeddings", inputs, cached, params)
    if tracked.hit is not None:
        return tracked.hit  # type: ignore[no-any-return]
    try:
        todo = cached.todo()
        if mock is not None:
            response = _mock_embedding(call, inputs, cached.positions, mock, encoding_format == "base64")
        else:
            size = call.operation.batch_size or len(todo)
            batches = [todo[start:start + size] for start in range(0, len(todo), size)]
            if len(batches) > 1 and tracked.retries is None:
                tracked.retries = []  # batch threads note their retries on the call at once: one list, no race
            reads = _run(call, batches, params, max_workers)
            response = _join(call, batches, reads, encoding_format == "base64")
        response = cached.join(response)
    except Exception as error:
        tracked.end(None, error, False)
        raise
    tracked.end(response, None, True)
    return response


def _mock_value(call: _Call, mock: Any, what: str) -> Any:
    """mock_response= as given, or the exception it names ('litellm.RateLimitError'), raised here."""
    value = mock_value(mock, call.model) if isinstance(mock, (str, BaseException)) else mock
    if isinstance(value, BaseException):
        raise value
    if not isinstance(value, (list, tuple)) or not value:
        raise ConfigurationError(f"mock_response={mock!r}: {what}, or an exception (or its name, e.g. "
                                 "'litellm.RateLimitError') to raise")
    return list(value)


def _numbers(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(
        isinstance(x, (int, float)) and not isinstance(x, bool) for x in value)


def _mock_embedding(call: _Call, inputs: list[Any], positions: list[int] | None, mock: Any,
                    want_base64: bool) -> EmbeddingResponse:
    """mock_response= for embeddings: LiteLLM's vector (every input gets it), a vector per input, or an exception;
    nothing is sent. The vectors of the inputs at `positions` (those the cache lacks; None: all). Usage counts one
    token per word, as `testing.mock_embedding` does."""
    value = _mock_value(call, mock, "expected a vector (a list of numbers, given to every input) or a list of "
                        f"{len(inputs)} vectors, one per input")
    vectors = [value] * len(inputs) if _numbers(value) else value
    if len(vectors) != len(inputs) or not all(_numbers(vector) for vector in vectors):
        raise ConfigurationError(f"mock_response: expected a vector (a list of numbers) or {len(inputs)} of them, "
                                 "one per input")
    if positions is not None:
        inputs, vectors = [inputs[p] for p in positions], [vectors[p] for p in positions]
    provider, model = call.provider.name, call.model
    data = [Embedding(_vector(list(v), want_base64, provider, model), i) for i, v in enumerate(vectors)]
    tokens = sum(len(text.split()) if isinstance(text, str) else len(text) for text in inputs)
    cost = call.priced.cost(tokens, 0) if call.priced is not None else None
    return EmbeddingResponse(data, model, Usage(prompt_tokens=tokens, total_tokens=tokens), provider, cost)


def _check_input(value: Any) -> list[Any]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise BadRequestError("input must be a string or a non-empty list of strings (or of token-id lists)")
    for position, item in enumerate(value):
        if not isinstance(item, (str, list)) or (isinstance(item, str) and not item):
            raise BadRequestError(f"input[{position}] is {item!r}: each input must be a non-empty string")
    return list(value)


def _run(call: _Call, batches: list[list[Any]], params: Mapping[str, Any], max_workers: int) -> list[OperationRead]:
    """Each batch's answer, in order; batches beyond the first go out in parallel on the Client's pool."""
    if len(batches) == 1:
        return [call.send({"input": batches[0]}, params)]
    workers = min(max_workers, len(batches), call.client.transport.pool_size)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="litellm_sync-embedding") as pool:
        # Each batch runs in its own copy of the call's context (one Context cannot be entered by two threads at
        # once): its log lines carry the call's correlation id, its retries are noted on the call, spans nest.
        futures: list[Future[OperationRead]] = [
            pool.submit(contextvars.copy_context().run, call.send, {"input": b}, params) for b in batches
        ]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()  # one batch failed: those not started are not sent
        for future in futures:  # the first failure in input order
            if future in done and future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
        return [future.result() for future in futures]


def _join(call: _Call, batches: list[list[Any]], reads: list[OperationRead], want_base64: bool) -> EmbeddingResponse:
    provider, model = call.provider.name, call.model
    data: list[Embedding] = []
    offset = 0
    prompt = total = 0
    counted = False
    answered_model = None
    for batch, read in zip(batches, reads):
        if len(read.items) != len(batch):
            raise APIResponseValidationError(
                f"the provider sent {len(read.items)} embeddings for {len(batch)} inputs",
                provider=provider, model=model,
            )
        for position, item in enumerate(read.items):
            index = item.get("index")
            index = index if index.__class__ is int and 0 <= index < len(batch) else position  # type: ignore[operator]
            vector = _vector(item.get("embedding"), want_base64, provider, model)
            data.append(Embedding(vector, offset + index))
        offset += len(batch)
        if "prompt_tokens" in read.usage:
            counted = True
            prompt += read.usage["prompt_tokens"]
            total += read.usage.get("total_tokens", read.usage["prompt_tokens"])
        answered_model = answered_model or read.model
    data.sort(key=lambda e: e.index)
    if [e.index for e in data] != list(range(offset)):
        raise APIResponseValidationError("the provider's embedding indexes do not cover the inputs once each",
                                         provider=provider, model=model)
    usage = Usage(prompt_tokens=prompt, total_tokens=total) if counted else None
    cost = call.priced.cost(prompt, 0) if call.priced is not None and usage is not None else None
    return EmbeddingResponse(data, answered_model or model, usage, provider, cost)


def _vector(value: Any, want_base64: bool, provider: str, model: str) -> list[float] | str:
    """A vector as the call wants it: floats, or base64 of little-endian float32."""
    if isinstance(value, str):
        if want_base64:
            return value
        try:
            raw = base64.b64decode(value, validate=True)
            floats = array.array("f")
            floats.frombytes(raw)
        except (binascii.Error, ValueError):
            raise APIResponseValidationError(
                "an embedding came back as text that is not base64 of float32 values", provider=provider, model=model
            ) from None
        if sys.byteorder == "big":
            floats.byteswap()
        return floats.tolist()
    if not isinstance(value, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value):
        raise APIResponseValidationError(
            f"an embedding is not a list of numbers (got {type(value).__name__})", provider=provider, model=model
        )
    if want_base64:
        packed = array.array("f", value)
        if sys.byteorder == "big":
            packed.byteswap()
        return base64.b64encode(packed.tobytes()).decode("ascii")
    return [float(x) for x in value]


def create_rerank(
    client: Client, model: str, query: str, documents: Sequence[Any], /, *, top_n: int | None = None,
    return_documents: bool | None = None, **params: Any,
) -> RerankResponse:
    """Rank `documents` (strings, or `{"text": ...}` dicts) by relevance to `query`; Cohere's shape back."""
    if not isinstance(query, str) or not query:
        raise BadRequestError("query must be a non-empty string")
    if isinstance(documents, (str, bytes)) or not isinstance(documents, Sequence) or not documents:
        raise BadRequestError("documents must be a non-empty list of strings (or of {'text': ...} dicts)")
    if top_n is not None and (not isinstance(top_n, int) or isinstance(top_n, bool) or top_n < 1):
        raise BadRequestError(f"top_n={top_n!r}: pass a whole number >= 1")
    mock = params.pop("mock_response", None)
    given = {"top_n": top_n, "return_documents": return_documents}  # what is sent; the reply is cut and filled here
    model, prices = _read_keywords(client, model, params, given, "rerank()")
    call = _Call(client, "rerank", model, params, prices)
    tracked = call.begin("rerank", [query, *documents], cache_request("rerank", query, documents)[1], params)
    if tracked.hit is not None:
        return tracked.hit  # type: ignore[no-any-return]
    try:
        if mock is not None:
            read = _mock_rerank(call, mock, len(documents))
        else:
            read = call.send({"query": query, "documents": list(documents)}, params)
        response = _rerank_response(call, read, list(documents), top_n, return_documents)
    except Exception as error:
        tracked.end(None, error, False)
        raise
    tracked.end(response, None, True)
    return response


def _mock_rerank(call: _Call, mock: Any, count: int) -> OperationRead:
    """mock_response= for rerank: one relevance score per document (ranked here, best first), or an exception;
    nothing is sent."""
    scores = _mock_value(call, mock, f"expected {count} relevance scores, one per document")
    if len(scores) != count or not _numbers(scores):
        raise ConfigurationError(f"mock_response: expected {count} relevance scores (numbers), one per document")
    read = OperationRead()
    read.model = call.model
    read.items = [{"index": i, "score": scores[i]} for i in sorted(range(count), key=lambda i: -scores[i])]
    return read


def _rerank_response(
    call: _Call, read: OperationRead, documents: list[Any], top_n: int | None, return_documents: bool | None
) -> RerankResponse:
    provider, model = call.provider.name, call.model
    results = []
    for item in read.items:
        index, score = item.get("index"), item.get("score")
        if index.__class__ is not int or not 0 <= index < len(documents) or not isinstance(score, (int, float)):  # type: ignore[operator]
            raise APIResponseValidationError(
                f"a rerank result lacks a valid index or relevance score: index={index!r}, score={score!r}",
                provider=provider, model=model,
            )
        document = _document(item.get("document")) if return_documents is not False else None
        if document is None and return_documents:
            document = _document(documents[index])  # the provider sends none back (Cohere v2): the input's
        results.append(RerankResult(index, float(score), document))  # type: ignore[arg-type]
    if top_n is not None:
        results = results[:top_n]
    units, tokens = read.usage.get("search_units"), read.usage.get("prompt_tokens")
    meta: dict[str, Any] = {}
    if units is not None:
        meta["billed_units"] = {"search_units": units}
    if tokens is not None:
        meta["tokens"] = {"input_tokens": tokens}
    usage = Usage(prompt_tokens=tokens, total_tokens=read.usage.get("total_tokens", tokens)) if tokens else None
    info: ModelInfo | None = call.priced
    if info is not None and info is not call.info:  # this call's prices (input_cost_per_token=) are per token
        cost = info.cost(tokens, 0) if tokens is not None else None
    else:
        cost = info.rerank_cost(units, tokens) if info is not None else None
    return RerankResponse(read.id, results, meta, read.model or model, usage, provider, cost)


def _document(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        return {"text": value}
    if isinstance(value, dict):
        return value
    return None


def provider_operations(provider: ProviderSpec) -> list[str]:
    """The named operations a provider's spec declares (for tools that list providers)."""
    return sorted(provider.operations)
