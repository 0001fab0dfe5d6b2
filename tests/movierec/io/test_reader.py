"""The Airflow side's warehouse reader: schemes, where WebHDFS is, ranged Parquet reads and their bytes."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from movierec.io import reader as reader_module
from movierec.io.reader import (
    NotFoundError,
    WarehouseError,
    WarehouseReader,
    WebHdfsAddress,
    filesystem,
    webhdfs_address,
)


@pytest.fixture(autouse=True)
def no_address(monkeypatch):
    monkeypatch.setattr(reader_module, "_ADDRESSES", {})
    for name in ("AIRFLOW_CONN_WEBHDFS_DEFAULT", "MOVIEREC_WEBHDFS_URL", "MOVIEREC_WEBHDFS_USER"):
        monkeypatch.delenv(name, raising=False)


def test_the_address_comes_from_the_airflow_connection_first(monkeypatch):
    assert webhdfs_address() is None
    monkeypatch.setenv("MOVIEREC_WEBHDFS_URL", "http://fallback:9870/webhdfs/v1")
    monkeypatch.setenv("MOVIEREC_WEBHDFS_USER", "bob")
    assert webhdfs_address() == WebHdfsAddress("fallback", 9870, "bob")
    monkeypatch.setenv("AIRFLOW_CONN_WEBHDFS_DEFAULT", "webhdfs://alice@namenode:50070?use_ssl=true")
    monkeypatch.setattr(reader_module, "_ADDRESSES", {})
    address = webhdfs_address()
    assert address == WebHdfsAddress("namenode", 50070, "alice", https=True)
    assert address.http_url == "https://namenode:50070"


def test_filesystem_for_each_scheme(tmp_path, monkeypatch):
    fs, root = filesystem(tmp_path.as_uri())
    assert type(fs).__name__ == "LocalFileSystem" and root == str(tmp_path)
    with pytest.raises(
        WarehouseError, match="no WebHDFS address is configured: define the Airflow connection webhdfs_default"
    ):
        filesystem("hdfs://nn:8020/wh")
    fs, root = filesystem("hdfs://nn:8020/wh", WebHdfsAddress.from_url("http://nn:9870/webhdfs/v1", "alice"))
    assert type(fs).__name__ == "WebHDFS" and root == "/wh" and fs.url == "http://nn:9870/webhdfs/v1"
    with pytest.raises(WarehouseError, match="unsupported warehouse URI 's3://b/wh'"):
        filesystem("s3://b/wh")
    with pytest.raises(WarehouseError, match="'nn:9870' is not an http"):
        WebHdfsAddress.from_url("nn:9870", "alice")


def test_a_file_webhdfs_does_not_find_is_not_found():
    # WebHDFS answers a RemoteException of class FileNotFoundException; its message varies by Hadoop version.
    class Stub:
        def cat_file(self, path):
            raise OSError(f"RemoteException FileNotFoundException: File {path} not found.")

    with pytest.raises(NotFoundError, match="^hdfs://nn/wh/curated/ds=2026-01-04/_manifest.json does not exist$"):
        WarehouseReader("hdfs://nn/wh", fs=Stub()).read_bytes("curated/ds=2026-01-04/_manifest.json")


def test_one_row_group_is_read_and_the_footer_once(tmp_path):
    table = pa.table({"user_id": list(range(20_000)), "text": [f"movie {i:06d}" * 8 for i in range(20_000)]})
    pq.write_table(table, tmp_path / "part-0.parquet", row_group_size=1_000)
    size = (tmp_path / "part-0.parquet").stat().st_size
    reader = WarehouseReader(tmp_path.as_uri())
    assert reader.read_row_groups_with("part-0.parquet", "user_id", 12_345)["text"].to_pylist() == ["movie 012345" * 8]
    first = reader.bytes_read
    assert first < size / 4  # the footer and one of 20 row groups
    assert reader.read_row_groups_with("part-0.parquet", "user_id", 3)["user_id"].to_pylist() == [3]
    again = reader.bytes_read - first
    assert again < size / 15  # one row group: the footer is cached
    assert reader.read_row_groups_with("part-0.parquet", "user_id", 99_999).num_rows == 0
    assert reader.bytes_read - first == again  # no row group can hold it: nothing read


def test_listing_walking_and_reading(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.json").write_text('{"k": 1}')
    reader = WarehouseReader(tmp_path.as_uri())
    assert reader.list("a") == ["b"] and reader.list("missing") == []
    assert [(path, size) for path, size, _ in reader.walk("a")] == [("b/x.json", 8)]
    assert reader.read_json("a/b/x.json") == {"k": 1} and reader.bytes_read == 8
    assert reader.info("a/b/x.json")["type"] == "file" and reader.info("nope") is None
    with pytest.raises(NotFoundError, match="does not exist"):
        reader.read_bytes("a/missing.json")
