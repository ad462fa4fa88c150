"""What a live view shows of a process's output: its newest whole lines.

A tail read from the end of a log starts wherever the byte count falls, in the
middle of a line or of a character; and a service's log runs on across its
restarts, so its tail can still hold the attempt before the last crash.
:func:`tail_of` decides what is shown: whole lines only (the cut line is
dropped), from the start of the current attempt (each restart writes
:func:`restart_line` into the log, and the tail starts at the last one), and
whether earlier output exists that the whole log has. :func:`shown_lines` turns
that text into the lines a terminal would show. Pure: the readers in
:mod:`~dashboard_core.processes.capped_log` give it bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LINE_BREAK = re.compile(rb"\r\n|\r|\n")
RESTART = re.compile(rb"--- restart \d+ after [^\r\n]* ---\r?\n")


@dataclass(frozen=True)
class LogTail:
    text: str = ""  # whole lines of the current attempt, newest last
    earlier: bool = False  # output before ``text`` exists (cut to size, or earlier attempts): the whole log has it


def restart_line(n: int, after: str) -> str:
    """The line a service's log gets when it starts again (the boundary :func:`tail_of` finds)."""
    return f"--- restart {n} after {after} ---\n"


def tail_of(data: bytes, whole: bool) -> LogTail:
    """What to show of the end of a log.

    ``data`` is the end of the output; ``whole`` says it is all of it. When it is
    not, its first line is taken as cut and dropped: a reader that gives one byte
    more than it means to show (the end of the line before, if the tail starts
    on a line) keeps a first line that happens to be whole.
    """
    earlier = not whole
    if earlier:
        first_break = LINE_BREAK.search(data)
        data = data[first_break.end() :] if first_break is not None else b""
    attempts = [m.start() for m in RESTART.finditer(data)]
    if attempts and attempts[-1] > 0:  # from the last restart on
        data, earlier = data[attempts[-1] :], True
    return LogTail(data.decode(errors="replace"), earlier)


def shown_lines(text: str) -> list[str]:
    """The lines of a tail as a terminal shows them: a carriage return starts the
    line again (progress bars), so only what follows the last one shows."""
    lines = text.split("\n")
    if lines[-1] == "":  # the newline that ends the last line, or no text at all
        lines.pop()
    return [line.rstrip("\r").rsplit("\r", 1)[-1] for line in lines]
