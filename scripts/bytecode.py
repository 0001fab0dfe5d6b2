"""Zips of Python modules that carry their bytecode, so importing from them compiles nothing.

Python caches bytecode in ``__pycache__`` for modules on disk, but never for
modules imported from a zip: each process compiles them from source again.
Spark imports pyspark (from ``$SPARK_HOME/python/lib/pyspark.zip``) and the
jobs' package (``--py-files``) that way in the driver and in every Python
worker daemon. zipimport uses a ``name.pyc`` stored beside ``name.py``; the
ones written here are unchecked-hash pycs (PEP 552, as ``compileall
--invalidation-mode unchecked-hash`` writes for installs that never change):
a zip is written whole, source and bytecode together, and never edited.
Checking each pyc against its source would read and hash every module's
source again (0.3 s of the 0.9 s saved per pyspark import). A Python of
another version ignores them and compiles the source, as before.
"""

from __future__ import annotations

import importlib.util
import marshal
import zipfile
from pathlib import Path

# PEP 552 flags: bit 0 hash-based, bit 1 (unset) check the source.
_UNCHECKED_HASH = (0b01).to_bytes(4, "little")


def pyc(source: bytes, filename: str) -> bytes | None:
    """The unchecked-hash pyc of ``source`` for this Python; None if it does not compile here."""
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    return importlib.util.MAGIC_NUMBER + _UNCHECKED_HASH + importlib.util.source_hash(source) + marshal.dumps(code)


def add_bytecode(source_zip: Path, target: Path, shown_as: str, skip: tuple[str, ...] = ()) -> None:
    """Copy ``source_zip`` to ``target`` with a pyc beside every ``.py`` (except names containing ``skip``).

    ``shown_as`` is the zip's path as tracebacks should name it (what zipimport
    itself would use: ``<zip path>/<module path>``).
    """
    tmp = target.with_name(target.name + ".tmp")
    with zipfile.ZipFile(source_zip) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, data)
            if info.filename.endswith(".py") and not any(s in info.filename for s in skip):
                compiled = pyc(data, f"{shown_as}/{info.filename}")
                if compiled is not None:
                    zout.writestr(zipfile.ZipInfo(info.filename + "c", info.date_time), compiled, zipfile.ZIP_DEFLATED)
    tmp.replace(target)
