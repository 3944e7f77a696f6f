"""The provider spec: validation with exact paths, merging and extends, templates, paths, parameter rules, resolution.

Every SpecError problem must name the file and the dotted path of the bad key; several problems are reported
together. The template, path and parameter-rule primitives are tested directly, then through a provider.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

import litellm_sync
from litellm_sync import ConfigurationError, SpecError, UnknownModelError, UnsupportedParamsError
from litellm_sync._engine.params import ParamRule, RequestDraft
from litellm_sync._engine.paths import MISSING, compile_path, get_path, make_getter, set_path
from litellm_sync._engine.template import TemplateError, compile_template
from litellm_sync._spec.build import load_param_rule
from litellm_sync.exceptions import AmbiguousModelError, BadRequestError, MissingAPIKeyError

USER = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def _cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("spec-cache")  # shared: the bundled spec is parsed once for the module


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, _cache_dir: Path) -> None:
    monkeypatch.setenv("LITELLM_SYNC_CACHE_DIR", str(_cache_dir))
    monkeypatch.delenv("LITELLM_SYNC_PROVIDERS", raising=False)


def _rule(name: str, raw: dict[str, Any]) -> ParamRule:
    """A parameter rule from its YAML, loaded through the schema into the spec model, then compiled."""
    return ParamRule(name, load_param_rule(name, raw))


def _write(tmp_path: Path, data: Any, name: str = "extra.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def _problems(source: Any) -> list[str]:
    with pytest.raises(SpecError) as info:
        litellm_sync.Client(providers=source)
    assert info.value.problems
    return info.value.problems


def _build(client: litellm_sync.Client, model: str, params: dict[str, Any] | None = None, messages: Any = None,
           drop_params: bool = False, api_key: str | None = "k") -> dict[str, Any]:
    provider, name, info = client.resolve(model)
    request = provider.builder.build(
        name, messages or USER, params or {}, stream=False, api_key=api_key, api_base=None, api_version=None,
        extra_headers=None, drop_params=drop_params, info=info,
    )
    return json.loads(request.body)


# --------------------------------------------------------------------------------------------------------
# Validation

def test_problems_name_the_file_and_the_dotted_path(tmp_path: Path) -> None:
    path = _write(tmp_path, {"providers": {"acme": {
        "extends": "openai_chat",
        "base_url": "https://acme.test",
        "errors": {"rules": [{"status": "abc", "class": "RateLimitError"}, {"class": "NoSuchError"}]},
        "params": {"temperature": {"to": 5}},
        "models": {"m1": {"context_window": -3, "features": ["telepathy"]}},
    }}})
    problems = _problems(path)
    prefix = f"{path}: providers.acme."
    assert all(p.startswith(prefix) for p in problems), problems
    paths = {p[len(f"{path}: "):].split(": ", 1)[0] for p in problems}
    assert paths == {
        "providers.acme.errors.rules[0].status",
        "providers.acme.errors.rules[1].class",
        "providers.acme.params.temperature.to",
        "providers.acme.models.m1.context_window",
        "providers.acme.models.m1.features[0]",
    }


def test_unknown_keys_are_rejected_at_every_level(tmp_path: Path) -> None:
    path = _write(tmp_path, {"colour": 1, "providers": {"acme": {
        "extends": "openai_chat", "base_url": "https://x.test", "bogus": 1,
        "auth": {"env": ["X"], "hedaer": "x"},
        "params": {"temperature": {"too": "x"}},
    }}})
    problems = _problems(path)
    assert f"{path}: colour: Unknown field." in problems
    assert f"{path}: providers.acme.bogus: Unknown field." in problems
    assert f"{path}: providers.acme.auth.hedaer: Unknown field." in problems
    assert f"{path}: providers.acme.params.temperature.too: Unknown field." in problems


def test_several_files_report_together(tmp_path: Path) -> None:
    one = _write(tmp_path, {"providers": {"a": {"extends": "openai_chat", "base_url": 3}}}, "one.yaml")
    two = _write(tmp_path, {"providers": {"b": {"extends": "openai_chat", "bare_names": "maybe"}}}, "two.yaml")
    problems = _problems([one, two])
    assert any(p.startswith(f"{one}: providers.a.base_url: ") for p in problems)
    assert any(p.startswith(f"{two}: providers.b.bare_names: ") for p in problems)
    with pytest.raises(SpecError) as info:
        litellm_sync.Client(providers=[one, two])
    assert str(info.value).startswith("2 problem(s) in the provider spec:")


def test_bad_yaml_syntax_gives_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "providers:\n  acme:\n    base_url: [\n")
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}: line 4, column 1: invalid YAML")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    (problem,) = _problems(_write(tmp_path, "- a\n- b\n"))
    assert "top level must be a mapping" in problem


def test_unreadable_file(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path / "missing.yaml")
    assert problem.startswith(f"{tmp_path / 'missing.yaml'}: cannot read")


def test_unknown_extends_target_and_cycles(tmp_path: Path) -> None:
    path = _write(tmp_path, {"providers": {
        "acme": {"extends": "nothing_here", "base_url": "https://x.test"},
        "loop1": {"extends": "loop2"},
        "loop2": {"extends": "loop1"},
        "self": {"extends": "self"},
    }})
    problems = _problems(path)
    assert any(p.startswith(f"{path}: providers.acme.extends: unknown entry 'nothing_here'") for p in problems)
    assert any(p.startswith(f"{path}: providers.loop") and ".extends: cycle" in p for p in problems)
    assert any(p.startswith(f"{path}: providers.self.extends: cycle") for p in problems)


def test_incomplete_provider_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, {"providers": {"acme": {"base_url": "https://x.test"}}})
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}: providers.acme: missing response, endpoints.chat")


def test_bad_templates_report_their_path(tmp_path: Path) -> None:
    path = _write(tmp_path, {"providers": {"acme": {
        "extends": "openai_chat", "base_url": "https://x.test",
        "body": {"model": {"$each": "$x"}},
        "params": {
            "temperature": {"template": {"$nope": 1}},
            "top_p": {"switch": "type", "cases": {"a": {"set": {"x": {"$first": "not a list"}}}}},
        },
        "messages": {"mode": "render", "parts": {"text": {"$join": "$text", "bad": 1}}},
    }}})
    problems = _problems(path)
    expected_paths = [
        "providers.acme.body",
        "providers.acme.params.temperature.template",
        "providers.acme.params.top_p.cases.a.set.x",
        "providers.acme.messages.parts.text",
    ]
    for where in expected_paths:
        assert any(p.startswith(f"{path}: {where}: ") for p in problems), (where, problems)


def test_dict_sources_are_named(tmp_path: Path) -> None:
    problems = _problems({"providers": {"acme": {"nope": 1}}})
    assert problems == ["<dict>: providers.acme.nope: Unknown field."]


def test_invalid_files_are_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache2"
    monkeypatch.setenv("LITELLM_SYNC_CACHE_DIR", str(cache))
    path = _write(tmp_path, {"providers": {"acme": {"nope": 1}}})
    _problems(path)
    assert _problems(path) == [f"{path}: providers.acme.nope: Unknown field."]  # validated again, not cached
    assert not list(cache.glob("spec-*"))
    good = _write(tmp_path, {"providers": {"acme": {"extends": "openai_chat", "base_url": "https://x.test"}}}, "g.yaml")
    litellm_sync.Client(providers=good)
    assert len(list(cache.glob("spec-*.pickle"))) == 1


# --------------------------------------------------------------------------------------------------------
# Layering

def test_user_file_adds_a_provider(tmp_path: Path) -> None:
    path = _write(tmp_path, {"providers": {"acme": {
        "extends": "openai_chat", "base_url": "https://api.acme.test/v1", "auth": {"env": ["ACME_KEY"]},
        "models": {"acme-1": {"features": ["tools"]}},
    }}})
    client = litellm_sync.Client(providers=path)
    provider, model, info = client.resolve("acme-1")
    assert (provider.name, model) == ("acme", "acme-1")
    assert info is not None and info.features == frozenset({"tools"})
    request = provider.builder.build(model, USER, {}, stream=False, api_key="k", api_base=None, api_version=None,
                                     extra_headers=None, drop_params=False, info=info)
    assert request.url == "https://api.acme.test/v1/chat/completions"


def test_user_file_overrides_and_deletes_keys_of_a_bundled_provider(tmp_path: Path) -> None:
    path = _write(tmp_path, {"providers": {"anthropic": {
        "base_url": "https://proxy.test",
        "headers": {"anthropic-version": None, "x-team": "blue"},
        "params": {"stop": None},
    }}})
    client = litellm_sync.Client(providers=path)
    provider, model, info = client.resolve("anthropic/claude-sonnet-4-5")
    request = provider.builder.build(model, USER, {"stop": "END"}, stream=False, api_key="k", api_base=None,
                                     api_version=None, extra_headers=None, drop_params=False, info=info)
    assert request.url == "https://proxy.test/v1/messages"
    assert "anthropic-version" not in request.headers
    assert request.headers["x-team"] == "blue"
    body = json.loads(request.body)
    assert body["stop"] == "END" and "stop_sequences" not in body  # rule deleted: forwarded as given
    assert body["max_tokens"] == 64000  # the rest of the bundled entry is kept


def test_env_var_lists_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one = _write(tmp_path, {"providers": {"p1": {"extends": "openai_chat", "base_url": "https://1.test"}}}, "1.yaml")
    two = _write(tmp_path, {"providers": {"p2": {"extends": "openai_chat", "base_url": "https://2.test"}}}, "2.yaml")
    monkeypatch.setenv("LITELLM_SYNC_PROVIDERS", os.pathsep.join([str(one), str(two)]))
    client = litellm_sync.Client()
    assert {"p1", "p2"} <= set(client.spec.providers)
    assert client.spec.sources[-2:] == (str(one), str(two))


def test_later_files_win(tmp_path: Path) -> None:
    one = _write(tmp_path, {"providers": {"p": {"extends": "openai_chat", "base_url": "https://1.test"}}}, "1.yaml")
    two = _write(tmp_path, {"providers": {"p": {"base_url": "https://2.test"}}}, "2.yaml")
    client = litellm_sync.Client(providers=[one, two])
    assert client.spec.provider("p").builder.connection.base_url == "https://2.test"


def test_error_rules_accumulate_override_first(tmp_path: Path) -> None:
    path = _write(tmp_path, {"providers": {"openai": {"errors": {"rules": [
        {"status": 418, "class": "ServiceUnavailableError"}]}}}})
    rules = litellm_sync.Client(providers=path).spec.provider("openai").entry["errors"]["rules"]
    assert rules[0] == {"status": 418, "class": "ServiceUnavailableError"}
    assert len(rules) > 1


# --------------------------------------------------------------------------------------------------------
# Templates

@pytest.mark.parametrize(("template", "context", "expected"), [
    ("$a.b", {"a": {"b": 1}}, 1),
    ("$a.0", {"a": ["x"]}, "x"),
    ("$a.missing", {"a": {}}, MISSING),
    ("$a", {"a": None}, MISSING),
    ("Bearer ${key}", {"key": "k"}, "Bearer k"),
    ("n=${n}", {"n": 3}, "n=3"),
    ("x ${gone}", {}, MISSING),
    ("$omit", {}, MISSING),
    ("$$literal", {}, "$literal"),
    ("plain", {}, "plain"),
    ({"a": "$x", "b": "$omit"}, {"x": 1}, {"a": 1}),
    ({"a": "$omit"}, {}, MISSING),
    (["$x", "$omit", 2], {"x": 1}, [1, 2]),
    ({"$first": ["$a", "$b", 3]}, {"b": 2}, 2),
    ({"$first": ["$a"]}, {}, MISSING),
    ({"$each": "$xs", "do": {"n": "$item", "i": "$index"}}, {"xs": [5, 6]}, [{"n": 5, "i": 0}, {"n": 6, "i": 1}]),
    ({"$each": "$x", "do": "$item"}, {"x": 7}, [7]),
    ({"$each": "$none", "do": "$item"}, {}, MISSING),
    ({"$json": "$v"}, {"v": {"a": [1, 2]}}, '{"a":[1,2]}'),
    ({"$parse_json": "$v"}, {"v": '{"a": 1}'}, {"a": 1}),
    ({"$parse_json": "$v"}, {"v": "  "}, {}),
    ({"$parse_json": "$v"}, {"v": "not json"}, "not json"),
    ({"$parse_json": "$v"}, {"v": {"a": 1}}, {"a": 1}),
    ({"$if": "$c", "then": "yes", "else": "no"}, {"c": True}, "yes"),
    ({"$if": "$c", "then": "yes", "else": "no"}, {"c": False}, "no"),
    ({"$if": "$c", "then": "yes"}, {}, MISSING),
    ({"$join": "$xs", "sep": "-"}, {"xs": ["a", "b"]}, "a-b"),
    ({"$join": "$xs"}, {"xs": "one"}, "one"),
    ({"$concat": ["$a", "$b", "$omit"]}, {"a": [1], "b": 2}, [1, 2]),
    ({"$concat": ["$a"]}, {}, MISSING),
])
def test_template_language(template: Any, context: dict[str, Any], expected: Any) -> None:
    assert compile_template(template)(context) == expected if expected is not MISSING else (
        compile_template(template)(context) is MISSING
    )


def test_literal_templates_are_copied_per_evaluation() -> None:
    template = compile_template({"a": [1]})
    first = template({})
    first["a"].append(2)
    assert template({}) == {"a": [1]}


@pytest.mark.parametrize(("template", "message"), [
    ({"$nope": 1}, "unknown directive"),
    ({"$each": "$x"}, "needs a 'do'"),
    ({"$first": "x"}, "takes a list"),
    ({"$concat": "x"}, "takes a list"),
    ({"$json": "$x", "extra": 1}, "does not take extra"),
])
def test_template_errors(template: Any, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        compile_template(template)


# --------------------------------------------------------------------------------------------------------
# Paths

def test_paths() -> None:
    assert compile_path("a.0.b") == ("a", 0, "b")
    assert compile_path("") == () and compile_path(".") == ()
    value = {"a": [{"b": 1}], "n": None}
    assert get_path(value, compile_path("a.0.b")) == 1
    assert get_path(value, compile_path("a.-1.b")) == 1
    assert get_path(value, compile_path("a.5.b")) is MISSING
    assert get_path(value, compile_path("a.b")) is MISSING
    assert get_path("text", compile_path("a")) is MISSING
    target: dict[str, Any] = {"x": 1}
    set_path(target, compile_path("x.y.z"), 2)
    assert target == {"x": {"y": {"z": 2}}}
    first = make_getter(["n", "a.0.b"])
    assert first(value) == 1
    assert make_getter(None)(value) is MISSING
    assert make_getter("a")({"a": 3}) == 3
    assert make_getter("a.0")({"a": [4]}) == 4


# --------------------------------------------------------------------------------------------------------
# Parameter rules, one key at a time

def _draft(features: frozenset[str] | None = None, drop: bool = False) -> RequestDraft:
    body: dict[str, Any] = {}
    return RequestDraft(body, {}, {"body": body, "model_info": {"max_output_tokens": 99}}, "p", "m", features, drop)


def test_rule_to() -> None:
    draft = _draft()
    _rule("max_tokens", {"to": "generation.max"}).apply(5, draft)
    assert draft.body == {"generation": {"max": 5}}


def test_rule_default_name() -> None:
    draft = _draft()
    _rule("seed", {}).apply(5, draft)
    assert draft.body == {"seed": 5}


def test_rule_map_and_template() -> None:
    rule = _rule("tool_choice", {"map": {"auto": {"type": "auto"}, "x": "$omit"},
                                     "template": {"type": "tool", "name": "$value.function.name"}})
    for value, expected in [("auto", {"tool_choice": {"type": "auto"}}), ("x", {}),
                            ({"function": {"name": "f"}}, {"tool_choice": {"type": "tool", "name": "f"}})]:
        draft = _draft()
        rule.apply(value, draft)
        assert draft.body == expected


def test_rule_switch_cases() -> None:
    rule = _rule("response_format", {"switch": "type", "cases": {
        "json_object": {"to": "fmt", "template": "json"},
        "*": {"to": "other"}}})
    draft = _draft()
    rule.apply({"type": "json_object"}, draft)
    rule.apply({"type": "text"}, draft)
    assert draft.body == {"fmt": "json", "other": {"type": "text"}}


def test_rule_switch_on_scalars_and_without_match() -> None:
    rule = _rule("parallel_tool_calls", {"switch": ".", "cases": {"false": {"to": "serial", "template": True}}})
    draft = _draft()
    rule.apply(False, draft)
    assert draft.body == {"serial": True}
    with pytest.raises(UnsupportedParamsError, match="value 'true' is not supported"):
        rule.apply(True, _draft())


def test_rule_set_and_headers() -> None:
    rule = _rule("x", {"to": "a", "set": {"b.c": "$value", "d": "$omit"}, "headers": {"x-flag": "v=${value}"}})
    draft = _draft()
    rule.apply(3, draft)
    assert draft.body == {"a": 3, "b": {"c": 3}}
    assert draft.headers == {"x-flag": "v=3"}


def test_rule_to_null_writes_only_set_and_headers() -> None:
    draft = _draft()
    _rule("x", {"to": None, "headers": {"x-h": "$value"}}).apply("v", draft)
    assert draft.body == {} and draft.headers == {"x-h": "v"}


def test_rule_refuse_and_drop_params() -> None:
    rule = _rule("seed", {"refuse": "no seed"})
    with pytest.raises(UnsupportedParamsError, match="seed: no seed"):
        rule.apply(1, _draft())
    draft = _draft(drop=True)
    rule.apply(1, draft)
    assert draft.body == {}


def test_rule_drop() -> None:
    draft = _draft()
    _rule("user", {"drop": "not sent"}).apply("u", draft)
    assert draft.body == {}


def test_rule_default_and_required() -> None:
    rule = _rule("max_tokens", {"default": {"$first": ["$model_info.max_output_tokens", 4096]}, "required": True})
    draft = _draft()
    rule.apply_default(draft)
    assert draft.body == {"max_tokens": 99}
    required = _rule("max_tokens", {"required": True})
    with pytest.raises(BadRequestError, match="requires max_tokens"):
        required.apply_default(_draft())


def test_rule_feature() -> None:
    rule = _rule("tools", {"feature": "tools"})
    with pytest.raises(UnsupportedParamsError, match="does not support tools"):
        rule.apply([{}], _draft(frozenset()))
    draft = _draft(None)  # unknown model: not blocked
    rule.apply([{}], draft)
    assert draft.body == {"tools": [{}]}


def test_default_does_not_override_a_parameter_that_wrote_its_target() -> None:
    client = litellm_sync.Client()
    body = _build(client, "anthropic/claude-sonnet-4-5", {"max_completion_tokens": 512})
    assert body["max_tokens"] == 512


# --------------------------------------------------------------------------------------------------------
# Parameters through providers

def test_unknown_params_are_forwarded() -> None:
    client = litellm_sync.Client()
    assert _build(client, "openai/gpt-5", {"verbosity": "low"})["verbosity"] == "low"
    assert _build(client, "anthropic/claude-sonnet-4-5", {"top_k": 5})["top_k"] == 5


def test_unknown_params_refused_when_the_provider_says_so(tmp_path: Path) -> None:
    path = _write(tmp_path, {"providers": {"strict": {
        "extends": "openai_chat", "base_url": "https://x.test", "unknown_params": "refuse"}}})
    client = litellm_sync.Client(providers=path)
    with pytest.raises(UnsupportedParamsError, match="no parameter named verbosity"):
        _build(client, "strict/m", {"verbosity": "low"})
    assert "verbosity" not in _build(client, "strict/m", {"verbosity": "low"}, drop_params=True)


def test_refused_params_raise_and_drop() -> None:
    client = litellm_sync.Client()
    with pytest.raises(UnsupportedParamsError) as info:
        _build(client, "anthropic/claude-sonnet-4-5", {"seed": 1})
    assert info.value.provider == "anthropic"
    assert "drop_params=True" in str(info.value)
    assert "seed" not in _build(client, "anthropic/claude-sonnet-4-5", {"seed": 1}, drop_params=True)


def test_none_params_are_not_given() -> None:
    client = litellm_sync.Client()
    assert "seed" not in _build(client, "anthropic/claude-sonnet-4-5", {"seed": None})


# --------------------------------------------------------------------------------------------------------
# Capabilities

TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]
IMAGE = [{"role": "user", "content": [{"type": "text", "text": "?"},
                                      {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}]}]
SCHEMA_FORMAT = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}


def test_tools_to_a_model_without_tools() -> None:
    client = litellm_sync.Client()
    with pytest.raises(UnsupportedParamsError, match="does not support tools"):
        _build(client, "ollama/gemma3", {"tools": TOOLS})


def test_images_to_a_model_without_vision() -> None:
    client = litellm_sync.Client()
    with pytest.raises(UnsupportedParamsError, match="does not accept images"):
        _build(client, "cohere/command-a-03-2025", messages=IMAGE)


def test_json_schema_where_unsupported(tmp_path: Path) -> None:
    path = _write(tmp_path, {"providers": {"anthropic": {"models": {"claude-old": {"features": ["tools"]}}}}})
    client = litellm_sync.Client(providers=path)
    with pytest.raises(UnsupportedParamsError, match="does not support json_schema"):
        _build(client, "anthropic/claude-old", {"response_format": SCHEMA_FORMAT})


def test_unknown_models_are_not_blocked() -> None:
    client = litellm_sync.Client()
    body = _build(client, "ollama/some-new-model", {"tools": TOOLS, "response_format": SCHEMA_FORMAT}, messages=[
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}])
    assert body["tools"] == TOOLS and body["messages"][0]["images"] == ["AAAA"]


# --------------------------------------------------------------------------------------------------------
# Model resolution, keys

def test_bare_names_resolve() -> None:
    client = litellm_sync.Client()
    provider, model, _info = client.resolve("deepseek-reasoner")
    assert (provider.name, model) == ("deepseek", "deepseek-reasoner")


def test_ambiguous_bare_names(tmp_path: Path) -> None:
    path = _write(tmp_path, {"providers": {"mirror": {
        "extends": "openai_chat", "base_url": "https://x.test", "models": {"deepseek-reasoner": {}}}}})
    client = litellm_sync.Client(providers=path)
    with pytest.raises(AmbiguousModelError) as info:
        client.resolve("deepseek-reasoner")
    assert set(info.value.suggestions) == {"deepseek/deepseek-reasoner", "mirror/deepseek-reasoner"}
    assert client.resolve("mirror/deepseek-reasoner")[0].name == "mirror"


def test_unknown_model_suggests() -> None:
    client = litellm_sync.Client()
    with pytest.raises(UnknownModelError) as info:
        client.resolve("gpt-5-mni")
    assert "gpt-5-mini" in info.value.suggestions
    assert "gpt-5-mini" in str(info.value)
    with pytest.raises(UnknownModelError):
        client.resolve("")
    with pytest.raises(UnknownModelError, match="no model after the slash"):
        client.resolve("openai/")


def test_missing_api_key_names_the_env_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    client = litellm_sync.Client()
    with pytest.raises(MissingAPIKeyError) as info:
        _build(client, "anthropic/claude-sonnet-4-5", api_key=None)
    assert "ANTHROPIC_API_KEY" in str(info.value)
    assert info.value.env_vars == ("ANTHROPIC_API_KEY",)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "from-env")
    provider, model, info2 = client.resolve("anthropic/claude-sonnet-4-5")
    request = provider.builder.build(model, USER, {}, stream=False, api_key=None, api_base=None, api_version=None,
                                     extra_headers=None, drop_params=False, info=info2)
    assert request.headers["x-api-key"] == "from-env"


def test_optional_keys_send_no_auth_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    provider, model, info = litellm_sync.Client().resolve("ollama/llama3.2")
    request = provider.builder.build(model, USER, {}, stream=False, api_key=None, api_base=None, api_version=None,
                                     extra_headers=None, drop_params=False, info=info)
    assert "authorization" not in request.headers


@pytest.mark.parametrize("bad", ["sk-1\r\nX-Evil: 1", "sk\n", "sk\0"])
def test_key_with_line_break_is_refused(bad: str) -> None:
    client = litellm_sync.Client()
    with pytest.raises(ConfigurationError) as info:
        _build(client, "openai/gpt-5", api_key=bad)
    assert bad not in str(info.value)


def test_extra_header_with_line_break_is_refused() -> None:
    provider, model, info = litellm_sync.Client().resolve("openai/gpt-5")
    with pytest.raises(ConfigurationError):
        provider.builder.build(model, USER, {}, stream=False, api_key="k", api_base=None, api_version=None,
                               extra_headers={"x-a": "1\r\nx-b: 2"}, drop_params=False, info=info)


# --------------------------------------------------------------------------------------------------------
# The docs tutorial: an OpenAI-compatible provider in a few lines

def test_tutorial_openai_compatible_provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from litellm_sync.testing import FakeProviderServer

    with FakeProviderServer() as server:
        path = _write(tmp_path, {"providers": {"acme": {
            "extends": "openai_chat", "base_url": server.url + "/v1", "auth": {"env": ["ACME_API_KEY"]},
            "models": {"acme-chat": {"features": ["tools", "streaming"]}}}}})
        monkeypatch.setenv("ACME_API_KEY", "acme-key")
        with litellm_sync.Client(providers=path) as client:
            response = client.completion("acme/acme-chat", [{"role": "user", "content": "hello there"}])
        assert response.choices[0].message.content == "Echo: hello there"
        (request,) = server.requests
        assert request.path == "/v1/chat/completions"
        assert request.headers["authorization"] == "Bearer acme-key"


@pytest.mark.parametrize("first", ["parallel_tool_calls", "tool_choice"])
def test_rules_run_in_spec_order_not_keyword_order(first: str) -> None:
    client = litellm_sync.Client()
    provider, model, info = client.resolve("anthropic/claude-haiku-4-5")
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    given = {"parallel_tool_calls": False, "tool_choice": "required"}
    params = {first: given[first], **given, "tools": tools}
    request = provider.builder.build(model, [{"role": "user", "content": "x"}], params, stream=False, api_key="k",
                                     api_base=None, api_version=None, extra_headers=None, drop_params=False,
                                     info=info)
    assert json.loads(request.body)["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}


def test_anthropic_system_prompt_keeps_cache_control() -> None:
    client = litellm_sync.Client()
    provider, model, info = client.resolve("anthropic/claude-haiku-4-5")
    cached = {"type": "text", "text": "long doc", "cache_control": {"type": "ephemeral"}}
    system = {"role": "system", "content": [cached]}
    request = provider.builder.build(model, [system, {"role": "user", "content": "q"}], {}, stream=False,
                                     api_key="k", api_base=None, api_version=None, extra_headers=None,
                                     drop_params=False, info=info)
    assert json.loads(request.body)["system"] == [
        {"type": "text", "text": "long doc", "cache_control": {"type": "ephemeral"}}
    ]
    compatible, model, info = client.resolve("deepseek_anthropic/deepseek-chat")
    request = compatible.builder.build(model, [system, {"role": "user", "content": "q"}], {}, stream=False,
                                       api_key="k", api_base=None, api_version=None, extra_headers=None,
                                       drop_params=False, info=info)
    assert json.loads(request.body)["system"] == "long doc"  # the plain form for compatible endpoints
