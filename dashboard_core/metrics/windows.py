"""Time windows: ``"15m"``-style spans and explicit ranges, resolved to UTC bounds.

Plain ``datetime`` (a pandas Timestamp, which is one, is taken too): the API and
the live Metrics page resolve windows without loading pandas."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# The choices the UI offers, in order; any "<n><s|m|h|d>" is accepted elsewhere.
PRESETS: dict[str, str] = {
    "5m": "Last 5 min",
    "15m": "Last 15 min",
    "1h": "Last hour",
    "6h": "Last 6 h",
    "24h": "Last 24 h",
    "7d": "Last 7 days",  # from the store's tiers (history.*), beyond what memory holds
    "30d": "Last 30 days",
}

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


# What the history readers can hold: pandas' nanosecond timestamps (1677-09-21 to
# 2262-04-11), to the microsecond inside them.
_EARLIEST = datetime(1677, 9, 21, 0, 12, 43, 145225, tzinfo=UTC)
_LATEST = datetime(2262, 4, 11, 23, 47, 16, 854775, tzinfo=UTC)
_HELD = f"{_EARLIEST:%Y-%m-%d} to {_LATEST:%Y-%m-%d}"
_LONGEST_SECONDS = (2**63 - 1) / 1e9  # pandas' longest Timedelta


class WindowError(ValueError):
    """A window the user asked for that makes no sense; the message says why."""


def parse_span(text: str) -> timedelta:
    """``"15m"`` -> 15 minutes. Units: s, m, h, d."""
    match = _SPAN.match(text or "")
    if not match:
        raise WindowError(f"window {text!r} is not a span like 5m, 15m, 1h, 6h, 24h or 7d")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise WindowError(f"window {text!r} must be longer than zero")
    if seconds > _LONGEST_SECONDS:
        raise WindowError(f"window {text!r} is longer than the time this dashboard can hold ({_HELD})")
    return timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class Window:
    """A resolved window: both bounds are aware UTC datetimes, ``start < end``."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def _utc(value: str | datetime, name: str) -> datetime:
    if isinstance(value, datetime) and value == value:  # NaT is a datetime unequal to itself
        ts = value
    else:
        text = str(value).strip()
        if text in ("", "NaT"):
            raise WindowError(f"{name} is empty")
        try:
            ts = _nanosecond_time(text) if _SUB_MICROSECOND.search(text) else datetime.fromisoformat(text)
        except ValueError as exc:
            raise WindowError(
                f"{name} {value!r} is not a date and time (ISO 8601, e.g. 2026-11-25T08:00:00Z): {exc}"
            ) from None
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    if not _EARLIEST <= ts <= _LATEST:
        raise WindowError(f"{name} {value!r} is outside the time this dashboard can hold ({_HELD})")
    return ts


def parse_time(value: str | datetime, name: str) -> datetime:
    """One point in time (ISO 8601, UTC if no offset) as an aware UTC datetime; a
    :class:`WindowError` names ``name`` and says what is wrong."""
    return _utc(value, name)


_SUB_MICROSECOND = re.compile(r"[.,]\d{7,}")


def _nanosecond_time(text: str) -> datetime:
    """A time given to the nanosecond (``datetime`` keeps microseconds): as pandas reads
    it, which keeps them, so a bound at a sample's exact time still holds that sample."""
    import pandas as pd

    ts = pd.Timestamp(text)
    if pd.isna(ts):
        raise ValueError("not a time")
    return ts


def resolve_window(
    span: str | None = None,
    start: str | datetime | None = None,
    end: str | datetime | None = None,
    *,
    now: datetime | None = None,
) -> Window:
    """A span ending now, or an explicit range (``end`` defaults to now).

    With a span and a start, the window runs from start for that span; with a
    span and an end, it runs for that span up to end.
    """
    now = _utc(now, "now") if now is not None else datetime.now(UTC)
    end_ts = _utc(end, "end") if end is not None else None
    start_ts = _utc(start, "start") if start is not None else None
    if span is not None:
        length = parse_span(span)
        if start_ts is not None and end_ts is not None:
            raise WindowError("give a window, or start and end, not all three")
        try:
            if start_ts is not None:
                end_ts = start_ts + length
            else:
                end_ts = end_ts if end_ts is not None else now
                start_ts = end_ts - length
        except (OverflowError, ValueError):  # past datetime's years 1 to 9999 (or pandas' bounds)
            raise WindowError(f"the window reaches outside the time this dashboard can hold ({_HELD})") from None
    elif start_ts is None:
        raise WindowError("give a window (e.g. 15m) or a start time")
    else:
        end_ts = end_ts if end_ts is not None else now
    if not (_EARLIEST <= start_ts and end_ts <= _LATEST):
        raise WindowError(f"the window reaches outside the time this dashboard can hold ({_HELD})")
    if start_ts >= end_ts:
        raise WindowError(f"start {start_ts.isoformat()} is not before end {end_ts.isoformat()}")
    return Window(start_ts, end_ts)
