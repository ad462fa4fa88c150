"""From a suite in the config to the exact command of one run.

pytest suites run under the dashboard's own interpreter (or the suite's
``python``) with :mod:`dashboard_core.testing.pytest_plugin`, which writes each
test's reports, the collected count and the test running now as JSON lines to
the progress channel the executor gives the run. ``command`` suites run their
argv as given; ``{junit_xml}`` as a whole argv item becomes the run's JUnit XML
path. Nothing goes through a shell.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from dashboard_core.config import Config, SuiteConfig
from dashboard_core.testing.runner import RunSpec

PLUGIN = "dashboard_core.testing.pytest_plugin"
JUNIT_PLACEHOLDER = "{junit_xml}"
RUN_DIR_PLACEHOLDER = "<run dir>"
# In a run's folder: a folder holding only a link to dashboard_core, the one entry the
# run gets on its import path so its interpreter can load the plugin. Never the folder
# that holds dashboard_core: in a checkout that is the repository, whose tests, examples
# and bench packages would shadow (or stand in for) a suite's own.
IMPORT_DIR = "import"


def run_spec(suite: SuiteConfig, config: Config, workdir: Path, select: Sequence[str] | None = None) -> RunSpec:
    """The command, folder and environment of one run whose files go to ``workdir``.

    ``select``: node ids to run instead of the suite's paths (a re-run of failed tests).
    """
    cwd = config.resolve(suite.cwd)
    env = {"PYTHONUNBUFFERED": "1", **suite.env}
    junit = None
    if suite.kind == "pytest":
        argv = _pytest_argv(suite, select)
        import_dir = str(workdir / IMPORT_DIR)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (import_dir, suite.env.get("PYTHONPATH", os.environ.get("PYTHONPATH"))) if p
        )
    else:
        if select is not None:
            raise ValueError(f"suite {suite.name!r} is a command suite: it cannot run a selection of tests")
        junit = junit_path(suite, config, workdir)
        argv = [str(junit) if item == JUNIT_PLACEHOLDER else item for item in suite.argv]
        env["DASHBOARD_JUNIT_XML"] = str(junit)
    env["DASHBOARD_RUN_DIR"] = str(workdir)
    return RunSpec(
        argv=argv,
        cwd=cwd,
        workdir=workdir,
        env=env,
        timeout=suite.timeout_seconds,
        log_max_bytes=config.testing.log_max_bytes,
        is_pytest=suite.kind == "pytest",
        junit_xml=junit,
        import_dir=workdir / IMPORT_DIR if suite.kind == "pytest" else None,
    )


def junit_path(suite: SuiteConfig, config: Config, workdir: Path) -> Path:
    """Where a command suite's JUnit XML is read from: its ``junit_xml`` relative
    to its cwd, else a file in the run's folder (passed as ``{junit_xml}``)."""
    if suite.junit_xml:
        return config.resolve(suite.cwd) / suite.junit_xml
    return workdir / "junit.xml"


def command_preview(suite: SuiteConfig, config: Config) -> list[str]:
    """The argv a run would get, with the run's own folder as a placeholder."""
    return list(run_spec(suite, config, Path(RUN_DIR_PLACEHOLDER)).argv)


def _pytest_argv(suite: SuiteConfig, select: Sequence[str] | None) -> list[str]:
    argv = [suite.python or sys.executable, "-m", "pytest", "-p", PLUGIN]
    if suite.workers:
        argv += ["-n", str(suite.workers)]
    if suite.keyword:
        argv += ["-k", suite.keyword]
    if suite.markers:
        argv += ["-m", suite.markers]
    argv += suite.args
    argv += list(select) if select is not None else suite.paths
    return argv
