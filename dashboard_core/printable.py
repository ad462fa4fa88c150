"""Text from outside (login names, agent fields, identity claims) made safe to show.

A newline in a login name wrote a fake line into the server log, and a right-to-left
override turns ``evil\u202egnp.exe`` into ``evilexe.png`` on a page. So control
characters and the invisible characters that reorder text are written out as visible
escapes (``\\n``, ``\\u202e``) wherever such text reaches a log line or a page: the
log formatter, the event log (every event message and source) and the names shown.
"""

from __future__ import annotations

import logging
import re

# C0 and C1 controls (DEL included), the Unicode line and paragraph separators, and the
# bidirectional formatting characters (embeddings, overrides, isolates and marks).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_KEEPING_LINES = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def printable(text: str, *, keep_lines: bool = False) -> str:
    """``text`` with every control and bidi-formatting character escaped;
    ``keep_lines`` leaves newlines and tabs (for multi-line output shown as such)."""
    pattern = _UNSAFE_KEEPING_LINES if keep_lines else _UNSAFE
    return pattern.sub(_escape, text) if pattern.search(text) else text


class PrintableFormatter(logging.Formatter):
    """A log formatter that escapes what a record's message carries: one record is
    one line, whatever the data in it says. Tracebacks keep their lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        record.message = printable(record.message)
        return super().formatMessage(record)
