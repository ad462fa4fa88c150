"""Markdown for the generated reference pages: text in a table cell, values as code."""

from __future__ import annotations

import re

# A code span (its pipes are safe in a table), or a pipe outside one (which would end the cell).
_CODE_OR_PIPE = re.compile(r"(`+)(?:.+?)\1|\|")


def cell(text: str) -> str:
    """Text that stays in one table cell: one line, its pipes escaped outside code spans."""
    return _CODE_OR_PIPE.sub(lambda m: m.group(0) if m.group(1) else "\\|", " ".join(str(text).split()))


def code(text: str) -> str:
    """Text as a code span, even when it holds a backtick."""
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def number(value: float) -> str:
    """A bound as people read it: ``0.1``, ``3600``, ``86,400``, ``2^62``."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and value >= 2**20 and value & (value - 1) == 0:
        return f"2^{value.bit_length() - 1}"
    return f"{value:,}" if isinstance(value, int) and abs(value) >= 10_000 else str(value)
