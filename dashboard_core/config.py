"""``dashboard.toml``: pydantic models and the one loader that explains errors.

A bad file stops start-up with one message that names the file, the field path
and the reason (never a traceback). A missing file means the defaults.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from dashboard_core.dag import GraphError, topological_order
from dashboard_core.param_types import ParamError, coerce

ENV_VAR = "DASHBOARD_CONFIG"
DEFAULT_FILE = "dashboard.toml"


class ConfigError(Exception):
    """A config file that cannot be used; ``str()`` is the message for the user."""


NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def _refuse_repeats(what: str, values: list[str]) -> None:
    dupes = sorted({x for x in values if values.count(x) > 1})
    if dupes:
        raise ValueError(f"{what} must be unique; repeated: {', '.join(dupes)}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SamplerConfig(_Strict):
    interval_seconds: float = Field(1.0, ge=0.1, le=3600, description="Seconds between host samples.")
    history_hours: float = Field(24.0, gt=0, le=24 * 31, description="Hours of full-resolution history held in memory.")
    process_interval_seconds: float = Field(
        5.0, ge=1, le=3600, description="Seconds between full process-table scans (top-N tables, watch matching)."
    )
    top_n: int = Field(10, ge=1, le=200, description="Rows in the top processes tables.")
    mounts: list[str] = Field(
        default_factory=list,
        description="Mount points to report; empty = every real file system, re-listed each minute.",
    )

    @property
    def capacity(self) -> int:
        """Rows the rolling frame holds: history_hours at interval_seconds."""
        return max(2, int(self.history_hours * 3600 / self.interval_seconds))

    @model_validator(mode="after")
    def _bounded(self) -> SamplerConfig:
        if self.capacity > 10_000_000:
            raise ValueError(
                f"history_hours / interval_seconds holds {self.capacity:,} rows; at most 10,000,000 fit in memory"
            )
        return self


class WatchConfig(_Strict):
    label: str = Field(min_length=1, max_length=64, description="Name shown for this process in charts and columns.")
    match: Literal["name", "cmdline", "self"] = Field(
        "name",
        description="Match the process name exactly (Linux: the kernel's name, at most 15 characters), search the "
        "command line, or 'self': this dashboard's own server process (by its pid; no pattern).",
    )
    pattern: str | None = Field(
        None, min_length=1, description="Process name, or a regular expression over the command line."
    )

    @field_validator("label")
    @classmethod
    def _plain_label(cls, value: str) -> str:
        if any(c in value for c in "[]\n\r\t"):
            raise ValueError("may not contain brackets, tabs or line breaks")
        return value

    @model_validator(mode="after")
    def _valid_regex(self) -> WatchConfig:
        if self.match == "self":
            if self.pattern is not None:
                raise ValueError('match = "self" is this dashboard\'s own process: leave out pattern')
            return self
        if self.pattern is None:
            raise ValueError(f'pattern is required with match = "{self.match}"')
        if self.match == "cmdline":
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from None
        return self


class StorageConfig(_Strict):
    data_dir: Path = Field(Path("data"), description="Folder for the store and logs; relative to the config file.")


class ApiConfig(_Strict):
    csv_max_rows: int = Field(
        2_000_000, ge=1, description="Largest CSV export in rows; bigger windows are refused with 413."
    )


TierStat = Literal["min", "mean", "max"]


def _mean_only() -> list[TierStat]:
    return ["mean"]


class TierConfig(_Strict):
    """One resolution of the long metric history kept in the store."""

    seconds: float = Field(ge=1, le=86400, description="Resolution: one row per this many seconds.")
    keep_days: float = Field(gt=0, le=3650, description="Rows older than this are deleted.")
    stats: list[TierStat] = Field(
        default_factory=_mean_only, min_length=1, description="What each row keeps of the samples in it."
    )


def _default_tiers() -> list[TierConfig]:
    return [
        TierConfig(seconds=10, keep_days=7, stats=["mean"]),
        TierConfig(seconds=60, keep_days=90, stats=["min", "mean", "max"]),
    ]


class HistoryConfig(_Strict):
    enabled: bool = Field(True, description="Keep metric history in the store (it survives restarts).")
    flush_seconds: float = Field(
        10.0, ge=1, le=3600, description="Seconds between batched writes: a crash loses at most this much."
    )
    tiers: list[TierConfig] = Field(
        default_factory=_default_tiers, min_length=1, max_length=6, description="Resolutions, finest first."
    )

    @field_validator("tiers")
    @classmethod
    def _finest_first(cls, value: list[TierConfig]) -> list[TierConfig]:
        seconds = [t.seconds for t in value]
        if seconds != sorted(set(seconds)):
            raise ValueError("tiers must go from the finest resolution to the coarsest, each different")
        return value


class PrometheusConfig(_Strict):
    url: str | None = Field(
        None, pattern=r"^https?://\S+$", description="A Prometheus server for the fleet view; none = local only."
    )
    job: str = Field("node", min_length=1, description="The job label of the node_exporter targets.")
    timeout_seconds: float = Field(5.0, gt=0, le=120, description="A query slower than this is given up.")
    max_points: int = Field(2000, ge=10, le=100_000, description="Points per series a chart asks Prometheus for.")


class UiConfig(_Strict):
    chart_refresh_seconds: float = Field(
        5.0, ge=1, le=3600, description="Seconds between chart redraws while Live is on (cards tick every sample)."
    )


class SuiteConfig(_Strict):
    """One test suite the dashboard can run: pytest with arguments, or any command
    that writes JUnit XML. Never run through a shell."""

    name: str = Field(pattern=NAME_PATTERN, description="Unique name: letters, digits, '_', '.', '-'.")
    description: str = Field("", max_length=500, description="One line shown on the suite's card.")
    kind: Literal["pytest", "command"] = Field("pytest", description="pytest (live progress) or any command.")
    paths: list[str] = Field(
        default_factory=list, description="pytest: files, folders or node ids; empty = pytest's own discovery."
    )
    keyword: str | None = Field(None, min_length=1, description="pytest: -k expression.")
    markers: str | None = Field(None, min_length=1, description="pytest: -m expression.")
    args: list[str] = Field(default_factory=list, description="pytest: more arguments, as a list.")
    workers: int = Field(0, ge=0, le=64, description="pytest: parallel workers (pytest-xdist -n); 0 = none.")
    python: str | None = Field(
        None, description="pytest: the interpreter to run it with; default the dashboard's own."
    )
    argv: list[str] = Field(default_factory=list, description="command: the program and its arguments.")
    junit_xml: str | None = Field(
        None, description="command: where it writes JUnit XML, relative to cwd; '{junit_xml}' in argv is replaced."
    )
    cwd: Path = Field(Path("."), description="Working directory, relative to the config file.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    timeout_seconds: float | None = Field(1800.0, gt=0, description="Stop the run after this long; none = never.")

    @model_validator(mode="after")
    def _fits_its_kind(self) -> SuiteConfig:
        pytest_only = [k for k in ("paths", "keyword", "markers", "args", "workers", "python") if getattr(self, k)]
        command_only = [k for k in ("argv", "junit_xml") if getattr(self, k)]
        if self.kind == "pytest" and command_only:
            raise ValueError(f"{', '.join(command_only)} only apply to kind = \"command\"")
        if self.kind == "command":
            if pytest_only:
                raise ValueError(f"{', '.join(pytest_only)} only apply to kind = \"pytest\"")
            if not self.argv or not self.argv[0]:
                raise ValueError("a command suite needs argv, the program and its arguments")
        return self


class TestingConfig(_Strict):
    __test__ = False  # not a pytest class

    max_concurrent: int = Field(
        0, ge=0, le=256, description="Runs at once across suites; 0 = the number of CPU cores. Others wait in a queue."
    )
    cancel_grace_seconds: float = Field(
        5.0, ge=0, le=300, description="Seconds between SIGTERM and SIGKILL when a run is cancelled or times out."
    )
    log_max_bytes: int = Field(
        5_000_000, ge=10_000, description="Largest log kept per run; the head and tail are kept, the middle cut."
    )
    flaky_window: int = Field(10, ge=2, le=200, description="Runs looked at to find flaky tests.")

    @property
    def concurrency(self) -> int:
        return self.max_concurrent or os.cpu_count() or 1


# -- component health --------------------------------------------------------------
class HttpCheck(_Strict):
    """Healthy when the URL answers with the expected status (and JSON field value) in time."""

    type: Literal["http"]
    url: str = Field(
        min_length=1, description="http(s) URL; a path starting with / is on this dashboard (e.g. /api/health)."
    )
    method: Literal["GET", "HEAD", "POST"] = Field("GET", description="HTTP method.")
    expect_status: int = Field(200, ge=100, le=599, description="Status code that means healthy.")
    json_field: str | None = Field(None, min_length=1, description="Dotted path of a field in the JSON answer.")
    json_value: str | int | float | bool | None = Field(None, description="The value json_field must have.")

    @model_validator(mode="after")
    def _url(self) -> HttpCheck:
        if not (self.url.startswith("/") or re.match(r"^https?://[^\s/]+", self.url)):
            raise ValueError("url must start with http://, https:// or / (a path on this dashboard)")
        return self


class TcpCheck(_Strict):
    """Healthy when a TCP connection opens in time."""

    type: Literal["tcp"]
    host: str = Field("127.0.0.1", min_length=1, description="Host name or address.")
    port: int = Field(ge=1, le=65535, description="TCP port.")


class ProcessCheck(_Strict):
    """Healthy when enough processes match (by name, or a regex over the command line),
    or (``match = "self"``) when this dashboard's own process runs."""

    type: Literal["process"]
    name: str | None = Field(None, min_length=1, description="Exact process name.")
    cmdline: str | None = Field(None, min_length=1, description="Regular expression searched in the command line.")
    match: Literal["self"] | None = Field(
        None, description="'self': this dashboard's own server process, by its pid (instead of name or cmdline)."
    )
    min_count: int = Field(1, ge=1, description="At least this many matching processes.")

    @model_validator(mode="after")
    def _one_way(self) -> ProcessCheck:
        if sum(x is not None for x in (self.name, self.cmdline, self.match)) != 1:
            raise ValueError('give exactly one of name, cmdline or match = "self"')
        if self.match == "self" and self.min_count != 1:
            raise ValueError('min_count: match = "self" is one process, this dashboard\'s own')
        if self.cmdline is not None:
            try:
                re.compile(self.cmdline)
            except re.error as exc:
                raise ValueError(f"cmdline is not a valid regular expression: {exc}") from None
        return self


class CommandCheck(_Strict):
    """Healthy when the command exits 0 in time (argv, never a shell)."""

    type: Literal["command"]
    argv: list[str] = Field(min_length=1, description="The program and its arguments.")
    cwd: Path = Field(Path("."), description="Working directory, relative to the config file.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")


class PythonCheck(_Strict):
    """Calls ``module:function``; it returns a bool, a state name, or (state, message)."""

    type: Literal["python"]
    callable: str = Field(
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", description="module.path:function, importable by the dashboard."
    )


Check = Annotated[HttpCheck | TcpCheck | ProcessCheck | CommandCheck | PythonCheck, Field(discriminator="type")]


class ComponentConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Unique name: letters, digits, '_', '.', '-'.")
    description: str = Field("", max_length=500, description="One line for the component's card.")
    check: Check
    interval_seconds: float = Field(10.0, ge=0.2, le=86400, description="Seconds between checks.")
    timeout_seconds: float = Field(5.0, gt=0, le=600, description="A check that takes longer has failed.")
    slow_ms: float | None = Field(
        None, gt=0, description="Slower than this (milliseconds) is degraded; none = latency never degrades."
    )
    window: int = Field(5, ge=1, le=100, description="Degraded when any of the last `window` checks failed.")
    down_after: int = Field(3, ge=1, le=100, description="Down after this many failures in a row.")


class HealthConfig(_Strict):
    history_days: float = Field(8.0, gt=0, le=400, description="Days of check results kept (uptime over 7 days needs 7).")


class AgentsConfig(_Strict):
    ttl_seconds: float = Field(30.0, gt=0, le=86400, description="No heartbeat for this long: the agent is offline.")
    forget_after_hours: float = Field(
        168.0,
        gt=0,
        le=24 * 3650,
        description="Offline for this long: the agent is forgotten (dropped from the registry; not the expected ones).",
    )
    expected: list[str] = Field(
        default_factory=list, description="Agents that should be there: named but never seen means missing."
    )

    @field_validator("expected")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        bad = [n for n in value if not re.match(NAME_PATTERN, n)]
        if bad:
            raise ValueError(f"agent names may hold letters, digits, '_', '.', '-' only: {', '.join(map(repr, bad))}")
        _refuse_repeats("agent names", value)
        return value


class AlertConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Unique name.")
    rule: str = Field(min_length=1, max_length=500, description="e.g. 'cpu.total > 90 for 5m' (the rule grammar: docs/safety.md).")
    severity: Literal["warning", "critical"] = Field("warning", description="warning or critical.")
    description: str = Field("", max_length=500, description="What it means and what to do, shown with the alert.")
    webhook: str | None = Field(
        None, pattern=r"^https?://\S+$", description="POST each firing and resolution here as JSON (optional)."
    )


class AlertingConfig(_Strict):
    interval_seconds: float = Field(2.0, ge=0.1, le=3600, description="Seconds between rule evaluations.")
    webhook_timeout_seconds: float = Field(5.0, gt=0, le=120, description="Timeout of one webhook POST.")
    webhook_attempts: int = Field(5, ge=1, le=50, description="Tries per notification, with exponential back-off.")


class EventsConfig(_Strict):
    keep_days: float = Field(30.0, gt=0, le=3650, description="Days of events kept in the store.")


# -- workflows -----------------------------------------------------------------------
PARAM_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
PLACEHOLDER = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")  # a whole argv item: {name}


class ParamConfig(_Strict):
    """A typed workflow parameter, given when the workflow is started."""

    name: str = Field(pattern=PARAM_PATTERN, description="Letters, digits and '_'; not starting with a digit.")
    type: Literal["str", "int", "float", "bool"] = Field("str", description="str, int, float or bool.")
    default: str | int | float | bool | None = Field(None, description="Used when the start leaves it out.")
    choices: list[str | int | float] | None = Field(None, min_length=1, description="The only values allowed.")
    required: bool = Field(False, description="The start must give it (a default makes this moot).")
    description: str = Field("", max_length=500, description="Shown in the start form.")

    @model_validator(mode="after")
    def _default_fits(self) -> ParamConfig:
        if self.default is not None:
            try:
                coerce(self, self.default)
            except ParamError as exc:
                raise ValueError(f"default: {exc}") from None
        if self.choices is not None and self.type == "bool":
            raise ValueError("a bool parameter cannot have choices")
        return self


class StepConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Unique in its workflow.")
    argv: list[str] = Field(min_length=1, description="The program and its arguments; '{param}' items are replaced.")
    cwd: Path = Field(Path("."), description="Working directory, relative to the config file.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    timeout_seconds: float | None = Field(None, gt=0, description="Stop the step after this long; none = never.")
    depends_on: list[str] = Field(default_factory=list, description="Steps that must succeed first.")


class WorkflowConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Unique name.")
    description: str = Field("", max_length=500, description="One line for its card.")
    params: list[ParamConfig] = Field(default_factory=list, description="Typed parameters given at start.")
    steps: list[StepConfig] = Field(min_length=1, description="Ordered steps; depends_on makes a DAG.")
    max_parallel: int = Field(2, ge=1, le=64, description="Independent steps that may run at once.")
    concurrent: bool = Field(False, description="Allow a second run while one is going.")
    service: bool = Field(False, description="A long-running service: one step, kept up by the restart policy.")
    restart: Literal["never", "on-failure", "always"] = Field(
        "on-failure", description="service: restart after an exit (never, on-failure, always)."
    )
    backoff_seconds: float = Field(1.0, gt=0, le=3600, description="service: first wait before a restart; doubles.")
    backoff_max_seconds: float = Field(60.0, gt=0, le=86400, description="service: the longest wait.")
    max_restarts: int = Field(10, ge=0, le=100_000, description="service: give up after this many restarts in a row.")
    autostart: bool = Field(False, description="service: start with the dashboard (and again after a restart).")
    grace_seconds: float = Field(5.0, ge=0, le=300, description="Between SIGTERM and SIGKILL when stopped.")

    @model_validator(mode="after")
    def _valid_graph(self) -> WorkflowConfig:
        names = [s.name for s in self.steps]
        _refuse_repeats("step names", names)
        params = {p.name for p in self.params}
        for step in self.steps:
            for item in step.argv:
                match = PLACEHOLDER.match(item)
                if match and match.group(1) not in params:
                    raise ValueError(f"step {step.name!r}: argv item {item!r} names no parameter of this workflow")
        if self.service:
            if len(self.steps) != 1:
                raise ValueError("a service has exactly one step")
        elif self.autostart:
            raise ValueError("autostart is for services (service = true)")
        try:
            topological_order({s.name: s.depends_on for s in self.steps})
        except GraphError as exc:
            raise ValueError(str(exc)) from None
        return self

    def step(self, name: str) -> StepConfig | None:
        return next((s for s in self.steps if s.name == name), None)


class WorkflowsConfig(_Strict):
    log_max_bytes: int = Field(2_000_000, ge=10_000, description="Largest log kept per step; head and tail kept.")


# -- access ------------------------------------------------------------------------
Role = Literal["viewer", "operator", "admin"]


class UserConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Login name.")
    role: Role = Field("viewer", description="viewer, operator or admin.")
    password_hash: str = Field(
        pattern=r"^\$argon2(id|i|d)\$", description="argon2 hash: python -m dashboard_core hash-password"
    )


class TokenConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Who uses it (shown in the audit log).")
    role: Literal["viewer", "operator", "admin", "agent"] = Field(
        "agent", description="agent tokens may only send heartbeats; the others act as that role."
    )
    token_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the token: python -m dashboard_core new-token"
    )
    agent: str | None = Field(
        None, pattern=NAME_PATTERN, description="agent tokens: the only agent name it may send heartbeats for."
    )


class OidcConfig(_Strict):
    """``[auth.oidc]``: people log in with an OpenID Connect provider through Streamlit's
    ``st.login`` machinery; ``roles`` (or ``default_role``) decides what they may do."""

    server_metadata_url: str = Field(
        pattern=r"^https?://", description="The provider's discovery document (.../.well-known/openid-configuration)."
    )
    client_id: str = Field(min_length=1, description="This dashboard's client id at the provider.")
    client_secret: str | None = Field(
        None, min_length=1, description="Its client secret (or client_secret under [oidc] in auth.secrets_file)."
    )
    redirect_uri: str | None = Field(
        None,
        pattern=r"^https?://[^/]+(/.*)?/oauth2callback$",
        description="Where the provider sends people back; default http://<server address>:<port>/oauth2callback.",
    )
    label: str = Field("single sign-on", min_length=1, max_length=60, description="'Log in with <label>'.")
    roles: dict[str, Role] = Field(
        default_factory=dict, description="email, @domain or subject -> viewer, operator or admin."
    )
    default_role: Role | None = Field(None, description="Role of anyone else who signs in; none: they are refused.")
    cookie_secret: str | None = Field(
        None, min_length=32, description="Signs Streamlit's identity cookie; default: derived from data/secret.key."
    )

    @field_validator("roles")
    @classmethod
    def _lower_emails(cls, value: dict[str, str]) -> dict[str, str]:
        """Emails and domains match in any case; subjects exactly as the provider sends them."""
        return {(k.lower() if "@" in k else k): v for k, v in value.items()}


class AuthConfig(_Strict):
    users: list[UserConfig] = Field(default_factory=list, description="People who log in with a password.")
    tokens: list[TokenConfig] = Field(default_factory=list, description="API tokens for agents and scripts.")
    secrets_file: Path | None = Field(
        None, description="A TOML file with [[users]] and [[tokens]] kept out of dashboard.toml (relative to it)."
    )
    session_hours: float = Field(12.0, gt=0, le=24 * 90, description="A login lasts this long.")
    max_failed_logins: int = Field(5, ge=1, le=1000, description="Wrong passwords for one name from one address…")
    max_failed_logins_per_address: int = Field(20, ge=1, le=100_000, description="…or from one address, any names…")
    failed_login_window_seconds: float = Field(
        900.0, gt=0, le=86400, description="…allowed within this many seconds; then it waits as long."
    )
    max_body_bytes: int = Field(1_000_000, ge=1024, le=100_000_000, description="Larger request bodies get 413.")
    oidc: OidcConfig | None = Field(None, description="Log in with an OpenID Connect provider (st.login).")

    @model_validator(mode="after")
    def _unique(self) -> AuthConfig:
        _refuse_repeats("user names", [u.name for u in self.users])
        _refuse_repeats("token names", [t.name for t in self.tokens])
        return self

    @property
    def required(self) -> bool:
        """Whether anyone must log in: users, tokens or OIDC are configured."""
        return bool(self.users or self.tokens or self.oidc)


class Config(_Strict):
    sampler: SamplerConfig = SamplerConfig()
    watch: list[WatchConfig] = Field(default_factory=list, description="Processes whose CPU and memory are charted.")
    storage: StorageConfig = StorageConfig()
    api: ApiConfig = ApiConfig()
    ui: UiConfig = UiConfig()
    history: HistoryConfig = HistoryConfig()
    prometheus: PrometheusConfig = PrometheusConfig()
    testing: TestingConfig = TestingConfig()
    suites: list[SuiteConfig] = Field(default_factory=list, description="Test suites the dashboard can run.")
    health: HealthConfig = HealthConfig()
    components: list[ComponentConfig] = Field(default_factory=list, description="Components whose health is checked.")
    agents: AgentsConfig = AgentsConfig()
    alerting: AlertingConfig = AlertingConfig()
    alerts: list[AlertConfig] = Field(default_factory=list, description="Safety (alert) rules.")
    events: EventsConfig = EventsConfig()
    workflow: WorkflowsConfig = WorkflowsConfig()
    workflows: list[WorkflowConfig] = Field(default_factory=list, description="Jobs of ordered steps, and services.")
    auth: AuthConfig = AuthConfig()
    _source: Path | None = PrivateAttr(None)  # the file this was loaded from

    @field_validator("watch")
    @classmethod
    def _unique_labels(cls, value: list[WatchConfig]) -> list[WatchConfig]:
        _refuse_repeats("labels", [w.label for w in value])
        return value

    @field_validator("suites")
    @classmethod
    def _unique_suites(cls, value: list[SuiteConfig]) -> list[SuiteConfig]:
        _refuse_repeats("suite names", [s.name for s in value])
        return value

    @field_validator("components")
    @classmethod
    def _unique_components(cls, value: list[ComponentConfig]) -> list[ComponentConfig]:
        _refuse_repeats("component names", [c.name for c in value])
        return value

    @field_validator("alerts")
    @classmethod
    def _unique_alerts(cls, value: list[AlertConfig]) -> list[AlertConfig]:
        _refuse_repeats("alert names", [a.name for a in value])
        return value

    @field_validator("workflows")
    @classmethod
    def _unique_workflows(cls, value: list[WorkflowConfig]) -> list[WorkflowConfig]:
        _refuse_repeats("workflow names", [w.name for w in value])
        return value

    def workflow_config(self, name: str) -> WorkflowConfig | None:
        return next((w for w in self.workflows if w.name == name), None)

    def component(self, name: str) -> ComponentConfig | None:
        return next((c for c in self.components if c.name == name), None)

    def suite(self, name: str) -> SuiteConfig | None:
        return next((s for s in self.suites if s.name == name), None)

    def resolve(self, path: Path | str) -> Path:
        """A path from the config, relative to the config file's folder."""
        base = self._source.parent if self._source else Path.cwd()
        return (base / path).resolve()

    @property
    def source(self) -> Path | None:
        """The file this config was read from (None: built-in defaults)."""
        return self._source

    @property
    def data_dir(self) -> Path:
        return self.resolve(self.storage.data_dir)


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--config`` wins, then ``$DASHBOARD_CONFIG``, then ./dashboard.toml."""
    return Path(explicit or os.environ.get(ENV_VAR) or DEFAULT_FILE)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate the config; raise ConfigError with a readable message."""
    file = config_path(path)
    if not file.exists():
        if path is not None or os.environ.get(ENV_VAR):
            raise ConfigError(f"{file}: config file not found")
        return Config()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot be read: {exc}") from None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(file, exc, data)) from None
    config._source = file.resolve()
    if config.auth.secrets_file is not None:
        config = _with_secrets(config, config.resolve(config.auth.secrets_file))
    if config.auth.oidc is not None and not config.auth.oidc.client_secret:
        raise ConfigError(
            f"{file}: auth.oidc.client_secret is missing: set it there, or as client_secret under [oidc] "
            "in the file named by auth.secrets_file"
        )
    return config


class _OidcSecrets(_Strict):
    client_secret: str | None = Field(None, min_length=1)
    cookie_secret: str | None = Field(None, min_length=32)


class _Secrets(_Strict):
    users: list[UserConfig] = Field(default_factory=list)
    tokens: list[TokenConfig] = Field(default_factory=list)
    oidc: _OidcSecrets | None = None


def _with_secrets(config: Config, file: Path) -> Config:
    """Users and tokens from the secrets file, added to those in dashboard.toml."""
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: the secrets file named by auth.secrets_file does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot be read: {exc}") from None
    try:
        secrets = _Secrets.model_validate(data)
        auth = AuthConfig.model_validate(
            {
                **config.auth.model_dump(exclude={"users", "tokens"}),
                "users": [*config.auth.users, *secrets.users],
                "tokens": [*config.auth.tokens, *secrets.tokens],
            }
        )
    except ValidationError as exc:
        raise ConfigError(_explain(file, exc, data)) from None
    if secrets.oidc is not None:  # [oidc] secrets fill in (and override) those of [auth.oidc]
        if auth.oidc is None:
            raise ConfigError(f"{file}: has an [oidc] table, but dashboard.toml has no [auth.oidc]")
        given = secrets.oidc.model_dump(exclude_none=True)
        auth = auth.model_copy(update={"oidc": auth.oidc.model_copy(update=given)})
    merged = config.model_copy(update={"auth": auth})
    merged._source = config._source
    return merged


def _explain(file: Path, exc: ValidationError, data: object = None) -> str:
    lines = [f"{file}: {exc.error_count()} invalid setting{'s' if exc.error_count() > 1 else ''}"]
    for err in exc.errors(include_url=False):
        where = _where(err["loc"], data)
        if err["type"] == "extra_forbidden":
            reason = "unknown key (check its spelling against docs/reference/configuration.md)"
        else:
            reason = err["msg"].removeprefix("Value error, ")
            if "input" in err and not isinstance(err["input"], dict | list):
                reason += f" (got {err['input']!r})"
        lines.append(f"  {where}: {reason}")
    return "\n".join(lines)


def _where(loc: tuple[int | str, ...], data: object) -> str:
    """The field path, naming list items by their name: ``suites.1 (demo).timeout_seconds``."""
    parts: list[str] = []
    for key in loc:
        part = str(key)
        try:
            data = data[key]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            data = None
        if isinstance(key, int) and isinstance(data, dict):
            name = data.get("name") or data.get("label")
            if isinstance(name, str):
                part += f" ({name})"
        parts.append(part)
    return ".".join(parts) or "(top level)"
