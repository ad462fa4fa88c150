"""CSV export of metric history and tables, safe to open in a spreadsheet.

The file names, and the entry point to the writer, which is in
:mod:`dashboard_core.metrics.csv_writer` (spreadsheet-safe cells, ISO 8601 UTC
times) and loaded with the first export: the API imports this module, and an
idle server never loads pandas or pyarrow.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def csv_filename(prefix: str, start: datetime, end: datetime) -> str:
    """``metrics_20261125T080000Z_20261125T081500Z.csv``: the window in the name."""
    return f"{prefix}_{start:%Y%m%dT%H%M%SZ}_{end:%Y%m%dT%H%M%SZ}.csv"


def frame_to_csv(frame: pd.DataFrame, index_label: str = "timestamp") -> bytes:
    """The frame as CSV bytes: the (datetime) index first, then every column."""
    from dashboard_core.metrics.csv_writer import write_csv

    return write_csv(frame, index_label)
