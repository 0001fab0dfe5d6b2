"""The staged commit of a partition: replace, crash recovery, concurrent commits (real local Spark FS)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from movierec.core.errors import PipelineError
from movierec.core.paths import STAGING
from movierec.io.warehouse import Warehouse


def stage(wh: Warehouse, final: str, content: str) -> str:
    """A staging folder beside ``final`` holding one file ``part`` with ``content``."""
    staged = wh.staging_dir(final)
    wh.mkdirs(staged)
    wh.write_bytes(f"{staged}/part", content.encode())
    return staged


def tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): p.read_text()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(".crc")
    }


@pytest.fixture
def wh(spark, tmp_path) -> Warehouse:
    return Warehouse(spark, tmp_path.as_uri())


def test_commit_replaces_and_leaves_nothing_aside(wh, tmp_path):
    final = wh.uri("recommendations", "ds=2026-01-01")
    wh.commit(stage(wh, final, "first"), final)
    wh.commit(stage(wh, final, "second"), final)

    assert tree(tmp_path / "recommendations" / "ds=2026-01-01") == {"part": "second"}
    assert list((tmp_path / "recommendations" / STAGING).iterdir()) == []


def test_a_commit_killed_between_its_renames_is_recovered_by_the_next(wh, tmp_path):
    final = wh.uri("curated", "ds=2026-01-01")
    wh.commit(stage(wh, final, "published"), final)
    # The first half of a commit, then the process dies: the published copy sits aside, final is gone.
    assert wh._rename(final, wh.staging_dir(final) + ".old", overwrite=False)
    assert not (tmp_path / "curated" / "ds=2026-01-01").exists()

    wh.recover(final)
    assert tree(tmp_path / "curated" / "ds=2026-01-01") == {"part": "published"}

    assert wh._rename(final, wh.staging_dir(final) + ".old", overwrite=False)
    wh.commit(stage(wh, final, "rerun"), final)  # the retry recovers first, then replaces
    assert tree(tmp_path / "curated" / "ds=2026-01-01") == {"part": "rerun"}
    assert not [p for p in (tmp_path / "curated" / STAGING).iterdir() if p.name.endswith(".old")]


def test_rename_never_nests_a_folder_into_an_existing_one(wh, tmp_path):
    final = wh.uri("models", "ds=2026-01-01")
    wh.commit(stage(wh, final, "a"), final)
    staged = stage(wh, final, "b")

    assert wh._rename(staged, final, overwrite=False) is False
    assert tree(tmp_path / "models" / "ds=2026-01-01") == {"part": "a"}


def test_concurrent_commits_of_one_partition_leave_one_whole_copy(spark, tmp_path):
    root = tmp_path.as_uri()
    final = Warehouse(spark, root).uri("recommendations", "ds=2026-01-01")
    errors: list[BaseException] = []

    def commit_many(writer: int) -> None:
        wh = Warehouse(spark, root)  # one per thread, as two jobs would have
        try:
            for i in range(8):
                wh.commit(stage(wh, final, f"writer {writer} copy {i}"), final)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=commit_many, args=(w,)) for w in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert [str(getattr(e, "java_exception", e)) for e in errors] == []
    assert list(tree(tmp_path / "recommendations" / "ds=2026-01-01")) == ["part"]  # whole, nothing nested
    assert list((tmp_path / "recommendations" / STAGING).iterdir()) == []


def test_write_bytes_replaces_a_file_whole(wh, tmp_path):
    marker = wh.uri("recommendations", "_LATEST")
    wh.write_bytes(marker, b"one")
    wh.write_bytes(marker, b"two")

    assert (tmp_path / "recommendations" / "_LATEST").read_bytes() == b"two"
    assert [p.name for p in (tmp_path / "recommendations").iterdir() if not p.name.startswith(".")] == ["_LATEST"]


def test_unreachable_namenode_is_named_with_what_to_do(spark):
    with pytest.raises(
        PipelineError,
        match=r"cannot reach the warehouse filesystem hdfs://127\.0\.0\.1:1/wh .*"
        r"Connection refused.*NameNode up",
    ):
        Warehouse(spark, "hdfs://127.0.0.1:1/wh")


def test_a_read_only_warehouse_is_named_with_user_and_permission(spark, tmp_path):
    # Unchecked, it surfaces as Spark's "Mkdirs failed" from deep inside a write.
    root = tmp_path / "wh"
    root.mkdir()
    root.chmod(0o555)
    try:
        with pytest.raises(PipelineError, match=r"no write permission on .*wh \(r-xr-xr-x, owner ") as caught:
            Warehouse(spark, root.as_uri())
        assert "Mkdirs" not in str(caught.value)
        Warehouse(spark, root.as_uri(), writable=False)  # a reader does not need it
        # A root not made yet counts its nearest existing folder.
        with pytest.raises(PipelineError, match="no write permission"):
            Warehouse(spark, (root / "not" / "yet").as_uri())
    finally:
        root.chmod(0o755)


def test_stale_staging_and_checkpoints_are_removed_and_fresh_ones_kept(wh, tmp_path):
    # Folders left by killed jobs would otherwise stay forever.
    import os
    import time

    old = time.time() - 3 * 3600
    stale = [tmp_path / "curated" / STAGING / "ds=2026-01-01-aaaa", tmp_path / "_checkpoints" / "fit-2026-01-01-bb"]
    fresh = [tmp_path / "models" / STAGING / "ds=2026-01-02-cccc", tmp_path / "_checkpoints" / "fit-2026-01-02-dd"]
    for folder in stale + fresh:
        folder.mkdir(parents=True)
        (folder / "part").write_text("x")
    for folder in stale:
        os.utime(folder, (old, old))
    # A copy a killed commit moved aside, its partition missing: put back, not deleted.
    final = wh.uri("recommendations", "ds=2026-01-01")
    wh.commit(stage(wh, final, "published"), final)
    aside = tmp_path / "recommendations" / STAGING / "ds=2026-01-01-eeee.old"
    (tmp_path / "recommendations" / "ds=2026-01-01").rename(aside)
    os.utime(aside, (old, old))

    removed = wh.remove_stale(3600)

    assert sorted(removed) == sorted(wh.uri(str(p.relative_to(tmp_path))) for p in stale)
    assert not any(p.exists() for p in stale) and all(p.exists() for p in fresh)
    assert (tmp_path / "recommendations" / "ds=2026-01-01" / "part").read_text() == "published"


def test_a_small_file_missing_for_an_instant_is_read_once_it_is_back(wh):
    # Hadoop's local filesystem replaces by delete + rename (+ the .crc): a reader in between (a
    # publish reading _LATEST while another replaces it) looks again instead of failing.
    uri = wh.uri("recommendations", "_LATEST")
    back = threading.Timer(0.01, wh.write_json, args=(uri, {"n": 1}))
    back.start()
    try:
        assert wh.read_json(uri) == {"n": 1}
    finally:
        back.join()
    with pytest.raises(PipelineError, match="_GONE does not exist"):
        wh.read_json(wh.uri("recommendations", "_GONE"))
