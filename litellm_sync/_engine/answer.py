"""`answer_tool:` in a reader: the calls to one tool are the answer, read as the message text.

A dialect with no JSON mode gets one from a forced tool: the request declares a tool whose input schema is the
wanted JSON (a `response_format` parameter rule) and forces it; the reader names the same tool as its
`answer_tool`. Its calls are then not tool calls: their arguments (whole, or a stream's fragments of the same
call index) are the text, and a `tool_calls` finish with no other call becomes `stop` (in reader.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .reads import ChoiceRead, ReadState, ToolCallRead


def take_answer(choice: ChoiceRead, state: ReadState, tool: str) -> None:
    """Move the calls to `tool` (and later fragments of the same index) out of the choice's tool calls: their
    arguments replace any other text of the same body or stream event; `state` remembers their indexes."""
    kept: list[ToolCallRead] = []
    answer: list[str] = []
    for call in choice.tool_calls:
        if call.name == tool or (call.name is None and state.answers is not None and call.index in state.answers):
            if state.answers is None:
                state.answers = set()
            state.answers.add(call.index)
            if call.arguments:
                answer.append(call.arguments)
        else:
            kept.append(call)
            state.other_calls = True
    if len(kept) == len(choice.tool_calls):
        return
    choice.tool_calls = kept
    if answer:
        choice.content = "".join(answer)
