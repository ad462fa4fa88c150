"""A page of rows as a plain HTML table, for ``st.html``: no Streamlit here.

Why not ``st.dataframe``: its grid (glide-data-grid) is 1.2 MB of script that the
browser loads, compiles and draws on a canvas before the first row shows. For the
Tests page's page of 200 results that was most of the time a run of 20,000 tests
took to open (bench/large_run.py, in one run: 2.7 s with the grid, 1.9 s without;
docs/benchmarks.md has the rest).
A plain table also reads out to a screen reader as a table, and its text selects
and copies like any other. What the grid did besides, the page does itself: sorting
and filtering in the store (its Sort and filters), a page at a time, and the CSV.

The look (borders, the sticky header, the scroll box, a dash in an empty cell) is
``.dash-table`` in ``ui/style.py``; a table's own rules (which column is a number,
its icons) come with it. Cells carry no colour but an icon's, which reads on both
themes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from dashboard_core.labels import Colour, Icon

Kind = Literal["text", "number", "name"]
TEXT_LIMIT = 160  # characters of a long text cell shown; all of it on hover
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # a table's name: its CSS scope and data-table
# Mid-tone colours that read on the light and the dark theme alike (an icon is a
# graphic: 3:1 against either background).
ICON_COLOURS: dict[Colour, str] = {
    "green": "#2e9e4f",
    "red": "#e0383e",
    "orange": "#d97706",
    "gray": "#808495",
    "blue": "#1c83e1",
    "violet": "#8b5cf6",
}


@dataclass(frozen=True, slots=True)
class Column:
    """``key`` of the row's value, its ``title``, and how it is shown: ``number`` to
    ``digits`` places, right-aligned; ``name`` wraps anywhere (a test's node id)."""

    key: str
    title: str
    kind: Kind = "text"
    digits: int = 2
    help: str = ""


@dataclass(frozen=True, slots=True)
class Cell:
    """A value drawn with an icon before it (an outcome), or indented (a subtest)."""

    text: str
    icon: Icon | None = None
    indent: bool = False


def attributes(**values: str) -> str:
    """`` class="a" data-key="b"``: the attributes given a value, escaped (``class_`` is
    ``class``, ``data_key`` is ``data-key``)."""
    return "".join(
        f' {key.rstrip("_").replace("_", "-")}="{html.escape(value)}"' for key, value in values.items() if value
    )


def table_style(name: str, columns: Sequence[Column], icons: Sequence[Icon]) -> str:
    """This table's own rules, by column position, so its cells need no attributes (the
    browser's HTML sanitiser, DOMPurify, spends its time on each one): numbers to the
    right, a name wrapping anywhere, a subtest indented, and each icon (``.i0``…) drawn
    before its cell's text in its colour (not part of the text: a copied row reads
    ``failed``, not ``cancel failed``)."""
    if not NAME.fullmatch(name):  # it goes into CSS unescaped
        raise ValueError(f"a table's name is letters, digits and _ (not {name!r})")
    scope = f'[data-table="{name}"]'
    rules = []
    for at, column in enumerate(columns, start=1):
        cells = f"{scope} td:nth-child({at})"
        if column.kind == "number":
            rules.append(
                f"{cells},{scope} th:nth-child({at}){{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}}"
            )
        elif column.kind == "name":
            rules.append(
                f"{cells}{{overflow-wrap:anywhere;min-width:32rem}}{scope} tr.sub td:nth-child({at}){{padding-left:1.6rem}}"
            )
    for number, icon in enumerate(icons):
        rules.append(f'{scope} .i{number}::before{{content:"{icon.name}";color:{ICON_COLOURS[icon.colour]}}}')
    return f"<style>{''.join(rules)}</style>"


def cell_html(column: Column, value: object, icons: dict[Icon, int]) -> str:
    """A cell: its text only (an empty one is drawn as a dash by the CSS), an icon as a
    class, the whole of a cut text as its tooltip."""
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        return "<td></td>"
    if column.kind == "number" and isinstance(value, int | float):
        return f"<td>{value:,.{column.digits}f}</td>"
    cell = value if isinstance(value, Cell) else Cell(str(value))
    text = cell.text if len(cell.text) <= TEXT_LIMIT else cell.text[: TEXT_LIMIT - 1] + "…"
    icon = f"i{icons.setdefault(cell.icon, len(icons))}" if cell.icon else ""
    return f"<td{attributes(class_=icon, title=cell.text if text != cell.text else '')}>{html.escape(text)}</td>"


def row_html(columns: Sequence[Column], row: Mapping[str, object], icons: dict[Icon, int]) -> str:
    indent = any(isinstance(v, Cell) and v.indent for v in row.values())
    return (
        ('<tr class="sub">' if indent else "<tr>")
        + "".join(cell_html(c, row.get(c.key), icons) for c in columns)
        + "</tr>"
    )


def html_table(
    columns: Sequence[Column],
    rows: Iterable[Mapping[str, object]],
    *,
    name: str,
    label: str,
    empty: str = "Nothing to show.",
    scroll: bool = True,
) -> str:
    """The rows as a table in a box that scrolls (``scroll``) under a header that stays;
    ``name`` marks it for tests and scripts (``data-table``; each header's ``data-key`` is
    its column's key), ``label`` tells a screen reader what it is; ``empty`` is said when
    there are no rows."""
    icons: dict[Icon, int] = {}
    body = "".join(row_html(columns, row, icons) for row in rows)
    if not body:
        body = f'<tr><td colspan="{len(columns)}">{html.escape(empty)}</td></tr>'
    head = "".join(
        f'<th scope="col"{attributes(title=c.help, data_key=c.key)}>{html.escape(c.title)}</th>' for c in columns
    )
    box = "dash-table-box dash-scroll" if scroll else "dash-table-box"
    return (
        f'{table_style(name, columns, list(icons))}<div class="{box}"><table class="dash-table" '
        f'data-table="{html.escape(name)}" aria-label="{html.escape(label)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )
