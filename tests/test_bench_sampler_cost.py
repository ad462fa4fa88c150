"""bench/sampler_cost.py starts two Runtimes at once: each must have a store of its own
(on one fresh data dir they raced to create it, and both wrote to the repository's ./data)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look themselves up there
    sys.path.insert(0, str(ROOT / "bench"))  # their own `from _common import ...`
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return module


def test_each_runtime_of_the_bench_has_its_own_store(tmp_path: Path) -> None:
    cost, runner = _load("sampler_cost"), _load("_sampler_runner")
    stores = []
    for child in cost.our_children(tmp_path, "python"):
        if "_sampler_runner.py" not in " ".join(child.cmd):
            continue  # (c): a bare psutil loop, no store
        args = child.cmd[child.cmd.index("--mode") :]
        mode, data_dir = args[1], Path(args[args.index("--data-dir") + 1])
        rt = runner.build(mode, "python", data_dir)  # built as the child builds it, not started
        try:
            stores.append(Path(rt.store.path))
        finally:
            rt.store.close()
    assert len(stores) == 2 and len(set(stores)) == 2, stores
    assert all(tmp_path in store.parents for store in stores), stores
