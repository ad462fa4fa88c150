"""Tail a JSON-lines file that another process is still writing.

Each call returns the records completed since the last call. A last line
without its newline is still being written: it is kept for the next call, not
parsed half. A line that is not JSON is counted and skipped, never fatal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class JsonLinesTail:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""
        self.bad_lines = 0

    def read_new(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:  # the writer has not created it yet
            return []
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        records: list[dict[str, Any]] = []
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                self.bad_lines += 1
                continue
            if isinstance(record, dict):
                records.append(record)
            else:
                self.bad_lines += 1
        return records
