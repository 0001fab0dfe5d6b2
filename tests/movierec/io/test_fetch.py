"""Tests of movierec.io.fetch against a local HTTP server (tests/served.py): nothing touches the internet."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from pathlib import Path

import pytest

from movierec.core.errors import PipelineError
from movierec.io.fetch import fetch, http_status
from tests.served import UNSIZED, Served, leftovers


@pytest.fixture
def payload(served: Served) -> bytes:
    data = os.urandom(300_000)
    (served.root / "data.bin").write_bytes(data)
    return data


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
