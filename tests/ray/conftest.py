"""The Ray tests: one real head node (``ray start --head``, 2 CPUs, on loopback)
for the session, in the network namespace the run made for itself (scripts/test-ray.sh,
or tests/test_ray_netns.py, which runs this folder inside ``unshare --net``)."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dashboard_core.config import Config, load_config
from dashboard_core.testing.manager import SuiteManager
from tests.ray.cluster import RayCluster, in_own_netns, ray_installed, start_head
from tests.testing.conftest import manager_factory, suites_config  # noqa: F401 - fixtures: started managers
from tests.workflows.conftest import supervisor_factory, workflows_config  # noqa: F401 - and supervisors

WHY = "the Ray tests run in a network namespace of their own: bash scripts/test-ray.sh (or tests/test_ray_netns.py)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if in_own_netns():
        return
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.path)).is_relative_to(here):
            item.add_marker(pytest.mark.skip(reason=WHY))


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayCluster]:
    if not ray_installed():
        message = "Ray is not installed: pip install -r requirements-dev.txt (scripts/test.sh does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    cluster = start_head(num_cpus=2, log=tmp_path_factory.mktemp("ray") / "head.log")
    try:
        yield cluster
    finally:
        cluster.stop()


GATED = textwrap.dedent(
    """
    import os, pathlib, time

    def test_first():
        pass

    def test_waits_for_the_gate():
        gate = pathlib.Path(os.environ["GATE"])
        deadline = time.monotonic() + 240
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert gate.exists()

    def test_last():
        pass
    """
)


def ray_toml(tmp_path: Path, address: str, suite_extra: str = "", top: str = "") -> str:
    """A config whose suite ``gated`` runs on the cluster; its middle test waits for
    ``tmp_path / "gate"`` (an absolute path: the job runs on this host)."""
    return f"""{top}
[storage]
data_dir = {json.dumps(str(tmp_path / "data"))}
{ray_suite_toml(tmp_path, address, suite_extra)}"""


def ray_suite_toml(tmp_path: Path, address: str, suite_extra: str = "") -> str:
    """``[testing]``, ``[ray]`` and the suite ``gated`` (no ``[storage]``)."""
    gated = tmp_path / "gated"
    gated.mkdir(exist_ok=True)
    (gated / "test_gated.py").write_text(GATED)
    q = json.dumps
    return f"""
[testing]
cancel_grace_seconds = 2

[ray]
address = {q(address)}

[[suites]]
name = "gated"
paths = ["test_gated.py"]
cwd = {q(str(gated))}
env = {{ GATE = {q(str(tmp_path / "gate"))} }}
executor = "ray"
ray_cpus = 1
{suite_extra}
"""


@pytest.fixture
def ray_config(tmp_path: Path, ray_cluster: RayCluster) -> Callable[..., Config]:
    def make(suite_extra: str = "", top: str = "") -> Config:
        path = tmp_path / "dashboard.toml"
        path.write_text(ray_toml(tmp_path, ray_cluster.address, suite_extra, top))
        return load_config(path)

    return make


@pytest.fixture
def ray_manager(
    ray_config: Callable[..., Config],
    manager_factory: Callable[..., SuiteManager],  # noqa: F811  (the fixture of tests/testing)
) -> Callable[..., SuiteManager]:
    """Started managers of a suite on the Ray head: tests/testing's factory, on its config."""
    return lambda suite_extra="": manager_factory(config=ray_config(suite_extra))
