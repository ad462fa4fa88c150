"""Windows: spans, explicit ranges and the messages for bad ones."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard_core.metrics.windows import WindowError, parse_span, resolve_window

NOW = pd.Timestamp("2026-11-25T12:00:00Z")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5m", 300), ("15m", 900), ("1h", 3600), ("24h", 86400), ("7d", 604800), ("90s", 90), ("1.5h", 5400)],
)
def test_spans(text: str, seconds: int) -> None:
    assert parse_span(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "15", "m", "-5m", "0m", "5 minutes", "1w"])
def test_bad_spans_say_what_is_expected(text: str) -> None:
    with pytest.raises(WindowError, match="window"):
        parse_span(text)


def test_a_span_ends_now() -> None:
    win = resolve_window("15m", now=NOW)
    assert (win.start, win.end) == (NOW - pd.Timedelta(minutes=15), NOW)


def test_start_and_end_with_offsets_become_utc() -> None:
    win = resolve_window(start="2026-11-25T10:00:00+02:00", end="2026-11-25T09:00:00Z", now=NOW)
    assert win.start == pd.Timestamp("2026-11-25T08:00:00Z")
    assert win.seconds == 3600


def test_naive_times_are_utc_and_end_defaults_to_now() -> None:
    win = resolve_window(start="2026-11-25T11:00:00", now=NOW)
    assert (win.start, win.end) == (pd.Timestamp("2026-11-25T11:00:00Z"), NOW)


def test_span_from_a_start() -> None:
    win = resolve_window("1h", start="2026-11-25T01:00:00Z", now=NOW)
    assert win.end == pd.Timestamp("2026-11-25T02:00:00Z")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": "2026-11-25T12:00:00Z", "end": "2026-11-25T11:00:00Z"}, "is not before end"),
        ({"start": "yesterday-ish"}, "is not a date and time"),
        ({}, "give a window"),
        ({"span": "1h", "start": "2026-11-25T01:00:00Z", "end": "2026-11-25T02:00:00Z"}, "not all three"),
    ],
)
def test_bad_ranges(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(WindowError, match=message):
        resolve_window(now=NOW, **kwargs)
