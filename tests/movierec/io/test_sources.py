"""Tests for movierec.sources: folders, zips, safe extraction and schemes."""

from __future__ import annotations

import copy
import hashlib
import os
import stat
import struct
import sys
import types
import zipfile
from pathlib import Path

import pytest

from movierec.core.errors import PipelineError
from movierec.io.sources import hadoop_uri, is_local_or_http, list_files, materialize, safe_extract, scan_folder

MB = 1024 * 1024
SMALL_DROP = {"ml-100k/u.data": b"1\t1\t5\t881250949\n", "ml-100k/u.item": b"1|Toy Story (1995)|\n"}


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def all_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def zeros_zip(path: Path, size: int) -> Path:
    """A zip holding one entry of ``size`` zero bytes, written in chunks."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("bomb.bin", "w") as out:
            for _ in range(size // MB):
                out.write(bytes(MB))
    return path


# --- materialize ------------------------------------------------------------


def test_folder_is_returned_resolved(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "u.data").write_bytes(b"")
    assert materialize(str(drop), tmp_path / "work") == drop.resolve()
    assert materialize(drop.as_uri(), tmp_path / "work") == drop.resolve()


def test_paths_with_a_space_and_percent_escapes_are_decoded_once(tmp_path: Path) -> None:
    drop = tmp_path / "with space %41 %20"
    drop.mkdir()
    assert materialize(str(drop), tmp_path / "work") == drop.resolve()  # a path is taken literally
    assert materialize(drop.as_uri(), tmp_path / "work") == drop.resolve()  # a file:// URI is decoded once
    assert hadoop_uri(drop) == f"file://{drop.resolve().as_posix()}"  # Hadoop escapes it itself


def test_zip_with_top_folder_is_extracted(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "ml-100k.zip", {"ml-100k/": b"", **SMALL_DROP})
    folder = materialize(str(archive), tmp_path / "work")
    assert folder == (tmp_path / "work" / "extracted").resolve()
    assert list_files(folder) == ["ml-100k/u.data", "ml-100k/u.item"]
    assert (folder / "ml-100k/u.data").read_bytes() == SMALL_DROP["ml-100k/u.data"]


def test_zip_file_uri_and_macos_junk(tmp_path: Path) -> None:
    members = {**SMALL_DROP, "__MACOSX/ml-100k/._u.data": b"junk"}
    archive = make_zip(tmp_path / "drop.zip", members)
    folder = materialize(archive.as_uri(), tmp_path / "work")
    assert list_files(folder) == ["ml-100k/u.data", "ml-100k/u.item"]


def test_second_extraction_replaces_the_first(tmp_path: Path) -> None:
    first = make_zip(tmp_path / "a.zip", {"ratings.csv": b"x", "movies.csv": b"y"})
    second = make_zip(tmp_path / "b.zip", SMALL_DROP)
    materialize(str(first), tmp_path / "work")
    folder = materialize(str(second), tmp_path / "work")
    assert list_files(folder) == ["ml-100k/u.data", "ml-100k/u.item"]
    assert not (tmp_path / "work" / "extracted.partial").exists()


def test_sha256_of_local_zip_is_verified(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "drop.zip", SMALL_DROP)
    good = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert materialize(str(archive), tmp_path / "work", sha256=good.upper()).is_dir()


def test_sha256_mismatch_names_file_expected_and_actual(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "drop.zip", SMALL_DROP)
    actual = hashlib.sha256(archive.read_bytes()).hexdigest()
    wrong = "0" * 64
    with pytest.raises(PipelineError) as err:
        materialize(str(archive), tmp_path / "work", sha256=wrong)
    message = str(err.value)
    assert str(archive) in message
    assert f"expected {wrong}, actual {actual}" in message
    assert not (tmp_path / "work" / "extracted").exists()


def test_malformed_sha256_is_rejected(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "drop.zip", SMALL_DROP)
    with pytest.raises(PipelineError, match=r"sha256 'abc' is not 64 hexadecimal"):
        materialize(str(archive), tmp_path / "work", sha256="abc")


def test_sha256_for_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"is a folder but a sha256 was given"):
        materialize(str(tmp_path), tmp_path / "work", sha256="0" * 64)


def test_missing_source(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"does not exist"):
        materialize(str(tmp_path / "nope.zip"), tmp_path / "work")


def test_plain_file_that_is_not_a_zip(tmp_path: Path) -> None:
    (tmp_path / "u.data").write_bytes(b"1\t1\t5\t881250949\n")
    with pytest.raises(PipelineError, match=r"is a file but not a \.zip archive"):
        materialize(str(tmp_path / "u.data"), tmp_path / "work")


def test_corrupt_zip_names_the_file(tmp_path: Path) -> None:
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(PipelineError) as err:
        materialize(str(archive), tmp_path / "work")
    assert str(archive) in str(err.value)
    assert "not a readable zip archive" in str(err.value)


@pytest.mark.parametrize("source", ["ftp://example.org/ml-100k.zip", "s3://bucket/ml-100k.zip"])
def test_unknown_scheme_is_named(tmp_path: Path, source: str) -> None:
    scheme = source.split(":", 1)[0]
    with pytest.raises(PipelineError) as err:
        materialize(source, tmp_path / "work")
    message = str(err.value)
    assert f"scheme '{scheme}'" in message
    assert "file://, http:// or https://" in message


def test_remote_file_uri_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"names host 'server'"):
        materialize("file://server/share/ml-100k.zip", tmp_path / "work")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("/data/ml-100k", True),
        ("ml-100k.zip", True),
        ("C:\\data\\ml-100k.zip", True),
        ("file:///data/ml-100k.zip", True),
        ("https://files.grouplens.org/datasets/movielens/ml-100k.zip", True),
        ("HTTP://example.org/x.zip", True),
        ("hdfs://namenode:8020/drops/ml-100k", False),
        ("s3a://bucket/ml-100k.zip", False),
        ("ftp://example.org/x.zip", False),
    ],
)
def test_is_local_or_http(source: str, expected: bool) -> None:
    assert is_local_or_http(source) is expected


def test_http_source_uses_fetch_then_extracts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # movierec.fetch is stubbed: these tests never touch the network.
    calls: list[tuple[str, Path, str | None, int]] = []

    def fake_fetch(url: str, dest: Path, *, sha256: str | None = None, max_bytes: int = 0, **_: object) -> Path:
        calls.append((url, dest, sha256, max_bytes))
        return make_zip(dest, SMALL_DROP)

    module = types.ModuleType("movierec.io.fetch")
    module.fetch = fake_fetch  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "movierec.io.fetch", module)
    url = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
    digest = "A" * 64
    folder = materialize(url, tmp_path / "work", sha256=digest, max_bytes=10 * MB)
    assert calls == [(url, tmp_path / "work" / "ml-100k.zip", "a" * 64, 10 * MB)]
    assert list_files(folder) == ["ml-100k/u.data", "ml-100k/u.item"]


def test_http_download_that_is_not_a_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_fetch(url: str, dest: Path, **_: object) -> Path:
        dest.write_bytes(b"<html>not found</html>")
        return dest

    module = types.ModuleType("movierec.io.fetch")
    module.fetch = fake_fetch  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "movierec.io.fetch", module)
    with pytest.raises(PipelineError, match=r"is not a zip archive"):
        materialize("http://example.org/download?id=../../x", tmp_path / "work")
    assert all_files(tmp_path / "work") == {"download"}


# --- safe_extract -----------------------------------------------------------


LIMITS = {"max_bytes": 10 * MB, "max_entries": 100}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil", "contains a '..' component"),
        ("ml-100k/../../evil", "contains a '..' component"),
        ("..\\evil", "contains a '..' component"),
        ("/abs/evil", "is an absolute path"),
        ("C:/evil", "starts with a drive letter"),
    ],
)
def test_zip_slip_is_refused_and_nothing_is_written(tmp_path: Path, name: str, reason: str) -> None:
    archive = make_zip(tmp_path / "slip.zip", {"ok.txt": b"fine", name: b"evil"})
    before = all_files(tmp_path)
    dest = tmp_path / "a" / "b" / "dest"
    with pytest.raises(PipelineError) as err:
        safe_extract(archive, dest, **LIMITS)
    assert f"entry {name!r} {reason}" in str(err.value)
    assert all_files(tmp_path) == before
    assert not dest.exists()
    assert not Path("/abs/evil").exists()


def test_symlink_entry_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ml-100k/u.data", b"1\t1\t5\t881250949\n")
        info = zipfile.ZipInfo("ml-100k/u.item")
        info.create_system = 3  # Unix, so the mode bits are meaningful
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(PipelineError, match=r"entry 'ml-100k/u\.item' is a symbolic link"):
        safe_extract(archive, tmp_path / "dest", **LIMITS)
    assert not (tmp_path / "dest").exists()


def test_too_many_entries(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "many.zip", {f"f{i}.txt": b"" for i in range(6)})
    with pytest.raises(PipelineError, match=r"6 entries, more than max_entries=5"):
        safe_extract(archive, tmp_path / "dest", max_bytes=MB, max_entries=5)
    assert not (tmp_path / "dest").exists()


def test_duplicate_entry_names_are_refused(tmp_path: Path) -> None:
    archive = tmp_path / "dup.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("u.data", b"a")
        with pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr("u.data", b"b")
    with pytest.raises(PipelineError, match=r"entry 'u\.data' appears twice"):
        safe_extract(archive, tmp_path / "dest", **LIMITS)


def test_zip_bomb_declared_size_is_refused(tmp_path: Path) -> None:
    archive = zeros_zip(tmp_path / "bomb.zip", 50 * MB)
    assert archive.stat().st_size < MB  # 50 MB of zeros compresses to ~50 KB
    with pytest.raises(PipelineError) as err:
        safe_extract(archive, tmp_path / "dest", max_bytes=MB, max_entries=10)
    message = str(err.value)
    assert "entry 'bomb.bin'" in message
    assert f"{50 * MB} bytes, above max_bytes={MB}" in message
    assert not (tmp_path / "dest").exists()


def test_zip_bomb_with_lying_header_is_stopped_while_streaming(tmp_path: Path) -> None:
    archive = zeros_zip(tmp_path / "liar.zip", 50 * MB)
    # Rewrite the declared uncompressed size (local header and central
    # directory) to 100 bytes, so the up-front check passes.
    raw = bytearray(archive.read_bytes())
    assert raw[:4] == b"PK\x03\x04"
    struct.pack_into("<I", raw, 22, 100)
    central = raw.rindex(b"PK\x01\x02")
    struct.pack_into("<I", raw, central + 24, 100)
    archive.write_bytes(bytes(raw))
    assert zipfile.ZipFile(archive).getinfo("bomb.bin").file_size == 100

    dest = tmp_path / "dest"
    with pytest.raises(PipelineError, match=r"cannot extract entry 'bomb\.bin'"):
        safe_extract(archive, dest, max_bytes=MB, max_entries=10)
    assert not dest.exists()
    assert sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file()) < 2 * MB


def test_streaming_limit_counts_actual_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The listing claims 1 byte per entry while the data holds 600 KB each, so
    # the declared check passes and only counting written bytes can stop it.
    # (CPython's zipfile would itself stop at the declared size; the stubs
    # below take that safety net away to exercise the count.)
    archive = make_zip(tmp_path / "big.zip", {"a.bin": bytes(600 * 1024), "b.bin": bytes(600 * 1024)})
    real_infolist = zipfile.ZipFile.infolist
    real_open = zipfile.ZipFile.open

    def lying_infolist(self: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
        infos = [copy.copy(info) for info in real_infolist(self)]
        for info in infos:
            info.file_size = 1
        return infos

    def open_by_name(self: zipfile.ZipFile, info: zipfile.ZipInfo, *args: object, **kwargs: object) -> object:
        return real_open(self, info.filename, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "infolist", lying_infolist)
    monkeypatch.setattr(zipfile.ZipFile, "open", open_by_name)
    dest = tmp_path / "dest"
    with pytest.raises(PipelineError, match=r"entry 'b\.bin' expands past max_bytes"):
        safe_extract(archive, dest, max_bytes=MB, max_entries=10)
    assert not dest.exists()


def test_corrupt_zip_to_safe_extract_names_the_file(tmp_path: Path) -> None:
    archive = tmp_path / "garbage.zip"
    archive.write_bytes(os.urandom(256))
    with pytest.raises(PipelineError, match=r"garbage\.zip: not a readable zip archive"):
        safe_extract(archive, tmp_path / "dest", **LIMITS)


def test_corrupt_member_data_cleans_up(tmp_path: Path) -> None:
    archive = tmp_path / "crc.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("a.txt", b"hello")
        zf.writestr("b.txt", b"world")
    raw = archive.read_bytes().replace(b"world", b"w0rld")  # breaks b.txt's CRC
    archive.write_bytes(raw)
    dest = tmp_path / "dest"
    with pytest.raises(PipelineError, match=r"cannot extract entry 'b\.txt'"):
        safe_extract(archive, dest, **LIMITS)
    assert not dest.exists()


def test_dest_must_be_new_or_empty(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "drop.zip", SMALL_DROP)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "keep.txt").write_bytes(b"mine")
    with pytest.raises(PipelineError, match=r"exists and is not empty"):
        safe_extract(archive, dest, **LIMITS)
    assert (dest / "keep.txt").read_bytes() == b"mine"


def test_safe_extract_returns_extracted_names(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "drop.zip", {"ml-100k/": b"", **SMALL_DROP, "./README": b"r"})
    names = safe_extract(archive, tmp_path / "dest", **LIMITS)
    assert names == ["ml-100k/u.data", "ml-100k/u.item", "README"]


# --- list_files -------------------------------------------------------------


def test_list_files_skips_symlinks_leaving_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    drop = tmp_path / "drop"
    (drop / "ml-1m").mkdir(parents=True)
    (drop / "ml-1m" / "ratings.dat").write_bytes(b"")
    (drop / "ml-1m" / "movies.dat").write_bytes(b"")
    (drop / "alias.dat").symlink_to(drop / "ml-1m" / "movies.dat")
    (drop / "leak.txt").symlink_to(outside / "secret.txt")
    (drop / "leakdir").symlink_to(outside, target_is_directory=True)
    assert list_files(drop) == ["alias.dat", "ml-1m/movies.dat", "ml-1m/ratings.dat"]


def test_scan_folder_names_each_link_it_skips_and_why(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "u.data").write_bytes(b"1\t1\t5\t881250949\n")
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "u.item").write_bytes(b"")
    (drop / "u.data").symlink_to(elsewhere / "u.data")
    (drop / "gone").symlink_to(tmp_path / "missing")
    (drop / "more").symlink_to(elsewhere, target_is_directory=True)
    (drop / "alias").symlink_to(drop / "u.item")
    listing = scan_folder(drop)
    assert listing.files == ["alias", "u.item"]
    assert listing.skipped == [
        f"gone -> {tmp_path / 'missing'} (a broken link)",
        f"more -> {elsewhere} (a linked folder)",
        f"u.data -> {elsewhere / 'u.data'} (points outside the drop)",
    ]


def test_truncated_zip_names_the_file_and_writes_nothing(tmp_path: Path) -> None:
    archive = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ml-100k/u.data", "196\t242\t3\t881250949\n" * 2000)
        zf.writestr("ml-100k/u.item", "1|Toy Story (1995)|01-Jan-1995||http://x|0\n")
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])  # a download cut in half
    with pytest.raises(PipelineError, match=r"ml-100k\.zip.*not a readable zip archive"):
        materialize(str(archive), tmp_path / "work")
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())
