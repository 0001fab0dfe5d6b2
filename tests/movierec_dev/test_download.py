"""Tests of movierec_dev.download against a local HTTP server (tests/served.py)."""

from __future__ import annotations

import hashlib
import logging
import zipfile
from pathlib import Path

import pytest

from movierec.core.errors import PipelineError
from movierec.data.layouts import Layout
from movierec_dev import download
from movierec_dev.generate import generate_drop
from tests.served import Served, leftovers


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
