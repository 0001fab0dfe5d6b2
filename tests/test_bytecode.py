"""Zips that carry their bytecode (scripts/bytecode.py): Spark's Python processes import from zips."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

from scripts.bytecode import add_bytecode, pyc


def import_from(zip_path, module: str) -> str:
    code = f"import {module} as m; print(m.__file__, m.VALUE)"
    env = {**os.environ, "PYTHONPATH": str(zip_path)}  # the zip first on the path, as spark-submit puts it
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.strip()


def test_modules_load_from_the_bytecode_beside_their_source(tmp_path):
    source = tmp_path / "src.zip"
    with zipfile.ZipFile(source, "w") as zf:
        zf.writestr("pkg/__init__.py", "")
        zf.writestr("pkg/mod.py", "VALUE = 41 + 1\n")
        zf.writestr("pkg/tests/test_x.py", "VALUE = 0\n")
        zf.writestr("pkg/py2.py", "print 'not python 3'\n")
    target = tmp_path / "with-bytecode.zip"

    add_bytecode(source, target, shown_as=str(target), skip=("/tests/",))

    names = set(zipfile.ZipFile(target).namelist())
    assert {"pkg/__init__.pyc", "pkg/mod.pyc", "pkg/mod.py"} <= names
    assert "pkg/tests/test_x.pyc" not in names and "pkg/py2.pyc" not in names  # skipped; does not compile
    assert import_from(target, "pkg.mod") == f"{target}/pkg/mod.pyc 42"


def test_bytecode_of_another_python_is_ignored_and_the_source_compiled(tmp_path):
    target = tmp_path / "other-python.zip"
    other = bytearray(pyc(b"VALUE = 'stale'\n", "mod.py"))
    other[:2] = (int.from_bytes(other[:2], "little") - 1).to_bytes(2, "little")  # another magic number
    with zipfile.ZipFile(target, "w") as zf:
        zf.writestr("mod.py", "VALUE = 'source'\n")
        zf.writestr("mod.pyc", bytes(other))

    assert import_from(target, "mod") == f"{target}/mod.py source"
