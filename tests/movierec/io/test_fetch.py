"""Tests of movierec.io.fetch and movierec_dev.download against a local HTTP server.

Nothing here touches the internet: a ThreadingHTTPServer on 127.0.0.1 serves
a temporary folder, and the MovieLens zip is a synthetic drop.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import logging
import os
import socket
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from movierec.core.errors import PipelineError
from movierec.data.layouts import Layout
from movierec.io.fetch import fetch, http_status
from movierec_dev import download
from movierec_dev.generate import generate_drop

UNSIZED = "unsized/"  # path prefix served without Content-Length


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files, request log, and an UNSIZED prefix that omits Content-Length."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.requests.append(self.path)
        if self.path.startswith("/" + UNSIZED):
            body = (Path(self.directory) / self.path.removeprefix("/" + UNSIZED)).read_bytes()
            self.send_response(200)
            self.end_headers()  # HTTP/1.0: the body ends when the connection closes
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep the test output quiet."""


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """Aborted downloads reset the connection on purpose; no traceback on stderr."""


@dataclass
class Served:
    root: Path
    url: str
    requests: list[str]


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """Serve tmp_path/www over HTTP on a free local port."""
    for var in ("no_proxy", "NO_PROXY"):  # a proxy in the environment must not intercept
        monkeypatch.setenv(var, "127.0.0.1,localhost")
    root = tmp_path / "www"
    root.mkdir()
    server = _Server(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    server.requests = []
    # A short poll interval keeps shutdown() from costing half a second per test.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield Served(root, f"http://127.0.0.1:{server.server_address[1]}/", server.requests)
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def payload(served: Served) -> bytes:
    data = os.urandom(300_000)
    (served.root / "data.bin").write_bytes(data)
    return data


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_fetch_verifies_both_checksums_and_renames_into_place(
    served: Served, payload: bytes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dest = tmp_path / "out" / "data.bin"
    caplog.set_level(logging.INFO, logger="movierec.io.fetch")

    result = fetch(
        served.url + "data.bin",
        dest,
        sha256=hashlib.sha256(payload).hexdigest(),
        md5=hashlib.md5(payload).hexdigest().upper(),
    )

    assert result == dest and dest.read_bytes() == payload
    assert leftovers(dest.parent) == ["data.bin"]
    assert any("(100%)" in message for message in caplog.messages)


@pytest.mark.parametrize("algorithm", ["sha256", "md5"])
def test_checksum_mismatch_leaves_no_file(served: Served, payload: bytes, tmp_path: Path, algorithm: str) -> None:
    url = served.url + "data.bin"
    wrong = "0" * len(hashlib.new(algorithm).hexdigest())
    actual = hashlib.new(algorithm, payload).hexdigest()

    with pytest.raises(PipelineError, match=f"{algorithm} mismatch") as caught:
        fetch(url, tmp_path / "out" / "data.bin", **{algorithm: wrong})

    assert url in str(caught.value) and wrong in str(caught.value) and actual in str(caught.value)
    assert leftovers(tmp_path / "out") == []


@pytest.mark.parametrize("prefix", ["", UNSIZED], ids=["content-length", "streamed-size"])
def test_download_above_max_bytes_is_aborted(served: Served, payload: bytes, tmp_path: Path, prefix: str) -> None:
    with pytest.raises(PipelineError, match="exceeds the limit of 100,000 bytes"):
        fetch(served.url + prefix + "data.bin", tmp_path / "out" / "data.bin", max_bytes=100_000)
    assert leftovers(tmp_path / "out") == []


def test_download_without_content_length_succeeds(served: Served, payload: bytes, tmp_path: Path) -> None:
    dest = fetch(served.url + UNSIZED + "data.bin", tmp_path / "data.bin", progress=False)
    assert dest.read_bytes() == payload


def test_http_error_names_url_and_status(served: Served, tmp_path: Path) -> None:
    url = served.url + "missing.zip"
    with pytest.raises(PipelineError, match="HTTP 404") as caught:
        fetch(url, tmp_path / "missing.zip")

    assert url in str(caught.value) and http_status(caught.value) == 404
    assert leftovers(tmp_path) == ["www"]


@pytest.mark.parametrize("url", ["ftp://example.invalid/a.zip", "file:///etc/hostname", "a.zip"])
def test_only_http_schemes_are_accepted(url: str, tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="not http or https"):
        fetch(url, tmp_path / "a.zip")


def test_unreachable_server_is_reported(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(PipelineError, match="cannot reach"):
        fetch(f"http://127.0.0.1:{port}/a.zip", tmp_path / "a.zip", timeout=5)


# --- download.py -------------------------------------------------------------------


@pytest.fixture
def release(served: Served) -> bytes:
    """A synthetic ml-100k.zip served next to its BSD-style .md5, as GroupLens does."""
    archive = generate_drop(served.root / "ml-100k", Layout.ML_100K, 500, zip_output=True)
    data = archive.read_bytes()
    digest = hashlib.md5(data).hexdigest()
    (served.root / "ml-100k.zip.md5").write_text(f"MD5 (ml-100k.zip) = {digest}\n")
    return data


def run_download(served: Served, dest: Path, *extra: str) -> int:
    return download.main(["ml-100k", "--base-url", served.url, "--dest", str(dest), *extra])


def test_download_verifies_against_published_md5(
    served: Served, release: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "raw"

    assert run_download(served, dest) == 0

    assert capsys.readouterr().out.strip() == str(dest / "ml-100k.zip")
    assert (dest / "ml-100k.zip").read_bytes() == release
    assert served.requests == ["/ml-100k.zip.md5", "/ml-100k.zip"]


def test_download_reuses_a_verified_zip(served: Served, release: bytes, tmp_path: Path) -> None:
    assert run_download(served, tmp_path) == 0
    assert run_download(served, tmp_path) == 0
    assert served.requests.count("/ml-100k.zip") == 1


def test_wrong_md5_fails_with_exit_code(served: Served, release: bytes, tmp_path: Path) -> None:
    (served.root / "ml-100k.zip.md5").write_text("0" * 32 + "  ml-100k.zip\n")
    dest = tmp_path / "raw"

    assert run_download(served, dest) == 1
    assert leftovers(dest) == []
    assert run_download(served, dest, "--no-verify") == 0


def test_missing_md5_warns_and_continues(
    served: Served, release: bytes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (served.root / "ml-100k.zip.md5").unlink()

    assert run_download(served, tmp_path / "raw") == 0
    assert any(r.levelno == logging.WARNING and "404" in r.getMessage() for r in caplog.records)


def test_extract_returns_the_release_folder(
    served: Served, release: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "raw"

    assert run_download(served, dest, "--extract") == 0

    assert capsys.readouterr().out.strip() == str(dest / "ml-100k")
    assert {"u.data", "u.item", "u.genre"} <= set(leftovers(dest / "ml-100k"))


def test_garbage_md5_file_is_reported(served: Served, release: bytes, tmp_path: Path) -> None:
    (served.root / "ml-100k.zip.md5").write_text("<html>not found</html>")
    with pytest.raises(PipelineError, match="holds no MD5 digest"):
        download.download("ml-100k", tmp_path, base_url=served.url)


@pytest.mark.parametrize("entry", ["../evil.txt", "/abs.txt", "ok/../../evil.txt", "..\\evil.txt", "C:/evil.txt"])
def test_extract_rejects_entries_escaping_dest(tmp_path: Path, entry: str) -> None:
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("ok/fine.txt", "fine")
        zipped.writestr(entry, "evil")
    dest = tmp_path / "dest"

    with pytest.raises(PipelineError, match="refusing to extract"):
        download.extract_zip(archive, dest)
    assert not dest.exists() and not (tmp_path / "evil.txt").exists()


def test_dataset_urls_follow_grouplens_names() -> None:
    assert download.dataset_url("ml-latest-small") == (
        "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"
    )
    assert download.dataset_url("ml-25m", "http://mirror/x") == "http://mirror/x/ml-25m.zip"
    with pytest.raises(PipelineError, match="ml-2m"):
        download.dataset_url("ml-2m")
