"""The public surface: `__all__` is complete and sorted, `completion()` is typed per `stream`, `supports()`
reports a broken spec instead of answering False, and health checks reach nothing private.

CI also runs mypy over this file: the `assert_type` lines fail type checking if the overloads break.
"""

from __future__ import annotations

import ast
import inspect
import types
import typing
from pathlib import Path

import pytest

import litellm_sync
from litellm_sync import api, health

PACKAGE = Path(litellm_sync.__file__).resolve().parent


def test_all_is_sorted_and_without_duplicates() -> None:
    assert litellm_sync.__all__ == sorted(litellm_sync.__all__)
    assert len(set(litellm_sync.__all__)) == len(litellm_sync.__all__)


def test_every_name_in_all_is_importable() -> None:
    namespace: dict[str, object] = {}
    exec("from litellm_sync import *", namespace)  # what `import *` users get
    missing = [name for name in litellm_sync.__all__ if name not in namespace]
    assert missing == []


def test_every_public_name_is_listed_in_all() -> None:
    public = {
        name
        for name, value in vars(litellm_sync).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)  # submodules: litellm_sync.api, .client, ...
        and name != "annotations"  # `from __future__ import annotations`
    }
    assert sorted(public - set(litellm_sync.__all__)) == []


def test_exceptions_are_all_exported() -> None:
    from litellm_sync import exceptions

    tree = {
        name
        for name, value in vars(exceptions).items()
        if isinstance(value, type) and issubclass(value, litellm_sync.LiteLLMSyncError) and not name.startswith("_")
    }
    assert sorted(tree - set(litellm_sync.__all__)) == []


def test_completion_overloads_type_the_result_by_stream() -> None:
    overloads = typing.get_overloads(api.completion)
    assert len(overloads) == 3
    by_stream = {}
    for overload in overloads:
        hints = typing.get_type_hints(overload, globalns=vars(api))
        by_stream[repr(hints["stream"])] = hints["return"]
    assert by_stream == {
        "typing.Literal[False]": litellm_sync.ChatResponse,
        "typing.Literal[True]": litellm_sync.ChatStream,
        "<class 'bool'>": litellm_sync.ChatResponse | litellm_sync.ChatStream,
    }
    # The overloads take exactly the implementation's parameters.
    implementation = inspect.signature(api.completion)
    for overload in overloads:
        assert list(inspect.signature(overload).parameters) == list(implementation.parameters)


def _typed_usage() -> None:  # pragma: no cover - never called: mypy checks it (see the module docstring)
    messages = [litellm_sync.user_message("hi")]
    typing.assert_type(litellm_sync.completion("openai/gpt-4o-mini", messages), litellm_sync.ChatResponse)
    typing.assert_type(
        litellm_sync.completion("openai/gpt-4o-mini", messages, stream=False), litellm_sync.ChatResponse
    )
    typing.assert_type(litellm_sync.completion("openai/gpt-4o-mini", messages, stream=True), litellm_sync.ChatStream)
    flag: bool = bool(messages)
    typing.assert_type(
        litellm_sync.completion("openai/gpt-4o-mini", messages, stream=flag),
        "litellm_sync.ChatResponse | litellm_sync.ChatStream",
    )


@pytest.fixture
def fresh_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next module-level call builds a new default client from the environment (restored afterwards)."""
    monkeypatch.setattr(api, "_default_client", None)


def test_supports_raises_for_a_broken_spec(
    fresh_default: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("providers:\n  acme:\n    extends: no_such_dialect\n", encoding="utf-8")
    monkeypatch.setenv("LITELLM_SYNC_PROVIDERS", str(broken))
    with pytest.raises(litellm_sync.SpecError) as info:
        litellm_sync.supports("openai/gpt-4o-mini", "tools")
    assert str(broken) in str(info.value)
    with pytest.raises(litellm_sync.SpecError):
        litellm_sync.supports_vision("openai/gpt-4o-mini")


def test_supports_answers_false_for_models_the_spec_does_not_list(fresh_default: None) -> None:
    assert litellm_sync.supports("openai/gpt-4o-mini", "tools") is True
    assert litellm_sync.supports("openai/gpt-4o-mini", "no-such-feature") is False
    assert litellm_sync.supports("openai/not-a-listed-model", "tools") is False  # known provider, unlisted model
    assert litellm_sync.supports("nosuchprovider/model", "tools") is False
    assert litellm_sync.supports("no-such-bare-model", "tools") is False
    assert litellm_sync.supports("OPENAI/gpt-4o-mini", "tools") is True  # provider prefix: any case


def test_supports_raises_for_an_ambiguous_bare_name(
    fresh_default: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    mirror = tmp_path / "mirror.yaml"
    mirror.write_text(
        "providers:\n  mirror:\n    extends: openai_chat\n    base_url: https://x.test\n"
        "    models:\n      deepseek-reasoner: {features: [tools]}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LITELLM_SYNC_PROVIDERS", str(mirror))
    with pytest.raises(litellm_sync.AmbiguousModelError):
        litellm_sync.supports("deepseek-reasoner", "tools")
    assert litellm_sync.supports("mirror/deepseek-reasoner", "tools") is True


def _private_attribute_uses(path: Path) -> list[str]:
    """`x._name` attribute reads in a module, other than on `self` and dunders."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value.id if isinstance(node.value, ast.Name) else ast.unparse(node.value)
            if owner != "self":
                found.append(f"{owner}.{node.attr} (line {node.lineno})")
    return found


def test_health_uses_no_private_attribute() -> None:
    assert _private_attribute_uses(PACKAGE / "health.py") == []


def test_health_imports_nothing_private() -> None:
    tree = ast.parse((PACKAGE / "health.py").read_text(encoding="utf-8"))
    modules = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert [module for module in modules if module.startswith("_") and module != "__future__"] == []
    assert health.__all__ == sorted(health.__all__)
    assert all(hasattr(health, name) for name in health.__all__)
