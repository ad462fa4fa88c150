"""Plain HTML tables (dashboard_core/app/html_table.py): what a cell says, what it
escapes, and the rules that come with a table; read back as a browser would, with
the same parser the page tests use."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from dashboard_core.app.case_table import CASE_TABLE, case_rows, cases_html
from dashboard_core.app.html_table import TEXT_LIMIT, Cell, Column, html_table
from dashboard_core.labels import FAILED, OK
from dashboard_core.models import CaseInfo, SubtestInfo

COLUMNS = (Column("name", "Name", "name"), Column("seconds", "Seconds", "number", 3), Column("note", "Note"))


class Tags(HTMLParser):
    """Every start tag with its attributes, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(markup: str) -> list[tuple[str, dict[str, str | None]]]:
    parsed = Tags()
    parsed.feed(markup)
    return parsed.tags


def test_cells_are_escaped_numbers_formatted_and_empty_cells_left_to_the_css() -> None:
    markup = html_table(
        COLUMNS,
        [
            {"name": "<script>alert(1)</script>", "seconds": 1234.5, "note": None},
            {"name": "b", "seconds": float("nan")},
        ],
        name="demo",
        label='A "demo" table',
    )
    assert "<script>" not in markup and "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert "<td>1,234.500</td>" in markup
    assert markup.count("<td></td>") == 3  # None, NaN and a missing key: drawn as a dash by ui/style.py
    table = next(attrs for tag, attrs in tags(markup) if tag == "table")
    assert table == {"class": "dash-table", "data-table": "demo", "aria-label": 'A "demo" table'}
    assert [a.get("data-key") for t, a in tags(markup) if t == "th"] == ["name", "seconds", "note"]
    assert [a.get("scope") for t, a in tags(markup) if t == "th"] == ["col"] * 3


def test_a_long_text_is_cut_with_the_whole_of_it_on_hover() -> None:
    long = "x" * (TEXT_LIMIT + 50)
    markup = html_table(COLUMNS, [{"name": "a", "note": long}, {"name": "b", "note": "short"}], name="t", label="t")
    cells = [a for t, a in tags(markup) if t == "td" and a]
    assert cells == [{"title": long}]  # only the cut one has a tooltip
    assert "x" * (TEXT_LIMIT - 1) + "…</td>" in markup


def test_no_rows_says_so_across_the_table() -> None:
    markup = html_table(COLUMNS, [], name="t", label="t", empty="No test matches these filters.")
    assert '<td colspan="3">No test matches these filters.</td>' in markup


def test_the_table_s_own_rules_place_numbers_right_and_draw_each_icon_once() -> None:
    rows = [{"name": Cell("passed", OK)}, {"name": Cell("failed", FAILED)}, {"name": Cell("passed again", OK)}]
    markup = html_table(COLUMNS, rows, name="demo", label="t", scroll=False)
    style = markup[: markup.index("</style>")]
    assert '[data-table="demo"] td:nth-child(2)' in style and "text-align:right" in style  # seconds
    assert style.count("::before") == 2  # one rule per icon used, not per cell
    assert [a.get("class") for t, a in tags(markup) if t == "td"][::3] == ["i0", "i1", "i0"]  # the name column
    assert "dash-scroll" not in markup


def test_a_run_s_cases_with_their_subtests_indented_and_resources_in_units() -> None:
    case = CaseInfo(
        nodeid="t.py::test_a",
        outcome="failed",
        duration=0.5,
        message="boom",
        cpu_user_seconds=0.25,
        cpu_system_seconds=0.5,
        peak_rss_bytes=64 * 2**20,
        subtests=[SubtestInfo(name="(i=1)", outcome="failed", duration=0.1, message="no")],
    )
    rows = case_rows([case])
    assert rows[0]["cpu_seconds"] == 0.75 and rows[0]["peak_rss_mib"] == 64.0
    assert rows[1]["nodeid"] == Cell("\u21b3 (i=1)", indent=True) and rows[1]["cpu_seconds"] is None
    markup = cases_html([case], CASE_TABLE, "tests_cases", "Tests", "none")
    assert [a.get("class") for t, a in tags(markup) if t == "tr"] == [None, None, "sub"]  # header, test, subtest
    assert "<td>0.75</td><td>64</td>" in markup


def test_a_table_s_name_must_be_safe_in_css() -> None:
    with pytest.raises(ValueError, match="letters, digits and _"):
        html_table(COLUMNS, [], name='x"]{}*{display:none', label="t")
