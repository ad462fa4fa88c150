"""Icons come from the Material Symbols font that ships with Streamlit, never from
emoji: Debian's Chromium has no colour emoji font and drew every emoji as a box."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

import pytest
from streamlit.string_util import is_material_icon

from dashboard_core import labels
from dashboard_core.models import (
    AgentState,
    AlertState,
    ComponentState,
    RunStatus,
    Severity,
    StepStatus,
    WorkflowStatus,
)

ROOT = Path(__file__).parents[2]
# The Unicode blocks the emoji used as icons came from: pictographs, emoticons, transport,
# geometric shapes (and their extension: the coloured dots), dingbats, miscellaneous symbols
# and technical signs, arrows like ⬇, the information sign and the emoji variation selector.
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2300-\u23ff\u25a0-\u25ff\u2b00-\u2bff\u2139\ufe0f]")
SCANNED = [*sorted((ROOT / "pages").rglob("*.py")), *sorted((ROOT / "ui").rglob("*.py"))]
SCANNED += [*sorted((ROOT / "dashboard_core").rglob("*.py")), ROOT / "streamlit_app.py"]


def test_no_emoji_is_left_in_the_pages_the_ui_or_the_core() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in SCANNED
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if EMOJI.search(line)
    ]
    assert len(SCANNED) > 50, SCANNED  # the scan reads the real trees
    assert not found, "emoji draw as boxes without an emoji font; use a Material icon:\n" + "\n".join(found)


def test_the_scan_sees_an_emoji() -> None:
    for emoji in ("🟢", "✅", "⏱️", "⬇️", "ℹ️", "▶️", "🔥", "❌"):
        assert EMOJI.search(emoji), emoji


@pytest.mark.parametrize(
    ("states", "icons"),
    [
        (ComponentState, labels.COMPONENT_ICON),
        (AlertState, labels.ALERT_ICON),
        (Severity, labels.SEVERITY_ICON),
        (AgentState, labels.AGENT_ICON),
        (RunStatus, labels.RUN_ICON),
        (StepStatus, labels.STEP_ICON),
        (WorkflowStatus, labels.WORKFLOW_ICON),
    ],
)
def test_every_state_has_an_icon_streamlit_knows(states: type[Enum], icons: dict[Enum, labels.Icon]) -> None:
    assert set(icons) == set(states)
    for state, icon in icons.items():
        assert is_material_icon(icon.name), f"{state}: {icon.name} is not in Streamlit's Material Symbols"


def test_the_other_icons_are_material_symbols_too() -> None:
    for icons in (labels.SAFETY_ICON, labels.OUTCOME_ICON):
        assert all(is_material_icon(icon.name) for icon in icons.values()), icons
    named = re.compile(r"""(?:material|Icon)\(\s*["']([a-z0-9_]+)["']|:material/([a-z0-9_]+):""")
    for path in SCANNED:
        for match in named.finditer(path.read_text(encoding="utf-8")):
            name = match.group(1) or match.group(2)
            assert is_material_icon(name), f"{path.relative_to(ROOT)}: {name} is not a Material Symbols name"
