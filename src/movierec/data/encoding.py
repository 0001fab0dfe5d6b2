"""Tell a UTF-16 or UTF-32 file from the byte-oriented text MovieLens ships, by its first bytes.

MovieLens files are UTF-8 or Latin-1: one byte per ASCII character. A file
re-saved as UTF-16 (Windows editors and Excel's "Unicode text" do it) puts a
NUL byte beside every digit, so each line would be refused for its fields
(``user_id '\\x001\\x00'``). It is refused whole instead, saying what it is.

Pure: looks at bytes handed to it, does no I/O.
"""

from __future__ import annotations

from movierec.core.errors import PipelineError

# Longest first: UTF-32 LE's mark starts with UTF-16 LE's.
_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian, with a byte-order mark)"),
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian, with a byte-order mark)"),
    (b"\xff\xfe", "UTF-16 (little-endian, with a byte-order mark)"),
    (b"\xfe\xff", "UTF-16 (big-endian, with a byte-order mark)"),
)
# Text in the MovieLens encodings never holds NUL; a wide encoding of ASCII holds one per character.
_SNIFFED = 512


def wide_encoding(head: bytes) -> str | None:
    """Name the UTF-16 or UTF-32 encoding of a file from its first bytes, or None if it is not one.

    Args:
        head: the file's first bytes (a few hundred are plenty).

    Returns:
        e.g. ``"UTF-16 (little-endian, with a byte-order mark)"``; None for byte-oriented text.
    """
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    sample = head[:_SNIFFED]
    if b"\x00" not in sample:
        return None
    even, odd = sample[0::2], sample[1::2]
    if b"\x00" not in even and odd.count(0) * 2 >= len(odd):
        return "UTF-16 (little-endian, no byte-order mark: NUL bytes in its first bytes)"
    if b"\x00" not in odd and even.count(0) * 2 >= len(even):
        return "UTF-16 (big-endian, no byte-order mark: NUL bytes in its first bytes)"
    return "UTF-16 or UTF-32 (NUL bytes in its first bytes)"


def check_encoding(head: bytes, file_name: str, expected: str) -> None:
    """Refuse a file whose first bytes show a UTF-16 or UTF-32 encoding.

    Args:
        head: the file's first bytes.
        file_name: named in the message.
        expected: the encoding the layout reads the file in, e.g. ``"UTF-8"``.

    Raises:
        PipelineError: naming the file, the encoding found and how to convert it.
    """
    found = wide_encoding(head)
    if found is None:
        return
    family = "UTF-32" if found.startswith("UTF-32") else "UTF-16"
    raise PipelineError(
        f"{file_name} is {found}, not {expected} text as MovieLens ships it: its first bytes are "
        f"{head[:8]!r}. Convert it to {expected} (e.g. `iconv -f {family} -t {expected} in > out`) and ingest it again."
    )
