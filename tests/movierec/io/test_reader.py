"""The Airflow side's warehouse reader: schemes, where WebHDFS is, ranged Parquet reads and their bytes."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.parse

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


class _FakeWebHdfs(http.server.BaseHTTPRequestHandler):
    """The WebHDFS calls the reader makes (GETFILESTATUS, LISTSTATUS, OPEN with offset/length) on a local folder."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urllib.parse.urlparse(self.path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        self.server.calls.append(query)
        path = self.server.root / urllib.parse.unquote(url.path.removeprefix("/webhdfs/v1")).lstrip("/")
        if not path.exists():
            exc = {"exception": "FileNotFoundException", "javaClassName": "java.io.FileNotFoundException"}
            return self._send(404, json.dumps({"RemoteException": {**exc, "message": f"File {url.path} not found."}}))
        if query["op"] == "GETFILESTATUS":
            return self._send(200, json.dumps({"FileStatus": _status(path, "")}))
        if query["op"] == "LISTSTATUS":
            statuses = [_status(p, p.name) for p in sorted(path.iterdir())]
            return self._send(200, json.dumps({"FileStatuses": {"FileStatus": statuses}}))
        data = path.read_bytes()
        offset = int(query.get("offset", 0))
        end = offset + int(query["length"]) if "length" in query else len(data)
        return self._send(200, data[offset:end], "application/octet-stream")

    def _send(self, code: int, body: str | bytes, kind: str = "application/json") -> None:
        body = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep the test output quiet."""


def _status(path, suffix: str) -> dict:
    kind = "DIRECTORY" if path.is_dir() else "FILE"
    size = 0 if path.is_dir() else path.stat().st_size
    return {"type": kind, "length": size, "modificationTime": int(path.stat().st_mtime * 1000), "pathSuffix": suffix}


@pytest.fixture
def webhdfs(tmp_path, monkeypatch):
    """A fake NameNode's WebHDFS on 127.0.0.1 serving tmp_path/hdfs; yields (root folder, address, calls)."""
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(var, "127.0.0.1,localhost")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeWebHdfs)
    server.root, server.calls = tmp_path / "hdfs", []
    server.root.mkdir()
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server.root, WebHdfsAddress("127.0.0.1", server.server_address[1], "alice"), server.calls
    server.shutdown()
    server.server_close()


def test_through_webhdfs_a_lookup_fetches_byte_ranges(webhdfs):
    root, address, calls = webhdfs
    (root / "wh" / "t").mkdir(parents=True)
    table = pa.table({"user_id": list(range(20_000)), "text": [f"movie {i:06d}" * 8 for i in range(20_000)]})
    pq.write_table(table, root / "wh" / "t" / "part-0.parquet", row_group_size=1_000)
    (root / "wh" / "t" / "_SUCCESS").write_text("")
    size = (root / "wh" / "t" / "part-0.parquet").stat().st_size
    reader = WarehouseReader("hdfs://namenode:8020/wh", address=address)
    assert reader.parquet_parts("t") == ["part-0.parquet"]
    assert reader.read_row_groups_with("t/part-0.parquet", "user_id", 7_777)["user_id"].to_pylist() == [7_777]
    opens = [call for call in calls if call["op"] == "OPEN"]
    assert opens and all("length" in call and call["user.name"] == "alice" for call in opens)
    assert sum(int(call["length"]) for call in opens) == reader.bytes_read < size / 4
    calls.clear()  # the footer is cached: the next lookup is one ranged OPEN
    assert reader.read_row_groups_with("t/part-0.parquet", "user_id", 15_000)["user_id"].to_pylist() == [15_000]
    assert [call["op"] for call in calls] == ["OPEN"]
    assert [(path, n) for path, n, _ in reader.walk("")] == [("t/_SUCCESS", 0), ("t/part-0.parquet", size)]
    with pytest.raises(NotFoundError, match="^hdfs://namenode:8020/wh/t/missing.json does not exist$"):
        reader.read_json("t/missing.json")
    assert reader.info("missing") is None and reader.list("missing") == []
