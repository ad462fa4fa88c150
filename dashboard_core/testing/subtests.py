"""How a subtest is named, shared by the pytest plugin and the progress reader.

Pure Python on purpose: the plugin runs inside a suite's own interpreter, which
may have nothing but pytest.
"""

from __future__ import annotations

from typing import Any


def subtest_description(msg: Any, kwargs: Any) -> str:
    """How pytest names a subtest in its output: ``[msg] (i=1, j=2)``."""
    parts = []
    if msg is not None:
        parts.append(f"[{msg}]")
    if isinstance(kwargs, dict) and kwargs:
        parts.append("(" + ", ".join(f"{k}={v}" for k, v in kwargs.items()) + ")")
    return " ".join(parts) or "(<subtest>)"
