"""The live metric cards: latest value, change over the last minute, sparkline.

Built from the frame's numpy rows (:meth:`RollingFrame.rows`), so the live cards
never load pandas; a DataFrame (the fleet view's remote host) is taken too."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from dashboard_core.metrics.fields import FieldTable, split_column
from dashboard_core.metrics.frame import Rows, as_rows
from dashboard_core.units import format_value

if TYPE_CHECKING:
    import pandas as pd

CARD_SECONDS = 120  # the history a card reads: its delta and sparkline need the last minute
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


def build_cards(recent: Rows | pd.DataFrame, fields: FieldTable) -> list[Card]:
    """Cards from the last ~minute of history (oldest first)."""
    rows = as_rows(recent)
    if not len(rows) or not rows.columns:
        return []
    cards: list[Card] = []
    for name, label, color in _CARD_FIELDS:
        for column in (c for c in rows.columns if split_column(c)[0] == name):
            cards.append(_card(rows, column, label.format(label=split_column(column)[1]), color, fields))
    return cards


def _card(rows: Rows, column: str, label: str, color: DeltaColor, fields: FieldTable) -> Card:
    values = rows.column(column)
    valid = ~np.isnan(values)
    ts_ns, held = rows.ts_ns[valid], values[valid]
    unit = fields.unit_of(column)
    value = float(held[-1]) if len(held) else None
    then = _value_at(ts_ns, held, int(rows.ts_ns[-1]) - DELTA_SECONDS * 1_000_000_000)
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
    tail = valid[-SPARK_POINTS:]  # the last points, without the missing ones
    spark = values[-SPARK_POINTS:][tail].tolist()
    spark_ms = (rows.ts_ns[-SPARK_POINTS:][tail] // 1_000_000).tolist()
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

    def cards(self, key: Hashable, recent: Callable[[], Rows | pd.DataFrame]) -> list[Card]:
        # Held while building, so sessions asking at the same moment wait for one build.
        with self._lock:
            if key is None or key != self._key:
                self._cards = build_cards(recent(), self.fields)
                self._key = key
                self.builds += 1
            return self._cards


def _value_at(ts_ns: np.ndarray, values: np.ndarray, when_ns: int) -> float | None:
    """The reading nearest before ``when_ns`` (or the oldest one held) of the valid readings."""
    if len(values) < 2:
        return None
    pos = max(0, int(np.searchsorted(ts_ns, when_ns, "right")) - 1)
    return float(values[pos])
