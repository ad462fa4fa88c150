"""A page's state in its URL (``st.query_params``), and links to other pages.

What the URL's names mean, and what a bad value gets, is in
``dashboard_core.app.view_state``; here is only when a page reads and writes:

- It reads its URL when the URL is new to it: the page was just entered (by a link,
  the sidebar, a reload: the router calls :func:`note_page`) or the URL changed under
  it (Back, Forward). It then seeds its widgets from the view.
- It writes its state back after its widgets, once that differs from what the URL
  opened: a page opened bare that shows the newest run keeps a bare URL until the
  viewer picks another, and a live refresh writes nothing. Streamlit makes each write
  a step in the browser's history (``st.query_params`` pushes; only widgets bound with
  ``bind="query-params"`` replace, and those would put their labels in the URL and
  drop a bad value without a word), so a step is one change the viewer made, and Back
  undoes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import streamlit as st

from dashboard_core.app.links import Link
from dashboard_core.app.urls import Parsed, Query, canonical
from ui.widgets import material

V = TypeVar("V")

ENTERED, LAST_PAGE = "url_entered", "url_page"


def note_page(url_path: str) -> None:
    """The router, on each full run: whether this run enters the page (its URL is then new)."""
    st.session_state[ENTERED] = st.session_state.get(LAST_PAGE) != url_path
    st.session_state[LAST_PAGE] = url_path


def current_query() -> Query:
    return {name: st.query_params.get_all(name) for name in st.query_params}


def opened(page: str, parse: Callable[[Query], Parsed[V]]) -> tuple[V, bool]:
    """The view the URL asks for, and whether the URL is new (then seed the widgets from
    the view). Each value the view leaves out is said on the page while the URL holds it."""
    query = current_query()
    parsed = parse(query)
    for problem in parsed.problems:
        st.warning(problem, icon=material("link_off"))
    seen = canonical(query)
    fresh = bool(st.session_state.get(ENTERED)) or st.session_state.get(f"url_seen_{page}") != seen
    if fresh:
        st.session_state[f"url_seen_{page}"] = seen
        st.session_state.pop(f"url_shown_{page}", None)
    return parsed.view, fresh


def keep(page: str, query: Query) -> None:
    """After the widgets (in a fragment too, for what it draws): the URL follows the page's
    state once it differs from what the URL opened."""
    wanted = canonical(query)
    shown = st.session_state.get(f"url_shown_{page}")
    st.session_state[f"url_shown_{page}"] = wanted
    if shown is None or shown == wanted:
        return
    st.query_params.from_dict(query)
    st.session_state[f"url_seen_{page}"] = canonical(current_query())


def page_link(link: Link, label: str | None = None) -> None:
    """``st.page_link`` to the link's page with its query: followed in this session, or
    opened in a new tab from its relative ``href``."""
    st.page_link(
        f"../pages/{link.page or 'overview'}.py",
        label=label or link.label,
        icon=material(link.icon),
        query_params=link.query,
        help=link.label if label else None,
    )


def link_row(links: Sequence[Link], key: str | None = None) -> None:
    """Links side by side, wrapping on a narrow screen."""
    with st.container(horizontal=True, gap="small", key=key):
        for link in links:
            page_link(link)
