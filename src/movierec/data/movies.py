"""Parse the MovieLens movie catalogue (u.item, movies.dat, movies.csv).

The catalogue is small (even ml-32m's ``movies.csv`` is about 4 MB, ~90k
lines), so it is parsed in pure Python on the driver rather than with Spark:
the rules below (quoted CSV titles, ``::`` separators, Latin-1 bytes, 19 genre
flags) are easier to get exactly right, and to test, line by line.

Input: the raw bytes of one movies file and its :class:`~movierec.data.layouts.Layout`.
Output: valid rows as :class:`MovieRow` and bad lines as :class:`Rejected`
(file, 1-based line number, the line, and why), so a few broken lines never
fail the run but are kept for the rejects table.

Notes:
    * ``title`` is kept exactly as MovieLens writes it, year suffix included
      (``"Toy Story (1995)"``); ``year`` is extracted separately from a
      trailing ``(YYYY)`` or a TV range ``(YYYY-YYYY)`` (first year). ml-100k
      titles without a year (``"... (1995) (V)"``, ``"unknown"``) fall back to
      the release-date year.
    * Lines are split on ``\\n`` only, never with ``str.splitlines``: in
      Latin-1 text byte 0x85 decodes to U+0085 (NEL), which ``splitlines``
      would treat as a line break in the middle of a title.

The three catalogue formats share the decoding, year, genre and rejection rules, kept
side by side.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import NamedTuple

from movierec.core.errors import PipelineError
from movierec.core.schemas import DUPLICATE, MALFORMED
from movierec.data.encoding import check_encoding
from movierec.data.layouts import GENRES_100K, LAYOUTS, MOVIES_CSV_COLUMNS, Layout, header_order

logger = logging.getLogger(__name__)

_BOM = b"\xef\xbb\xbf"
_ENCODING_NAMES = {"utf-8": "UTF-8", "latin-1": "ISO-8859-1"}  # as iconv names them, for messages
_NO_GENRES = "(no genres listed)"
_UNKNOWN_GENRE = "unknown"  # ml-100k's flag for "no genre"; not a genre itself.
_MAX_INT32 = 2**31 - 1  # movie ids become Spark IntegerType columns.
_MAX_SOURCE_LINE = 1000  # keep rejects readable if a binary file slips in.
_CSV_FIELDS = 3
_CSV_ORDER = (0, 1, 2)  # movieId, title, genres: the order without a header
_DAT_FIELDS = 3
_ITEM_FIXED_FIELDS = 5  # id | title | release date | video release date | IMDb URL

# "(1995)" or a TV range "(1975-1979)", "(2006– )", "(2006-)" at the very end.
_YEAR_RE = re.compile(r"\((\d{4})(?:\s*[-\u2013]\s*(?:\d{4})?\s*)?\)$")
# ml-100k release dates: "01-Jan-1995", and one "4-Feb-1971" with a 1-digit day.
_RELEASE_DATE_RE = re.compile(r"^\d{1,2}-[A-Za-z]{3}-(\d{4})$")


class MovieRow(NamedTuple):
    """One valid movie of the catalogue.

    Attributes:
        movie_id: positive MovieLens movie id.
        title: title as in the file, stripped, year suffix kept.
        year: release year from the title (or ml-100k release date), if any.
        genres: genre names in file order; empty when none are listed.
    """

    movie_id: int
    title: str
    year: int | None
    genres: list[str]


class Rejected(NamedTuple):
    """One line that could not be parsed, kept for the rejects table.

    Attributes:
        file_name: the file the line came from.
        line_no: 1-based physical line number in that file.
        source_line: the decoded line (without its line ending), clipped.
        source_bytes: the line's bytes in the file (without its line ending), whole.
        reason: why it was rejected, naming the bad value.
        kind: the reason's category (``malformed`` or ``duplicate``).
    """

    file_name: str
    line_no: int
    source_line: str
    source_bytes: bytes
    reason: str
    kind: str = MALFORMED


class _RowError(ValueError):
    """A line is bad; the message is the rejection reason."""


def _strip_bom(data: bytes) -> tuple[bytes, int]:
    """Drop a UTF-8 BOM; return the bytes and how many were dropped."""
    if data.startswith(_BOM):
        return data[len(_BOM) :], len(_BOM)
    return data, 0


def _decode(data: bytes, encoding: str, file_name: str, what: str) -> str:
    """Decode a whole file, raising with the byte offset on failure.

    Args:
        data: raw file bytes.
        encoding: the layout's encoding.
        file_name: file name for the error message.
        what: what the file should be, for the error message.

    Raises:
        PipelineError: the bytes are not valid ``encoding``.
    """
    body, skipped = _strip_bom(data)
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as err:
        offset = err.start + skipped
        line_no = data.count(b"\n", 0, offset) + 1
        bad = data[offset : offset + 4]
        raise PipelineError(
            f"{file_name}: cannot decode bytes {bad!r} at byte offset {offset} (line "
            f"{line_no}) as {encoding}; {what} is {encoding} text. Check that the file "
            f"comes from that MovieLens release, or re-encode it as {encoding}."
        ) from err


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, line without its ending) for non-blank lines."""
    for index, line in enumerate(text.split("\n")):
        line = line.removesuffix("\r")
        if line.strip():
            yield index + 1, line


def _parse_movie_id(raw: str) -> int:
    """Parse a movie id; it must be a positive 32-bit integer."""
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or int(text) == 0:
        raise _RowError(f"movie_id {raw!r} is not a positive integer")
    value = int(text)
    if value > _MAX_INT32:
        raise _RowError(f"movie_id {value} is above the 32-bit limit {_MAX_INT32}")
    return value


def _parse_title(raw: str) -> tuple[str, int | None]:
    """Return the stripped title and the year of its trailing ``(YYYY)``, if any."""
    title = raw.strip()
    if not title:
        raise _RowError("empty title")
    match = _YEAR_RE.search(title)
    return title, int(match.group(1)) if match else None


def _split_genres(raw: str) -> list[str]:
    """Split ``A|B|C`` genres; ``(no genres listed)`` and blanks mean none."""
    names = [g.strip() for g in raw.split("|")]
    kept = [g for g in names if g and g != _NO_GENRES]
    return list(dict.fromkeys(kept))  # drop repeats, keep file order


def _release_year(raw: str) -> int | None:
    """Year of an ml-100k release date like ``01-Jan-1995``; None if empty."""
    text = raw.strip()
    if not text:
        return None
    match = _RELEASE_DATE_RE.match(text)
    if not match:
        raise _RowError(f"release date {raw!r} is not like 01-Jan-1995")
    return int(match.group(1))


def _flag_genres(flags: Sequence[str]) -> list[str]:
    """Turn ml-100k's 0/1 genre flags into genre names (``unknown`` dropped)."""
    genres = []
    for index, (flag, name) in enumerate(zip(flags, GENRES_100K, strict=True)):
        value = flag.strip()
        if value not in ("0", "1"):
            raise _RowError(f"genre flag {index} ({name}) is {flag!r}, expected 0 or 1")
        if value == "1" and name != _UNKNOWN_GENRE:
            genres.append(name)
    return genres


def _parse_item_line(line: str) -> MovieRow:
    """Parse one u.item line: 5 fixed fields and one 0/1 flag per genre."""
    fields = line.split("|")  # ml-100k titles contain no '|'.
    expected = _ITEM_FIXED_FIELDS + len(GENRES_100K)
    if len(fields) != expected:
        raise _RowError(f"expected {expected} fields, found {len(fields)}")
    movie_id = _parse_movie_id(fields[0])
    title, year = _parse_title(fields[1])
    release_year = _release_year(fields[2])
    genres = _flag_genres(fields[_ITEM_FIXED_FIELDS:])
    return MovieRow(movie_id, title, year if year is not None else release_year, genres)


def _parse_dat_line(line: str) -> MovieRow:
    """Parse one ``MovieID::Title::Genres`` line of ml-1m or ml-10m.

    The id is cut at the first ``::`` and the genres at the last, so a title
    ending in ':' (``Foo:::Drama``) keeps its colon.
    """
    found = line.count("::") + 1
    if found != _DAT_FIELDS:
        raise _RowError(f"expected {_DAT_FIELDS} fields, found {found}")
    raw_id, _, rest = line.partition("::")
    raw_title, _, raw_genres = rest.rpartition("::")
    movie_id = _parse_movie_id(raw_id)
    title, year = _parse_title(raw_title)
    return MovieRow(movie_id, title, year, _split_genres(raw_genres))


def _csv_fields(line: str) -> list[str]:
    """Split one CSV line, honouring double-quoted titles with commas."""
    try:
        return next(csv.reader([line], strict=True))
    except csv.Error as err:
        raise _RowError(f"malformed CSV quoting: {err}") from err


def _parse_csv_line(line: str, order: Sequence[int] = _CSV_ORDER) -> MovieRow:
    """Parse one csv line whose movieId, title and genres are at the positions ``order``.

    Extra columns must be empty: some published files end lines with empty
    columns (``1,Toy Story,Comedy,,``), which are accepted; a non-empty fourth
    column is not.
    """
    fields = _csv_fields(line)
    extra = fields[_CSV_FIELDS:]
    if len(fields) < _CSV_FIELDS or any(f.strip() for f in extra):
        raise _RowError(f"expected {_CSV_FIELDS} fields, found {len(fields)}")
    raw_id, raw_title, raw_genres = (fields[i] for i in order)
    movie_id = _parse_movie_id(raw_id)
    title, year = _parse_title(raw_title)
    return MovieRow(movie_id, title, year, _split_genres(raw_genres))


def _csv_header_order(text: str, file_name: str) -> tuple[int, ...] | None:
    """Column positions named by the header on line 1 of a movies.csv, or None without a header."""
    first = text.split("\n", 1)[0].removesuffix("\r")
    try:
        fields = _csv_fields(first)
    except _RowError:
        return None  # not a header: rejected as a data line
    return header_order(fields, MOVIES_CSV_COLUMNS, file_name)


def _line_parser(layout: Layout, text: str, file_name: str) -> tuple[Callable[[str], MovieRow], bool]:
    """Pick the per-line parser of a layout, and say whether line 1 is a header to skip."""
    if layout is Layout.ML_100K:
        return _parse_item_line, False
    if layout is Layout.CSV:
        order = _csv_header_order(text, file_name)
        return partial(_parse_csv_line, order=order or _CSV_ORDER), order is not None
    return _parse_dat_line, False


def _clip(line: str) -> str:
    """Clip a source line kept in a rejection."""
    if len(line) <= _MAX_SOURCE_LINE:
        return line
    return line[:_MAX_SOURCE_LINE] + "..."


def _no_rows_error(file_name: str, layout: Layout, rejected: list[Rejected]) -> PipelineError:
    """Build the error for a file without a single valid movie."""
    expected = f"the {layout.value} movie catalogue ({LAYOUTS[layout].movies_file})"
    if not rejected:
        return PipelineError(
            f"{file_name}: no valid movie rows; the file has no data lines. "
            f"Expected {expected}; check that the file is complete."
        )
    first = rejected[0]
    return PipelineError(
        f"{file_name}: no valid movie rows; first rejection at line {first.line_no}: "
        f"{first.reason}. Expected {expected}; check that the file matches the layout."
    )


def parse_movies(
    data: bytes,
    layout: Layout,
    file_name: str,
) -> tuple[list[MovieRow], list[Rejected]]:
    """Parse a movies file into valid rows and rejected lines.

    Args:
        data: the raw bytes of ``u.item``, ``movies.dat`` or ``movies.csv``.
        layout: the drop's layout; chooses the format and the encoding
            (``LAYOUTS[layout].movies_encoding``).
        file_name: the file's name or path, used in rejections and errors.

    Returns:
        The valid movies in file order, and the rejected lines. A line is
        rejected for a wrong field count, a movie id that is not a positive
        integer, an empty title, a bad genre flag or release date (ml-100k),
        malformed CSV quoting, or a movie id already seen (the first wins).

    Raises:
        PipelineError: the file is UTF-16 or UTF-32, the bytes cannot be decoded in the
            layout's encoding (the message names the file and byte offset), a CSV header does
            not name movieId, title and genres, or no line is valid.

    Notes:
        A UTF-8 BOM, CRLF endings and blank lines are accepted. A CSV header
        is read on line 1 only (a line 1 without a number is the header), by
        column name in any order (:func:`movierec.data.layouts.header_order`).
    """
    encoding = LAYOUTS[layout].movies_encoding
    what = f"the {layout.value} movies file"
    check_encoding(data, file_name, _ENCODING_NAMES[encoding])
    text = _decode(data, encoding, file_name, what)
    parse_line, skip_header = _line_parser(layout, text, file_name)
    rows: list[MovieRow] = []
    rejected: list[Rejected] = []
    first_seen: dict[int, int] = {}
    for line_no, line in _lines(text):
        if line_no == 1 and skip_header:
            continue
        try:
            row = parse_line(line)
        except _RowError as err:
            rejected.append(Rejected(file_name, line_no, _clip(line), line.encode(encoding), str(err)))
            continue
        if row.movie_id in first_seen:
            reason = f"duplicate movie_id {row.movie_id} (first at line {first_seen[row.movie_id]})"
            rejected.append(Rejected(file_name, line_no, _clip(line), line.encode(encoding), reason, DUPLICATE))
            continue
        first_seen[row.movie_id] = line_no
        rows.append(row)
    if not rows:
        raise _no_rows_error(file_name, layout, rejected)
    logger.info("%s: parsed %s movies, rejected %s lines", file_name, len(rows), len(rejected))
    if rejected:
        logger.warning(
            "%s: first rejected line %s: %s", file_name, rejected[0].line_no, rejected[0].reason
        )
    return rows, rejected
