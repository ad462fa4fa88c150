"""dashboard_core: the engine behind the dashboard (never imports streamlit)."""

from __future__ import annotations

__version__ = "0.1.0"
NAME = "dashboard"
