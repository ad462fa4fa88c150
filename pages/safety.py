"""Safety: the alert rules, what fires now, and every alert so far."""

from datetime import UTC, datetime

import streamlit as st

from dashboard_core.app.links import alert_links, events_of, watched
from dashboard_core.app.urls import SAFETY
from dashboard_core.app.view_state import one_query, parse_safety
from dashboard_core.health.alert_state import alert_stats
from dashboard_core.health.overview import (
    alert_duration,
    clock,
    history_table,
    rules_table,
)
from dashboard_core.health.silence_views import quiet_mark
from dashboard_core.labels import (
    ALERT_ICON,
    BLANK,
    SAFETY_COLOUR,
    SAFETY_ICON,
    SEVERITY_ICON,
)
from dashboard_core.models import AlertRecord, AlertState, EventKind, RuleStatus, Severity
from ui.alertmanager import alertmanager_problem
from ui.channel_errors import channel_warnings
from ui.maintenance import maintenance_windows
from ui.silences import alert_quiet, silences_panel
from ui.url_state import keep, link_row, opened
from ui.widgets import PageContext, browser_tz, current_caller, icon_text, material, require_runtime

ALL_RULES = "All rules"
HISTORY = 100
NO_RULES = """No safety rules are configured, so nothing is watched. Add one per `[[alerts]]` table to
`dashboard.toml` and restart:

```toml
[[alerts]]
name = "cpu-high"
rule = "cpu.total > 90 for 5m"
severity = "warning"        # or "critical"
description = "The machine has been busy for five minutes."
# webhook = "https://example.org/hook"   # optional: each firing and resolution POSTed as JSON
# notify = ["mailtos://user:pass@smtp.example.org?to=ops@example.org"]   # optional: Apprise URLs
```

A rule is a metric test (`cpu.total > 90 for 5m`), a component state (`component NAME down for 1m`),
an agent state (`agent [NAME] offline for 1m`) or a suite result (`suite NAME failed`)."""

rt = require_runtime()
tz = browser_tz()
PAGE = PageContext(rt, current_caller(rt), tz)  # silences and acks (ui/silences.py)
st.title("Safety")
st.caption(
    f"Each rule is judged every {rt.config.alerting.interval_seconds:g} s: "
    f"{icon_text(ALERT_ICON[AlertState.PENDING], 'pending')} while its condition holds for less than its duration, "
    f"{icon_text(ALERT_ICON[AlertState.FIRING], 'firing')} after, "
    f"{icon_text(ALERT_ICON[AlertState.RESOLVED], 'resolved')} when it no longer holds. The same from "
    "`GET /api/dashboard/safety` and `GET /api/safety/alerts`."
)
if not rt.alerts.rules:
    st.info(NO_RULES)
    maintenance_windows(PAGE)  # they still mark components and agents, and keep uptime
    st.stop()
RULES = {r.name: r.rule for r in rt.alerts.rules}  # parsed: what each watches, for its links
picked_rule, fresh = opened(SAFETY, lambda query: parse_safety(query, list(RULES)))
if fresh:  # a link, a reload, Back: the rule it names
    st.session_state["safety_rule"] = picked_rule or ALL_RULES


def firing_alert(alert: AlertRecord, rule: RuleStatus | None, now: datetime) -> None:
    show = st.error if alert.severity is Severity.CRITICAL else st.warning
    with st.container(key=f"firing_{alert.rule}"):
        lines = [
            f"**{alert.rule}** · {alert.severity.value} · firing since "
            f"{clock(alert.fired_at or alert.began_at, tz, now)} ({alert_duration(alert, now)})",
            alert.message,
        ]
        stats = alert_stats(alert)
        if stats:
            lines.append(f"Value so far: {stats}")
        if rule is not None and rule.description:
            lines.append(f"_{rule.description}_")
        show("  \n".join(lines), icon=material(SEVERITY_ICON[alert.severity]))
        alert_quiet(PAGE, alert, now)
        link_row(alert_links(alert.rule, RULES.get(alert.rule), alert, now))


RULE_HEADERS = {
    "state": "State",
    "name": "Rule",
    "severity": "Severity",
    "rule": "Condition",
    "value": "Value",
    "since": "Last change",
    "message": "What it sees",
    "quiet": "Silenced",
    "webhook_error": "Webhook error",
}


@st.fragment(run_every=2.0)
def live() -> None:
    report = rt.alerts.report()
    now = datetime.now(UTC)
    counts = {s: sum(1 for r in report.rules if r.state is s) for s in AlertState}
    cols = st.columns([2, 1, 1, 1, 1])
    cols[0].metric(
        "Overall",
        report.status,
        f"{len(report.firing)} firing" if report.firing else "nothing firing",
        delta_color=SAFETY_COLOUR[report.status],
        delta_arrow="off",
        border=True,
        icon=material(SAFETY_ICON[report.status]),
        help="critical when a critical rule fires, warning when only warnings fire, else safe",
    )
    for col, state in zip(cols[1:], (AlertState.FIRING, AlertState.PENDING, AlertState.RESOLVED, AlertState.OK)):
        col.metric(state.value.capitalize(), counts[state], border=True, icon=material(ALERT_ICON[state]))

    by_name = {r.name: r for r in report.rules}
    for alert in report.firing:
        firing_alert(alert, by_name.get(alert.rule), now)
    channel_warnings(report.rules)  # failing webhooks and Apprise channels, by rule
    alertmanager_problem(rt)

    st.subheader("Rules")
    frame = rules_table(report.rules, tz, now)
    frame = frame.drop(columns=[c for c in ("quiet", "webhook_error") if not frame[c].any()])  # shown when used
    st.table(frame.rename(columns=RULE_HEADERS), hide_index=True)


live()
maintenance_windows(PAGE)

st.subheader("History")
picked = st.selectbox("Rule", [ALL_RULES, *RULES], key="safety_rule")
keep(SAFETY, one_query("rule", None if picked == ALL_RULES else picked))
config = rt.alerts.rule(picked)
if config is not None:  # the rule a link named, or picked here: what it says, what it watches
    st.caption(
        f"**{config.name}**: `{config.rule}` · {config.severity}"
        + (f" · {config.description}" if config.description else "")
    )
    link_row([watched(RULES[picked], None, datetime.now(UTC)), events_of(EventKind.ALERT, picked)], key="rule_links")

HISTORY_COLUMNS = {
    "rule": "Rule",
    "severity": "Severity",
    "state": "State",
    "began": st.column_config.DatetimeColumn("Began", format="YYYY-MM-DD HH:mm:ss"),
    "fired": st.column_config.DatetimeColumn("Fired", format="YYYY-MM-DD HH:mm:ss"),
    "ended": st.column_config.DatetimeColumn("Ended", format="YYYY-MM-DD HH:mm:ss"),
    "duration": "Duration",
    "min": st.column_config.NumberColumn("Min", format="%.4g"),
    "max": st.column_config.NumberColumn("Max", format="%.4g"),
    "mean": st.column_config.NumberColumn("Mean", format="%.4g"),
    "message": st.column_config.TextColumn("Message", width="large"),
    "quiet": st.column_config.TextColumn("Silenced / acknowledged"),
    "link": st.column_config.LinkColumn("Go to", display_text="^([a-z]+)", width="small"),
}


@st.fragment(run_every=2.0)
def history() -> None:
    alerts = rt.alerts.history(HISTORY, None if picked == ALL_RULES else picked)
    if not alerts:
        st.caption("No alert has fired yet." if picked == ALL_RULES else f"{picked} has not fired yet.")
        return
    now = datetime.now(UTC)
    frame = history_table(alerts, tz, now)
    frame["quiet"] = [quiet_mark(a) for a in alerts]
    frame["link"] = [watched(RULES[a.rule], a, now).href if a.rule in RULES else None for a in alerts]  # relative
    st.dataframe(
        frame,
        hide_index=True,
        placeholder=BLANK,
        key="safety_history",
        column_config=HISTORY_COLUMNS,
    )
    st.caption(f"The {len(alerts)} newest alerts; began is when the condition started to hold, fired when it fired.")


history()
silences_panel(PAGE, list(RULES), None if picked == ALL_RULES else picked)
