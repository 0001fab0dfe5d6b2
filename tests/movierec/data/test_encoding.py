"""Tests for movierec.data.encoding: UTF-16 and UTF-32 files told from their first bytes."""

from __future__ import annotations

import pytest

from movierec.core.errors import PipelineError
from movierec.data.encoding import check_encoding, wide_encoding

TEXT = "196\t242\t3\t881250949\n186\t302\t3\t891717742\n"


@pytest.mark.parametrize(
    ("codec", "found"),
    [
        ("utf-16", "UTF-16 (little-endian, with a byte-order mark)"),  # what Windows writes
        ("utf-16-be", "UTF-16 (big-endian, no byte-order mark: NUL bytes in its first bytes)"),
        ("utf-16-le", "UTF-16 (little-endian, no byte-order mark: NUL bytes in its first bytes)"),
        ("utf-32", "UTF-32 (little-endian, with a byte-order mark)"),
        ("utf-32-be", "UTF-16 or UTF-32 (NUL bytes in its first bytes)"),
    ],
)
def test_wide_encodings_are_named(codec: str, found: str) -> None:
    assert wide_encoding(TEXT.encode(codec)) == found


@pytest.mark.parametrize("data", [TEXT.encode(), b"\xef\xbb\xbf" + TEXT.encode(), "Mis\xe9rables".encode("latin-1"), b""])
def test_byte_oriented_text_passes(data: bytes) -> None:
    assert wide_encoding(data) is None
    check_encoding(data, "u.data", "UTF-8")


def test_a_utf_16_file_is_refused_saying_what_it_is_and_what_to_do() -> None:
    with pytest.raises(PipelineError) as err:
        check_encoding(TEXT.encode("utf-16"), "ml-100k/u.data", "UTF-8")
    assert str(err.value) == (
        "ml-100k/u.data is UTF-16 (little-endian, with a byte-order mark), not UTF-8 text as MovieLens ships it: "
        "its first bytes are b'\\xff\\xfe1\\x009\\x006\\x00'. Convert it to UTF-8 "
        "(e.g. `iconv -f UTF-16 -t UTF-8 in > out`) and ingest it again."
    )
