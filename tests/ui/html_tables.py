"""Reading back a table a page drew as plain HTML (``dashboard_core/app/html_table.py``)
through AppTest: its rows as a DataFrame keyed by the columns' ``data-key``, each
cell's text (an empty cell, which the CSS draws as a dash, as None)."""

from __future__ import annotations

from html.parser import HTMLParser

import pandas as pd
from streamlit.testing.v1 import AppTest

from dashboard_core.labels import BLANK


class _Table(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.name = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "table":
            self.name = values.get("data-table") or ""
        elif tag == "th":
            self.keys.append(values.get("data-key") or "")
        elif tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def html_tables(at: AppTest) -> dict[str, pd.DataFrame]:
    """Every plain HTML table on the page, by its ``data-table`` name."""
    tables = {}
    for element in at.html:
        if "data-table=" not in element.value:
            continue
        parsed = _Table()
        parsed.feed(element.value)
        rows = [r for r in parsed.rows if len(r) == len(parsed.keys)]  # not the header, nor "no rows"
        frame = pd.DataFrame(rows, columns=parsed.keys, dtype=object)
        tables[parsed.name] = frame.map(lambda text: None if text in ("", BLANK) else text)
    return tables


def html_table(at: AppTest, name: str) -> pd.DataFrame:
    """The table ``name`` (its ``data-table``); fails the test when the page has none."""
    tables = html_tables(at)
    assert name in tables, f"no table {name!r} on the page (tables: {sorted(tables)})"
    return tables[name]
