"""What needs no cluster: the progress lines taken out of a Ray job's output
(wherever its chunks are cut), the plugin's stdout channel, and the config's words."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dashboard_core.config import ConfigError, load_config
from dashboard_core.processes.ray_executor import MARKER, MarkedStream
from dashboard_core.processes.spec import LogChunk, ProgressLine
from dashboard_core.testing.suites import PLUGIN

M = MARKER.encode()
OUTPUT = b"collected 2\ntests/a.py ." + M + b'{"n": 1}\n' + b"." + M + b'{"n": 2}\n' + b"\n2 passed\n"


def split(data: bytes, cuts: list[int]) -> tuple[bytes, list[bytes]]:
    stream, out, lines, last = MarkedStream(), b"", [], 0
    for cut in [*cuts, len(data)]:
        for event in stream.feed(data[last:cut]):
            if isinstance(event, LogChunk):
                out += event.data
            elif isinstance(event, ProgressLine):
                lines.append(event.data)
        last = cut
    for event in stream.flush():
        assert isinstance(event, LogChunk)
        out += event.data
    return out, lines


@pytest.mark.parametrize("cuts", [[], *[[n] for n in range(1, len(OUTPUT))], [13, 14, 15, 16, 17]])
def test_progress_lines_come_out_of_the_output_wherever_it_is_cut(cuts: list[int]) -> None:
    out, lines = split(OUTPUT, cuts)
    assert out == b"collected 2\ntests/a.py ..\n2 passed\n"
    assert lines == [b'{"n": 1}', b'{"n": 2}']


def test_output_that_only_looks_like_the_marker_start_is_kept() -> None:
    out, lines = split(b"abc" + M[:3], [])
    assert out == b"abc" + M[:3] and lines == []


def test_a_progress_line_cut_by_the_end_is_dropped() -> None:
    out, lines = split(b"x" + M + b'{"half', [])
    assert out == b"x" and lines == []


def test_the_plugin_writes_marked_progress_lines_to_stdout(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text(textwrap.dedent("def test_a():\n    print('inside')\n"))
    env = {"DASHBOARD_PROGRESS": f"stdout:{MARKER}", "PYTHONPATH": str(Path(__file__).parents[2])}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", PLUGIN, "-p", "no:cacheprovider", "test_x.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout
    out, lines = split(proc.stdout, [])
    records = [json.loads(line) for line in lines]
    assert {"event": "collected", "count": 1, "rootdir": str(tmp_path)} in records
    assert any(r.get("nodeid") == "test_x.py::test_a" and r.get("when") == "teardown" for r in records)
    assert "1 passed" in out.decode() and MARKER not in out.decode()


def test_a_ray_suite_needs_the_clusters_address(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.toml"
    path.write_text('[[suites]]\nname = "s"\nexecutor = "ray"\n')
    with pytest.raises(ConfigError, match=r'suites s have executor = "ray": set \[ray\] address'):
        load_config(path)


def test_ray_settings_need_the_ray_executor(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.toml"
    path.write_text('[[suites]]\nname = "s"\nray_cpus = 1\n')
    with pytest.raises(ConfigError, match=r'ray_cpus only apply to executor = "ray"'):
        load_config(path)


# -- shards -------------------------------------------------------------------------------
def test_the_shards_exit_codes_merge_into_the_worst() -> None:
    from dashboard_core.processes.ray_shards import merged_exit

    assert merged_exit([0, 1, 0]) == 1
    assert merged_exit([0, 5, 0]) == 0  # a shard without tests (more shards than tests)
    assert merged_exit([5, 5]) == 5
    assert merged_exit([0, -15, 1]) == -15
    assert merged_exit([0, None]) is None


def test_one_collected_line_with_the_sum_once_every_shard_counted() -> None:
    from dashboard_core.processes.ray_shards import ShardMerge

    merge = ShardMerge(2)
    assert merge.progress(0, b'{"event": "collected", "count": 3, "rootdir": "/r"}') == []
    (line,) = merge.progress(1, b'{"event": "collected", "count": 2, "rootdir": "/r"}')
    assert isinstance(line, ProgressLine) and json.loads(line.data) == {
        "event": "collected",
        "count": 5,
        "rootdir": "/r",
    }
    error = b'{"$report_type": "CollectReport", "nodeid": "bad.py", "outcome": "failed"}'
    assert len(merge.progress(0, error)) == 1 and merge.progress(1, error) == []  # every shard collects every file
    assert merge.progress(0, b'{"$report_type": "SessionFinish", "exitstatus": 1}') == []
    assert [json.loads(e.data) for e in merge.finish(1) if isinstance(e, ProgressLine)] == [
        {"$report_type": "SessionFinish", "exitstatus": 1}
    ]
    assert merge.output(0, b"a\nb") == [LogChunk(b"[shard 1/2] a\n")]
    assert merge.shard_ended(0) == [LogChunk(b"[shard 1/2] b\n")]


# -- a workflow step on Ray: the suite's settings and checks ----------------------------
STEP = '[[workflows]]\nname = "w"\n[[workflows.steps]]\nname = "s"\nargv = ["true"]\n'


def test_a_ray_workflow_step_needs_the_clusters_address(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.toml"
    path.write_text(STEP + 'executor = "ray"\n')
    with pytest.raises(ConfigError, match=r'workflow steps w/s have executor = "ray": set \[ray\] address'):
        load_config(path)


def test_a_workflow_steps_ray_settings_need_the_ray_executor(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.toml"
    path.write_text(STEP + "ray_memory_mb = 512\n")
    with pytest.raises(ConfigError, match=r'ray_memory_mb only apply to executor = "ray"'):
        load_config(path)
    path.write_text('[ray]\naddress = "http://127.0.0.1:8265"\n' + STEP + 'executor = "ray"\nray_cpus = 0.5\n')
    step = load_config(path).workflows[0].steps[0]
    assert (step.executor, step.ray_cpus) == ("ray", 0.5)
