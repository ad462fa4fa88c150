"""The import contracts of pyproject.toml ([tool.importlinter]), checked by import-linter:
layers whose imports only point down, no cycle between the modules of any package,
dashboard_core without streamlit. And what a static check cannot see: importing every
module of the core loads no streamlit through a third-party package either."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
CORE = ROOT / "dashboard_core"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports over the ``dashboard_core`` found in ``cwd``, with this repository's contracts."""
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: .venv/bin/pip install -r requirements-dev.txt")
    command = [str(LINT_IMPORTS), "--no-cache", "--config", str(ROOT / "pyproject.toml")]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_import_contracts_are_kept() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract", "found"),
    [  # the first two are cycles that were here, hidden in functions
        ("health/compiled_rules.py", "from dashboard_core.runtime import build_sources", "Layers:", "dashboard_core.health.compiled_rules -> dashboard_core.runtime"),
        ("config/workflows.py", "from dashboard_core.workflows import params", "No cycles", ".config -> .workflows"),
        ("events.py", "import streamlit", "never imports streamlit", "dashboard_core.events -> streamlit"),
        ("metrics/charts.py", "from ui.widgets import show_charts", "never imports streamlit", "dashboard_core.metrics.charts -> ui"),
    ],
)  # fmt: skip
def test_an_import_against_the_contracts_is_caught(
    tmp_path: Path, module: str, line: str, contract: str, found: str
) -> None:
    copy = tmp_path / "dashboard_core"
    shutil.copytree(CORE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    path = copy / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    done = lint_imports(tmp_path)
    assert done.returncode != 0, done.stdout
    broken = done.stdout.partition("Broken contracts")[2]
    assert contract in broken and found in broken, done.stdout


def test_importing_everything_in_the_core_loads_no_streamlit() -> None:
    modules = sorted(
        ".".join(p.relative_to(CORE.parent).with_suffix("").parts)
        for p in CORE.rglob("*.py")
        if p.name != "__main__.py"
    )
    code = f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\nprint('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=CORE.parent, check=True)
    assert out.stdout.strip() == "False"
