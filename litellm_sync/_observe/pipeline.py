"""The seam between a Client's call and its cache, budgets, hooks and correlation id: `Pipeline.begin` before
the request is built, then `Call.end` (or `Call.stream`) when it ends. The Client calls nothing else.

    call = self.pipeline.begin(provider.name, model_name, info, messages, params, stream)
    if call.hit is not None:
        return call.hit                      # served from the cache: nothing sent, hooks told, cost 0
    ... build (on error: call.refused(error)), send ...
    call.end(response, error, complete)      # plain calls, and a stream that failed to open
    return call.stream(chat_stream)          # a stream: settled, stored and reported when it ends
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._engine.redact import get_logger
from ..exceptions import ConfigurationError, LiteLLMSyncError
from ..hooks import CallEvent, Hook, RetryNote, notify
from ..registry import ModelInfo
from .context import CURRENT, PAYLOAD_LOGGER, new_id, run_in
from .embedding_cache import EmbeddingInputs

if TYPE_CHECKING:
    from ..budgets import Budgets, Reservation
    from ..cache import Cache

log = get_logger()
payload_log = logging.getLogger(PAYLOAD_LOGGER)
_EMPTY: Mapping[str, Any] = {}


class Pipeline:
    """What a Client does around each call; `active` is False when there is nothing to do beyond the id."""

    def __init__(self, hooks: Sequence[Hook] = (), cache: Any = None, budgets: Any = None) -> None:
        # The cache and budget modules are imported only by a Client that uses them: `import litellm_sync` stays lean.
        self.cache_module: Any = None
        if cache is not None:
            from .. import cache as cache_module

            if not isinstance(cache, cache_module.Cache):
                raise ConfigurationError(
                    f"cache={cache!r}: expected a litellm_sync.cache backend (MemoryCache(), RedisCache(url), ...)"
                )
            self.cache_module = cache_module
        self.scope_of: Any = None
        if budgets is not None:
            from ..budgets import Budgets, scope_of

            if isinstance(budgets, (list, tuple)):
                budgets = Budgets(budgets)
            elif not isinstance(budgets, Budgets):
                raise ConfigurationError(f"budgets={budgets!r}: expected Budgets(...) or a list of Budget(...)")
            self.scope_of = scope_of
        self.hooks = tuple(hooks)
        # Reservations of streams dropped unclosed (their end is never reported): settled by the next call, never
        # from the garbage collector's thread (which may hold any lock).
        self.abandoned: list[Reservation] = []
        self.cache: Cache | None = cache
        self.budgets: Budgets | None = budgets
        self.active = bool(self.hooks) or cache is not None or budgets is not None

    def begin(
        self, provider: str, model: str, info: ModelInfo | None, messages: Sequence[Any], params: dict[str, Any],
        stream: bool, native: bool = False, operation: str | None = None, request: Any = None,
    ) -> Call:
        """Start a call: take `metadata=` and `cache=` out of params (they are never sent), give it its id, serve
        it from the cache when it can, and admit it under the budgets (BudgetExceededError when it cannot).

        native: the caller wants the provider's own body beside the ChatResponse (`responses()`): its entries are
        keyed apart from chat ones, store that body (`end(..., native=body)`) and come back as a cached
        ChatResponse with `.native`; native streams are not cached.

        operation, request: a call of another operation than chat (`embeddings`, `rerank`): its cache key reads
        `request` (its inputs, as sent) in place of the messages, keyed apart from chat entries and from the other
        operations; `messages` are then what budgets estimate and hooks see. An `EmbeddingInputs` request is cached
        input by input (embedding_cache.py): a partial hit is a miss whose request then says which inputs to send."""
        metadata = params.pop("metadata", None) or _EMPTY
        options = _check_options(params.pop("cache")) if "cache" in params else _EMPTY
        if not isinstance(metadata, Mapping):
            raise ConfigurationError(
                f"metadata= is a {type(metadata).__name__}: expected a dict, for example {{'request_id': ...}}"
            )
        call = Call(self, provider, model, stream, metadata, messages, params, options, native, operation, request)
        if payload_log.isEnabledFor(logging.DEBUG):
            payload_log.debug("request %s/%s stream=%s: %s", provider, model, stream,
                              _json({"messages": messages, **params}))
        if self.cache is not None:
            call.lookup()
            if call.hit is not None:
                return call
        if self.budgets is not None:
            while self.abandoned:
                self.budgets.settle(self.abandoned.pop(), None)  # counted as a call of unknown cost
            if isinstance(request, EmbeddingInputs) and request.positions is not None:
                messages = [messages[position] for position in request.positions]  # the inputs to send, no more
            try:
                call.reservation = self.budgets.admit(self.scope_of(provider, model, params, metadata), info, messages,
                                                      params)
            except LiteLLMSyncError as error:
                call.refused(error)
                raise
        return call


    def cached(
        self, provider: str, model: str, messages: Sequence[Any], params: Mapping[str, Any], stream: bool,
        tried: set[str], operation: str | None = None, request: Any = None,
    ) -> Any:
        """The cache alone, before anything is reserved (the Router looks here before it picks a deployment, so a
        hit takes no rate-limit capacity): the hit, its hooks told as for `begin`, or None. Keys already in
        `tried` are not looked up again; nothing else (budgets, logs) happens on a miss. operation and request: as
        for `begin`."""
        if self.cache is None:
            return None
        params = dict(params)
        metadata = params.pop("metadata", None) or _EMPTY
        try:
            options = _check_options(params.pop("cache")) if "cache" in params else _EMPTY
        except ConfigurationError:
            return None  # the call itself raises it
        if not isinstance(metadata, Mapping) or options.get("no-cache"):
            return None
        call = Call(self, provider, model, stream, metadata, messages, params, options, False, operation, request)
        call.lookup(tried)
        if call.hit is None:
            call._leave()
        return call.hit


class Call:
    """One call seen by the pipeline, from `begin` to its end."""

    __slots__ = ("context", "correlation_id", "finalizer", "hit", "key", "messages", "metadata", "model", "native",
                 "operation", "options", "params", "pipeline", "provider", "request", "reservation", "retries",
                 "started", "started_at", "stream_ref", "streaming", "token", "ttft")  # fmt: skip

    def __init__(
        self, pipeline: Pipeline, provider: str, model: str, stream: bool, metadata: Mapping[str, Any],
        messages: Sequence[Any], params: dict[str, Any], options: Mapping[str, Any], native: bool = False,
        operation: str | None = None, request: Any = None,
    ) -> None:
        self.pipeline = pipeline
        self.native = native
        self.operation = operation
        self.request = request
        self.provider = provider
        self.model = model
        self.streaming = stream
        self.metadata = metadata
        self.messages = messages
        self.params = params
        self.options = options
        given = metadata.get("request_id")
        self.correlation_id = given if isinstance(given, str) and given else new_id()
        self.retries: list[tuple[int, str, float]] | None = None  # noted by the retry policy (context.note_retry)
        self.token: contextvars.Token[Any] | None = CURRENT.set(self)
        self.started = time.perf_counter()
        self.started_at = time.time() if pipeline.hooks else None
        # A stream is read wherever it is consumed: it is read, and its hooks run, in a copy of the context it
        # started in (the call current, for log lines; the caller's span, for tracing hooks).
        self.context = contextvars.copy_context() if stream else None
        self.hit: Any = None
        self.key: str | None = None
        self.reservation: Reservation | None = None
        self.stream_ref: Any = None
        self.finalizer: weakref.finalize | None = None
        self.ttft: float | None = None

    def _leave(self) -> None:
        token, self.token = self.token, None
        if token is not None:
            try:  # noqa: SIM105 - contextlib.suppress costs a microsecond on every call
                CURRENT.reset(token)
            except ValueError:  # ended in another context: nothing to undo there
                pass

    def lookup(self, tried: set[str] | None = None) -> None:
        """Serve the call from the cache when an entry for it can be read back (unless its key is in `tried`)."""
        cache, cache_module = self.pipeline.cache, self.pipeline.cache_module
        assert cache is not None
        if self.native and self.streaming:
            return  # a native stream's events are not stored: it is always sent
        if isinstance(self.request, EmbeddingInputs):  # an entry per input: a hit when every input has one
            answer = self.request.lookup(self, cache, cache_module, tried)
        else:
            answer = self._entry(cache, cache_module, tried)
        if answer is None:
            return
        if isinstance(answer, list):
            from .replay import CachedStream

            replay = CachedStream(answer, self.provider, self.model)
            self.hit = replay
            if self.pipeline.hooks:
                replay.notify_end(lambda response, error, complete: self._report(response, None, True, True))
        else:
            self.hit = answer
            if self.pipeline.hooks:
                self._report(answer, None, True, True)
        log.debug("cache hit for %s/%s", self.provider, self.model)
        self._leave()

    def _entry(self, cache: Cache, cache_module: Any, tried: set[str] | None) -> Any:
        """The whole call's entry read back (a response, or a stream's chunks), or None (a miss)."""
        keyed = self.messages if self.operation is None else self.request
        self.key = cache_module.cache_key(self.provider, self.model, keyed, self.params, self.streaming,
                                          native=self.native, operation=self.operation)
        if self.key is None or self.options.get("no-cache"):
            return None
        if tried is not None:
            if self.key in tried:
                return None
            tried.add(self.key)
        try:
            data = cache.get(self.key)
        except Exception as exc:  # any backend's failure is a miss: the call still goes out
            log.warning("cache lookup failed, treating it as a miss: %s: %s", type(exc).__name__, exc)
            return None
        if data is None:
            return None
        try:
            answer = cache_module.decode(self.key, data)
        except cache_module.BadEntry as why:
            log.debug("cache entry %s… unreadable (%s): a miss", self.key[:12], why)
            return None
        if isinstance(answer, list) != self.streaming or (getattr(answer, "native", None) is not None) != self.native:
            return None
        return answer

    def refused(self, error: BaseException) -> None:
        """The call was refused before sending (a budget, a bad parameter): release what it holds."""
        if isinstance(error, LiteLLMSyncError) and error.correlation_id is None:
            error.correlation_id = self.correlation_id
        budgets, reservation = self.pipeline.budgets, self.reservation
        if budgets is not None and reservation is not None:
            budgets.settle(reservation, None, sent=False)
        self._leave()

    def end(self, response: Any, error: BaseException | None, complete: bool, native: Any = None) -> None:
        """The call ended (a plain call, or a stream that failed or finished): settle, store, report. native: the
        provider's own body, stored beside the response when the call was begun with native=True."""
        if error is not None and isinstance(error, LiteLLMSyncError) and error.correlation_id is None:
            error.correlation_id = self.correlation_id
        pipeline = self.pipeline
        if self.finalizer is not None:
            self.finalizer.detach()
        if pipeline.budgets is not None and self.reservation is not None:
            pipeline.budgets.settle(self.reservation, response.cost if response is not None else None,
                                    sent=response is not None or error is None)
        if pipeline.cache is not None and self.key is not None and error is None and complete:
            try:
                self._store(response, native)
            except Exception as exc:  # the answer is not lost because it could not be stored
                log.warning("cache could not store an answer: %s: %s", type(exc).__name__, exc)
        if payload_log.isEnabledFor(logging.DEBUG) and response is not None:
            payload_log.debug("response %s/%s: %s", self.provider, self.model, _json(response.to_dict()))
        if pipeline.hooks:
            run_in(self.context, self._report, response, error, complete, False)
        self._leave()

    def _store(self, response: Any, native: Any = None) -> None:
        cache, cache_module = self.pipeline.cache, self.pipeline.cache_module
        if cache is None or self.key is None or self.options.get("no-store"):
            return
        ttl = self.options.get("ttl")
        ttl = float(ttl) if isinstance(ttl, (int, float)) else None
        if isinstance(self.request, EmbeddingInputs):
            self.request.store(self, cache, cache_module, ttl)  # each fresh vector under its own key
            return
        if self.streaming:
            opened = self.stream_ref() if self.stream_ref is not None else None
            chunks = opened.chunks if opened is not None else None
            if not chunks:
                return
            entry = cache_module.encode(self.key, chunks)
        elif response is None:
            return
        elif self.native:
            if native is None:
                return
            entry = cache_module.encode(self.key, response, native)
        else:
            entry = cache_module.encode(self.key, response)
        cache.set(self.key, entry, ttl)

    def stream(self, opened: Any) -> Any:
        """A stream opened (its first chunk read): it reports when it ends; returns it for the caller."""
        self.ttft = (time.perf_counter() - self.started) * 1000
        opened.context = self.context  # read in the call's context: its log lines carry the correlation id
        if self.pipeline.active:
            self.stream_ref = weakref.ref(opened)
            opened.notify_end(self.end)
            if self.reservation is not None:  # dropped unclosed, the stream never ends: hand its reservation back
                self.finalizer = weakref.finalize(opened, self.pipeline.abandoned.append, self.reservation)
        self._leave()
        return opened

    def _report(self, response: Any, error: BaseException | None, complete: bool, hit: bool) -> None:
        latency = (time.perf_counter() - self.started) * 1000
        event = CallEvent(
            self.provider, self.model, self.streaming, latency, response, error, complete,  # type: ignore[arg-type]
            correlation_id=self.correlation_id, cache_hit=hit, metadata=self.metadata,
            started_at=self.started_at, time_to_first_token_ms=self.ttft if self.streaming else None,
            messages=self.messages, params=self.params,
            retries=tuple(RetryNote(*r) for r in self.retries) if self.retries else (),
        )  # fmt: skip
        notify(self.pipeline.hooks, event)


def _check_options(options: Any) -> Mapping[str, Any]:
    from ..cache import check_options

    return check_options(options)


def _json(value: Any) -> str:
    try:
        return json.dumps(value, default=lambda v: v.to_dict() if hasattr(v, "to_dict") else repr(v))[:100_000]
    except (TypeError, ValueError, RecursionError):
        return repr(value)[:100_000]
