"""Screenshots of every page at 1440 and 390 px wide, light and dark, for docs/screenshots.md.

Starts the demo of ``demo_server.py``: the real server on a free port with a copy of
``examples/simulated.toml`` (eight components, four agents, safety rules, the demo suite)
and the example pipeline of ``dashboard.toml`` (so the Workflows page has a run to show),
the simulated system beside it (ports 8611-8618); runs the demo suite and the pipeline,
and waits for a component to be down and a critical alert to fire (about 90 s into the
system's first cycle). Then headless Chromium opens every page in a browser that prefers light, then
dark, 1440 px and 390 px wide, and saves the whole page (up to ``--max-height`` px) as a
palette PNG in ``docs/images/screenshots/<page>-<width>-<theme>.png``. Stops everything it
started, also on error.

Run: .venv/bin/python scripts/screenshots.py   (about five minutes on a quiet machine)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

from demo_server import ROOT, demo  # the same folder
from PIL import Image  # Streamlit's own dependency
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(ROOT))
from tests.localhost import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

SHOTS = ROOT / "docs" / "images" / "screenshots"
# Each page's address and what shows that it has drawn its content.
PAGES = {
    "overview": ("/", "[data-testid=stMetric]"),
    "metrics": ("/metrics", ".js-plotly-plot"),
    "tests": ("/tests", ".js-plotly-plot"),
    "workflows": ("/workflows", ".js-plotly-plot"),
    "agents": ("/agents", ".js-plotly-plot"),
    "safety": ("/safety", "[data-testid=stTable], [data-testid=stDataFrame]"),
    "events": ("/events", "[data-testid=stDataFrame]"),
}
SCREENS = {1440: 900, 390: 844}  # width: height of the first screen (a laptop, a phone)
THEMES = ("light", "dark")
SETTLE_MS = 3000  # after a page has drawn: cards and charts finish; a picture, not a test
COLOURS = 128  # palette PNGs: small enough for the repository


def toml_value(value: Any) -> str:
    """A TOML value for the config's plain values (strings, numbers, booleans, arrays, tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)  # a TOML basic string is a JSON string; numbers read the same


def workflows_toml(work: Path) -> str:
    """``dashboard.toml``'s workflows, their steps run in the repository (where their scripts
    are) and writing into ``work``."""
    lines = []
    for workflow in tomllib.loads((ROOT / "dashboard.toml").read_text(encoding="utf-8")).get("workflows", []):
        lines.append("\n[[workflows]]")
        tables = {k: v for k, v in workflow.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
        lines += [f"{k} = {toml_value(v)}" for k, v in workflow.items() if k not in tables]
        for key, rows in tables.items():
            for row in rows:
                if key == "steps":
                    row = {
                        **row,
                        "cwd": str(ROOT),
                        "env": {**row.get("env", {}), "PIPELINE_DIR": str(work / "pipeline")},
                    }
                lines.append(f"[[workflows.{key}]]")
                lines += [f"{k} = {toml_value(v)}" for k, v in row.items()]
    return "\n".join(lines) + "\n"


def content_height(page: Any) -> int:
    return int(page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight"))


def shoot(page: Any, url: str, ready: str, path: Path, width: int, max_height: int) -> None:
    """The whole page: the window made as tall as the page's content (Streamlit scrolls its
    main block, not the document), up to ``max_height``. ``ready`` is waited for once the
    window is that tall: the Metrics charts are drawn only once they are in view."""
    page.set_viewport_size({"width": width, "height": SCREENS[width]})
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    # A toast for each critical event that happens while the page is open would sit on the title.
    page.add_style_tag(content="[data-testid=stToastContainer] { display: none !important; }")
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=90_000)
    page.wait_for_timeout(SETTLE_MS)
    height = SCREENS[width]
    for _ in range(2):  # again if drawing what came into view made the page taller
        wanted = max(SCREENS[width], min(content_height(page), max_height))
        if wanted != height:
            height = wanted
            page.set_viewport_size({"width": width, "height": height})
        page.wait_for_selector(ready, timeout=90_000)
        page.wait_for_timeout(SETTLE_MS)  # charts and cards finish drawing; a picture, not a test
    page.screenshot(path=str(path))
    small = Image.open(path).convert("RGB").quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)
    print(f"{path.relative_to(ROOT)}: {width}x{height}, {path.stat().st_size / 1000:.0f} KB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-height", type=int, default=4000, help="the tallest picture, in px (default 4000)")
    parser.add_argument("--pages", nargs="*", choices=sorted(PAGES), help="only these pages (default: all)")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dashboard-screens-") as tmp:
        work = Path(tmp)
        with demo(work, workflows_toml(work), workflow="example-pipeline") as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for theme in THEMES:
                    context = browser.new_context(color_scheme=theme)
                    page = context.new_page()
                    for name in args.pages or PAGES:
                        path, ready = PAGES[name]
                        for width in SCREENS:
                            shot = SHOTS / f"{name}-{width}-{theme}.png"
                            shoot(page, base + path, ready, shot, width, args.max_height)
                    context.close()
            finally:
                browser.close()
    print(f"Done in {time.monotonic() - started:.0f} s: {SHOTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
