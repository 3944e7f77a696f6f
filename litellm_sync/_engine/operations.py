"""Named operations beside chat (embeddings, rerank), compiled from `operations:`: build one request on the
provider's connection (base URL, auth, variables, headers) and read its answer into plain items.

What the public functions do with the items (batching, decoding, costs) is in `litellm_sync.embeddings`; this
module knows no operation by name beyond the reader fields the schema declares.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..exceptions import APIResponseValidationError, UnsupportedParamsError
from .auth import public_context, split_call_args
from .checks import CREDENTIAL_HEADER, check_header_name, check_headers, encode_segment
from .params import ParamRules, RequestDraft
from .paths import MISSING, compile_fields, make_getter
from .redact import excerpt
from .request import (
    _JSON_HEADERS,
    Endpoint,
    PreparedRequest,
    ProviderConnection,
    _model_context,
    _unsendable,
    refused_before_sending,
)
from .variables import BaseUrl

_WHAT = "input or parameters"  # what an operation's refusals say was wrong

if TYPE_CHECKING:
    from .._spec.model import OperationModel, OperationReaderModel
    from ..registry import ModelInfo


#: What each operation's reader must say (compile refuses an operation without it).
READER_NEEDS = {"embeddings": ("embedding",), "rerank": ("score", "index")}


class OperationRead:
    """What one answer of an operation holds: its items (each a dict of the reader's fields), usage, id, model."""

    __slots__ = ("id", "items", "model", "usage")

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.usage: dict[str, int] = {}
        self.id: Any = None
        self.model: Any = None


class OperationReader:
    """A compiled operation `response:` block."""

    def __init__(self, spec: OperationReaderModel) -> None:
        self.top = compile_fields([spec.items, spec.id, spec.model, spec.usage_from])
        self.fields = [
            (name, make_getter(path))
            for name, path in (
                ("embedding", spec.embedding), ("index", spec.index), ("score", spec.score),
                ("document", spec.document), ("tokens", spec.item_tokens),
            )
            if path is not None
        ]
        paths: list[Any] = []
        self.usage_plan: list[tuple[str, list[int]]] = []
        for name, wanted in spec.usage:
            self.usage_plan.append((name, list(range(len(paths), len(paths) + len(wanted)))))
            paths.extend(wanted)
        self.usage_fields = compile_fields(paths)
        self.has_item_tokens = spec.item_tokens is not None

    def read(self, body: Any, provider: str, model: str, data: bytes, secrets: Sequence[str | None]) -> OperationRead:
        """The items and usage of a parsed 2xx body; APIResponseValidationError when it holds no item list."""
        out = OperationRead()
        items, found_id, found_model, usage = self.top(body)
        if isinstance(items, dict):
            items = [items]  # a single-item answer (one embedding per request)
        if not isinstance(items, list):
            raise APIResponseValidationError(
                f"the provider answered 2xx without the list of results its spec reads: {excerpt(data, secrets)}",
                provider=provider, model=model,
            )
        for item in items:
            fields = {name: getter(item) for name, getter in self.fields}
            if "index" in fields:
                fields["index"] = _whole_number(fields["index"])
            out.items.append(fields)
        out.id = found_id if isinstance(found_id, str) else None
        out.model = found_model if isinstance(found_model, str) else None
        if usage is not MISSING and self.usage_plan:
            values = self.usage_fields(usage)
            for name, slots in self.usage_plan:
                numbers = [values[i] for i in slots if values[i].__class__ is int]
                if numbers:
                    out.usage[name] = numbers[0] if len(slots) == 1 else sum(numbers)
        if self.has_item_tokens and "prompt_tokens" not in out.usage:
            counts = [item.get("tokens") for item in out.items]
            if counts and all(count.__class__ is int for count in counts):
                out.usage["prompt_tokens"] = sum(counts)  # type: ignore[arg-type]
        if any(value < 0 for value in out.usage.values()):
            raise APIResponseValidationError(
                f"the provider reported negative usage counts ({out.usage}); the answer is refused",
                provider=provider, model=model,
            )
        return out


def _whole_number(value: Any) -> Any:
    """An item's `index` as read, except that its decimal text becomes the number: a provider that answers with
    the record ids the body template gave (`id: "${index}"`) is read back to input positions this way."""
    if isinstance(value, str) and 0 < len(value) <= 9 and value.isascii() and value.isdigit():
        return int(value)
    return value


class Operation:
    """One compiled operation of a provider; `for_model` picks the `by_model` variant that names the model."""

    def __init__(self, provider: str, kind: str, spec: OperationModel, connection: ProviderConnection) -> None:
        self.provider = provider
        self.kind = kind
        self.spec = spec  # the model it was compiled from (the testing helpers write replies from its reader)
        self.connection = connection
        self.endpoint = Endpoint(spec.endpoint)
        if spec.endpoint.path_encoding == "segments":
            self.endpoint.path = _split_segments(self.endpoint.path)
        self.base = BaseUrl(provider, spec.base_url) if spec.base_url else None  # its own host, if it has one
        self.body = spec.body.fn
        self.params = ParamRules(spec.params, spec.unknown_params == "forward")
        self.template_params = spec.template_params
        self.batch_size = spec.batch_size
        self.reader = OperationReader(spec.response)
        self.variants = [
            (re.compile("|".join(map(fnmatch.translate, patterns))), Operation(provider, kind, variant, connection))
            for patterns, variant in spec.variants
        ]

    def for_model(self, *names: str | None) -> Operation:
        """The variant whose `models` patterns match one of the names (as called, as the registry names it)."""
        for pattern, variant in self.variants:
            if any(name and pattern.match(name) for name in names):
                return variant
        return self

    def build(
        self,
        model: str,
        inputs: Mapping[str, Any],
        params: Mapping[str, Any],
        *,
        api_key: str | None,
        api_base: str | None,
        api_version: str | None,
        extra_headers: Mapping[str, str] | None,
        drop_params: bool,
        info: ModelInfo | None,
    ) -> PreparedRequest:
        """The request for one call (one batch of inputs); refusals are raised before sending, with
        `request_sent=False`."""
        with refused_before_sending(self.provider, model, _WHAT):
            return self._build(model, inputs, params, api_key, api_base, api_version, extra_headers, drop_params, info)

    def _build(
        self,
        model: str,
        inputs: Mapping[str, Any],
        params: Mapping[str, Any],
        api_key: str | None,
        api_base: str | None,
        api_version: str | None,
        extra_headers: Mapping[str, str] | None,
        drop_params: bool,
        info: ModelInfo | None,
    ) -> PreparedRequest:
        connection = self.connection
        auth_args, params = split_call_args(connection.mechanism, params)
        variables, params = connection.variables.resolve(params, auth_args)
        key = connection.api_key(api_key)
        given = {name: value for name, value in params.items() if value is not None}
        context: dict[str, Any] = {
            "model": model,
            "api_key": key,
            "api_version": connection.version(api_version),
            "model_info": _model_context(info),
            "params": given,
            **public_context(connection.mechanism, auth_args),
            **variables,
            **inputs,
        }
        body = self.body(context)
        body = body if isinstance(body, dict) else {}
        context["body"] = body
        headers = dict(_JSON_HEADERS)
        connection.add_headers(context, headers)
        draft = RequestDraft(body, headers, context, self.provider, model, info.features if info else None, drop_params)
        self.params.apply({k: v for k, v in given.items() if k not in self.template_params}, draft)
        query = connection.auth(key, context, headers)
        secrets: tuple[str, ...] = (key,) if key else ()
        signer = connection.signer(key, context, auth_args)
        for name, value in (extra_headers or {}).items():
            check_header_name(name)
            text = str(value)
            headers[name.lower()] = text
            if CREDENTIAL_HEADER.search(name) and len(text) >= 4:
                secrets = (*secrets, text)
        check_headers(headers)
        if self.base is not None and not api_base:
            connection.variables.check_required(variables)
            base = self.base.render({"api_version": context["api_version"], **variables})
        else:
            base = connection.base(api_base, context)
        url = self.endpoint.url(base, context, False, query)
        payload = None
        if self.endpoint.method != "GET":
            try:
                text = json.dumps(draft.body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise _unsendable(self.provider, model, f"holds a value JSON cannot carry ({exc})", _WHAT) from None
            payload = text.encode("utf-8")
        return PreparedRequest(self.endpoint.method, url, headers, payload, key, secrets, connection.key_env, signer)


def _split_segments(path: Any) -> Any:
    """A path template whose string values keep their '/' as separators, each piece still encoded as one
    segment (so '..', '?', '#' cannot leave it): `path_encoding: segments`."""

    def render(context: Any) -> Any:
        return path(_SegmentsView(context))

    return render


class _SegmentsView(Mapping[str, Any]):
    """What a `segments` path reads: the call's values, each '/'-separated piece encoded as one segment."""

    def __init__(self, view: Any) -> None:
        self._view = view  # a SegmentContext: its own context holds the values as given

    def __getitem__(self, name: str) -> Any:
        value = self._view._context[name]
        if isinstance(value, str) and "/" in value:
            return "/".join(encode_segment(piece, self._view._safe) for piece in value.split("/"))
        return self._view[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._view)

    def __len__(self) -> int:
        return len(self._view)


def missing_operation(provider: str, kind: str, model: str, offered: Sequence[str]) -> UnsupportedParamsError:
    """The error for a provider whose spec declares no such operation."""
    others = f" (it declares: {', '.join(offered)})" if offered else ""
    return UnsupportedParamsError(
        f"provider '{provider}' declares no {kind} operation in its spec{others}; use a provider that does "
        f"(litellm-sync providers), or add `operations: {{{kind}: ...}}` to its YAML (docs/providers-yaml.md)",
        provider=provider, model=model, request_sent=False,
    )

