"""The package's shape: imports flow one way between subpackages, no cycle, and no latency hacks.

``docs/architecture.md`` draws the same map; this test keeps the two honest.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
# Each subpackage may import only those listed before it (and itself).
ORDER = ["core", "settings", "io", "data", "models", "serving", "evaluation"]
# A module longer than this is split: past it, a reader cannot hold the module in mind.
MAX_LINES = 600


def modules() -> dict[str, Path]:
    return {".".join(p.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__"): p for p in SRC.rglob("*.py")}


def imports_of(path: Path) -> set[str]:
    """Every ``movierec...`` module imported anywhere in the file (type-checking imports too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("movierec"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("movierec")}
    return found


def python_files() -> list[Path]:
    roots = ["src", "spark_jobs", "dags", "plugins", "scripts", "benchmarks", "tests"]
    return [p for root in roots for p in (REPO / root).rglob("*.py")]


def test_subpackages_import_only_the_ones_below_them():
    wrong = []
    for name, path in modules().items():
        parts = name.split(".")
        if parts[0] != "movierec" or len(parts) < 3:
            continue
        mine = ORDER.index(parts[1])
        for target in imports_of(path):
            tparts = target.split(".")
            if tparts[0] == "movierec_dev":
                wrong.append(f"{name} imports the developer tools ({target})")
            elif len(tparts) > 1 and tparts[1] in ORDER and ORDER.index(tparts[1]) > mine:
                wrong.append(f"{name} ({parts[1]}) imports {target} ({tparts[1]})")
    assert not wrong, wrong


def test_no_import_cycle():
    graph = {name: {t for t in imports_of(path) if t in modules()} for name, path in modules().items()}
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                pytest.fail(f"import cycle: {' -> '.join([*stack[stack.index(nxt) :], nxt])}")
            if nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])


def test_core_is_pure_python():
    for name, path in modules().items():
        if name.startswith("movierec.core"):
            imported = {n.split(".")[0] for n in _all_imports(path)}
            assert imported <= {"__future__", "movierec", "re", "dataclasses", "enum", "typing"}, (name, imported)


def _all_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_no_module_is_too_long_to_read():
    long = {
        str(path.relative_to(REPO)): n
        for path in [*SRC.rglob("*.py"), *(REPO / "spark_jobs").glob("*.py")]
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these modules (over {MAX_LINES} lines): {long}"


@pytest.mark.parametrize(
    ("pattern", "allowed"),
    [
        (r"\bos\._exit\(", set()),
        (r"\bsys\.path\.(insert|append)\(", set()),
        (r"\bThreadPoolExecutor\(", {"src/movierec/io/spark.py"}),
        (r"noqa: ANN", set()),
    ],
)
def test_no_latency_hacks_or_path_tricks(pattern, allowed):
    me = Path(__file__)
    found = {str(p.relative_to(REPO)) for p in python_files() if p != me and re.search(pattern, p.read_text())}
    assert found <= allowed, f"{pattern} in {sorted(found - allowed)}"


def test_the_shipped_zip_holds_the_package_and_not_the_developer_tools(py_files):
    import zipfile

    names = set(zipfile.ZipFile(py_files).namelist())
    assert {"movierec/__init__.py", "movierec/core/paths.py", "movierec/serving/topn.py"} <= names
    assert not any(n.startswith("movierec_dev") for n in names)
