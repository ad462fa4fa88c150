"""A test run gets on its import path a folder holding only a link to
dashboard_core (for the progress plugin), never the dashboard's repository: its
``tests``, ``examples`` and ``bench`` packages must not shadow or stand in for a
suite's own (issue 21, item 8)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

from dashboard_core.models import RunStatus, Trigger
from dashboard_core.testing.manager import SuiteManager

ISOLATED = textwrap.dedent(
    """
    import importlib.util, os, sys

    def test_the_repository_is_not_importable():
        assert importlib.util.find_spec("examples") is None, sys.path
        assert importlib.util.find_spec("bench") is None, sys.path

    def test_own_tests_package_is_the_suites():
        import tests.helper
        assert tests.helper.MINE

    def test_the_plugin_came_from_the_link():
        import dashboard_core
        entries = os.environ["PYTHONPATH"].split(os.pathsep)
        assert os.listdir(entries[0]) == ["dashboard_core"]
        assert os.path.realpath(dashboard_core.__path__[0]) == os.path.realpath(
            os.path.join(entries[0], "dashboard_core")
        )
    """
)


def test_a_suite_cannot_import_the_dashboards_repository(
    tmp_path: Path, manager_factory: Callable[..., SuiteManager]
) -> None:
    suite = tmp_path / "isolated"
    (suite / "tests").mkdir(parents=True)
    (suite / "tests" / "__init__.py").write_text("")
    (suite / "tests" / "helper.py").write_text("MINE = True\n")
    (suite / "test_isolated.py").write_text(ISOLATED)
    q = json.dumps
    manager = manager_factory(
        extra=f'\n[[suites]]\nname = "isolated"\npaths = ["test_isolated.py"]\ncwd = {q(str(suite))}\n'
        'args = ["-p", "no:cacheprovider"]\n'
    )
    run = manager.run_suite("isolated", Trigger.UI).run.id
    info = manager.wait(run, 120)
    assert info.status is RunStatus.PASSED, Path(info.log_path or "").read_text()
    assert info.summary() == "3 passed"
