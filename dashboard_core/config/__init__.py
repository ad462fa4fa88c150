"""``dashboard.toml``: pydantic models and the one loader that explains errors.

One module per area of the file; every name is re-exported here, so code imports
``from dashboard_core.config import ...`` and needs not know which module holds it.
The configuration reference of the docs is written from these models
(``scripts/reference_config.py``), in the order of :class:`Config`'s fields.
"""

from __future__ import annotations

from dashboard_core.config.auth import AuthConfig, OidcConfig, Role, TokenConfig, UserConfig
from dashboard_core.config.base import NAME_PATTERN, ConfigError
from dashboard_core.config.health import (
    AgentsConfig,
    AlertConfig,
    AlertingConfig,
    Check,
    CommandCheck,
    ComponentConfig,
    EventsConfig,
    HealthConfig,
    HttpCheck,
    ProcessCheck,
    PythonCheck,
    TcpCheck,
)
from dashboard_core.config.loader import DEFAULT_FILE, ENV_VAR, Config, config_path, load_config
from dashboard_core.config.maintenance import MaintenanceConfig
from dashboard_core.config.metrics import (
    ApiConfig,
    HistoryConfig,
    PrometheusConfig,
    RemotePushConfig,
    SamplerConfig,
    StorageConfig,
    TierConfig,
    TierStat,
    UiConfig,
    WatchConfig,
)
from dashboard_core.config.testing import SuiteConfig, TestingConfig
from dashboard_core.config.workflows import (
    PARAM_PATTERN,
    PLACEHOLDER,
    ParamConfig,
    StepConfig,
    WorkflowConfig,
    WorkflowsConfig,
)

__all__ = [
    "MaintenanceConfig",
    "DEFAULT_FILE",
    "ENV_VAR",
    "NAME_PATTERN",
    "PARAM_PATTERN",
    "PLACEHOLDER",
    "AgentsConfig",
    "AlertConfig",
    "AlertingConfig",
    "ApiConfig",
    "AuthConfig",
    "Check",
    "CommandCheck",
    "ComponentConfig",
    "Config",
    "ConfigError",
    "EventsConfig",
    "HealthConfig",
    "HistoryConfig",
    "HttpCheck",
    "OidcConfig",
    "ParamConfig",
    "ProcessCheck",
    "PrometheusConfig",
    "RemotePushConfig",
    "PythonCheck",
    "Role",
    "SamplerConfig",
    "StepConfig",
    "StorageConfig",
    "SuiteConfig",
    "TcpCheck",
    "TestingConfig",
    "TierConfig",
    "TierStat",
    "TokenConfig",
    "UiConfig",
    "UserConfig",
    "WatchConfig",
    "WorkflowConfig",
    "WorkflowsConfig",
    "config_path",
    "load_config",
]
