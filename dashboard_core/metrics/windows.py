"""Time windows: ``"15m"``-style spans and explicit ranges, resolved to UTC bounds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: the API and the runtime import this module in an idle server
    import pandas as pd

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


@cache
def _bounds() -> tuple[pd.Timestamp, pd.Timestamp, str]:
    """What the history readers can hold: pandas' nanosecond timestamps (1677-09-21 to
    2262-04-11), as the earliest, the latest and the two dates in words."""
    import pandas as pd

    earliest, latest = pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC")
    return earliest, latest, f"{earliest:%Y-%m-%d} to {latest:%Y-%m-%d}"


class WindowError(ValueError):
    """A window the user asked for that makes no sense; the message says why."""


def parse_span(text: str) -> pd.Timedelta:
    """``"15m"`` -> 15 minutes. Units: s, m, h, d."""
    import pandas as pd

    match = _SPAN.match(text or "")
    if not match:
        raise WindowError(f"window {text!r} is not a span like 5m, 15m, 1h, 6h, 24h or 7d")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise WindowError(f"window {text!r} must be longer than zero")
    if seconds > pd.Timedelta.max.total_seconds():
        raise WindowError(f"window {text!r} is longer than the time this dashboard can hold ({_bounds()[2]})")
    return pd.Timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class Window:
    """A resolved window: both bounds are UTC timestamps, ``start < end``."""

    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def _utc(value: str | pd.Timestamp, name: str) -> pd.Timestamp:
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise WindowError(
            f"{name} {value!r} is not a date and time (ISO 8601, e.g. 2026-11-25T08:00:00Z): {exc}"
        ) from None
    if pd.isna(ts):  # Timestamp("NaT") is NaT
        raise WindowError(f"{name} is empty")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    earliest, latest, held = _bounds()
    if not earliest <= ts <= latest:
        raise WindowError(f"{name} {value!r} is outside the time this dashboard can hold ({held})")
    return ts


def resolve_window(
    span: str | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    *,
    now: pd.Timestamp | None = None,
) -> Window:
    """A span ending now, or an explicit range (``end`` defaults to now).

    With a span and a start, the window runs from start for that span; with a
    span and an end, it runs for that span up to end.
    """
    import pandas as pd

    earliest, latest, held = _bounds()
    now = _utc(now, "now") if now is not None else pd.Timestamp.now(tz="UTC")
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
        except (OverflowError, ValueError):  # pandas' OutOfBoundsDatetime is a ValueError
            raise WindowError(f"the window reaches outside the time this dashboard can hold ({held})") from None
    elif start_ts is None:
        raise WindowError("give a window (e.g. 15m) or a start time")
    else:
        end_ts = end_ts if end_ts is not None else now
    if not (earliest <= start_ts and end_ts <= latest):
        raise WindowError(f"the window reaches outside the time this dashboard can hold ({held})")
    if start_ts >= end_ts:
        raise WindowError(f"start {start_ts.isoformat()} is not before end {end_ts.isoformat()}")
    return Window(start_ts, end_ts)
