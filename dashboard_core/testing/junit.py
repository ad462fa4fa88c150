"""JUnit XML in and out: the results of any test tool, and every run as a download.

Suites of kind ``command`` (go test, cargo, jest, pytest with --junitxml ...)
report their results only as a JUnit XML file written at the end, so the
dashboard reads that file into the same :class:`CaseResult` rows it folds from a
live pytest run. The other way, every run can be downloaded as JUnit XML for CI
tools and test-report viewers.

Reading is forgiving about what tools differ in (nested ``<testsuite>``
elements, a missing or odd ``time``, a failure with only text) and strict about
what makes the file unusable: each such problem is a :class:`JunitError` whose
text names the file and says what is wrong. Files are parsed by the standard
library's expat, which refuses entity-expansion bombs, after a size check.

Writing always gives well-formed XML 1.0: characters it forbids (control
characters, lone surrogates) are dropped from every attribute and text, and
``parse_junit`` reads back what ``write_junit`` wrote, xpassed included.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from pyexpat import ErrorString

from dashboard_core.testing.progress import SEVERITY, CaseResult, Outcome, one_line

MAX_BYTES = 200 * 1024 * 1024  # a JUnit file this big is not a test report anyone can read
XFAIL_TYPE = "pytest.xfail"  # how pytest marks an expected failure in <skipped type=...>
# Anything XML 1.0 does not allow in a document: C0 controls but tab, LF and CR,
# surrogates (a lone one cannot even be encoded), U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# The child element of a <testcase> that gives its outcome.
_RESULT_TAGS: dict[str, Outcome] = {"failure": "failed", "error": "error", "skipped": "skipped"}


class JunitError(Exception):
    """A JUnit XML file that cannot be read; the text is a sentence for the user."""


def counts_of(cases: Iterable[CaseResult]) -> Counter[str]:
    """How many cases had each outcome."""
    return Counter(case.outcome for case in cases)


# -- reading -------------------------------------------------------------------
def parse_junit(path: Path) -> list[CaseResult]:
    """The test cases of a JUnit XML file, in document order.

    Adjacent ``<testcase>`` elements with the same name are one test: pytest
    writes a test that fails and then errors in teardown as two of them. Such a
    test, like a testcase with several result elements, gets the worse outcome
    (with its message) and the sum of the times.
    """
    root = _read_root(path)
    cases: list[CaseResult] = []
    for element in root.iter("testcase"):
        case = _case(element)
        if cases and cases[-1].nodeid == case.nodeid:
            _merge(cases[-1], case)
        else:
            case.ordinal = len(cases)
            cases.append(case)
    return cases


def _read_root(path: Path) -> ET.Element:
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise JunitError(f"{path}: this is a directory, not a JUnit XML file")
        if size > MAX_BYTES:
            raise JunitError(f"{path}: the JUnit XML file is {_megabytes(size)}; files over 200 MB are refused")
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)  # the file may have grown since stat()
    except FileNotFoundError:
        raise JunitError(f"{path}: the command wrote no JUnit XML file (expected at this path)") from None
    except OSError as exc:
        raise JunitError(f"{path}: the JUnit XML file cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise JunitError(f"{path}: the JUnit XML file is over 200 MB and is refused")
    if not data.strip():
        raise JunitError(f"{path}: the JUnit XML file is empty")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, column = exc.position
        # expat counts columns from 0; editors, and so users, count from 1.
        raise JunitError(
            f"{path}: not valid XML at line {line}, column {column + 1}: {ErrorString(exc.code)}"
        ) from None
    if root.tag not in ("testsuites", "testsuite"):
        raise JunitError(f"{path}: the root element is <{root.tag}>, not <testsuites> or <testsuite>")
    return root


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"


def _case(element: ET.Element) -> CaseResult:
    name, classname = element.get("name", ""), element.get("classname")
    case = CaseResult(f"{classname}::{name}" if classname else name, "passed", _seconds(element.get("time")))
    worst: ET.Element | None = None
    for child in element:
        outcome = _child_outcome(child)
        if outcome is not None and (worst is None or SEVERITY[outcome] > SEVERITY[case.outcome]):
            worst, case.outcome = child, outcome
    if worst is not None:
        case.traceback = _text(worst.text)
        case.message = one_line(worst.get("message")) or one_line(case.traceback)
    else:
        properties = _properties(element)
        if properties.get("outcome") == "xpassed":
            case.outcome = "xpassed"
        case.message = one_line(properties.get("message"))
    return case


def _child_outcome(child: ET.Element) -> Outcome | None:
    outcome = _RESULT_TAGS.get(child.tag)
    if outcome == "skipped" and child.get("type") == XFAIL_TYPE:
        return "xfailed"
    return outcome


def _properties(testcase: ET.Element) -> dict[str, str]:
    return {prop.get("name", ""): prop.get("value", "") for prop in testcase.iterfind("properties/property")}


def _merge(into: CaseResult, other: CaseResult) -> None:
    into.duration += other.duration
    if SEVERITY[other.outcome] > SEVERITY[into.outcome]:
        into.outcome, into.message, into.traceback = other.outcome, other.message, other.traceback


def _seconds(value: str | None) -> float:
    """A ``time`` attribute in seconds; missing, unreadable or negative is 0."""
    try:
        seconds = float(value) if value is not None else 0.0
    except ValueError:
        return 0.0
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0


def _text(text: str | None) -> str | None:
    """Element text without surrounding blank lines; the first line keeps its indent."""
    if text is None:
        return None
    lines = text.rstrip().split("\n")  # not splitlines(): U+2028 and friends are text here
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines) or None


# -- writing -------------------------------------------------------------------
def write_junit(
    suite: str,
    cases: Sequence[CaseResult],
    *,
    timestamp: datetime | None,
    duration: float | None,
    hostname: str | None = None,
) -> bytes:
    """One run as a JUnit XML document: ``<testsuites>`` holding one ``<testsuite>``.

    A nodeid is split at its last ``::`` (outside a parameter id) into
    classname and name, so the classname of a pytest test is its file (and class). Counts follow pytest's
    own JUnit output: xfailed counts as skipped, xpassed as passed (with an
    ``outcome`` property that keeps the difference). ``time`` is ``duration``,
    or the sum of the cases' durations when the run's is unknown.

    Read back, a message is its first line, and a failure without a message
    gets the first line of its traceback, as for any tool's file.
    """
    counts = counts_of(cases)
    totals = {
        "tests": str(len(cases)),
        "failures": str(counts["failed"]),
        "errors": str(counts["error"]),
        "skipped": str(counts["skipped"] + counts["xfailed"]),
        "time": _time(duration if duration is not None else sum(case.duration for case in cases)),
    }
    root = ET.Element("testsuites", _attributes(name=suite, **totals))
    testsuite = ET.SubElement(
        root,
        "testsuite",
        _attributes(name=suite, **totals, timestamp=timestamp.isoformat() if timestamp else None, hostname=hostname),
    )
    for case in cases:
        _write_case(testsuite, case)
    ET.indent(root, space="  ")  # only between elements: no text or attribute changes
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode").encode("utf-8")


def _write_case(parent: ET.Element, case: CaseResult) -> None:
    classname, name = split_nodeid(case.nodeid)
    element = ET.SubElement(parent, "testcase", _attributes(classname=classname, name=name, time=_time(case.duration)))
    if case.outcome in ("failed", "error"):
        tag = "failure" if case.outcome == "failed" else "error"
        failed = [t for t in case.subtests if t.outcome == "failed"]
        if not failed or not (case.message or "").startswith("subtest "):  # its own failure, not a subtest's
            child = ET.SubElement(element, tag, _attributes(message=case.message))
            child.text = _xml_text(case.traceback)
        for subtest in failed:  # as pytest writes them: a <failure> per failed subtest
            message = f"subtest {subtest.name}: {subtest.message or 'failed'}"
            child = ET.SubElement(element, "failure", _attributes(message=message))
            child.text = _xml_text(subtest.traceback)
    elif case.outcome in ("skipped", "xfailed"):
        kind = XFAIL_TYPE if case.outcome == "xfailed" else "pytest.skip"
        child = ET.SubElement(element, "skipped", _attributes(type=kind, message=case.message))
        child.text = _xml_text(case.traceback)
    else:  # passed or xpassed: no result element, so keep what would be lost as properties
        kept = {"outcome": "xpassed" if case.outcome == "xpassed" else None, "message": case.message}
        if any(value is not None for value in kept.values()):
            properties = ET.SubElement(element, "properties")
            for key, value in kept.items():
                if value is not None:
                    ET.SubElement(properties, "property", _attributes(name=key, value=value))


def split_nodeid(nodeid: str) -> tuple[str, str]:
    """Classname and name: the nodeid split at its last ``::`` outside ``[...]``.

    ``a.py::TestX::test_y[p::q]`` is ``a.py::TestX`` and ``test_y[p::q]``: a
    parameter id may hold ``::``. No ``::`` at all gives an empty classname.
    """
    depth, cut = 0, -1
    for i, char in enumerate(nodeid):
        if char == "[":
            depth += 1
        elif char == "]":
            depth = max(depth - 1, 0)
        elif depth == 0 and nodeid.startswith("::", i):
            cut = i
    if cut < 0:  # none outside brackets: the last one anywhere
        cut = nodeid.rfind("::")
    return (nodeid[:cut], nodeid[cut + 2 :]) if cut >= 0 else ("", nodeid)


def _attributes(**values: str | None) -> dict[str, str]:
    """XML-safe attributes, leaving out the unknown ones."""
    return {key: _NOT_XML.sub("", value) for key, value in values.items() if value is not None}


def _xml_text(text: str | None) -> str | None:
    return _NOT_XML.sub("", text) if text is not None else None


def _time(seconds: float) -> str:
    return f"{seconds:.3f}" if math.isfinite(seconds) and seconds > 0 else "0.000"
