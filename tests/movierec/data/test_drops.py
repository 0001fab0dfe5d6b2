"""When a drop counts as arrived: a _SUCCESS marker, or the layout's files left alone long enough."""

from __future__ import annotations

import os
import time

from movierec.data.drops import DropState, drop_state, judge, reader_entries
from movierec.io import reader
from movierec.io.reader import WarehouseReader

NOW = 1_000_000.0


def test_missing_incomplete_and_settling_drops_are_not_complete():
    assert not judge(None, "/d/x", 60, NOW).complete
    only_ratings = judge({"u.data": (10, NOW - 600)}, "/d/x", 60, NOW)
    assert not only_ratings.complete and "u.item" in only_ratings.reason
    fresh = judge({"u.data": (10, NOW - 600), "u.item": (5, NOW - 3)}, "/d/x", 60, NOW)
    assert not fresh.complete and "modified 3 s ago" in fresh.reason


def test_settled_layout_files_or_a_marker_are_complete():
    assert judge({"ml-100k/u.data": (10, NOW - 61), "ml-100k/u.item": (5, NOW - 70)}, "/d", 60, NOW).complete
    assert judge({"_SUCCESS": (0, NOW), "u.data": (1, NOW)}, "/d", 60, NOW) == DropState(
        True, "/d has its _SUCCESS marker"
    )


def test_local_folder_file_uri_and_zip(tmp_path):
    drop = tmp_path / "2026-03-01"
    assert "does not exist" in drop_state(str(drop), 0).reason
    drop.mkdir()
    (drop / "u.data").write_text("1\t1\t5\t0\n")
    assert not drop_state(drop.as_uri(), 0).complete  # no movies file yet
    (drop / "u.item").write_text("1|Toy Story|\n")
    assert not drop_state(str(drop), 3600).complete  # just written
    assert drop_state(drop.as_uri(), 3600, now=time.time() + 7200).complete
    zipped = tmp_path / "drop.zip"
    zipped.write_bytes(b"PK")
    os.utime(zipped, (NOW, NOW))
    assert drop_state(str(zipped), 60, now=NOW + 61).complete
    assert not drop_state(str(zipped), 60, now=NOW + 1).complete


class FakeWebHdfs:
    """The fsspec calls the reader lists a drop with, answered as WebHDFS does (times in milliseconds)."""

    def __init__(self, files):
        self.files = files

    def info(self, path):
        if path in self.files:
            return {"type": "file", "size": self.files[path][0], "modificationTime": self.files[path][1]}
        if any(p.startswith(path.rstrip("/") + "/") for p in self.files):
            return {"type": "directory", "size": 0, "modificationTime": 0}
        raise FileNotFoundError(path)

    def find(self, path, maxdepth=None, detail=False):
        return {p: self.info(p) for p in self.files if p.startswith(path.rstrip("/") + "/")}


def test_hdfs_through_webhdfs_and_without_it(monkeypatch):
    files = {"/drops/d/ml-100k/u.data": (10, (NOW - 120) * 1000), "/drops/d/ml-100k/u.item": (5, (NOW - 90) * 1000)}
    entries, single = reader_entries(WarehouseReader("hdfs://nn:8020/drops/d", fs=FakeWebHdfs(files)))
    assert entries == {"ml-100k/u.data": (10, NOW - 120), "ml-100k/u.item": (5, NOW - 90)} and not single

    def fake(uri):
        return WarehouseReader(uri, fs=FakeWebHdfs(files))

    assert drop_state("hdfs://nn:8020/drops/d", 60, now=NOW, reader_factory=fake).complete
    assert not drop_state("hdfs://nn:8020/drops/e", 60, now=NOW, reader_factory=fake).complete
    monkeypatch.setattr(reader, "_ADDRESSES", {})  # no address kept from an earlier test
    monkeypatch.delenv("AIRFLOW_CONN_WEBHDFS_DEFAULT", raising=False)
    monkeypatch.delenv("MOVIEREC_WEBHDFS_URL", raising=False)
    unwatched = drop_state(
        "hdfs://nn:8020/drops/e", 60, now=NOW, reader_factory=lambda uri: WarehouseReader(uri, address=None)
    )
    assert unwatched.complete and "no WebHDFS address is configured" in unwatched.reason
    assert drop_state("https://example.invalid/{x}.zip", 60).complete
