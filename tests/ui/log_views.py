"""What the pages' log boxes (``ui.log_view``, a v2 component) were given, as AppTest sees them."""

from __future__ import annotations

import json
from typing import Any

from streamlit.testing.v1 import AppTest


def log_views(at: AppTest) -> list[dict[str, Any]]:
    """The data of each log box on the page, in page order."""
    boxes = [e.proto for e in at.get("bidi_component")]
    return [json.loads(b.json) for b in boxes if b.component_name == "dashboard_log_view"]


def log_texts(at: AppTest) -> list[str]:
    """Each log box's lines as one text."""
    return ["\n".join(view["lines"]) for view in log_views(at)]
