"""Property tests (hypothesis): the stream decoders give the same events however the bytes are split, and
the spec loader turns any mutated YAML into a `SpecError` with a location, never another exception."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from litellm_sync._engine.framing import ServerSentEvent, iter_lines, iter_ndjson, iter_sse
from litellm_sync._spec import load_spec
from litellm_sync.exceptions import SpecError

# -- helpers ----------------------------------------------------------------------------------------

LINE_TEXT = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=20)
NEWLINES = st.sampled_from([b"\n", b"\r", b"\r\n"])


def split_at(data: bytes, points: list[int]) -> list[bytes]:
    """`data` cut at the given offsets (any order, duplicates allowed: empty reads happen too)."""
    cuts = sorted({min(max(p, 0), len(data)) for p in points})
    pieces, start = [], 0
    for cut in cuts:
        pieces.append(data[start:cut])
        start = cut
    pieces.append(data[start:])
    return pieces


def decode_sse(chunks: list[bytes]) -> list[ServerSentEvent]:
    return list(iter_sse(iter_lines(chunks)))


@st.composite
def sse_transcripts(draw: Any) -> tuple[bytes, list[ServerSentEvent]]:
    """A valid SSE transcript with random line endings, comments and event names, and its events."""
    events = draw(
        st.lists(
            st.tuples(st.none() | LINE_TEXT.filter(bool), st.lists(LINE_TEXT, min_size=1, max_size=4)),
            max_size=8,
        )
    )
    out = bytearray()
    expected = []
    for index, (name, data_lines) in enumerate(events):
        if draw(st.booleans()):
            out += b": comment " + draw(LINE_TEXT).encode() + draw(NEWLINES)
        if name is not None:
            out += b"event: " + name.encode() + draw(NEWLINES)
        for line in data_lines:
            spaced = draw(st.booleans()) or line.startswith(" ")
            out += (b"data: " if spaced else b"data:") + line.encode() + draw(NEWLINES)
        last = index == len(events) - 1
        if not last or draw(st.booleans()):  # servers may omit the final blank line
            blank = draw(NEWLINES)
            out += b"\r\n" if blank == b"\n" and out.endswith(b"\r") else blank  # CR + LF would be one break
        expected.append(ServerSentEvent("\n".join(data_lines), name))
    return bytes(out), expected


# -- SSE and NDJSON decoders ------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(transcript=sse_transcripts(), points=st.lists(st.integers(0, 2000), max_size=12))
def test_sse_any_split_gives_the_same_events(
    transcript: tuple[bytes, list[ServerSentEvent]], points: list[int]
) -> None:
    raw, expected = transcript
    assert decode_sse([raw]) == expected
    assert decode_sse(split_at(raw, points)) == expected


@settings(max_examples=100, deadline=None)
@given(transcript=sse_transcripts())
def test_sse_one_byte_reads_give_the_same_events(transcript: tuple[bytes, list[ServerSentEvent]]) -> None:
    raw, expected = transcript
    assert decode_sse([raw[i : i + 1] for i in range(len(raw))]) == expected


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), points=st.lists(st.integers(0, 300), max_size=12))
def test_lines_of_arbitrary_bytes_do_not_depend_on_the_split(data: bytes, points: list[int]) -> None:
    """Even invalid UTF-8 and stray CRs decode the same whether the bytes arrive whole or in pieces."""
    whole = list(iter_lines([data]))
    assert list(iter_lines(split_at(data, points))) == whole
    assert all("\r" not in line and "\n" not in line for line in whole)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=100, deadline=None)
@given(
    records=st.lists(st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=4), max_size=8),
    newlines=st.lists(st.sampled_from([b"\n", b"\r\n", b"\n\n"]), min_size=8, max_size=8),
    final_newline=st.booleans(),
    points=st.lists(st.integers(0, 2000), max_size=12),
)
def test_ndjson_any_split_gives_the_same_records(
    records: list[dict[str, Any]], newlines: list[bytes], final_newline: bool, points: list[int]
) -> None:
    raw = b"".join(json.dumps(r).encode() + newlines[i] for i, r in enumerate(records))
    if records and not final_newline:
        raw = raw.rstrip(b"\r\n")
    decoded = [json.loads(event.data) for event in iter_ndjson(iter_lines(split_at(raw, points)))]
    assert decoded == records


# -- spec loader ------------------------------------------------------------------------------------

BASE_SPEC: dict[str, Any] = {
    "version": 1,
    "http_errors": {418: "BadRequestError"},
    "dialects": {
        "my_dialect": {
            "extends": "openai_chat",
            "headers": {"x-extra": "${model}"},
            "stream": {"format": "sse", "done": "[DONE]"},
        }
    },
    "providers": {
        "acme": {
            "extends": "my_dialect",
            "description": "Acme",
            "base_url": "https://api.acme.test/v1",
            "auth": {"env": ["ACME_API_KEY"], "header": "Authorization", "value": "Bearer ${api_key}"},
            "params": {"max_tokens": {"to": "max_completion_tokens"}, "seed": {"drop": "not supported"}},
            "errors": {"rules": [{"status": 429, "contains": ["quota"], "class": "RateLimitError"}]},
            "models": {
                "acme-1": {
                    "context_window": 8192,
                    "max_output_tokens": 1024,
                    "features": ["tools", "streaming"],
                    "pricing": {"input": "1.00", "output": "2.00"},
                    "aliases": ["acme-latest"],
                }
            },
        }
    },
}
JUNK = (
    st.none()
    | st.booleans()
    | st.integers(-5, 700)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(["$nope", "${", "${x", "$each", "5xx", "openai_chat", "acme", "my_dialect", "[DONE]"])
    | st.lists(st.integers(0, 3) | st.text(max_size=3), max_size=3)
    | st.dictionaries(st.sampled_from(["class", "to", "path", "status", "x", "$each"]), st.text(max_size=4), max_size=2)
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


ALL_PATHS = list(_paths(BASE_SPEC))[1:]


@st.composite
def mutated_specs(draw: Any) -> dict[str, Any]:
    spec = copy.deepcopy(BASE_SPEC)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent: Any = spec
        try:
            for key in path[:-1]:
                parent = parent[key]
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                parent[path[-1]] = draw(JUNK)
            elif action == "delete" and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif isinstance(parent, dict):
                parent[draw(st.sampled_from(["unknown_key", "extends", "class", "models", "$x"]))] = draw(JUNK)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    return spec


@pytest.fixture(scope="module")
def spec_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("specs")


@pytest.fixture(autouse=True)
def private_cache(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the validated-spec cache of these tests out of the user's home."""
    monkeypatch.setenv("LITELLM_SYNC_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "spec-cache"))


def assert_located(error: SpecError, source: str) -> None:
    """Every problem names where it is: 'file: dotted.path: message', 'file: line L, column C: ...',
    'providers.name: ...' (compile step), or the file's top level."""
    assert error.problems
    for problem in error.problems:
        rest = problem[len(source) + 2 :] if problem.startswith(source + ": ") else problem
        if rest.startswith("the top level"):
            continue
        head = rest.split(": ", 1)[0]
        assert ": " in rest and head.strip() == head and head, problem
        assert problem.startswith(source) or head.startswith(("providers.", "dialects.", "'")), problem


def _load_text(spec_dir: Path, text: str, name: str) -> None:
    path = spec_dir / name
    path.write_text(text, encoding="utf-8")
    try:
        load_spec(path)
    except SpecError as error:
        assert_located(error, str(path))


def test_base_spec_is_valid(spec_dir: Path) -> None:
    path = spec_dir / "base.yaml"
    path.write_text(yaml.safe_dump(BASE_SPEC), encoding="utf-8")
    assert "acme" in load_spec(path).providers


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=mutated_specs())
def test_mutated_spec_raises_only_spec_error(spec_dir: Path, spec: dict[str, Any]) -> None:
    try:
        text = yaml.safe_dump(spec, allow_unicode=True)
    except yaml.YAMLError:
        assume(False)
    _load_text(spec_dir, text, "mutated.yaml")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 2000), st.integers(0, 6), st.sampled_from(["", ":", "-", " ", "\n", "{", "'", "x"])),
        min_size=1,
        max_size=4,
    )
)
def test_text_mutated_yaml_raises_only_spec_error(spec_dir: Path, edits: list[tuple[int, int, str]]) -> None:
    text = yaml.safe_dump(BASE_SPEC)
    for offset, length, insert in edits:
        at = offset % (len(text) + 1)
        text = text[:at] + insert + text[at + length :]
    _load_text(spec_dir, text, "edited.yaml")
