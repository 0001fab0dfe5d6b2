"""Zip src/movierec into build/movierec.zip, the --py-files every job ships (with its bytecode).

Only the ``movierec`` package ships to Spark: the developer tools (``movierec_dev``) stay out.
Usage: python -m scripts.package [TARGET]
"""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

from scripts.bytecode import pyc

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "movierec"


def build(target: Path = REPO / "build" / "movierec.zip") -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    # Its own temporary file: two test workers may build at once; the rename is atomic.
    tmp = target.with_suffix(f".zip.{os.getpid()}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(PACKAGE.rglob("*.py")):
            name = path.relative_to(PACKAGE.parent).as_posix()
            zf.write(path, name)
            # Each Spark Python process would otherwise compile the package again (zip imports cache nothing).
            compiled = pyc(path.read_bytes(), f"{target}/{name}")
            if compiled is not None:
                zf.writestr(name + "c", compiled)
    tmp.replace(target)
    return target


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "build" / "movierec.zip"))
