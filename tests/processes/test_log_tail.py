"""What a live log view shows of a tail: whole lines only, the current attempt of a
restarted service, the newest lines, and whether earlier output exists."""

from __future__ import annotations

from dashboard_core.processes.log_tail import LogTail, restart_line, shown_lines, tail_of


def test_all_of_the_output_is_shown_whole() -> None:
    assert tail_of(b"first\nsecond\n", whole=True) == LogTail("first\nsecond\n", earlier=False)
    assert tail_of(b"", whole=True) == LogTail("", earlier=False)
    assert tail_of(b"no newline yet", whole=True) == LogTail("no newline yet", earlier=False)


def test_a_cut_first_line_is_dropped_and_earlier_output_is_said() -> None:
    # The byte count fell in the middle of "line 41": the view starts at line 42.
    assert tail_of(b"ne 41\nline 42\nline 43\n", whole=False) == LogTail("line 42\nline 43\n", earlier=True)


def test_a_tail_that_starts_on_a_line_keeps_that_line() -> None:
    # The reader gives one byte more than it shows: here the newline that ends line 41.
    assert tail_of(b"\nline 42\nline 43\n", whole=False) == LogTail("line 42\nline 43\n", earlier=True)


def test_a_cut_in_a_character_never_shows_a_broken_one() -> None:
    data = "é suite\nnext\n".encode()[1:]  # the second byte of "é" first
    assert tail_of(data, whole=False).text == "next\n"


def test_carriage_returns_and_crlf_end_lines_too() -> None:
    assert tail_of(b"50%\r60%\r70%\rdone\n", whole=False).text == "60%\r70%\rdone\n"
    assert tail_of(b"one\r\ntwo\r\n", whole=False).text == "two\r\n"


def test_a_single_cut_line_leaves_nothing_but_the_note() -> None:
    assert tail_of(b"xxxxxxxxxxxxxxxx", whole=False) == LogTail("", earlier=True)


def test_the_tail_starts_at_the_current_attempt_of_a_restarted_service() -> None:
    log = (
        b"serving\nTraceback: boom\n"
        + restart_line(1, "exit 1").encode()
        + b"serving again\nTraceback: boom\n"
        + restart_line(2, "exit 1").encode()
        + b"serving once more\n"
    )
    assert tail_of(log, whole=True) == LogTail("--- restart 2 after exit 1 ---\nserving once more\n", earlier=True)


def test_a_restart_line_after_output_without_a_newline_still_starts_the_attempt() -> None:
    log = b"killed mid-line" + restart_line(1, "killed by SIGKILL").encode() + b"up\n"
    assert tail_of(log, whole=True).text == "--- restart 1 after killed by SIGKILL ---\nup\n"


def test_a_tail_cut_inside_the_current_attempt_has_no_restart_line() -> None:
    assert tail_of(b"rving\nline 7\nline 8\n", whole=False) == LogTail("line 7\nline 8\n", earlier=True)


def test_the_first_attempt_alone_has_no_earlier_output() -> None:
    assert tail_of(b"serving\n", whole=True).earlier is False


def test_shown_lines_are_the_newest_lines_as_a_terminal_shows_them() -> None:
    assert shown_lines("") == []
    assert shown_lines("a\nb\n") == ["a", "b"]
    assert shown_lines("a\n\nb") == ["a", "", "b"]  # a blank line stays; the last line may be unfinished
    assert shown_lines("epoch 1: 10%\repoch 1: 90%\rdone\n") == ["done"]  # a progress bar: its last state
    assert shown_lines("working 50%\r") == ["working 50%"]
    assert shown_lines("windows\r\nline\r\n") == ["windows", "line"]
