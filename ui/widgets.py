"""Widgets shared by the pages: the runtime gate, the window picker, cards."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import streamlit as st

from dashboard_core import runtime as runtime_module
from dashboard_core.app.caller import Caller
from dashboard_core.auth.oidc import display_name, identity_cookie, refusal_sentence, role_for
from dashboard_core.auth.principals import OPEN, Principal
from dashboard_core.auth.sessions import COOKIE
from dashboard_core.labels import SEVERITY_ICON, WAITING, Icon
from dashboard_core.metrics.cards import Card
from dashboard_core.metrics.figure_cache import Figures
from dashboard_core.metrics.windows import PRESETS, Window, WindowError, resolve_window
from dashboard_core.models import Severity
from dashboard_core.runtime import Runtime
from ui.live import redraw_on_change
from ui.streamlit_internals import forget_removed_widgets

if TYPE_CHECKING:  # the live Metrics page loads no pandas (about 80 MiB with pyarrow)
    import pandas as pd

    from dashboard_core.health.overview import Summary  # its module loads pandas
    from dashboard_core.timeline.marks import Mark

CUSTOM = "Custom"


def material(icon: Icon | str) -> str:
    """``:material/check_circle:``: an icon from the Material Symbols font that ships with
    Streamlit, for ``icon=`` parameters and Markdown (never an emoji: a browser without a
    colour emoji font draws those as boxes)."""
    return f":material/{icon if isinstance(icon, str) else icon.name}:"


def icon_text(icon: Icon, text: str = "") -> str:
    """Markdown: the icon in its colour, then the text (``:green[:material/check_circle:] passed``)."""
    drawn = f":{icon.colour}[{material(icon)}]"
    return f"{drawn} {text}" if text else drawn


def require_runtime() -> Runtime:
    """The process's Runtime; a clear 'starting' note (and stop) until it runs."""
    rt = runtime_module.current()
    if rt is None:
        st.info("The dashboard is starting: the metric sampler is not running yet. This page refreshes by itself.")
        st.stop()
    return rt


def current_principal(rt: Runtime) -> Principal:
    """Who is looking: the open principal without authentication, else the user
    of the session cookie, else the person ``st.user`` names after a login with the
    OIDC provider (the middleware let the page load, so there is one)."""
    auth = rt.config.auth
    if not auth.required:
        return OPEN
    cookies = st.context.cookies
    who = rt.sessions.read(cookies.get(COOKIE))
    if who is None and auth.oidc is not None and st.user.get("is_logged_in") and not _identity_ended(rt, cookies):
        claims = st.user.to_dict()
        role = role_for(auth.oidc, claims)
        if role is None:
            st.error(refusal_sentence(display_name(claims), auth.oidc.label))
            st.stop()
        who = Principal(display_name(claims), role, "user")
    if who is None:
        st.warning("Your session has ended. [Log in again](/auth/login).")
        st.stop()
    return who


def _identity_ended(rt: Runtime, cookies: Mapping[str, str]) -> bool:
    """Whether the OIDC identity cookie of this browser logged out (in another tab, say)."""
    identity = identity_cookie(cookies)
    return identity is not None and rt.sessions.identity_ended(identity)


def current_caller(rt: Runtime) -> Caller:
    """Who is looking and from where, for the application layer's actions."""
    return Caller(current_principal(rt), st.context.ip_address or "localhost")


@dataclass(frozen=True, slots=True)
class PageContext:
    """What every part of a page needs: the runtime, who is looking, their time zone.
    Built once per run of the page and passed to its functions (no module globals)."""

    rt: Runtime
    caller: Caller
    tz: str

    def may(self, role: str) -> bool:
        return self.caller.may(role)


def page_context() -> PageContext:
    """The runtime (or a 'starting' note and stop), the viewer and their time zone."""
    rt = require_runtime()
    return PageContext(rt, current_caller(rt), browser_tz())


def browser_tz() -> str:
    """The viewer's time zone (times are UTC inside, local on screen)."""
    return st.context.timezone or "UTC"


def sidebar_status() -> None:
    rt = runtime_module.current()
    with st.sidebar:
        if rt is not None and rt.config.auth.required:
            who = current_principal(rt)
            st.caption(f"{material('person')} {who.name} · {who.role}")
            if st.button("Log out", key="logout", type="tertiary", icon=material("logout")):
                # Streamlit forgets st.user and sends the browser to /auth/logout, where the
                # middleware ends our session and deletes Streamlit's identity cookies.
                st.logout()
        if rt is None:
            st.caption(icon_text(WAITING, "Starting…"))
        elif not rt.sampler.alive:
            st.caption(icon_text(Icon("error", "red"), "Sampler stopped: see Overview"))
        else:
            st.caption(
                icon_text(
                    Icon("radio_button_checked", "green"), f"Sampling every {rt.config.sampler.interval_seconds:g} s"
                )
            )


TOAST_CHECK_SECONDS = 3.0


@st.fragment
def critical_toasts() -> None:
    """A toast in this browser for each new critical event (component down, critical alert…).

    Rerun only when there is a new event (the watch asks every few seconds), not on a
    timer: each rerun of every open page was a message to draw for every browser."""
    rt = runtime_module.current()
    if rt is None:
        return
    seen = st.session_state.get("toast_seen_id")
    newest = rt.events.last_id
    redraw_on_change(str(newest), TOAST_CHECK_SECONDS, key="toast_watch", view="events")
    if seen is None:  # a new session: only what happens from now on
        st.session_state["toast_seen_id"] = newest
        return
    if newest <= seen:
        return
    new, st.session_state["toast_seen_id"] = rt.events.next_batch(
        seen, 50, who=current_principal(rt), severities=[Severity.CRITICAL]
    )
    for event in new:
        st.toast(
            f"**{event.source}**: {event.message}", icon=material(SEVERITY_ICON[Severity.CRITICAL]), duration="long"
        )


def window_picker(key: str = "window", default: str = "15m") -> Callable[[], Window]:
    """Preset spans ending now, or a custom range in the viewer's time zone.

    Returns a function, so a live fragment re-resolves "last 15 min" each tick.
    """
    tz = browser_tz()
    options = [*PRESETS, CUSTOM]
    choice = st.segmented_control(
        "Window",
        options,
        default=default,
        format_func=lambda o: PRESETS.get(o, o),
        key=key,
        label_visibility="collapsed",
        wrap=True,  # in a column Streamlit keeps one row that scrolls, its end out of sight on a phone
    )
    choice = choice or default
    if choice != CUSTOM:
        return lambda: resolve_window(choice)
    import pandas as pd

    now = pd.Timestamp.now(tz=tz).tz_localize(None).floor("min").to_pydatetime()
    left, right = st.columns(2)
    start = left.datetime_input("From", value=now - timedelta(hours=1), key=f"{key}_from", step=60)
    end = right.datetime_input("To", value=now, key=f"{key}_to", step=60)
    try:
        fixed = resolve_window(start=as_utc(start, tz), end=as_utc(end, tz))
    except WindowError as exc:
        st.error(f"That range does not work: {exc}. Showing the last 15 minutes instead.")
        return lambda: resolve_window("15m")
    return lambda: fixed


def as_utc(value: datetime, tz: str) -> pd.Timestamp:
    import pandas as pd

    return pd.Timestamp(value).tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward").tz_convert("UTC")


_LINK_STYLE = (
    # The border is the text's own colour, faded: it shows on the light and the dark theme alike.
    "display:inline-block;padding:0.4rem 0.75rem;border:1px solid color-mix(in srgb,currentColor 25%,transparent);"
    "border-radius:0.5rem;text-decoration:none;color:inherit;"
)


def download_link(label: str, href: str, file_name: str, key: str) -> None:
    """A link styled as a button that the browser downloads directly.

    Used instead of st.download_button for large exports: the file comes from
    the API as it is asked for, and is never held in the session's media store.
    """
    download_links([(label, href, file_name, key)])


def download_links(links: Sequence[tuple[str, str, str, str]]) -> None:
    """Several :func:`download_link` s (label, href, file name, key) in a row, as one
    ``st.html``: no Markdown to parse in the browser (raw HTML in Markdown goes through
    a second, slower parser), which a page opening with three of them felt."""
    anchors = "".join(
        f'<a href="{html.escape(href)}" download="{html.escape(file_name)}" data-key="{html.escape(key)}" '
        f'style="{_LINK_STYLE}">{html.escape(label)}</a>'
        for label, href, file_name, key in links
    )
    st.html(f'<div style="display:flex;flex-wrap:wrap;gap:0.5rem">{anchors}</div>')


def show_charts(
    figures: Figures,
    key_prefix: str,
    on_select: Callable[[str], None],
    marks: Sequence[Mark] = (),
    tz: str = "UTC",
    window: tuple[datetime, datetime] | None = None,
) -> None:
    """Charts two to a row, the ``marks`` on each (cut to ``window``; a toggle per kind
    above them all); a box selection on one calls ``on_select(its key)``, a click on a
    mark opens it."""
    from dashboard_core.metrics.sent_figure import SentFigure
    from dashboard_core.timeline.figure_marks import add_marks
    from ui.chart_marks import CONFIG, follow_click, mark_toggles, remember_click

    forget_removed_widgets()  # the last redraw's charts
    kinds = mark_toggles(marks, key_prefix.rstrip("_"))

    def selected(key: str) -> None:
        if not remember_click(key):
            on_select(key)

    for row in range(0, len(figures), 2):
        for col, (spec, fig) in zip(st.columns(2), figures[row : row + 2]):
            key = f"{key_prefix}{spec.key}"
            col.plotly_chart(
                SentFigure.of(add_marks(fig, marks, tz, kinds, window=window)),
                key=key,
                on_select=lambda key=key: selected(key),
                selection_mode=("points", "box"),
                config=CONFIG,
            )
    follow_click()


CARD_WIDTH = 200  # px: four to a row on a laptop, two on a narrow window
SUMMARY_WIDTH = 230  # px: room for a status word ("warning") and the label's icon
SUMMARY_KEY = "summary_cards"  # ui/style.py lays them out: equal cards that fill each row


def show_cards(cards: list[Card]) -> None:
    """Live cards in one wrapping row container, not a grid of columns: each
    ``st.columns`` row is five more elements to send every second to every
    viewer (a dozen cards were 33 messages a tick, now 14)."""
    with st.container(horizontal=True, gap="small"):
        for card in cards:
            st.metric(
                card.label,
                card.value,
                card.delta,
                delta_color=card.delta_color,
                delta_arrow=card.delta_arrow,
                help=card.help,
                border=True,
                chart_data=card.spark or None,
                delta_description="vs 1 min ago" if card.delta else None,
                width=CARD_WIDTH,
            )


def show_summary(items: Sequence[Summary], key: str = SUMMARY_KEY) -> None:
    """Summary cards: a big value and a coloured note under it (no arrow), at
    least ``SUMMARY_WIDTH`` wide and as many to a row as fit, stretched to fill
    it (ui/style.py's grid; a phone has one a row): columns squeezed the values
    to "3.…" on a narrow window, fixed widths left a gap on the right. A second
    row on a page has its own ``key``, beginning with ``SUMMARY_KEY`` (the grid's)."""
    with st.container(horizontal=True, gap="small", key=key):
        for item in items:
            st.metric(
                item.label,
                item.value,
                item.note,
                delta_color=item.colour,
                delta_arrow="off",
                help=item.help,
                icon=material(item.icon) if item.icon else None,
                border=True,
                width="stretch",
            )
