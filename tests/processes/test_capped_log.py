"""Where a supervised process's output goes: the capped log (head and tail, the
cut marked) and the tail kept in memory for a command check's last line."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard_core.processes.capped_log import CappedLog, TailBuffer


def test_the_live_tail_shows_the_newest_output(tmp_path: Path) -> None:
    log = CappedLog(tmp_path / "out.log", max_bytes=100)
    log.write(b"first line\n")
    assert log.tail_text() == "first line\n"  # still within the head: read from the file
    log.write(b"x" * 200 + b"\nnewest line\n")
    assert log.tail_text(max_chars=12) == "newest line\n"
    log.close()
    assert log.path.read_text().endswith("newest line\n")


def test_a_closed_log_refuses_more_and_keeps_head_cut_and_tail(tmp_path: Path) -> None:
    log = CappedLog(tmp_path / "out.log", max_bytes=20)
    log.write(b"HEAD-----" + b"y" * 1000 + b"---TAIL\n")
    log.close()
    log.close()  # twice is once
    with pytest.raises(ValueError):
        log.write(b"late")
    text = log.path.read_text()
    assert text == "HEAD-----y\n[... 997 bytes of output cut here: the log keeps its head and tail ...]\nyy---TAIL\n"


def test_the_tail_buffer_keeps_the_end_and_its_last_line() -> None:
    tail = TailBuffer(keep=30)
    assert tail.last_line() == ""
    tail.write(b"a" * 100 + b"\nfirst\n")
    tail.write(b"  the last one  \n\n")
    assert tail.last_line() == "the last one"
