"""Batch files: the JSONL input read and checked line by line, output records shaped, and the append-only output
file that remembers which ids are finished."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TextIO

from .._engine.redact import get_logger, redact
from ..exceptions import APIError, LiteLLMSyncError

log = get_logger()


class BatchFileError(LiteLLMSyncError):
    """A batch input or output file cannot be read or written (missing, unreadable, not JSONL)."""


@dataclass(frozen=True)
class Item:
    """One valid input line: its id, messages and per-item call parameters."""

    id: str | int
    messages: Sequence[Any]
    params: Mapping[str, Any] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True)
class BadLine:
    """An input line that was skipped, and why."""

    line: int
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.problem}"


def id_key(value: Any) -> str:
    """How ids are compared: 7 and "7" are different ids."""
    return json.dumps(value)


def check_line(text: str, number: int) -> Item | BadLine:
    """Parse one input line: {"id": str|int, "messages": [...], "params": {...}?}."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return BadLine(number, f"not valid JSON ({error.msg} at column {error.colno})")
    except (ValueError, RecursionError):
        return BadLine(number, "not valid JSON (nested too deeply)")
    if not isinstance(data, dict):
        return BadLine(number, f"expected a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - {"id", "messages", "params"})
    if unknown:
        return BadLine(number, f"unknown key(s) {', '.join(unknown)}; a line has id, messages and params")
    item_id = data.get("id")
    if isinstance(item_id, bool) or not isinstance(item_id, (str, int)) or item_id == "":
        return BadLine(number, 'missing or invalid "id" (a non-empty string or an integer)')
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        return BadLine(number, f'id {item_id!r}: "messages" must be a non-empty list of message objects')
    params = data.get("params", {})
    if not isinstance(params, dict):
        return BadLine(number, f'id {item_id!r}: "params" must be an object')
    if "stream" in params or "messages" in params or "model" in params:
        return BadLine(number, f'id {item_id!r}: "params" may not set model, messages or stream')
    return Item(item_id, messages, params, number)


def read_input(path: str | os.PathLike[str]) -> tuple[list[Item], list[BadLine]]:
    """Every valid item in file order, and every bad line (malformed, invalid, or a repeated id) with its number."""
    items: list[Item] = []
    bad: list[BadLine] = []
    first_seen: dict[str, int] = {}
    with _open_input(path) as handle:
        for number, text in enumerate(handle, 1):
            if not text.strip():
                continue
            parsed = check_line(text, number)
            if isinstance(parsed, BadLine):
                bad.append(parsed)
                continue
            key = id_key(parsed.id)
            if key in first_seen:
                bad.append(BadLine(number, f"id {parsed.id!r} repeats line {first_seen[key]}; ids must be unique"))
                continue
            first_seen[key] = number
            items.append(parsed)
    return items, bad


def _open_input(path: str | os.PathLike[str]) -> TextIO:
    try:
        return open(path, encoding="utf-8-sig", errors="replace", newline="")
    except OSError as error:
        raise BatchFileError(f"cannot read the batch input {os.fspath(path)!r}: {error.strerror}") from None


# -- output records ------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def error_dict(error: BaseException, attempts: int = 1) -> dict[str, Any]:
    """An exception as a JSON object: type, message, status, code, retryable, attempts (never a key)."""
    if isinstance(error, APIError):
        return {
            "type": type(error).__name__,
            "message": error.message,
            "status_code": error.status_code,
            "code": error.code,
            "retryable": error.retryable,
            "attempts": attempts,
        }
    return {"type": type(error).__name__, "message": redact(str(error)), "status_code": None, "code": None,
            "retryable": False, "attempts": attempts}  # fmt: skip


def success_record(item_id: Any, response: Any) -> dict[str, Any]:
    """The output line of a finished call: the response in OpenAI's shape, its usage and cost."""
    body = response.to_dict()
    return {"id": item_id, "response": body, "error": None, "usage": body.get("usage"),
            "cost": getattr(response, "cost", None)}  # fmt: skip (a Decimal until written)


def error_record(item_id: Any, error: BaseException, attempts: int = 1) -> dict[str, Any]:
    """The output line of a call that failed for good."""
    return {"id": item_id, "response": None, "error": error_dict(error, attempts), "usage": None, "cost": None}


def is_finished(record: Mapping[str, Any], retry_errors: bool) -> bool:
    """Whether a record settles its id for good: a response, or an error that retrying cannot fix."""
    error = record.get("error")
    if not error:
        return True
    return not retry_errors and not (isinstance(error, dict) and error.get("retryable"))


class OutputFile:
    """The append-only output: read back on open (the last record per id wins), then one whole line per write.

    Each record is one `os.write` of one complete line on an O_APPEND descriptor: a crash leaves whole lines
    (or, if the machine itself fails, at most a torn last line, which `open` cuts before appending)."""

    def __init__(self, path: str | os.PathLike[str], retry_errors: bool = False, fsync: bool = False) -> None:
        self.path = os.fspath(path)
        self.fsync = fsync
        self.finished: set[str] = set()
        self.previous: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._scan(retry_errors)
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as error:
            raise BatchFileError(f"cannot write the batch output {self.path!r}: {error.strerror}") from None

    def _scan(self, retry_errors: bool) -> None:
        try:
            with open(self.path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            return
        except OSError as error:
            raise BatchFileError(f"cannot read the batch output {self.path!r}: {error.strerror}") from None
        end = data.rfind(b"\n") + 1
        if end < len(data):
            log.warning("batch output %s: cutting a torn last line (%d bytes) left by a crash", self.path,
                        len(data) - end)
            os.truncate(self.path, end)
        for number, line in enumerate(data[:end].splitlines(), 1):
            try:
                record = json.loads(line)
                key = id_key(record["id"])
            except (ValueError, KeyError, TypeError):
                raise BatchFileError(
                    f"batch output {self.path!r} line {number} is not a batch record; "
                    "is this the right output file? Pass a new path or fix the line."
                ) from None
            self.previous[key] = record
        self.finished = {key for key, record in self.previous.items() if is_finished(record, retry_errors)}

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one record as one whole line, at once (and to disk with fsync=True)."""
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=_plain) + "\n").encode()
        with self._lock:
            view = memoryview(line)
            while view:  # a regular file takes the whole line in one write; loop only if the OS says otherwise
                written = os.write(self._fd, view)
                view = view[written:]
            if self.fsync:
                os.fsync(self._fd)

    def close(self) -> None:
        """Close the descriptor (every record is already written)."""
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
