"""A process's end and a failed start, in words a person can read."""

from __future__ import annotations

import signal
from collections.abc import Sequence
from pathlib import Path


def exit_words(code: int | None) -> str:
    """``exit 3``, ``killed by SIGTERM``, ``signal 77``; ``not finished`` for None."""
    if code is None:
        return "not finished"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit {code}"


def cannot_start_words(argv: Sequence[str], cwd: Path, exc: OSError) -> str:
    """Why ``argv`` could not start in ``cwd`` (the OSError that Popen raised)."""
    program = argv[0] if argv else ""
    if not Path(cwd).is_dir():
        return f"cannot start: the working directory {cwd} does not exist or is not a directory"
    if isinstance(exc, FileNotFoundError):
        return f"cannot start: the program {program!r} was not found ({exc.strerror})"
    if isinstance(exc, PermissionError):
        return f"cannot start: the program {program!r} is not executable ({exc.strerror})"
    return f"cannot start {program!r}: {exc.strerror or exc}"
