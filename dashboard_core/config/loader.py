"""The whole ``dashboard.toml`` (:class:`Config`) and the one loader that explains errors.

A bad file stops start-up with one message that names the file, the field path
and the reason (never a traceback). A missing file means the defaults.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from dashboard_core.config.auth import AuthConfig, TokenConfig, UserConfig
from dashboard_core.config.base import ConfigError, _refuse_repeats, _Strict
from dashboard_core.config.health import (
    AgentsConfig,
    AlertConfig,
    AlertingConfig,
    ComponentConfig,
    EventsConfig,
    HealthConfig,
)
from dashboard_core.config.maintenance import MaintenanceConfig, unknown_targets
from dashboard_core.config.metrics import (
    ApiConfig,
    HistoryConfig,
    PrometheusConfig,
    RemotePushConfig,
    SamplerConfig,
    StorageConfig,
    UiConfig,
    WatchConfig,
)
from dashboard_core.config.ray import RayConfig
from dashboard_core.config.testing import SuiteConfig, TestingConfig
from dashboard_core.config.workflows import WorkflowConfig, WorkflowsConfig

ENV_VAR = "DASHBOARD_CONFIG"
DEFAULT_FILE = "dashboard.toml"


class Config(_Strict):
    sampler: SamplerConfig = SamplerConfig()
    watch: list[WatchConfig] = Field(default_factory=list, description="Processes whose CPU and memory are charted.")
    storage: StorageConfig = StorageConfig()
    api: ApiConfig = ApiConfig()
    ui: UiConfig = UiConfig()
    history: HistoryConfig = HistoryConfig()
    prometheus: PrometheusConfig = PrometheusConfig()
    remote_push: RemotePushConfig = RemotePushConfig()
    testing: TestingConfig = TestingConfig()
    suites: list[SuiteConfig] = Field(default_factory=list, description="Test suites the dashboard can run.")
    health: HealthConfig = HealthConfig()
    components: list[ComponentConfig] = Field(default_factory=list, description="Components whose health is checked.")
    agents: AgentsConfig = AgentsConfig()
    alerting: AlertingConfig = AlertingConfig()
    alerts: list[AlertConfig] = Field(default_factory=list, description="Safety (alert) rules.")
    maintenance: list[MaintenanceConfig] = Field(
        default_factory=list, description="Maintenance windows: checks shown as maintenance, alerts muted."
    )
    events: EventsConfig = EventsConfig()
    workflow: WorkflowsConfig = WorkflowsConfig()
    workflows: list[WorkflowConfig] = Field(default_factory=list, description="Jobs of ordered steps, and services.")
    auth: AuthConfig = AuthConfig()
    ray: RayConfig = RayConfig()
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

    @model_validator(mode="after")
    def _maintenance_targets(self) -> Config:
        """A window names components and rules that exist (agents may come and go)."""
        _refuse_repeats("maintenance window names", [w.name for w in self.maintenance])
        components, rules = [c.name for c in self.components], [a.name for a in self.alerts]
        for w in self.maintenance:
            if (wrong := unknown_targets(w, components, rules)) is not None:
                raise ValueError(wrong)
        return self

    @model_validator(mode="after")
    def _ray_has_a_cluster(self) -> Config:
        on_ray = [s.name for s in self.suites if s.executor == "ray"]
        steps = [f"{w.name}/{s.name}" for w in self.workflows for s in w.steps if s.executor == "ray"]
        if (on_ray or steps) and self.ray.address is None:
            which = [f"suites {', '.join(on_ray)}"] if on_ray else []
            which += [f"workflow steps {', '.join(steps)}"] if steps else []
            raise ValueError(
                f'{" and ".join(which)} have executor = "ray": set [ray] address to the cluster\'s '
                "dashboard address (e.g. 'http://127.0.0.1:8265')"
            )
        return self

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
