"""CSV export of metric history and tables, safe to open in a spreadsheet.

A text cell that starts with ``= + - @``, a tab or a carriage return is run as
a formula by Excel, LibreOffice and Google Sheets (CSV injection, OWASP). Such
cells, headers included, are prefixed with a single quote so they show as text.
Numbers are never touched: ``-3.5`` stays a number.

Timestamps are ISO 8601 UTC. The writer itself is in
:mod:`dashboard_core.metrics.csv_writer`, loaded with the first export: the API
imports this module, and an idle server never loads pandas or pyarrow.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A spreadsheet-safe version of one text cell."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_filename(prefix: str, start: datetime, end: datetime) -> str:
    """``metrics_20261125T080000Z_20261125T081500Z.csv``: the window in the name."""
    return f"{prefix}_{start:%Y%m%dT%H%M%SZ}_{end:%Y%m%dT%H%M%SZ}.csv"


def frame_to_csv(frame: pd.DataFrame, index_label: str = "timestamp") -> bytes:
    """The frame as CSV bytes: the (datetime) index first, then every column."""
    from dashboard_core.metrics.csv_writer import write_csv

    return write_csv(frame, index_label)
