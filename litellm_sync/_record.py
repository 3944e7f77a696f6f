"""The slotted record every answer type is built on (attribute, item and `to_dict()` access, a readable repr),
and LiteLLM's `_hidden_params` with where an answer came from (`note_origin`); re-exported by types.py."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar


class _Record:
    """A slotted record: attribute access, `obj["field"]`, `to_dict()` and a readable repr."""

    __slots__: ClassVar[tuple[str, ...]] = ()
    #: Fields kept in to_dict() even when None (OpenAI clients expect them).
    _keep_none: ClassVar[frozenset[str]] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-ready dict, None-valued optional fields left out."""
        out: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if value is None and name not in self._keep_none:
                continue
            out[name] = _plain(value)
        return out

    def __getitem__(self, key: str) -> Any:
        if key in self.__slots__:
            return getattr(self, key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        """Dict-style access for code written against dict responses."""
        value = getattr(self, key, None) if key in self.__slots__ else None
        return default if value is None else value

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.to_dict() == other.to_dict()  # type: ignore[union-attr]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__ if getattr(self, k) is not None)
        return f"{type(self).__name__}({fields})"


def _plain(value: Any) -> Any:
    if isinstance(value, _Record):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    return value


class _Hidden(_Record):
    """An answer with LiteLLM's `_hidden_params`; where it came from (`note_origin`) is held in a slot of its own,
    outside the record's fields: never dumped, cached or compared."""

    __slots__ = ("_origin",)
    cache_hit: ClassVar[bool] = False
    cost: Decimal | None
    provider: str | None

    @property
    def _hidden_params(self) -> dict[str, Any]:
        """LiteLLM's `response._hidden_params`: response_cost (USD, a float; None when unpriced), the provider
        (custom_llm_provider), api_base (the base URL the call was sent to, without user info, query or key;
        None when nothing was sent: a cache hit) and model_id (the Router deployment that answered, its
        `model_info.id`; None for a Client's own call, as LiteLLM's plain completion)."""
        cost = None if self.cost is None else float(self.cost)
        api_base, model_id = getattr(self, "_origin", (None, None))
        return {"response_cost": cost, "custom_llm_provider": self.provider, "model_id": model_id,
                "api_base": api_base, "cache_hit": self.cache_hit}  # fmt: skip


def note_origin(answer: Any, api_base: str | None = None, model_id: str | None = None) -> Any:
    """Record on an answer (a response, or a stream whose `response()` passes it on) the base URL it was sent to
    and the Router deployment that served it, for its `_hidden_params`; a value not given is kept. An answer
    that has no `_hidden_params` (a cache replay) is left as it is. Returns the answer."""
    if isinstance(answer, _Hidden) or hasattr(answer, "_origin"):
        base, identity = getattr(answer, "_origin", (None, None))
        answer._origin = (api_base or base, model_id or identity)
    return answer
