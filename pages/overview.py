"""Overview: the whole system at a glance, then the host and the dashboard's own health."""

from datetime import UTC, datetime

import streamlit as st

from dashboard_core.app import actions, queries
from dashboard_core.app.caller import Caller, Refusal
from dashboard_core.app.links import alert_links, component_history
from dashboard_core.health.maintenance import MAINTENANCE_ICON, maintenance_note
from dashboard_core.health.overview import (
    clock,
    component_facts,
    events_table,
    failing_note,
    latest_run,
    run_line,
    summary_cards,
    uptime_line,
)
from dashboard_core.health.silence_views import ack_words
from dashboard_core.labels import (
    AGENT_ICON,
    COMPONENT_COLOUR,
    COMPONENT_ICON,
    RUN_ICON,
    SEVERITY_ICON,
    WORKFLOW_ICON,
    Icon,
)
from dashboard_core.models import (
    AgentsOverview,
    AgentState,
    ComponentState,
    ComponentStatus,
    Overview,
    SelfHealth,
    Severity,
    StepStatus,
    SuiteInfo,
    WorkflowRunInfo,
)
from dashboard_core.units import format_bytes, format_duration
from ui.live import live_cards, redraw_on_change
from ui.ray_cluster import cluster_section
from ui.url_state import link_row, page_link
from ui.widgets import browser_tz, current_caller, icon_text, material, require_runtime, show_summary

COMPONENTS_PER_ROW = 4
EVENT_HEADERS = {"when": "When", "severity": "Severity", "source": "About", "message": "What happened"}
NO_COMPONENTS = """No components are configured, so none is checked. Add one to `dashboard.toml` and restart:

```toml
[[components]]
name = "web"
description = "the public web server"
check = { type = "http", url = "http://127.0.0.1:8080/health" }   # or tcp, process, command, python
interval_seconds = 10
down_after = 3
```"""

rt = require_runtime()
tz = browser_tz()
WATCH_SECONDS = 2.0  # how often the page asks whether what it shows has changed
CHECKED = "overview_checked"  # the outcome of "Check all now", shown once
st.title("Overview")


def firing_alerts(ov: Overview, now: datetime) -> None:
    rules = {r.name: r.rule for r in rt.alerts.rules}
    for alert in ov.firing:
        show = st.error if alert.severity is Severity.CRITICAL else st.warning
        since = clock(alert.fired_at or alert.began_at, tz, now)
        show(
            f"**{alert.rule}** · {alert.severity.value} · firing since {since} · {ack_words(alert)}"
            f"{' · silenced' if alert.muted else ''}: {alert.message}",
            icon=material(SEVERITY_ICON[alert.severity]),
        )
        link_row(alert_links(alert.rule, rules.get(alert.rule), alert, now), key=f"alert_links_{alert.rule}")


def component_card(c: ComponentStatus, now: datetime) -> None:
    with st.container(border=True, key=f"component_{c.name}"):
        st.markdown(
            f"{icon_text(COMPONENT_ICON[c.state])} **{c.name}** :{COMPONENT_COLOUR[c.state]}-badge[{c.state.value}]"
        )
        st.caption(c.description or c.check, help=c.check if c.description else None)
        facts = component_facts(c)
        if facts:
            st.markdown(" · ".join(facts))
        uptime = uptime_line(c)
        if uptime:
            st.caption(uptime)
        if note := maintenance_note(c.maintenance):
            st.caption(icon_text(Icon(MAINTENANCE_ICON, "blue"), note))
        failing = failing_note(c)
        if failing:
            st.caption(icon_text(Icon("priority_high", "red"), failing))
        st.caption(f"since {clock(c.state_since, tz, now)}" if c.state_since is not None else "not checked yet")
        page_link(component_history(c.name), label="History")


def check_all(caller: Caller) -> None:
    """The button's callback: every component checked now, the outcome kept for the next run."""
    try:
        statuses = actions.check_all_components(rt, caller)
    except Refusal as refusal:
        st.session_state[CHECKED] = ("error", str(refusal))
        return
    healthy = sum(1 for c in statuses if c.state is ComponentState.HEALTHY)
    st.session_state[CHECKED] = ("success", f"Checked {len(statuses)} components now: {healthy} healthy.")


def components(items: list[ComponentStatus], now: datetime, caller: Caller) -> None:
    title, button = st.columns([5, 1], vertical_alignment="bottom")
    title.subheader("Components")
    if not items:
        st.info(NO_COMPONENTS)
        return
    if caller.may("operator"):
        button.button(
            "Check all now",
            icon=material("refresh"),
            key="check_all",
            on_click=check_all,
            args=(caller,),
            width="stretch",
        )
    kind, text = st.session_state.pop(CHECKED, (None, ""))
    if kind is not None:
        getattr(st, kind)(text)
    for start in range(0, len(items), COMPONENTS_PER_ROW):
        for col, c in zip(st.columns(COMPONENTS_PER_ROW), items[start : start + COMPONENTS_PER_ROW]):
            with col:
                component_card(c, now)


def tests(suites: list[SuiteInfo], now: datetime) -> None:
    st.markdown("**Latest test runs**")
    if not suites:
        st.caption("No test suites are configured (`[[suites]]` in dashboard.toml).")
        return
    for suite in suites:
        run = latest_run(suite)
        st.markdown(
            f"**{suite.name}**: " + (icon_text(RUN_ICON[run.status], run_line(run, tz, now)) if run else "never run")
        )
    st.page_link("../pages/tests.py", label="Run suites and see their results", icon=material("science"))


def workflows(active: list[WorkflowRunInfo]) -> None:
    st.markdown("**Active workflows**")
    if not active:
        st.caption("No workflow is running.")
    for run in active:
        done = sum(1 for step in run.steps if step.status is StepStatus.SUCCEEDED)
        running = ", ".join(step.name for step in run.steps if step.status is StepStatus.RUNNING)
        st.markdown(
            icon_text(WORKFLOW_ICON[run.status], f"**{run.workflow}** #{run.id}: {done}/{len(run.steps)} steps done")
            + (f" · running {running}" if running else "")
        )
    st.page_link("../pages/workflows.py", label="Start, stop and watch workflows", icon=material("account_tree"))


def agents(overview: AgentsOverview) -> None:
    st.markdown("**Agents**")
    if not overview.total:
        st.caption("No agent has sent a heartbeat, and none is expected.")
        return
    st.markdown(icon_text(AGENT_ICON[AgentState.ONLINE], f"{overview.online} of {overview.total} online"))
    for state in (AgentState.OFFLINE, AgentState.MISSING):
        names = [a.name for a in overview.agents if a.state is state]
        if names:
            st.markdown(icon_text(AGENT_ICON[state], f"{state.value}: {', '.join(names)}"))
    st.page_link("../pages/agents.py", label="Tasks, heartbeats and history", icon=material("smart_toy"))


def host(ov: Overview) -> None:
    st.subheader("Host")
    h = ov.host
    st.caption(
        f"**{h.hostname}** · {h.platform} · {h.cpu_cores} cores · "
        f"{format_bytes(h.memory_total)} memory · up since {clock(h.boot_time, tz, datetime.now(UTC))}"
    )
    live_cards(rt.config.sampler.interval_seconds)


def dashboard(health: SelfHealth) -> None:
    st.subheader("This dashboard")
    if not health.sampler_running:
        st.error("The metric sampler is not running: charts and cards are not updating. Check the server log.")
    if health.sampler_crashes:
        st.warning(
            f"The sampler crashed {health.sampler_crashes} time(s) and was restarted; "
            f"last error: {health.sampler_last_crash}"
        )
    if health.store_error:
        st.error(health.store_error, icon=material("database"))
    if health.remote_push is not None and health.remote_push.problem:  # metrics out, failing or dropping
        st.warning(health.remote_push.problem, icon=material("cloud_off"))
    for source, error in sorted(health.failing_sources.items()):
        st.warning(f"Metric source **{source}** fails, its readings stay empty: {error}")
    cols = st.columns(5)
    cols[0].metric("Uptime", format_duration(health.uptime_seconds), border=True)
    cols[1].metric(
        "Sampling interval",
        f"{health.sampling_interval_seconds:g} s",
        border=True,
        help=f"Process table scanned every {health.process_interval_seconds:g} s",
    )
    cols[2].metric(
        "Sampler CPU",  # per sample (its help says so): a longer label was cut on a laptop
        f"{health.sampler_cpu_ms_per_sample:.2f} ms" if health.sampler_cpu_ms_per_sample is not None else "—",
        border=True,
        help="CPU time of the sampler thread per host sample; a process-table scan costs "
        + (f"{health.process_scan_cpu_ms:.1f} ms" if health.process_scan_cpu_ms is not None else "—"),
    )
    cols[3].metric("Server memory (RSS)", format_bytes(health.process_rss), border=True)
    cols[4].metric("Server CPU", f"{health.process_cpu_percent:.1f} %", border=True, help="% of one core since start")
    st.progress(
        min(1.0, health.samples_held / health.capacity),
        text=f"{health.samples_held:,} of {health.capacity:,} samples held "
        f"({format_duration(health.history_span_seconds)} of history, {health.bytes_per_row} bytes per sample)",
    )


@st.fragment
def live() -> None:
    caller = current_caller(rt)
    ov = queries.overview(rt, caller, events=10)
    now = datetime.now(UTC)
    redraw_on_change(queries.overview_version(ov, now), WATCH_SECONDS)
    show_summary(summary_cards(ov))
    firing_alerts(ov, now)
    components(ov.components, now, caller)

    runs_col, workflows_col, agents_col = st.columns(3)
    with runs_col:
        tests(ov.suites, now)
    with workflows_col:
        workflows(ov.workflows)
    with agents_col:
        agents(ov.agents)

    st.subheader("Latest events")
    if ov.events:
        st.table(events_table(ov.events, tz, now).rename(columns=EVENT_HEADERS), hide_index=True)
    else:
        st.caption("No events yet: component, agent, alert and test-run changes show here.")

    cluster_section(rt, tz)  # the Ray cluster, with [ray] address set
    host(ov)
    dashboard(ov.dashboard)


live()
