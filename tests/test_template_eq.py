"""The `$eq` template directive, and the list filter it makes with `$if` inside `$each`."""

from __future__ import annotations

import pytest

from litellm_sync._engine.paths import MISSING
from litellm_sync._engine.template import TemplateError, compile_template

FILTER = {"$each": "$tools", "do": {"$if": {"$eq": ["$item.name", "$value"]}, "then": "$item"}}


def test_eq_is_true_only_for_two_present_equal_values() -> None:
    eq = compile_template({"$eq": ["$a", "$b"]})
    assert eq({"a": 1, "b": 1}) is True
    assert eq({"a": 1, "b": 2}) is False
    assert eq({"b": 1}) is False  # a missing left side never equals
    assert eq({}) is False


def test_eq_inside_each_filters_a_list() -> None:
    tools = [{"name": "a"}, {"name": "b"}, {"name": "a", "n": 2}]
    assert compile_template(FILTER)({"tools": tools, "value": "a"}) == [{"name": "a"}, {"name": "a", "n": 2}]
    assert compile_template(FILTER)({"tools": tools, "value": "z"}) is MISSING


@pytest.mark.parametrize("bad", [{"$eq": "$a"}, {"$eq": ["$a"]}, {"$eq": ["$a", "$b", "$c"]}])
def test_eq_needs_exactly_two_templates(bad: object) -> None:
    with pytest.raises(TemplateError, match=r"\$eq takes a list of two"):
        compile_template(bad)
