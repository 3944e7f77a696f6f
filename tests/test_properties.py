"""Property tests (hypothesis): the stream decoders that run (`FRAMINGS`) give the same events however the
bytes are split, and within their size limits; the spec loader turns any mutated YAML into a `SpecError` with a
location, never another exception."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_stream_transcripts import CASES as DIALECT_CASES

from litellm_sync._engine.framing import FRAMINGS, ServerSentEvent
from litellm_sync._spec import load_spec
from litellm_sync.exceptions import APIResponseValidationError, ResponseTooLargeError, SpecError

# -- helpers ----------------------------------------------------------------------------------------

LINE_TEXT = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=20)
NEWLINES = st.sampled_from([b"\n", b"\r", b"\r\n"])
SPLITS = st.lists(st.integers(0, 2000), max_size=12)


def split_at(data: bytes, points: list[int]) -> list[bytes]:
    """`data` cut at the given offsets (any order, duplicates allowed: empty reads happen too)."""
    cuts = sorted({min(max(p, 0), len(data)) for p in points})
    pieces, start = [], 0
    for cut in cuts:
        pieces.append(data[start:cut])
        start = cut
    pieces.append(data[start:])
    return pieces


def decode_sse(chunks: list[bytes], **limits: int) -> list[ServerSentEvent]:
    return list(FRAMINGS["sse"](chunks, **limits))


def outcome(framing: str, chunks: list[bytes], **limits: int) -> tuple[list[tuple[str | None, str]], str | None]:
    """The events up to the end or to an error, and what stopped it: the limit's name for a size error, the
    class name for another malformed-stream error (a binary framing's bad frame), else None."""
    events: list[tuple[str | None, str]] = []
    try:
        for event in FRAMINGS[framing](chunks, **limits):
            events.append((event.event, event.data))
    except ResponseTooLargeError as error:
        return events, error.limit
    except APIResponseValidationError as error:
        return events, type(error).__name__
    return events, None


class Transcript(NamedTuple):
    raw: bytes
    events: list[ServerSentEvent]  # what a WHATWG decoder dispatches
    longest_line: int  # bytes, without its terminator
    largest_event: int  # bytes of joined data, the undispatched last event included


@st.composite
def sse_transcripts(draw: Any) -> Transcript:
    """A valid SSE transcript with random line endings, BOM, comments, ids, retries and event names."""
    events = draw(
        st.lists(
            st.tuples(st.none() | LINE_TEXT.filter(bool), st.lists(LINE_TEXT, min_size=1, max_size=4)),
            max_size=8,
        )
    )
    out = bytearray(b"\xef\xbb\xbf" if draw(st.booleans()) else b"")
    expected = []
    lines: list[bytes] = []
    largest = 0
    last_id: str | None = None
    retry: int | None = None

    def line(text: bytes) -> None:
        lines.append(text)
        out.extend(text + draw(NEWLINES))

    for index, (name, data_lines) in enumerate(events):
        if draw(st.booleans()):
            line(b": comment " + draw(LINE_TEXT).encode())
        if draw(st.integers(0, 3)) == 0:
            new_id = draw(LINE_TEXT)
            line(b"id: " + new_id.encode())
            last_id = new_id if "\0" not in new_id else last_id
        if draw(st.integers(0, 3)) == 0:
            digits = draw(st.integers(0, 10**6))
            line(b"retry: " + str(digits).encode())
            retry = digits
        if name is not None:
            line(b"event: " + name.encode())
        for data in data_lines:
            spaced = draw(st.booleans()) or data.startswith(" ")
            line((b"data: " if spaced else b"data:") + data.encode())
        largest = max(largest, len("\n".join(data_lines).encode()))
        if index < len(events) - 1 or draw(st.booleans()):  # the last blank line may be missing (cut stream)
            blank = draw(NEWLINES)
            out.extend(b"\r\n" if blank == b"\n" and out.endswith(b"\r") else blank)  # CR + LF would be one break
            expected.append(ServerSentEvent("\n".join(data_lines), name, last_id, retry))
    return Transcript(bytes(out), expected, max(map(len, lines), default=0), largest)


# -- SSE and NDJSON decoders ------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(transcript=sse_transcripts(), points=SPLITS)
def test_sse_any_split_gives_the_same_events(transcript: Transcript, points: list[int]) -> None:
    assert decode_sse([transcript.raw]) == transcript.events
    assert decode_sse(split_at(transcript.raw, points)) == transcript.events


@settings(max_examples=100, deadline=None)
@given(transcript=sse_transcripts())
def test_sse_one_byte_reads_give_the_same_events(transcript: Transcript) -> None:
    raw = transcript.raw
    assert decode_sse([raw[i : i + 1] for i in range(len(raw))]) == transcript.events


SSE_DIALECTS = sorted(name for name, case in DIALECT_CASES.items() if case[1].startswith((b"data:", b"event:", b":")))


@settings(max_examples=150, deadline=None)
@given(dialect=st.sampled_from(SSE_DIALECTS), points=st.lists(st.integers(0, 6000), max_size=30))
def test_recorded_style_transcripts_any_split_gives_the_same_events(dialect: str, points: list[int]) -> None:
    raw = DIALECT_CASES[dialect][1]
    whole = decode_sse([raw])
    # Every event of these transcripts is one JSON data line (or OpenAI's [DONE]), ended by a blank line.
    assert len(whole) == raw.count(b"data:")
    assert all(e.data == "[DONE]" or isinstance(json.loads(e.data), dict) for e in whole)
    assert decode_sse(split_at(raw, points)) == whole


@settings(max_examples=200, deadline=None)
@given(
    transcript=sse_transcripts(),
    points=SPLITS,
    line_limit=st.integers(1, 80),
    event_limit=st.integers(1, 120),
)
def test_sse_limits_stop_the_stream_exactly_when_a_line_or_event_is_over_them(
    transcript: Transcript, points: list[int], line_limit: int, event_limit: int
) -> None:
    limits = {"max_line_bytes": line_limit, "max_event_bytes": event_limit}
    events, stopped = outcome("sse", split_at(transcript.raw, points), **limits)
    over = transcript.longest_line > line_limit or transcript.largest_event > event_limit
    assert (stopped is not None) == over
    if stopped is None:
        assert events == [(e.event, e.data) for e in transcript.events]
    else:  # the events before the stop are a prefix of the transcript's
        assert events == [(e.event, e.data) for e in transcript.events][: len(events)]


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), points=st.lists(st.integers(0, 300), max_size=12))
def test_arbitrary_bytes_decode_the_same_whatever_the_split(data: bytes, points: list[int]) -> None:
    """Every registered framing: even invalid UTF-8, stray CRs, BOM pieces and NULs give the same events (or
    the same error) whole, in pieces, and one byte per read."""
    for framing in FRAMINGS:
        assert outcome(framing, split_at(data, points)) == outcome(framing, [data])
        one_byte = [data[i : i + 1] for i in range(len(data))]
        assert outcome(framing, one_byte, max_line_bytes=20) == outcome(framing, [data], max_line_bytes=20)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(
    records=st.lists(st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=4), max_size=8),
    newlines=st.lists(st.sampled_from([b"\n", b"\r\n", b"\n\n", b"\n \n", b"\r\n\t\r\n"]), min_size=8, max_size=8),
    final_newline=st.booleans(),
    ensure_ascii=st.booleans(),
    points=SPLITS,
)
def test_ndjson_any_split_gives_the_same_records(
    records: list[dict[str, Any]], newlines: list[bytes], final_newline: bool, ensure_ascii: bool, points: list[int]
) -> None:
    raw = b"".join(json.dumps(r, ensure_ascii=ensure_ascii).encode() + newlines[i] for i, r in enumerate(records))
    if records and not final_newline:
        raw = raw.rstrip(b"\r\n\t ")
    ndjson = FRAMINGS["ndjson"]
    assert [json.loads(event.data) for event in ndjson(split_at(raw, points))] == records
    assert [json.loads(event.data) for event in ndjson([raw[i : i + 1] for i in range(len(raw))])] == records
    longest = max((len(json.dumps(r, ensure_ascii=ensure_ascii).encode()) for r in records), default=0)
    stopped = outcome("ndjson", split_at(raw, points), max_line_bytes=max(longest - 1, 1))[1]
    assert stopped == ("max_line_bytes" if records else None)  # every record is at least "{}"
    # A record's line is counted with the CR of a CRLF, if any.
    assert outcome("ndjson", split_at(raw, points), max_line_bytes=longest + 1)[1] is None


def test_ndjson_ollama_transcript_any_split() -> None:
    raw = DIALECT_CASES["ollama"][1]
    whole = [e.data for e in FRAMINGS["ndjson"]([raw])]
    assert len(whole) == raw.count(b"\n") and all(json.loads(d)["model"] == "qwen3" for d in whole)
    for cut in range(len(raw) + 1):
        assert [e.data for e in FRAMINGS["ndjson"]([raw[:cut], raw[cut:]])] == whole


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
