"""Cards: latest value, change over the last minute, units as people read them."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from dashboard_core.config import Config
from dashboard_core.metrics.cards import build_cards
from dashboard_core.metrics.fields import FieldTable
from dashboard_core.metrics.sources.cpu import TOTAL
from dashboard_core.metrics.sources.disk import USAGE
from dashboard_core.metrics.sources.network import TOTAL_RECV
from dashboard_core.metrics.windows import resolve_window
from dashboard_core.runtime import Runtime
from dashboard_core.units import format_bytes, format_duration, format_value

FIELDS = FieldTable([TOTAL, USAGE, TOTAL_RECV])


def recent() -> pd.DataFrame:
    index = pd.date_range("2026-11-25T08:00:00Z", periods=91, freq="s", name="timestamp")
    return pd.DataFrame(
        {
            "cpu.total": np.linspace(10, 55, 91),
            "disk.percent[/]": 50.0,
            "disk.percent[/home]": np.nan,
            "net.recv": 2048.0,
        },
        index=index,
    )


def test_cards_show_value_and_change_over_a_minute() -> None:
    cards = {c.label: c for c in build_cards(recent(), FIELDS)}
    assert list(cards) == ["CPU", "Disk /", "Disk /home", "Network received"]
    cpu = cards["CPU"]
    assert cpu.value == "55.0 %"
    assert cpu.delta == "+30.0 %"  # 60 s earlier the line was at 25 %
    assert cpu.delta_color == "inverse"
    assert len(cpu.spark) == 60
    assert cards["Network received"].value == "2.00 KiB/s"
    assert cards["Disk /home"].value == "—" and cards["Disk /home"].delta is None


def test_no_change_is_neutral_not_a_red_up_arrow() -> None:
    """Disk / stayed at 50 %: "+0.0 %" with inverse colours was a red up arrow."""
    frame = recent()
    frame["cpu.total"] = 55.004  # a change the card cannot show is no change either
    frame.loc[frame.index[-1], "cpu.total"] = 55.0
    cards = {c.label: c for c in build_cards(frame, FIELDS)}
    for label in ("Disk /", "CPU"):
        card = cards[label]
        assert (card.delta, card.delta_color, card.delta_arrow) == ("0.0 %", "off", "off"), label
    assert cards["Network received"].delta == "0 B/s" and cards["Network received"].delta_arrow == "off"
    rising = {c.label: c for c in build_cards(recent(), FIELDS)}["CPU"]
    assert (rising.delta_color, rising.delta_arrow) == ("inverse", "auto")


def test_no_history_no_cards() -> None:
    assert build_cards(recent().iloc[0:0], FIELDS) == []


def test_units() -> None:
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.50 KiB"
    assert format_bytes(305.6 * 1024) == "306 KiB"
    assert format_bytes(23.5 * 2**30) == "23.5 GiB"
    assert format_value(None, "%") == "—"
    assert format_value(float("nan"), "bytes/s") == "—"
    assert format_value(1234.0, "processes") == "1,234"
    assert format_duration(93_784) == "1 d 2 h 3 min"
    assert format_duration(59) == "59 s"


def test_the_live_cards_are_built_once_per_sample_for_every_session() -> None:
    """Every session's card tick asks the Runtime; a new sample is a new build, and
    once the newest sample is older than the cards' window there are none."""
    rt = Runtime(Config())
    now = time.time_ns()
    for i in range(90):
        rt.frame.append(now - (90 - i) * 1_000_000_000, {"cpu.total": float(i), "memory.percent": 40.0})
    first = rt.live_cards()
    assert rt.live_cards() is first and rt._cards.builds == 1  # a second session, same sample
    assert first == build_cards(rt.history(resolve_window("2m")), rt.fields)
    assert {c.label for c in first} == {"CPU", "Memory"}

    rt.frame.append(now, {"cpu.total": 99.0, "memory.percent": 40.0})
    cards = {c.label: c for c in rt.live_cards()}
    assert rt._cards.builds == 2 and cards["CPU"].value == "99.0 %"

    stale = Runtime(Config())
    stale.frame.append(now - 10 * 60 * 1_000_000_000, {"cpu.total": 5.0})  # the sampler stopped 10 min ago
    assert stale.live_cards() == []
