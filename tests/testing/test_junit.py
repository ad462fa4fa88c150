"""JUnit XML read from real pytest runs and hand-written files, and written so it reads back."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard_core.testing.junit import JunitError, counts_of, parse_junit, split_nodeid, write_junit
from dashboard_core.testing.progress import CaseResult

ROOT = Path(__file__).parents[2]
DEMO = ROOT / "examples" / "demo_suite"


def run_pytest(junit: Path, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "pytest", *args, f"--junitxml={junit}", "-p", "no:cacheprovider"]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


# -- pytest's own JUnit output -------------------------------------------------
def test_demo_suite_counts_equal_what_pytest_itself_reports(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    done = run_pytest(junit, str(DEMO))
    assert done.returncode == 1  # the demo has failures on purpose
    closing = done.stdout.strip().splitlines()[-1]
    expected = {k: int(n) for n, k in re.findall(r"(\d+) (\w+)", closing.split(" in ")[0])}
    assert expected == {"failed": 1, "passed": 7, "skipped": 1, "xfailed": 1, "xpassed": 1, "error": 1}
    # pytest's junitxml writes a non-strict xfail that passed as a plain passing <testcase>, with
    # nothing that tells it from a pass; so from the file, the xpassed test is one more passed.
    expected["passed"] += expected.pop("xpassed")
    cases = parse_junit(junit)
    assert len(cases) == 12
    assert dict(counts_of(cases)) == expected
    outcomes = {case.nodeid: case.outcome for case in cases}
    assert outcomes["examples.demo_suite.test_demo::test_unexpected_pass"] == "passed"
    assert outcomes["examples.demo_suite.test_demo::test_parametrised[-40--40]"] == "passed"


def test_demo_suite_cases_carry_their_messages_and_tracebacks(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    run_pytest(junit, str(DEMO))
    cases = {case.nodeid.removeprefix("examples.demo_suite.test_demo::"): case for case in parse_junit(junit)}
    assert {name: case.outcome for name, case in cases.items() if not name.startswith("test_parametrised")} == {
        "test_passes": "passed",
        "test_fails": "failed",
        "test_errors_in_setup": "error",
        "test_skipped": "skipped",
        "test_expected_failure": "xfailed",
        "test_unexpected_pass": "passed",  # see above: pytest writes an xpass as a pass
        "test_slow": "passed",
        "test_writes_output": "passed",
    }
    fails = cases["test_fails"]
    assert fails.message is not None and fails.message.startswith("AssertionError: assert {'status'")
    assert "\n" not in fails.message  # pytest's message attribute has the whole diff; the first line is kept
    assert fails.traceback is not None and ">       assert actual == expected" in fails.traceback
    assert "test_demo.py:23" in fails.traceback
    errors = cases["test_errors_in_setup"]
    assert errors.traceback is not None and "could not connect to the test database" in errors.traceback
    assert errors.message == 'failed on setup with "RuntimeError: the fixture could not connect to the test database"'
    assert cases["test_skipped"].message == "needs a GPU, which this machine has not"
    assert cases["test_expected_failure"].message == "known bug: rounding of negative durations"
    assert cases["test_passes"].message is None and cases["test_passes"].traceback is None
    assert cases["test_slow"].duration >= 1.0


def test_a_teardown_error_makes_one_case_with_the_worse_outcome(tmp_path: Path) -> None:
    """pytest writes "failed, then error in teardown" as two <testcase>s with one name."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")  # keep this repo's config out
    write(
        tmp_path / "test_teardown.py",
        """
        import pytest

        @pytest.fixture
        def bad_teardown():
            yield
            raise RuntimeError("teardown broke")

        def test_pass_then_teardown_error(bad_teardown):
            pass

        def test_fail_then_teardown_error(bad_teardown):
            assert 0, "call broke"
        """,
    )
    junit = tmp_path / "junit.xml"
    run_pytest(junit, "test_teardown.py", cwd=tmp_path)
    assert len(ET.parse(junit).getroot().findall(".//testcase")) == 3
    cases = parse_junit(junit)
    assert [(c.nodeid, c.outcome) for c in cases] == [
        ("test_teardown::test_pass_then_teardown_error", "error"),
        ("test_teardown::test_fail_then_teardown_error", "error"),
    ]
    assert cases[1].message == 'failed on teardown with "RuntimeError: teardown broke"'
    assert cases[1].traceback is not None and "RuntimeError: teardown broke" in cases[1].traceback


# -- hand-written files ----------------------------------------------------------
def test_nested_testsuites_are_read_in_document_order(tmp_path: Path) -> None:
    path = write(
        tmp_path / "nested.xml",
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <testsuites name="all">
          <testsuite name="pkg">
            <testsuite name="pkg/sub">
              <testcase classname="pkg/sub" name="TestDeep" time="0.25"/>
            </testsuite>
            <testcase classname="pkg" name="TestShallow" time="1.5">
              <skipped message="not on this OS"/>
            </testcase>
          </testsuite>
          <testsuite name="other">
            <testcase name="no classname" time="2"/>
          </testsuite>
        </testsuites>
        """,
    )
    assert parse_junit(path) == [
        CaseResult("pkg/sub::TestDeep", "passed", 0.25, ordinal=0),
        CaseResult("pkg::TestShallow", "skipped", 1.5, "not on this OS", ordinal=1),
        CaseResult("no classname", "passed", 2.0, ordinal=2),
    ]


def test_a_single_testsuite_root(tmp_path: Path) -> None:
    path = write(
        tmp_path / "single.xml",
        """
        <testsuite name="jest tests" tests="2">
          <testcase classname="math adds" name="adds 1 + 2" time="0.004"/>
          <testcase classname="math adds" name="adds 0.1 + 0.2" time="0.002">
            <failure message="expected 0.3, got 0.30000000000000004" type="AssertionError">Error: expected 0.3
            at Object.&lt;anonymous&gt; (math.test.js:7:20)</failure>
          </testcase>
        </testsuite>
        """,
    )
    passed, failed = parse_junit(path)
    assert passed == CaseResult("math adds::adds 1 + 2", "passed", 0.004)
    assert failed.nodeid == "math adds::adds 0.1 + 0.2" and failed.outcome == "failed"
    assert failed.message == "expected 0.3, got 0.30000000000000004"
    assert failed.traceback == "Error: expected 0.3\n    at Object.<anonymous> (math.test.js:7:20)"


def test_a_missing_or_unreadable_time_is_zero(tmp_path: Path) -> None:
    path = write(
        tmp_path / "times.xml",
        """
        <testsuite>
          <testcase name="missing"/>
          <testcase name="words" time="fast"/>
          <testcase name="comma" time="1,5"/>
          <testcase name="negative" time="-3"/>
          <testcase name="not a number" time="nan"/>
          <testcase name="fine" time="0.125"/>
        </testsuite>
        """,
    )
    assert [(c.nodeid, c.duration) for c in parse_junit(path)] == [
        ("missing", 0.0), ("words", 0.0), ("comma", 0.0), ("negative", 0.0), ("not a number", 0.0), ("fine", 0.125),
    ]  # fmt: skip


def test_a_failure_with_only_text_takes_its_first_line_as_message(tmp_path: Path) -> None:
    path = write(
        tmp_path / "text.xml",
        """
        <testsuite name="go">
          <testcase classname="example.com/pkg" name="TestParse" time="0.01">
            <failure>
            parse_test.go:12: got "a", want "b"
            parse_test.go:13: second complaint
            </failure>
          </testcase>
          <testcase classname="example.com/pkg" name="TestEmpty"><error/></testcase>
        </testsuite>
        """,
    )
    text_only, empty = parse_junit(path)
    assert text_only.outcome == "failed"
    assert text_only.message == 'parse_test.go:12: got "a", want "b"'
    assert text_only.traceback == '    parse_test.go:12: got "a", want "b"\n    parse_test.go:13: second complaint'
    assert empty == CaseResult("example.com/pkg::TestEmpty", "error", 0.0, None, None, ordinal=1)


def test_error_and_failure_in_one_testcase_the_error_wins(tmp_path: Path) -> None:
    path = write(
        tmp_path / "both.xml",
        """
        <testsuites>
          <testsuite name="pytest">
            <testcase classname="tests.test_db" name="test_query" time="0.5">
              <failure message="assert 1 == 2">call traceback</failure>
              <error message="failed on teardown with &quot;OSError: disk full&quot;">teardown traceback</error>
            </testcase>
            <testcase classname="tests.test_db" name="test_skip_then_fail" time="0.5">
              <skipped message="skipped"/>
              <failure message="boom">failure traceback</failure>
            </testcase>
          </testsuite>
        </testsuites>
        """,
    )
    both, skip_then_fail = parse_junit(path)
    assert both == CaseResult(
        "tests.test_db::test_query", "error", 0.5, 'failed on teardown with "OSError: disk full"', "teardown traceback"
    )
    assert (skip_then_fail.outcome, skip_then_fail.message, skip_then_fail.traceback) == (
        "failed", "boom", "failure traceback",
    )  # fmt: skip


def test_a_long_message_is_cut(tmp_path: Path) -> None:
    path = write(tmp_path / "long.xml", f'<testsuite><testcase name="t"><failure message="{"x" * 2000}"/></testcase></testsuite>')
    (case,) = parse_junit(path)
    assert case.message is not None and len(case.message) == 500 and case.message.endswith("…")


# -- writing -------------------------------------------------------------------
ALL_OUTCOMES = [
    CaseResult("examples/demo_suite/test_demo.py::test_passes", "passed", 0.0004),
    CaseResult(
        "examples/demo_suite/test_demo.py::test_fails", "failed", 0.0123456,
        "AssertionError: assert 1 == 2", ">       assert 1 == 2\nE       AssertionError\n\ntest_demo.py:23: AssertionError",
    ),
    CaseResult(
        "examples/demo_suite/test_demo.py::test_errors_in_setup", "error", 0.002,
        "RuntimeError: the fixture could not connect", "    def broken_fixture():\n>       raise RuntimeError(...)",
    ),
    CaseResult("examples/demo_suite/test_demo.py::test_skipped", "skipped", 0.0, "needs a GPU, which this machine has not"),
    CaseResult("examples/demo_suite/test_demo.py::test_expected_failure", "xfailed", 0.01, "known bug: rounding"),
    CaseResult("examples/demo_suite/test_demo.py::test_unexpected_pass", "xpassed", 0.5),
    CaseResult("examples/demo_suite/test_demo.py::test_parametrised[0-32]", "passed", 1.0),
    CaseResult("tests/test_x.py::TestClass::test_method[a::b]", "passed", 2.0),
    CaseResult("no_separator", "passed", 3.25),
]  # fmt: skip


@pytest.mark.parametrize(
    ("nodeid", "classname", "name"),
    [
        ("examples/demo_suite/test_demo.py::test_parametrised[0-32]", "examples/demo_suite/test_demo.py", "test_parametrised[0-32]"),
        ("a.py::TestX::test_y", "a.py::TestX", "test_y"),
        ("a.py::test_y[p::q]", "a.py", "test_y[p::q]"),
        ("dir[1]/a.py::test_y[p::q]", "dir[1]/a.py", "test_y[p::q]"),
        ("a.py::test_y[unclosed::", "a.py", "test_y[unclosed::"),
        ("[odd::id", "[odd", "id"),  # no "::" outside brackets: the last one
        ("no_separator", "", "no_separator"),
        ("", "", ""),
    ],
)  # fmt: skip
def test_split_nodeid(nodeid: str, classname: str, name: str) -> None:
    assert split_nodeid(nodeid) == (classname, name)


def test_write_then_parse_gives_the_same_cases(tmp_path: Path) -> None:
    path = tmp_path / "run.xml"
    path.write_bytes(write_junit("demo", ALL_OUTCOMES, timestamp=None, duration=None))
    expected = [
        CaseResult(c.nodeid, c.outcome, round(c.duration, 3), c.message, c.traceback, ordinal=i)
        for i, c in enumerate(ALL_OUTCOMES)
    ]
    assert parse_junit(path) == expected


def test_the_document_is_what_junit_readers_expect() -> None:
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    data = write_junit("demo suite", ALL_OUTCOMES, timestamp=started, duration=12.3456, hostname="build-7")
    assert data.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<testsuites')
    root = ET.fromstring(data)
    (suite,) = root.findall("testsuite")
    assert suite.attrib == {
        "name": "demo suite", "tests": "9", "failures": "1", "errors": "1", "skipped": "2", "time": "12.346",
        "timestamp": "2026-01-02T03:04:05+00:00", "hostname": "build-7",
    }  # fmt: skip
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name"), c.get("time")) for c in cases][-3:] == [
        ("examples/demo_suite/test_demo.py", "test_parametrised[0-32]", "1.000"),
        ("tests/test_x.py::TestClass", "test_method[a::b]", "2.000"),
        ("", "no_separator", "3.250"),
    ]
    assert cases[1].find("failure").get("message") == "AssertionError: assert 1 == 2"  # type: ignore[union-attr]
    assert cases[2].find("error") is not None
    assert cases[3].find("skipped").get("type") == "pytest.skip"  # type: ignore[union-attr]
    assert cases[4].find("skipped").get("type") == "pytest.xfail"  # type: ignore[union-attr]
    assert [(p.get("name"), p.get("value")) for p in cases[5].iterfind("properties/property")] == [
        ("outcome", "xpassed")
    ]
    assert len(cases[0]) == 0  # a pass has no child element


def test_characters_xml_forbids_are_dropped_and_the_rest_reads_back(tmp_path: Path) -> None:
    dirty = [
        CaseResult("t.py::test_colour\x00", "failed", 1.0, "\x00\x1b[31mred\x1b[0m is \ud800wrong", "E  \x1b[31mbad\x00\x07\nnext\ttab"),
        CaseResult("t.py::test_skip", "skipped", 0.0, "reason \x0bwith\x0c form feeds \ufffe"),
        CaseResult("t.py::test_xpass", "xpassed", 0.0, "flaky \x1b upstream"),
        CaseResult("t.py::test_unicode", "failed", 0.0, "naïve ✓ 😀 <&> \"quoted\"", "line\u2028same line 😀"),
    ]  # fmt: skip
    data = write_junit("dirty\x01", dirty, timestamp=None, duration=None, hostname="host\x02")
    path = tmp_path / "dirty.xml"
    path.write_bytes(data)
    ET.fromstring(data)  # well-formed
    assert ET.fromstring(data).find("testsuite").get("name") == "dirty"  # type: ignore[union-attr]
    assert parse_junit(path) == [
        CaseResult("t.py::test_colour", "failed", 1.0, "[31mred[0m is wrong", "E  [31mbad\nnext\ttab", 0),
        CaseResult("t.py::test_skip", "skipped", 0.0, "reason with form feeds", ordinal=1),
        CaseResult("t.py::test_xpass", "xpassed", 0.0, "flaky  upstream", ordinal=2),
        CaseResult("t.py::test_unicode", "failed", 0.0, "naïve ✓ 😀 <&> \"quoted\"", "line\u2028same line 😀", 3),
    ]  # fmt: skip


def test_a_multi_line_message_reads_back_as_its_first_line(tmp_path: Path) -> None:
    case = CaseResult("t.py::test", "failed", 0.0, "AssertionError: assert {'a': 1} == {'a': 2}\n  \n  Differing", "tb")
    path = tmp_path / "multi.xml"
    path.write_bytes(write_junit("s", [case], timestamp=None, duration=None))
    assert ET.parse(path).getroot().find(".//failure").get("message") == case.message  # type: ignore[union-attr]
    assert parse_junit(path)[0].message == "AssertionError: assert {'a': 1} == {'a': 2}"


def test_an_empty_run_is_a_valid_document(tmp_path: Path) -> None:
    path = tmp_path / "empty-run.xml"
    path.write_bytes(write_junit("nothing", [], timestamp=None, duration=0.0))
    assert parse_junit(path) == []
    assert ET.parse(path).getroot().find("testsuite").get("tests") == "0"  # type: ignore[union-attr]


# -- files that cannot be read ----------------------------------------------------
def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "build" / "junit.xml"
    with pytest.raises(JunitError) as caught:
        parse_junit(path)
    assert str(caught.value) == f"{path}: the command wrote no JUnit XML file (expected at this path)"


def test_an_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path / "junit.xml", "  \n")
    with pytest.raises(JunitError, match="junit.xml: the JUnit XML file is empty$"):
        parse_junit(path)


def test_malformed_xml_names_the_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "junit.xml", '<testsuite>\n  <testcase name="a">\n  </testsuite>\n')
    with pytest.raises(JunitError) as caught:
        parse_junit(path)
    assert str(caught.value) == f"{path}: not valid XML at line 3, column 5: mismatched tag"


def test_a_cut_off_file(tmp_path: Path) -> None:
    path = write(tmp_path / "junit.xml", '<?xml version="1.0"?>\n<testsuites><testsuite><testcase name="a"')
    with pytest.raises(JunitError, match=r"junit.xml: not valid XML at line 2, column \d+: unclosed token"):
        parse_junit(path)


def test_the_wrong_root_element(tmp_path: Path) -> None:
    path = write(tmp_path / "coverage.xml", '<coverage line-rate="0.9"><packages/></coverage>')
    with pytest.raises(JunitError) as caught:
        parse_junit(path)
    assert str(caught.value) == f"{path}: the root element is <coverage>, not <testsuites> or <testsuite>"


def test_a_directory(tmp_path: Path) -> None:
    with pytest.raises(JunitError, match="is a directory, not a JUnit XML file"):
        parse_junit(tmp_path)


def test_a_file_over_200_mb_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.xml"
    with path.open("wb") as file:
        file.truncate(201 * 1024 * 1024)  # sparse: costs no disk and is never read
    with pytest.raises(JunitError, match=r"huge.xml: the JUnit XML file is 201 MB; files over 200 MB are refused"):
        parse_junit(path)


def test_an_entity_expansion_bomb_is_refused(tmp_path: Path) -> None:
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10))
    path = write(
        tmp_path / "bomb.xml",
        f'<?xml version="1.0"?><!DOCTYPE testsuite [<!ENTITY e0 "lol">{entities}]>'
        '<testsuite><testcase name="&e9;"/></testsuite>',
    )
    with pytest.raises(JunitError, match="bomb.xml: not valid XML at line 1, column .*amplification"):
        parse_junit(path)
