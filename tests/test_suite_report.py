"""The test-suite section of docs/performance.md, from a junit file (scripts/suite_report.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from scripts.suite_report import BEGIN, END, nodeid, section

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="1"
 skipped="1" tests="5" time="1500.0">
<testcase classname="tests.dags.test_dag_run" name="test_run_succeeds" time="600.0"/>
<testcase classname="tests.dags.test_faults" name="test_a[x]" time="300.0"/>
<testcase classname="tests.test_docs" name="test_links" time="1.5"/>
<testcase classname="tests.movierec.test_settings.TestForm" name="test_b" time="2.0"><failure/></testcase>
<testcase classname="tests.test_compose" name="test_up" time="0.0"><skipped/></testcase>
</testsuite></testsuites>"""


def test_node_ids_are_rebuilt_from_junit_class_names():
    case = ET.fromstring('<testcase classname="tests.movierec.test_settings.TestForm" name="test_b"/>')
    assert nodeid(case) == "tests/movierec/test_settings.py::TestForm::test_b"


def test_the_section_counts_outcomes_and_sums_groups(tmp_path):
    junit = tmp_path / "junit.xml"
    junit.write_text(JUNIT)
    text = section(junit, "abc1234", "2026-12-06")
    assert text.startswith(BEGIN) and text.endswith(END)
    assert "commit `abc1234`:\n**3 passed, 1 skipped, 1 failed in 25.0 min**" in text
    assert "make test-slow" not in text
    assert "`make test-slow` after it, the same commit: 3 passed" in section(junit, "abc1234", "2026-12-06", junit)
    assert "| dag-runs | 2 | 15.0 |" in text
    assert "- 600 s `tests/dags/test_dag_run.py::test_run_succeeds`" in text
