"""Write the test suite's timings into docs/performance.md from the junit file of a `make test` run.

Usage::

    CI=true bash .ci/run                  # or make test: writes build/test-results/junit.xml
    make test-slow                        # optional: build/test-results/junit-slow.xml
    python -m scripts.suite_report        # the section "The test suite" of docs/performance.md

The wall time is the junit file's; a worker group's time (tests/conftest.py's group_of) is the sum
of its tests' setup, call and teardown, on one pytest-xdist worker.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
JUNIT = REPO / "build" / "test-results" / "junit.xml"
SLOW_JUNIT = REPO / "build" / "test-results" / "junit-slow.xml"  # make test-slow's
PAGE = REPO / "docs" / "performance.md"
BEGIN, END = "<!-- suite_report: begin -->", "<!-- suite_report: end -->"


def nodeid(case: ET.Element) -> str:
    """``tests/dags/test_dag_run.py::test_run_succeeds`` from junit's classname and name."""
    parts = case.get("classname", "").split(".")
    module = next(i for i in range(len(parts), 0, -1) if parts[i - 1].startswith("test_"))
    path = "/".join(parts[:module]) + ".py"
    return "::".join([path, *parts[module:], case.get("name", "")])


def testsuite(junit: Path) -> ET.Element:
    root = ET.parse(junit).getroot()
    return root if root.tag == "testsuite" else root.find("testsuite")


def outcome(suite: ET.Element) -> str:
    """``"716 passed, 1 skipped, 0 failed in 21.4 min"``."""
    count = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    passed = count["tests"] - count["failures"] - count["errors"] - count["skipped"]
    failed = count["failures"] + count["errors"]
    return f"{passed} passed, {count['skipped']} skipped, {failed} failed in {float(suite.get('time', 0)) / 60:.1f} min"


def section(junit: Path, commit: str, day: str, slow: Path | None = None) -> str:
    from tests.conftest import group_of

    suite = testsuite(junit)
    groups: dict[str, list[float]] = defaultdict(list)
    cases = []
    for case in suite.iter("testcase"):
        node, seconds = nodeid(case), float(case.get("time", 0))
        groups[group_of(node)].append(seconds)
        cases.append((seconds, node))
    work = sum(sum(v) for v in groups.values())
    lines = [
        BEGIN,
        f"`CI=true bash .ci/run` (that is `make test`) in a clean clone, {day}, commit `{commit}`:",
        f"**{outcome(suite)}** on two pytest-xdist workers, {work / 60:.1f} min of test time in all.",
    ]
    if slow is not None:
        lines.append(f"`make test-slow` after it, the same commit: {outcome(testsuite(slow))}.")
    lines += [
        "Written by `python -m scripts.suite_report` from the runs' `build/test-results/junit*.xml`.",
        "The groups of `make test` that keep a shared fixture on one worker, and the rest:",
        "",
        "| group | tests | minutes |",
        "|---|---|---|",
    ]
    big = sorted(groups.items(), key=lambda kv: -sum(kv[1]))
    named = [(g, v) for g, v in big if len(v) > 1 or sum(v) > 120][:8]
    rest = [v for g, v in big if (g, v) not in named]
    for group, times in named:
        lines.append(f"| {group} | {len(times)} | {sum(times) / 60:.1f} |")
    lines.append(f"| the other {len(rest)} modules | {sum(len(v) for v in rest)} | {sum(map(sum, rest)) / 60:.1f} |")
    lines += ["", "The slowest tests (setup included):", ""]
    for seconds, node in sorted(cases, reverse=True)[:6]:
        lines.append(f"- {seconds:.0f} s `{node}`")
    lines.append(END)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--junit", type=Path, default=JUNIT)
    parser.add_argument("--slow-junit", type=Path, default=SLOW_JUNIT, help="make test-slow's (left out if absent)")
    parser.add_argument("--commit", help="the commit the runs tested (default: HEAD)")
    args = parser.parse_args(argv)
    commit = (
        args.commit
        or subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True, cwd=REPO
        ).stdout.strip()
    )
    day = datetime.fromtimestamp(args.junit.stat().st_mtime, UTC).strftime("%Y-%m-%d")
    page = PAGE.read_text(encoding="utf-8")
    if BEGIN not in page:
        raise SystemExit(f"{PAGE}: no {BEGIN} marker")
    head, tail = page.split(BEGIN, 1)
    slow = args.slow_junit if args.slow_junit.is_file() else None
    PAGE.write_text(head + section(args.junit, commit, day, slow) + tail.split(END, 1)[1], encoding="utf-8")
    print(f"{PAGE.relative_to(REPO)}: the test suite's section from {args.junit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
