"""One report: every problem of every file, in every phase (YAML, schema, templates, `extends`, compile), in
one SpecError, each with its file and dotted path."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from litellm_sync import SpecError
from litellm_sync._spec import load_spec

BROKEN = """\
providers:
  a:
    extends: openai_chat
    base_url: https://a.test
    errors:
      rules:
        - {status: 400, class: BadRequestError}
        - {status: nope, class: BadRequestError}
  b:
    extends: no_such_dialect
    base_url: https://b.test
  c:
    extends: openai_chat
  d:
    extends: openai_chat
    base_url: https://d.test
    auth: {value: "Bearer ${apikey}"}
    endpoints: {chat: {path: /chat, query: {v: "${api_version"}}}
  e:
    extends: ollama
    messages:
      parts:
        text: {slot: text, template: $text, slto: x}
  f:
    extends: anthropic
    stream:
      events:
        content_block_start:
          choice:
            tool_calls: {path: content_block, idd: id}
  g:
    extends: openai_chat
    base_url: https://g.test
    response:
      usage:
        prompt_tokens: {summ: [a, b]}
  h:
    extends: c
"""


def _problems(source: Any) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_spec(source)
    return info.value.problems


def test_one_report_lists_every_problem_of_every_phase(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    problems = _problems(path)
    expected = [
        # schema
        "providers.a.errors.rules[1].status: Expected an HTTP status (429), a class ('5xx') or a list of them.",
        "providers.e.messages.parts.text: A slot rule takes only slot and template; unknown key(s): slto.",
        "providers.f.stream.events.content_block_start.choice.tool_calls.idd: Unknown field.",
        "providers.g.response.usage.prompt_tokens: Expected {sum: [paths]}; unknown key(s): summ.",
        # templates
        "providers.d.auth.value: 'Bearer ${apikey}': unknown variable 'apikey' (did you mean 'api_key'?)",
        "providers.d.endpoints.chat.query.v: '${api_version': a '${' is not closed over a name",
        # extends
        "providers.b.extends: unknown entry 'no_such_dialect'",
        # compile
        "providers.c: missing base_url (or base_url_env)",
        "providers.h: missing base_url (or base_url_env)",
    ]
    for wanted in expected:
        assert [p for p in problems if p.startswith(f"{path}: {wanted}")], (wanted, problems)
    assert len(problems) == len(expected)


def test_several_files_and_phases_in_one_report(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "one.yaml"
    bad_yaml.write_text("providers: {x: [unclosed\n", encoding="utf-8")
    schema = tmp_path / "two.yaml"
    schema.write_text("providers:\n  y: {extends: openai_chat, base_url: https://y.test, bogus: 1}\n", "utf-8")
    compile_ = tmp_path / "three.yaml"
    compile_.write_text("providers:\n  z: {description: no dialect at all}\n", "utf-8")
    problems = _problems([bad_yaml, schema, compile_, tmp_path / "missing.yaml"])
    assert [p.split(": ", 1)[0] for p in problems] == [
        str(tmp_path / "missing.yaml"), str(bad_yaml), str(schema), str(compile_)
    ], problems
    assert "invalid YAML" in problems[1] and "line 2" in problems[1]
    assert problems[2].endswith("providers.y.bogus: Unknown field.")
    assert "providers.z: missing response, endpoints.chat, base_url" in problems[3]


def test_a_slot_rule_with_an_unknown_key_is_refused_not_sent(tmp_path: Path) -> None:
    path = tmp_path / "slots.yaml"
    path.write_text(
        "providers:\n  p:\n    extends: ollama\n    messages:\n      parts:\n"
        "        tool_result: [{slot: text, template: $text}, {slot: tool_name, tempalte: $name}]\n",
        encoding="utf-8",
    )
    assert _problems(path) == [
        f"{path}: providers.p.messages.parts.tool_result[1]: Expected a slot rule {{slot: name, template: ...}} "
        "like the others in this list."
    ]


def test_stream_tool_call_readers_are_checked_in_lists_too(tmp_path: Path) -> None:
    path = tmp_path / "stream.yaml"
    path.write_text(
        "providers:\n  p:\n    extends: anthropic\n    stream:\n      events:\n        content_block_delta:\n"
        "          choice:\n            tool_calls: [{path: delta, arguments: partial_json}, {path: x, nmae: n}]\n",
        encoding="utf-8",
    )
    assert _problems(path) == [
        f"{path}: providers.p.stream.events.content_block_delta.choice.tool_calls[1].nmae: Unknown field."
    ]


@pytest.mark.parametrize(
    ("usage", "message"),
    [
        ("{sum: a}", "prompt_tokens: sum: Expected a non-empty list of dotted paths."),
        ("{sum: [a], to: b}", "prompt_tokens: Expected {sum: [paths]}; unknown key(s): to."),
        ("3", "prompt_tokens: Expected a dotted path or a list of dotted paths."),
    ],
)
def test_usage_fields_are_checked(tmp_path: Path, usage: str, message: str) -> None:
    path = tmp_path / "usage.yaml"
    path.write_text(
        f"providers:\n  p:\n    extends: openai_chat\n    base_url: https://p.test\n"
        f"    response: {{usage: {{prompt_tokens: {usage}}}}}\n",
        encoding="utf-8",
    )
    assert _problems(path) == [f"{path}: providers.p.response.usage.{message}"]


def test_usage_sum_still_adds_up(tmp_path: Path) -> None:
    path = tmp_path / "sum.yaml"
    path.write_text(
        "providers:\n  p:\n    extends: openai_chat\n    base_url: https://p.test\n"
        "    response: {usage: {from: usage, prompt_tokens: {sum: [a, b]}}}\n",
        encoding="utf-8",
    )
    reader = load_spec(path).provider("p").reader
    from litellm_sync._engine.reads import ReadState

    read = reader.read({"choices": [], "usage": {"a": 2, "b": 5}}, ReadState())
    assert read.usage == {"prompt_tokens": 7}


# One broken entry per phase: (YAML of the entry, the start of its one problem after the file name).
PHASE_PROBLEMS = {
    "schema": ("{extends: openai_chat, base_url: https://x.test, stream: {format: smoke}}",
               "providers.{name}.stream.format: Must be one of: eventstream, ndjson, sse."),
    "template": ('{extends: openai_chat, base_url: https://x.test, headers: {x-v: "${api_versoin}"}}',
                 "providers.{name}.headers.x-v: '${{api_versoin}}': unknown variable 'api_versoin'"),
    "extends": ("{extends: openai_chatt, base_url: https://x.test}",
                "providers.{name}.extends: unknown entry 'openai_chatt'"),
    "compile": ("{extends: openai_chat}", "providers.{name}: missing base_url (or base_url_env)"),
    "slot": ("{extends: ollama, messages: {parts: {text: {template: $text, sloot: text}}}}",
             "providers.{name}.messages.parts.text: A slot rule takes only slot and template"),
}


@pytest.mark.parametrize("phases", list(itertools.combinations(sorted(PHASE_PROBLEMS), 3)))
def test_any_mix_of_phases_is_reported_at_once(tmp_path: Path, phases: tuple[str, ...]) -> None:
    path = tmp_path / "mix.yaml"
    entries = "".join(f"  p_{phase}: {PHASE_PROBLEMS[phase][0]}\n" for phase in phases)
    path.write_text(f"providers:\n{entries}", encoding="utf-8")
    problems = _problems(path)
    assert len(problems) == len(phases), problems
    for phase in phases:
        wanted = f"{path}: " + PHASE_PROBLEMS[phase][1].format(name=f"p_{phase}")
        assert sum(p.startswith(wanted) for p in problems) == 1, (wanted, problems)
