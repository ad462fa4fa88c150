"""The comparison view in a real headless Chromium: a run opened on the Tests page is
compared with the last passed run of its suite at the press of a button, names the
test that started failing, and keeps the comparison in its URL (a deep link opens it)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server
from tests.e2e.test_suites_server import finished
from tests.polling import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

FIRST_RENDER_MS = 60_000
TEST_FILE = 'import pathlib\n\ndef test_stays():\n    pass\n\ndef test_breaks():\n    assert pathlib.Path("verdict.txt").read_text() == "ok"\n'


def suite_entry(folder: Path) -> str:
    q = json.dumps
    return f'\n[[suites]]\nname = "flips"\npaths = ["test_flips.py"]\nargs = ["-p", "no:cacheprovider"]\ncwd = {q(str(folder))}\n'


def run(server: Server) -> int:
    with server.client() as client:
        answer = client.post("/api/dashboard/testing/run-suite", json={"test_suite": "flips"}).json()
    return int(finished(server, answer["test_id"])["id"])


def test_a_run_compared_with_the_last_passed_one_names_the_newly_failing_test(
    server_factory: Callable[..., Server], page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    folder = tmp_path / "flips"
    folder.mkdir()
    (folder / "test_flips.py").write_text(TEST_FILE)
    (folder / "verdict.txt").write_text("ok")
    server = server_factory(suite_entry(folder))
    first = run(server)
    (folder / "verdict.txt").write_text("broken")
    second = run(server)

    page.goto(f"{server.url}/tests?run={second}")
    expect(page.get_by_role("heading", name=re.compile(r"^\W*Tests$"))).to_be_visible(timeout=FIRST_RENDER_MS)
    page.get_by_role("button", name=re.compile("Compare with another run$")).first.click()
    view = page.locator(".st-key-tests_compare")
    expect(view.get_by_text(re.compile(r"Newly failing: .*test_flips\.py::test_breaks")).first).to_be_visible()
    expect(view.get_by_text(f"Run #{second} against the last passed run #{first}", exact=False).first).to_be_visible()
    picker = view.get_by_role("combobox", name="Compare with", exact=True).first
    expect(picker).to_have_value(re.compile(rf"^#{first} · flips · passed"))
    expect(view.locator('[data-testid="stPlotlyChart"] .js-plotly-plot .main-svg').first).to_be_attached()
    expect(view.get_by_role("link", name="Comparison CSV").first).to_have_attribute(
        "href", f"api/testing/runs/{second}/compare.csv?with={first}"
    )
    wait_until(lambda: f"compare={first}" in page.url, 30, "the comparison in the page's URL")

    # The URL opens the same view in a new page.
    deep = page.context.new_page()
    deep.goto(page.url)
    again = deep.locator(".st-key-tests_compare")
    expect(again.get_by_text(re.compile(r"Newly failing: .*test_breaks")).first).to_be_visible(timeout=FIRST_RENDER_MS)
    deep.close()
