"""A warehouse on a small filesystem that publish fills up, as Airflow runs it (``spark-submit``).

The warehouse lives on a real tmpfs of a few megabytes, filled with a file until only the room
asked for is left. Mounting needs root (or CAP_SYS_ADMIN); elsewhere the test is skipped, saying so.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from movierec.core.errors import EXIT_USER_ERROR
from tests.jobs.conftest import TOP_N
from tests.jobs.test_jobs_submit import DS as D1
from tests.jobs.test_jobs_submit import DS2 as D2
from tests.jobs.test_jobs_submit import ok, submit

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def published(tmp_path_factory, csv_pipeline) -> Path:
    """A warehouse with D1 published, and D2 evaluated (D1's inputs under D2's date), ready to publish."""
    wh = tmp_path_factory.mktemp("full-disk") / "warehouse"
    shutil.copytree(csv_pipeline[1], wh)  # the five jobs' output (tests/jobs/conftest.py)
    for area in ("raw/movielens", "curated", "models", "metrics"):
        shutil.copytree(wh / area / f"ds={D1}", wh / area / f"ds={D2}")
    return wh


def allocated(path: Path) -> int:
    """Bytes the files below ``path`` take on their filesystem (whole pages, as tmpfs counts them)."""
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file())


def free_bytes(path: Path) -> int:
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def fill(path: Path, leave: int) -> Path:
    """Write zeros into ``path/filler`` until only about ``leave`` bytes are free."""
    filler = path / "filler"
    left = free_bytes(path) - leave
    with filler.open("wb") as out:
        while left > 0:
            chunk = min(left, 1 << 20)
            out.write(b"\0" * chunk)
            left -= chunk
    return filler


def digests(wh: Path, *folders: str) -> dict[str, str]:
    """SHA-256 of every file below the folders (and of files named directly)."""
    found = {}
    for name in folders:
        target = wh / name
        files = [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
        for f in files:
            found[str(f.relative_to(wh))] = hashlib.sha256(f.read_bytes()).hexdigest()
    return found


def staged_files(wh: Path) -> list[str]:
    """Files in any staging folder of the warehouse (an area's, or a published date's)."""
    return sorted(str(p.relative_to(wh)) for p in wh.glob("**/_staging/**/*") if p.is_file())


@pytest.fixture
def small_filesystem(tmp_path, published):
    """A tmpfs with room for the warehouse and a few megabytes more, the warehouse copied onto it."""
    mount = tmp_path / "small"
    mount.mkdir()
    size = allocated(published) + 8 * 1024 * 1024
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {proc.stderr.strip()}")
    try:
        shutil.copytree(published, mount / "warehouse")
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("room", ["none", "the lists only"])
def test_a_full_disk_in_publish_is_one_line_and_leaves_the_published_date_as_it_was(small_filesystem, room, records):
    wh = small_filesystem / "warehouse"
    published_d1 = ("recommendations/_LATEST", f"recommendations/ds={D1}", f"published/ds={D1}")
    before = digests(wh, *published_d1)
    lists, champion = allocated(wh / f"recommendations/ds={D1}"), allocated(wh / f"published/ds={D1}")
    # "the lists only": the lists fit, their champion copy does not (where the disk filled up in the field).
    filler = fill(small_filesystem, 0 if room == "none" else lists + champion // 3)

    proc = submit("publish", wh, "--top-n", TOP_N, ds=D2)

    out = proc.stdout + proc.stderr
    told = [line for line in out.splitlines() if "publish failed:" in line]
    assert proc.returncode == EXIT_USER_ERROR, out[-3000:]
    assert len(told) == 1 and "Traceback (most recent call last)" not in out, out[-3000:]
    area = "recommendations" if room == "none" else "published"
    assert f"no space left writing {area} (" in told[0] and " free of " in told[0], told[0]
    assert "No space left on device" in told[0] and "clear the task" in told[0], told[0]
    assert not (wh / f"recommendations/ds={D2}").exists(), "a list partition of a date that was not published"
    assert staged_files(wh) == [], "the failed publish left staged files"
    assert [p for p in (wh / f"published/ds={D2}").rglob("*") if p.is_file()] == []
    after = digests(wh, *published_d1)
    records(kept=len(before), lost=sum(after.get(name) != digest for name, digest in before.items()))
    assert after == before

    filler.unlink()
    ok(submit("publish", wh, "--top-n", TOP_N, ds=D2))
    assert json.loads((wh / "recommendations/_LATEST").read_text())["ds"] == D2
    assert (wh / f"recommendations/ds={D2}").is_dir()
    assert staged_files(wh) == [], "the rerun left staged files"
