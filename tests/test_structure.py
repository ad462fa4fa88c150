"""Small modules and classes (CONTRIBUTING: "under ~400 lines"): no module of the
dashboard over 400 lines and no class over 300, measured here so the limit cannot
drift. A module that grows past it is split by responsibility, not trimmed."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 300


def dashboard_modules(root: Path) -> list[Path]:
    """Every module of the dashboard: the core, the UI, the pages and the launcher."""
    found = [p for folder in ("dashboard_core", "ui", "pages") for p in sorted((root / folder).rglob("*.py"))]
    launcher = root / "streamlit_app.py"
    return [*found, launcher] if launcher.exists() else found


def too_big(root: Path, files: list[Path]) -> list[str]:
    """One line per module over MAX_MODULE_LINES and per class over MAX_CLASS_LINES (nested ones too)."""
    problems = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(root).as_posix()
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            problems.append(f"{name}: {lines} lines (a module may have {MAX_MODULE_LINES})")
        for node in ast.walk(ast.parse(text, filename=name)):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                size = node.end_lineno - node.lineno + 1
                if size > MAX_CLASS_LINES:
                    problems.append(f"{name}: class {node.name} is {size} lines (a class may have {MAX_CLASS_LINES})")
    return problems


def test_no_module_over_400_lines_and_no_class_over_300() -> None:
    files = dashboard_modules(ROOT)
    assert len(files) > 100 and ROOT / "dashboard_core" / "runtime.py" in files  # the walk finds the code
    assert too_big(ROOT, files) == []


def test_an_oversized_module_and_class_are_named_with_their_size(tmp_path: Path) -> None:
    core = tmp_path / "dashboard_core"
    core.mkdir()
    (core / "small.py").write_text("class Small:\n    pass\n", encoding="utf-8")
    body = "".join(f"    def m{i}(self) -> int:\n        return {i}\n\n" for i in range(160))  # 480 lines
    (core / "big.py").write_text(f'"""Too big."""\n\n\nclass Engine:\n{body}', encoding="utf-8")
    (tmp_path / "streamlit_app.py").write_text("app = None\n", encoding="utf-8")
    files = dashboard_modules(tmp_path)
    assert [p.name for p in files] == ["big.py", "small.py", "streamlit_app.py"]
    assert too_big(tmp_path, files) == [
        "dashboard_core/big.py: 484 lines (a module may have 400)",
        "dashboard_core/big.py: class Engine is 480 lines (a class may have 300)",
    ]
