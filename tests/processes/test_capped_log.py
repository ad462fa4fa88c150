"""Where a supervised process's output goes: the capped log (head and tail, the
cut marked) and the tail kept in memory for a command check's last line."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard_core.processes.capped_log import CappedLog, TailBuffer, read_tail
from dashboard_core.processes.log_tail import LogTail


def test_the_live_tail_shows_the_newest_output(tmp_path: Path) -> None:
    log = CappedLog(tmp_path / "out.log", max_bytes=100)
    log.write(b"first line\n")
    assert log.tail() == LogTail("first line\n", earlier=False)  # still within the head: read from the file
    log.write(b"x" * 200 + b"\nnewest line\n")
    assert log.tail(max_bytes=12) == LogTail("newest line\n", earlier=True)  # it starts on a line: kept
    log.close()
    assert log.path.read_text().endswith("newest line\n")


def test_the_live_tail_never_starts_with_a_cut_line(tmp_path: Path) -> None:
    log = CappedLog(tmp_path / "out.log", max_bytes=10_000)
    log.write(b"".join(b"line %03d\n" % i for i in range(100)))  # 9 bytes a line, all in the head
    assert log.tail(max_bytes=40) == LogTail("line 096\nline 097\nline 098\nline 099\n", earlier=True)
    assert log.tail(max_bytes=9 * 100).earlier is False  # exactly all of it
    log.write(b"x" * 5000 + b"\nafter the head\n")  # the head is full: the rest is kept in memory
    assert log.tail(max_bytes=20) == LogTail("after the head\n", earlier=True)
    log.close()


def test_a_short_tail_in_memory_goes_on_from_the_end_of_the_head(tmp_path: Path) -> None:
    log = CappedLog(tmp_path / "out.log", max_bytes=40)  # 20 bytes of head
    log.write(b"one\ntwo\nthree\nfour\nfive\n")  # 24 bytes: "e\nfive\n" is past the head
    assert log.tail(max_bytes=100) == LogTail("one\ntwo\nthree\nfour\nfive\n", earlier=False)
    assert log.tail(max_bytes=10) == LogTail("four\nfive\n", earlier=True)
    log.close()


def test_once_the_tail_in_memory_has_dropped_output_the_first_line_counts_as_cut(tmp_path: Path) -> None:
    log = CappedLog(tmp_path / "out.log", max_bytes=20)  # 10 bytes of head, 10 of tail
    for i in range(20):
        log.write(b"%02d\n" % i)  # 3 bytes a write: old writes leave the tail
    tail = log.tail(max_bytes=100)
    assert tail.earlier and tail.text.endswith("19\n") and not tail.text.startswith("00")
    assert all(len(line) == 2 for line in tail.text.splitlines())  # whole lines only
    log.close()


def test_a_closed_log_is_tailed_from_its_file(tmp_path: Path) -> None:
    log = CappedLog(tmp_path / "out.log", max_bytes=10_000)
    log.write(b"alpha\nbeta\n")
    log.close()
    assert log.tail() == read_tail(log.path) == LogTail("alpha\nbeta\n", earlier=False)
    assert read_tail(log.path, max_bytes=7) == LogTail("beta\n", earlier=True)  # "\nbeta\n" is 6: "a" cut
    assert read_tail(tmp_path / "gone.log") == LogTail("", earlier=False)


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
