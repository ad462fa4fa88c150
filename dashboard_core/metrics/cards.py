"""The live metric cards: latest value, change over the last minute, sparkline."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from dashboard_core.metrics.fields import FieldTable, split_column
from dashboard_core.units import format_value

CARD_WINDOW = "2m"  # the history a card reads: its delta and sparkline need the last minute
DELTA_SECONDS = 60
SPARK_POINTS = 60

DeltaColor = Literal["normal", "inverse", "off"]
DeltaArrow = Literal["auto", "off"]


@dataclass(frozen=True, slots=True)
class Card:
    label: str
    value: str
    delta: str | None
    delta_color: DeltaColor
    help: str
    spark: list[float] = field(default_factory=list)
    delta_arrow: DeltaArrow = "auto"  # "off" for no change: no arrow, no colour
    spark_ms: list[int] = field(default_factory=list)  # each sparkline point's time (UTC epoch ms)


# (field name, card label, delta colour): rising use is bad news, so "inverse".
_CARD_FIELDS: tuple[tuple[str, str, DeltaColor], ...] = (
    ("cpu.total", "CPU", "inverse"),
    ("memory.percent", "Memory", "inverse"),
    ("swap.percent", "Swap", "inverse"),
    ("disk.percent", "Disk {label}", "inverse"),
    ("disk.read", "Disk read", "off"),
    ("disk.write", "Disk write", "off"),
    ("net.sent", "Network sent", "off"),
    ("net.recv", "Network received", "off"),
    ("load.1", "Load, 1 min", "inverse"),
    ("load.5", "Load, 5 min", "inverse"),
    ("load.15", "Load, 15 min", "inverse"),
    ("proc.count", "Processes", "off"),
)


def build_cards(recent: pd.DataFrame, fields: FieldTable) -> list[Card]:
    """Cards from the last ~minute of history (oldest first)."""
    if recent.empty:
        return []
    columns = list(recent.columns)
    cards: list[Card] = []
    for name, label, color in _CARD_FIELDS:
        for column in (c for c in columns if split_column(c)[0] == name):
            cards.append(_card(recent, column, label.format(label=split_column(column)[1]), color, fields))
    return cards


def _card(recent: pd.DataFrame, column: str, label: str, color: DeltaColor, fields: FieldTable) -> Card:
    series = recent[column]
    unit = fields.unit_of(column)
    value = _last(series)
    then = _value_at(series, recent.index[-1] - pd.Timedelta(seconds=DELTA_SECONDS))
    text = format_value(value, unit)
    delta: str | None = None
    arrow: DeltaArrow = "auto"
    if value is not None and then is not None:
        change = value - then
        size = format_value(abs(change), unit)
        if size == format_value(0.0, unit):  # no change as far as the card shows: neutral, not a red up arrow
            delta, color, arrow = size, "off", "off"
        else:
            delta = ("+" if change > 0 else "-") + size
    tail = series.tail(SPARK_POINTS).dropna()
    spark = [float(v) for v in tail.to_numpy()]
    spark_ms = [int(t) for t in pd.DatetimeIndex(tail.index).as_unit("ns").asi8 // 1_000_000]
    return Card(label, text, delta, color, fields.label_of(column), spark, arrow, spark_ms)


class CardCache:
    """The live cards of the latest sample, built once and shared by every session.

    Each live page rebuilds its cards every sample: with twenty viewers that
    was the largest part of the server's Python time, and every viewer gets the
    same cards. The caller's key says which data they come from (the newest
    sample, and whether it is still recent); a new key is a new build.
    """

    def __init__(self, fields: FieldTable) -> None:
        self.fields = fields
        self._key: Hashable = None
        self._cards: list[Card] = []
        self._lock = threading.Lock()
        self.builds = 0  # for tests: how often the cache missed

    def cards(self, key: Hashable, recent: Callable[[], pd.DataFrame]) -> list[Card]:
        # Held while building, so sessions asking at the same moment wait for one build.
        with self._lock:
            if key is None or key != self._key:
                self._cards = build_cards(recent(), self.fields)
                self._key = key
                self.builds += 1
            return self._cards


def _last(series: pd.Series) -> float | None:
    valid = series.dropna()
    return float(valid.iloc[-1]) if len(valid) else None


def _value_at(series: pd.Series, when: pd.Timestamp) -> float | None:
    """The reading nearest before ``when`` (or the oldest one held)."""
    valid = series.dropna()
    if len(valid) < 2:
        return None
    pos = max(0, int(valid.index.searchsorted(when, "right")) - 1)
    return float(valid.iloc[pos])
