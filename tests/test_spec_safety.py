"""Hostile or mistaken spec files: alias bombs, cycles, deep nesting and oversized files are refused quickly
with a SpecError naming the limit; templates that read unknown names or leave `${` open are errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from litellm_sync import SpecError
from litellm_sync._spec import load_spec

ROOT = Path(__file__).resolve().parents[1]


def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + f"\nproviders:\n  bomb:\n    description: x\n    body: *a{levels}\n"


def _problems(source: object) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_spec(source)
    return info.value.problems


def test_an_alias_bomb_is_refused_by_load(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs(), encoding="utf-8")
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}: more than 1,000,000 values, counting each repetition made by a YAML alias")
    assert "LITELLM_SYNC_MAX_SPEC_VALUES" in problem


@pytest.mark.skipif(not hasattr(os, "fork"), reason="resource limits on POSIX")
def test_an_alias_bomb_given_to_validate_answers_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs(), encoding="utf-8")

    def cap_memory() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (1024 * 1024 * 1024, 1024 * 1024 * 1024))  # 1 GiB of address space

    done = subprocess.run(
        [sys.executable, "-m", "litellm_sync", "validate", str(path)], capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=cap_memory,
    )
    assert done.returncode == 1, done.stderr
    assert "counting each repetition made by a YAML alias" in done.stdout
    assert "MemoryError" not in done.stderr


def test_aliases_within_the_budget_still_work(tmp_path: Path) -> None:
    path = tmp_path / "anchors.yaml"
    path.write_text(
        "providers:\n  p:\n    extends: openai_chat\n    base_url: https://p.test\n"
        "    params:\n      seed: &rule {to: extra.seed}\n      top_k: *rule\n",
        encoding="utf-8",
    )
    spec = load_spec(path)
    assert spec.provider("p").builder.params.rules["top_k"].target == ("extra", "seed")


def test_an_alias_cycle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cycle.yaml"
    path.write_text("providers:\n  p:\n    body: &loop [1, *loop]\n", encoding="utf-8")
    assert _problems(path) == [f"{path}: a YAML alias refers to a node that contains it; remove the cycle"]


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("providers:\n  p:\n    body: " + "[" * 200 + "]" * 200 + "\n", encoding="utf-8")
    (problem,) = _problems(path)
    assert problem == f"{path}: nested more than 64 levels deep"


def test_a_file_over_the_size_limit_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("w", encoding="utf-8") as handle:
        line = "# " + "x" * 1000 + "\n"
        for _ in range(3 * 1024):  # 3 MiB of comments, over the 2 MiB default
            handle.write(line)
    (problem,) = _problems(path)
    assert problem == (
        f"{path}: larger than the 2,097,152-byte limit for a spec file; split it into several files, or raise the "
        "limit with the environment variable LITELLM_SYNC_MAX_SPEC_BYTES=<bytes>"
    )


def test_the_size_limit_can_be_raised_and_lowered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "small.yaml"
    path.write_text("providers:\n  p: {extends: openai_chat, base_url: https://p.test}\n" + "#" * 500, "utf-8")
    monkeypatch.setenv("LITELLM_SYNC_MAX_SPEC_BYTES", "400000")  # the bundled spec (about 110 kB) fits
    assert "p" in load_spec(path).providers
    monkeypatch.setenv("LITELLM_SYNC_MAX_SPEC_BYTES", "300")
    problems = _problems(path)
    assert problems and all("300-byte limit" in p for p in problems)
    monkeypatch.setenv("LITELLM_SYNC_MAX_SPEC_BYTES", "lots")
    assert _problems(path) == ["LITELLM_SYNC_MAX_SPEC_BYTES='lots' is not a whole number of bytes or values"]


@pytest.mark.parametrize(
    ("yaml_entry", "path", "message"),
    [
        ('auth: {value: "Bearer ${apikey}"}', "auth.value",
         "'Bearer ${apikey}': unknown variable 'apikey' (did you mean 'api_key'?)"),
        ('endpoints: {chat: {path: /c, query: {v: "${api_version"}}}', "endpoints.chat.query.v",
         "'${api_version': a '${' is not closed over a name; write ${name} or ${name.path}"),
        ('headers: {x-model: "${modle}"}', "headers.x-model",
         "'${modle}': unknown variable 'modle' (did you mean 'model'?)"),
        ('endpoints: {models: {path: "/models/${model}"}}', "endpoints.models.path",
         "'/models/${model}': unknown variable 'model'; known here: account_id, api_key, api_version, location, "
         "project, region"),
        ("params: {seed: {template: $vale}}", "params.seed.template",
         "'$vale': unknown variable 'vale' (did you mean 'value'?)"),
        ("params: {seed: {default: $value}}", "params.seed.default", "'$value': unknown variable 'value'"),
        ("params: {tools: {template: {$each: $value, do: $itme.name}}}", "params.tools.template",
         "'$itme.name': unknown variable 'itme' (did you mean 'item'?)"),
        ("messages: {mode: render, parts: {text: {txt: $txt}}}", "messages.parts.text",
         "'$txt': unknown variable 'txt' (did you mean 'text'?)"),
        ("messages: {mode: render, message: {role: $role, content: $contnet}}", "messages.message",
         "'$contnet': unknown variable 'contnet' (did you mean 'content'?)"),
        ('body: {note: "$ 5"}', "body", "'$ 5': '$ 5' is not a reference to a name; write $$ for a literal '$'"),
    ],
)
def test_template_references_are_checked_where_they_are(
    tmp_path: Path, yaml_entry: str, path: str, message: str
) -> None:
    spec = tmp_path / "t.yaml"
    spec.write_text(
        f"providers:\n  p:\n    extends: openai_chat\n    base_url: https://p.test\n    {yaml_entry}\n", "utf-8"
    )
    (problem,) = _problems(spec)
    assert problem.startswith(f"{spec}: providers.p.{path}: {message}"), problem


def test_a_dollar_inside_text_is_literal(tmp_path: Path) -> None:
    spec = tmp_path / "t.yaml"
    spec.write_text(
        'providers:\n  p:\n    extends: openai_chat\n    base_url: https://p.test\n'
        '    body: {model: $model, messages: $messages, note: "costs $ 5", escaped: $$model}\n', "utf-8"
    )
    request = load_spec(spec).provider("p").builder.build(
        "m", [{"role": "user", "content": "U"}], {}, stream=False,
        api_key="k", api_base=None, api_version=None, extra_headers=None, drop_params=False, info=None,
    )
    assert b'"note":"costs $ 5","escaped":"$model"' in request.body


def test_lifted_names_and_slots_are_known(tmp_path: Path) -> None:
    spec = tmp_path / "t.yaml"
    spec.write_text(
        "providers:\n  p:\n    extends: openai_chat\n    base_url: https://p.test\n"
        "    messages:\n      mode: render\n      lift: [{roles: [system], into: preamble}]\n"
        "      parts: {text: {slot: words, template: $text}}\n"
        "      message: {who: $role, said: $words}\n"
        "    body: {model: $model, messages: $messages, preamble: $preamble}\n",
        encoding="utf-8",
    )
    request = load_spec(spec).provider("p").builder.build(
        "m", [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}], {}, stream=False,
        api_key="k", api_base=None, api_version=None, extra_headers=None, drop_params=False, info=None,
    )
    assert request.body == b'{"model":"m","messages":[{"who":"user","said":["U"]}],"preamble":"S"}'
