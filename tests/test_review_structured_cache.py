"""Review regressions: a pydantic response_format's JSON Schema is derived once per class, copied per call."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest

from litellm_sync._engine import structured

pydantic = pytest.importorskip("pydantic")


def _counting_model() -> tuple[type, list[int]]:
    calls: list[int] = []

    class Answer(pydantic.BaseModel):
        city: str
        people: int

        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            calls.append(1)
            return super().model_json_schema(*args, **kwargs)

    return Answer, calls


def test_the_schema_is_derived_once_per_class_and_each_call_gets_its_own_copy() -> None:
    model, calls = _counting_model()
    first, loader = structured.prepare(model)
    second, _ = structured.prepare(model)
    assert len(calls) == 1
    assert first == second and first is not second
    first["json_schema"]["schema"]["properties"]["city"]["type"] = "changed"  # the engine may write into it
    third, _ = structured.prepare(model)
    assert third["json_schema"]["schema"]["properties"]["city"] == {"title": "City", "type": "string"}
    assert third["json_schema"]["strict"] is True
    assert loader is not None


def test_a_discarded_class_is_not_kept_alive_by_the_cache() -> None:
    model, _calls = _counting_model()
    structured.prepare(model)
    ref = weakref.ref(model)
    del model
    for _ in range(3):
        gc.collect()
    assert ref() is None
