from __future__ import annotations

import hashlib

import pytest

import ingest
from movierec.warehouse import Warehouse


@pytest.mark.parametrize("data", [b"", b"1\t2\n", b"1\t2\n3\t4", b"a\r\nb\r\n", b"a\rb\rc", b"a\n\nb\n", b"\n"])
def test_small_files_are_counted_as_sparks_text_reader_counts(spark, tmp_path, monkeypatch, data):
    path = tmp_path / "u.data"
    path.write_bytes(data)
    wh = Warehouse(spark, tmp_path.as_uri())
    small = ingest.file_facts(lambda: spark, wh, path.as_uri())
    monkeypatch.setattr(ingest, "SMALL_FILE_BYTES", -1)  # the Spark job + JVM hash path
    large = ingest.file_facts(lambda: spark, wh, path.as_uri())
    assert small == large == {"bytes": len(data), "lines": spark.read.text(path.as_uri()).count(),
                              "sha256": hashlib.sha256(data).hexdigest()}
