"""`Client`: the compiled spec, the connection pool and the defaults; thread-safe, shared freely."""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable

import requests
import requests.auth

from ._engine.attempt import send_attempt
from ._engine.checks import check_timeout
from ._engine.keywords import INTERCEPTED, mock_value, take_keywords
from ._engine.paths import make_getter
from ._engine.pricing import cost_function as _cost_function
from ._engine.pricing import priced as _priced
from ._engine.request import PreparedRequest
from ._engine.response import ChunkAssembler, parse_json_body, read_response
from ._engine.structured import prepare as prepare_structured
from ._engine.transport import Reply, Transport
from ._observe.pipeline import Pipeline
from ._record import note_origin
from ._spec import CompiledSpec, ProviderSpec, load_spec
from .exceptions import APIError, ConfigurationError, UnknownModelError
from .hooks import Hook
from .limits import DEFAULT_LIMITS, Limits
from .registry import ModelInfo
from .retry import RetryPolicy
from .stream import ChatStream

if TYPE_CHECKING:
    from .budgets import Budget, Budgets
    from .cache import Cache

DEFAULT_TIMEOUT = 600.0  # one attempt: connecting, each read, and the whole answer (stream included)
DEFAULT_TOTAL_TIMEOUT = 600.0  # one call, retries and their waits included: the most a thread is held


class Client:
    """Calls any provider in the spec. Build one and share it across threads.

    providers: extra spec files (a path or a list; mappings work too) layered over the bundled
    providers.yaml; None reads the LITELLM_SYNC_PROVIDERS environment variable (os.pathsep list).
    The transport is requests: session=None builds one `requests.Session` per Client (pool of pool_size
    connections per host, no cookies kept, redirects off); session=your own Session is used as it is (its
    mounted adapters, auth, hooks). proxy: None lets requests honour HTTPS_PROXY / HTTP_PROXY / ALL_PROXY
    and NO_PROXY; a URL is requests' `proxies=` for http and https; False uses no proxy. verify, cert: as in
    requests (REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE apply when verify is not given). auth: any
    `requests.auth.AuthBase`, applied to each final request. limits: size bounds on answers (limits.py).
    hooks: callables given a `CallEvent` when each call ends (see hooks.py).
    cache: a `litellm_sync.cache` backend (cache.py); budgets: `Budgets(...)` or a list of `Budget` (budgets.py).

    timeout: a number bounds one attempt as a whole (connect, each read, and the full body or stream, SSE
    keep-alive comments included); (connect, read) bounds each phase as in requests. total_timeout bounds
    the whole call with its retries (default 600 s): no attempt starts after it and no read waits past it.
    """

    def __init__(
        self,
        providers: Any = None,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        total_timeout: float = DEFAULT_TOTAL_TIMEOUT,
        max_retries: int = 2,
        pool_size: int = 32,
        drop_params: bool = False,
        retry_policy: RetryPolicy | None = None,
        spec: CompiledSpec | None = None,
        proxy: str | bool | None = None,
        hooks: Sequence[Hook] = (),
        session: requests.Session | None = None,
        verify: bool | str | None = None,
        cert: str | tuple[str, str] | None = None,
        auth: requests.auth.AuthBase | None = None,
        limits: Limits = DEFAULT_LIMITS,
        cache: Cache | None = None,
        budgets: Budgets | Sequence[Budget] | None = None,
    ) -> None:
        self.spec = spec if spec is not None else load_spec(providers)
        self.timeout = check_timeout(timeout)
        self.total_timeout = _check_total(total_timeout)
        self.drop_params = drop_params
        self.retry = retry_policy or RetryPolicy(max_retries=max_retries)
        self.transport = Transport(pool_size, session=session, proxy=proxy, verify=verify, cert=cert, auth=auth)
        self.limits = limits
        self.hooks = tuple(hooks)
        self.pipeline = Pipeline(self.hooks, cache, budgets)  # cache, budgets, hooks, correlation ids

    def __repr__(self) -> str:
        return f"Client(providers={len(self.spec.providers)}, timeout={self.timeout!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close pooled connections."""
        self.transport.close()

    # -- resolution -------------------------------------------------------------------------------

    def resolve(self, model: str) -> tuple[ProviderSpec, str, ModelInfo | None]:
        """The provider, the model as the provider spells it, and the registry's info (None if unlisted).

        The spec is read once: `register_model` on another thread swaps `self.spec` whole, and the three answers
        must come from the same one."""
        spec = self.spec
        provider_name, model_name = spec.registry.resolve(model)
        provider = spec.provider(provider_name)
        for prefix, target in provider.model.routes:  # `routes:` in YAML: another entry serves these models
            if model_name.startswith(prefix):
                provider_name, provider = target, spec.provider(target)
                break
        return provider, model_name, spec.registry.get(provider_name, model_name)

    # -- chat ---------------------------------------------------------------------------------------

    def completion(
        self,
        model: str,
        messages: Sequence[Any],
        *,
        stream: bool = False,
        api_key: str | None = None,
        api_base: str | None = None,
        api_version: str | None = None,
        timeout: float | tuple[float, float] | None = None,
        max_retries: int | None = None,
        drop_params: bool | None = None,
        extra_headers: Mapping[str, str] | None = None,
        auth: requests.auth.AuthBase | None = None,
        total_timeout: float | None = None,
        mock_response: Any = None,
        **params: Any,
    ) -> Any:
        """Call a chat model; a ChatResponse, or a ChatStream of ChatChunks when stream=True.

        mock_response: send nothing; text is read back as the answer (through the provider's own reader and
        stream rules), an exception instance is raised; hooks see the call (litellm_sync.testing.mock).

        auth: a `requests.auth.AuthBase` for this call (over the Client's); a spec-named mechanism the
        request builder sets wins over both.

        LiteLLM's call-level keywords (num_retries, request_timeout, base_url, fallbacks, caching, ...) are read
        here, before the provider's parameter rules, and never sent: see _engine/keywords.py and
        docs/migrating-from-litellm.md."""
        prices = None
        if params and not INTERCEPTED.isdisjoint(params):
            options = {"api_key": api_key, "api_base": api_base, "api_version": api_version, "timeout": timeout,
                       "max_retries": max_retries, "drop_params": drop_params, "extra_headers": extra_headers,
                       "mock_response": mock_response}  # fmt: skip
            keywords = take_keywords(model, dict(params), options, self.drop_params if drop_params is None else
                                     drop_params, self.pipeline.cache is not None)  # fmt: skip
            if keywords.fallbacks or keywords.context_window:
                from ._router.per_call import complete_with_fallbacks

                extra = {"auth": auth, "total_timeout": total_timeout}
                return complete_with_fallbacks(self, keywords, messages, stream, extra)
            model, params, prices = keywords.model, keywords.params, keywords.prices
            api_key, api_base, api_version = options["api_key"], options["api_base"], options["api_version"]
            timeout, max_retries, extra_headers = options["timeout"], options["max_retries"], options["extra_headers"]
        wait = self.timeout if timeout is None else check_timeout(timeout)
        total = self.total_timeout if total_timeout is None else _check_total(total_timeout)
        structured = None  # response_format as a schema or model: sent as json_schema, loaded into .parsed
        if params.get("response_format") is not None:
            params["response_format"], structured = prepare_structured(params["response_format"])
        provider, model_name, info = self.resolve(model)
        call = self.pipeline.begin(provider.name, model_name, info, messages, params, stream)
        if call.hit is not None:
            return call.hit if structured is None else structured.attach(call.hit)
        mock = None
        if mock_response is not None:  # nothing is sent, so no key is needed
            from .testing.mock import mock_http_reply

            mock_response = mock_value(mock_response, model_name)
            api_key = api_key or "sk-mock"
            mock = functools.partial(mock_http_reply, provider, model_name, mock_response, stream)
        try:
            request = provider.builder.build(
                model_name,
                messages,
                params,
                stream=stream,
                api_key=api_key,
                api_base=api_base,
                api_version=api_version,
                extra_headers=extra_headers,
                drop_params=self.drop_params if drop_params is None else drop_params,
                info=info,
            )
        except BaseException as error:
            call.refused(error)
            raise
        cost = _cost_function(info if prices is None else _priced(info, provider.name, model_name, prices))
        call_deadline = time.monotonic() + total
        if isinstance(mock_response, BaseException):
            call.end(None, mock_response, False)
            raise mock_response
        if stream:

            def open_stream() -> ChatStream:
                http = self._send(provider, request, model_name, wait, auth, call_deadline, total, mock)
                opened = ChatStream(
                    http,
                    provider.stream,
                    provider.errors,
                    ChunkAssembler(model_name, provider.name, cost, provider.stream.tool_calls_finish_reason),
                    request.secrets,
                    limits=self.limits,
                    keep=self.pipeline.active,
                )
                opened.prefetch()  # an error before the first chunk is retried like any other
                note_origin(opened, request.public_base)
                return opened

            try:
                chat_stream = self.retry.call(open_stream, max_retries)
            except Exception as error:
                if isinstance(error, APIError):
                    error.redact_secrets(request.secrets)
                call.end(None, error, False)
                raise
            return call.stream(chat_stream if structured is None else structured.attach(chat_stream, request.secrets))
        try:
            def attempt() -> bytes:
                http = self._send(provider, request, model_name, wait, auth, call_deadline, total, mock)
                return http.read(self.limits)

            body = self.retry.call(attempt, max_retries)
            response = read_response(provider.reader, body, model_name, provider.name, cost, request.secrets)
            note_origin(response, request.public_base)
        except Exception as error:
            if isinstance(error, APIError):  # the one place every error of a plain call passes: mask the key
                error.redact_secrets(request.secrets)
            call.end(None, error, False)
            raise
        call.end(response, None, True)
        return response if structured is None else structured.attach(response, request.secrets)

    def spend(self, **key: Any) -> Any:
        """What has been spent this period under the Client's budgets: `spend(user="alice", period="month")`,
        one of user=, tag=, model= ("provider/model"), model_group=, or none for the whole client (budgets.py)."""
        if self.pipeline.budgets is None:
            raise ConfigurationError("this Client counts no spend: build it with budgets=Budgets(...)")
        return self.pipeline.budgets.spend(**key)

    def _send(
        self,
        provider: ProviderSpec,
        request: PreparedRequest,
        model: str,
        timeout: Any,
        auth: Any,
        call_deadline: float | None = None,
        total: float = 0.0,
        mock: Callable[[], Reply] | None = None,
    ) -> Reply:
        """One attempt, bounded by timeout and by the call's monotonic deadline (total_timeout) if given; a non-2xx
        status raises the mapped error (_engine/attempt.py). Embeddings and native calls send through it too."""
        return send_attempt(
            self.transport, self.limits, provider, request, model, timeout, auth, call_deadline, total, mock
        )

    def list_live_models(
        self,
        provider: str,
        *,
        api_key: str | None = None,
        api_base: str | None = None,
        timeout: float | tuple[float, float] | None = None,
    ) -> list[str]:
        """The model ids the provider's models endpoint (declared in YAML) lists now; one attempt, no retry."""
        spec = self.spec.provider(provider)
        request = spec.builder.build_models_request(api_key, api_base)
        wait = self.timeout if timeout is None else check_timeout(timeout)
        total = self.total_timeout
        body = self._send(spec, request, "", wait, None, time.monotonic() + total, total).read(self.limits)
        items = make_getter(spec.models_list_path or "data")(parse_json_body(body, provider, "", request.secrets))
        read_id = make_getter(spec.models_id_path or "id")
        endpoint = spec.builder.models_endpoint
        prefix = endpoint.strip_prefix if endpoint is not None else ""
        ids = [found for found in map(read_id, items if isinstance(items, list) else ()) if isinstance(found, str)]
        return [name[len(prefix):] if prefix and name.startswith(prefix) else name for name in ids]

    # -- registry ---------------------------------------------------------------------------------

    def get_model_info(self, model: str) -> ModelInfo:
        """What the spec knows about a model; UnknownModelError when it lists nothing for it."""
        provider, model_name, info = self.resolve(model)
        if info is None:
            raise UnknownModelError(
                f"Provider '{provider.name}' lists no model '{model_name}' in the spec; calls still work, "
                "but features and prices are unknown. Add it under the provider's models: in YAML.",
                self.spec.registry.suggest(model),
            )
        return info

    def cost_per_token(
        self,
        model: str,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        cached_tokens: int = 0,
        cache_creation_tokens: int = 0,
        reasoning_tokens: int = 0,
    ) -> Decimal | None:
        """USD for the given token counts (prompt_tokens includes cached ones); None when unpriced."""
        return self.get_model_info(model).cost(
            prompt_tokens, completion_tokens, cached_tokens, cache_creation_tokens, reasoning_tokens
        )

    def completion_cost(self, response: Any) -> Decimal | None:
        """USD for a ChatResponse (or the usage of a finished stream); None when unpriced or no usage."""
        if getattr(response, "cost", None) is not None:
            return response.cost  # type: ignore[no-any-return]
        usage = getattr(response, "usage", None)
        provider, model = getattr(response, "provider", None), getattr(response, "model", None)
        if usage is None or provider is None or model is None:
            return None
        info = self.spec.registry.get(provider, model)
        cost = _cost_function(info)
        return cost(usage) if cost is not None else None

    # -- embeddings and rerank (named operations of the spec; see embeddings.py) ------------------------

    def embedding(self, model: str, input: Any, **kwargs: Any) -> Any:
        """Embed a string or a list of strings: an EmbeddingResponse in OpenAI's shape (see embeddings.py for
        dimensions=, encoding_format=, input_type=, max_workers= and the call options completion() takes)."""
        from .embeddings import create_embedding

        return create_embedding(self, model, input, **kwargs)

    def rerank(self, model: str, query: str, documents: Sequence[Any], **kwargs: Any) -> Any:
        """Rank documents by relevance to query: a RerankResponse in Cohere's shape (top_n=, return_documents=)."""
        from .embeddings import create_rerank

        return create_rerank(self, model, query, documents, **kwargs)


def _check_total(value: Any) -> float:
    """total_timeout: one positive number of seconds (no (connect, read) pair), or ConfigurationError."""
    if isinstance(value, tuple):
        raise ConfigurationError(f"total_timeout={value!r} is not a timeout: pass seconds as one number > 0")
    return check_timeout(value, "total_timeout")  # type: ignore[return-value]
