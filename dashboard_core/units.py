"""Numbers as people read them: ``1.5 GiB``, ``12.3 %``, ``4.1 MiB/s``."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Literal, overload
from zoneinfo import ZoneInfo

_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def format_bytes(value: float) -> str:
    size = abs(value)
    for unit in _BINARY:
        if size < 1024 or unit == _BINARY[-1]:
            break
        size /= 1024
    sign = "-" if value < 0 else ""
    if unit == "B" or size >= 100:
        return f"{sign}{size:.0f} {unit}"
    return f"{sign}{size:.1f} {unit}" if size >= 10 else f"{sign}{size:.2f} {unit}"


def format_value(value: float | None, unit: str) -> str:
    """A reading with its unit; an em dash when there is none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "bytes":
        return format_bytes(value)
    if unit == "bytes/s":
        return f"{format_bytes(value)}/s"
    if unit == "processes":
        return f"{value:,.0f}"
    return f"{value:.2f}"


def format_duration(seconds: float) -> str:
    """``93784`` -> ``1 d 2 h 3 min``; short spans keep their seconds."""
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h {minutes} min"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def format_seconds(seconds: float) -> str:
    """Test-run durations: ``2.3 s`` under a minute, then as :func:`format_duration`."""
    return f"{seconds:.1f} s" if seconds < 60 else format_duration(seconds)


def utc_iso(at: datetime, timespec: Literal["seconds", "auto", "microseconds"] = "seconds") -> str:
    """``2026-12-06T10:00:00Z``: a time in UTC (a naive one is taken as UTC), to the
    second (what shareable URLs hold), with milliseconds when it has some (``auto``:
    a zoomed span), or to the microsecond (a CSV link that must cover exactly)."""
    utc = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    if timespec == "seconds":
        text = utc.replace(microsecond=0).isoformat(timespec="seconds")
    elif timespec == "auto":
        text = utc.isoformat(timespec="milliseconds" if utc.microsecond else "seconds")
    else:
        text = utc.isoformat(timespec="microseconds")
    return text.replace("+00:00", "Z")


def local_time(ts: datetime, tz: str, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A UTC time as the viewer's clock shows it (``tz``: an IANA name such as ``Europe/Berlin``)."""
    return ts.astimezone(ZoneInfo(tz)).strftime(fmt)


@overload
def from_epoch(epoch: float) -> datetime: ...
@overload
def from_epoch(epoch: float | None) -> datetime | None: ...
def from_epoch(epoch: float | None) -> datetime | None:
    """A stored epoch as an aware UTC datetime; None stays None (a run not started or not ended)."""
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([A-Za-z]*)")


def parse_duration(text: str) -> float:
    """``'5m'`` -> 300.0; ``'1m30s'`` -> 90.0. Units s, m, h, d (the rules' ``for`` and
    the maintenance windows' ``duration``); a ValueError says what is wrong."""
    if not text:
        raise ValueError("expected a duration (e.g. 30s, 5m, 1h)")
    total, pos = 0.0, 0
    while pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if match is None:
            raise ValueError(f"'{text}' is not a duration like 30s, 5m, 1h, 1d or 1m30s")
        number, unit = match.groups()
        if not unit:
            raise ValueError(f"missing duration unit in '{text}' (s, m, h or d)")
        if unit not in DURATION_UNITS:
            raise ValueError(f"unknown duration unit in '{text}': '{unit}' (use s, m, h or d)")
        total += float(number) * DURATION_UNITS[unit]
        pos = match.end()
    return total
