"""A real server, started as ``dashboard serve`` starts it with the default config, with one
live Metrics tab open in a real Chromium (the page loaded through the router's navigation
and sidebar; the cards, the charts and the process tables updating): the page's path, its
live feed (``/api/ui/cards``, ``/api/ui/charts``, ``/api/ui/charts/points``) and the process
tables load none of the heavy modules (``tests/test_idle_server.py``'s list: pandas and the
pyarrow it loads, Plotly, narwhals, ...). They were about 90 MiB of the 180 MiB issue 22
allows a server with one live tab (``bench/server_rss.py`` measures it). Python's own import
log (``PYTHONPROFILEIMPORTTIME``) lists every module the server imported, whatever imported
it; a failure names who imported each heavy module."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.e2e.conftest import START_TIMEOUT
from tests.e2e.test_browser import newest_x
from tests.e2e.test_idle_server import import_logging_server, imported
from tests.polling import wait_until
from tests.test_idle_server import HEAVY

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

LOADED = 120  # s: a first page load, or a live update, on a loaded 2-core machine
_LINE = re.compile(r"^import time:\s*\d+ \|\s*\d+ \|( *)(\S+)$")


def importers(log: str, module: str) -> list[str]:
    """Who imported ``module``: the chain of modules up to the first one outside any import,
    from the import log (a module is listed after the ones it imported, one level deeper)."""
    lines = [(len(m.group(1)) // 2, m.group(2)) for line in log.splitlines() if (m := _LINE.match(line))]
    for i, (depth, name) in enumerate(lines):
        if name == module:
            chain = [name]
            for deeper, parent in lines[i + 1 :]:
                if deeper < depth:
                    chain.append(parent)
                    depth = deeper
            return chain
    return []


def test_a_server_with_a_live_metrics_tab_loads_no_heavy_module(tmp_path: Path, page: Any) -> None:
    from playwright.sync_api import expect

    server = import_logging_server(tmp_path)
    try:
        with server.client() as client:

            def sampling() -> bool:
                assert server.proc.poll() is None, f"the server exited:\n{server.output()[-3000:]}"
                response = client.get("/api/metrics/latest")  # a 404 until the first sample
                return response.status_code == 200 and response.json()["values"].get("cpu.total") is not None

            wait_until(sampling, START_TIMEOUT * 2, "the server to sample", ignore=(httpx.HTTPError, ValueError))

        page.goto(f"{server.url}/metrics")
        expect(page.get_by_test_id("stSidebarNav")).to_be_visible(timeout=LOADED * 1000)
        cards = page.get_by_test_id("dlCard")
        expect(cards.first).to_be_visible(timeout=LOADED * 1000)
        before = cards.all_inner_texts()
        wait_until(lambda: cards.all_inner_texts() != before, LOADED, "the cards to show new values", interval=0.5)
        first = wait_until(lambda: newest_x(page), LOADED, "the first chart to hold data", interval=0.5)
        wait_until(lambda: (newest_x(page) or 0) > first, LOADED, "the charts to be extended live", interval=0.5)
        expect(page.get_by_test_id("dlProcesses-cpu").locator("tbody tr").first).to_be_visible(timeout=LOADED * 1000)
        assert server.proc.poll() is None, server.output()[-3000:]

        log = server.output()
        names = imported(log)
        assert {"streamlit", "dashboard_core", "numpy", "httpx2", "ui.live"} <= names  # the log lists the imports
        loaded = sorted(names & set(HEAVY))
        assert loaded == [], "\n".join(f"{m}: imported by {' <- '.join(importers(log, m))}" for m in loaded)
    finally:
        server.stop()
