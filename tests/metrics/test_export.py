"""CSV export: a round trip through pandas and spreadsheet-formula neutralising."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from dashboard_core.metrics.export import csv_filename, frame_to_csv, neutralise
from dashboard_core.metrics.frame import RollingFrame


def history() -> pd.DataFrame:
    frame = RollingFrame(100, lambda c: "float64" if c == "memory.used" else "float32")
    base = pd.Timestamp("2026-11-25T08:00:00Z").value
    for i in range(50):
        frame.append(
            base + i * 1_000_000_000 + 123_000_000,
            {"cpu.total": i * 1.5, "memory.used": 2**34 + i, "nic.recv[eth0]": -0.25},
        )
    frame.append(base + 60_000_000_000, {"cpu.total": float("nan")})
    return frame.to_frame()


def test_round_trip_through_pandas() -> None:
    df = history()
    back = pd.read_csv(io.BytesIO(frame_to_csv(df)), index_col="timestamp")
    assert list(back.columns) == list(df.columns)
    assert len(back) == len(df)
    parsed = pd.to_datetime(back.index, utc=True, format="ISO8601")
    assert (parsed == df.index.floor("ms")).all()
    assert np.allclose(back["cpu.total"].to_numpy()[:-1], df["cpu.total"].to_numpy()[:-1])
    assert (back["memory.used"].to_numpy()[:-1] == df["memory.used"].to_numpy()[:-1]).all(), "byte counts are exact"
    assert back["nic.recv[eth0]"].iloc[0] == -0.25, "negative numbers stay numbers"
    assert pd.isna(back["cpu.total"].iloc[-1]) and pd.isna(back["memory.used"].iloc[-1])


def test_whole_byte_counts_are_written_as_integers() -> None:
    text = frame_to_csv(history()).decode()
    row = text.splitlines()[1].split(",")
    assert row[2] == str(2**34)  # memory.used, not 1.7179869184e+10
    assert row[1] == "0" and row[3] == "-0.25"
    assert text.splitlines()[-1].split(",")[2] == ""  # a missing reading stays empty


def test_timestamps_are_iso_8601_utc() -> None:
    text = frame_to_csv(history()).decode()
    first_row = text.splitlines()[1]
    assert first_row.startswith('"2026-11-25T08:00:00.123Z",')


@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"])
def test_formula_cells_are_neutralised_in_text_and_headers(dangerous: str) -> None:
    df = pd.DataFrame({"name": [dangerous, "safe"], dangerous: [1.0, -2.0]})
    back = pd.read_csv(io.BytesIO(frame_to_csv(df)), keep_default_na=False)
    assert back["name"].tolist() == ["'" + dangerous, "safe"]
    assert back.columns[1] == "'" + dangerous
    assert back.iloc[:, 1].tolist() == [1.0, -2.0]


def test_neutralise_leaves_ordinary_text_alone() -> None:
    assert neutralise("python3") == "python3"
    assert neutralise("a=b") == "a=b"
    assert neutralise("=cmd") == "'=cmd"


def test_empty_frame_still_has_a_header() -> None:
    df = history().iloc[0:0]
    text = frame_to_csv(df).decode()
    assert text.splitlines() == ['"timestamp","cpu.total","memory.used","nic.recv[eth0]"']


def test_file_name_names_the_window() -> None:
    name = csv_filename("metrics", pd.Timestamp("2026-11-25T08:00:00Z"), pd.Timestamp("2026-11-25T08:15:00Z"))
    assert name == "metrics_20261125T080000Z_20261125T081500Z.csv"
