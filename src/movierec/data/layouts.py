"""Recognise which official MovieLens layout a drop is, from its file names.

A *drop* is the set of files a user hands the pipeline: an unpacked GroupLens
zip (files inside one folder such as ``ml-100k/``) or the same files at the
top level. The layout is decided by which files are present, never by the
folder name, because users rename folders (``ml-10M100K`` is ml-10m).

Recognition rules:

* ``u.data`` (+ ``u.item``) → :attr:`Layout.ML_100K`.
* ``ratings.csv`` (+ ``movies.csv``) → :attr:`Layout.CSV` (ml-20m, ml-25m,
  ml-32m, ml-latest, ml-latest-small).
* ``ratings.dat`` (+ ``movies.dat``) is shared by ml-1m and ml-10m. Only ml-1m
  ships ``users.dat``; ml-10m ships ``tags.dat`` instead. So ``users.dat``
  present → :attr:`Layout.ML_1M`; otherwise (``tags.dat`` present, or neither
  file) → :attr:`Layout.ML_10M`. If both are present ``users.dat`` wins and a
  warning is logged.

The csv layout's files start with a header line, read by name (any column
order) by :func:`header_order`.

The functions here are pure: they look at names only and do no I/O.

Which files a layout has and how its csv header names its columns are the same table of
layouts, kept side by side.
"""

from __future__ import annotations

import enum
import logging
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from movierec.core.errors import PipelineError

logger = logging.getLogger(__name__)


class Layout(enum.StrEnum):
    """The official MovieLens file layouts, recognised by their files."""

    ML_100K = "ml-100k"  # u.data (tab) + u.item (pipe, Latin-1)
    ML_1M = "ml-1m"  # ratings.dat/movies.dat with '::', integer stars, Latin-1
    ML_10M = "ml-10m"  # ratings.dat/movies.dat with '::', half stars, UTF-8
    CSV = "csv"  # ratings.csv/movies.csv: 20m, 25m, 32m, latest, latest-small


@dataclass(frozen=True)
class LayoutSpec:
    """How to read one layout's ratings and movies files.

    Attributes:
        ratings_file: file name of the ratings.
        movies_file: file name of the movie catalogue.
        ratings_sep: field separator in the ratings file.
        movies_encoding: text encoding of the movies file.
        min_rating: lowest rating of the scale.
        max_rating: highest rating of the scale.
        rating_step: granularity of the scale (1.0 or 0.5).
        header: whether the ratings file starts with a header line.
    """

    ratings_file: str
    movies_file: str
    ratings_sep: str
    movies_encoding: str
    min_rating: float
    max_rating: float
    rating_step: float
    header: bool


LAYOUTS: dict[Layout, LayoutSpec] = {
    Layout.ML_100K: LayoutSpec("u.data", "u.item", "\t", "latin-1", 1.0, 5.0, 1.0, False),
    Layout.ML_1M: LayoutSpec("ratings.dat", "movies.dat", "::", "latin-1", 1.0, 5.0, 1.0, False),
    Layout.ML_10M: LayoutSpec("ratings.dat", "movies.dat", "::", "utf-8", 0.5, 5.0, 0.5, False),
    Layout.CSV: LayoutSpec("ratings.csv", "movies.csv", ",", "utf-8", 0.5, 5.0, 0.5, True),
}

# The columns of the csv layout's files, as its header line names them. The header is read by name,
# in any order (see header_order); "movie_id" and "MOVIEID" name movieId too.
RATINGS_CSV_COLUMNS = ("userId", "movieId", "rating", "timestamp")
MOVIES_CSV_COLUMNS = ("movieId", "title", "genres")

# The 19 genre flags of ml-100k's u.item, in file order (also listed in u.genre).
GENRES_100K = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)

# MovieLens timestamps are seconds since the epoch; the first ratings are from 1995.
MIN_TIMESTAMP = 788_918_400  # 1995-01-01
MAX_TIMESTAMP = 4_102_444_800  # 2100-01-01

# The file that identifies each family of layouts; ml-1m and ml-10m share one.
_RATINGS_MARKERS: dict[str, tuple[Layout, ...]] = {
    "u.data": (Layout.ML_100K,),
    "ratings.dat": (Layout.ML_1M, Layout.ML_10M),
    "ratings.csv": (Layout.CSV,),
}
_USERS_1M = "users.dat"
_TAGS_10M = "tags.dat"

# At most this many names are quoted in an error message, so a drop with
# thousands of files still gives a readable Airflow log.
_MAX_LISTED = 20


def _normalise(name: str) -> str | None:
    """Return ``name`` as a clean relative posix path, or None to ignore it.

    Directory entries and macOS junk (``__MACOSX/``, ``._*`` AppleDouble
    files) are ignored: GroupLens zips repacked on a Mac carry them, and a
    ``__MACOSX/ml-100k/._u.data`` must not look like a second dataset.
    """
    path = name.replace("\\", "/").strip()
    while path.startswith("./"):
        path = path[2:]
    if not path or path.endswith("/"):
        return None
    parts = path.split("/")
    if parts[0] == "__MACOSX" or parts[-1].startswith("._"):
        return None
    return path


def _describe(prefix: str, where: str) -> str:
    """Name a folder of the drop for error messages."""
    return f"folder '{prefix}' of {where}" if prefix else f"the top level of {where}"


def _listing(names: Iterable[str]) -> str:
    """Format a sorted, bounded list of names for an error message."""
    ordered = sorted(names)
    shown = ", ".join(ordered[:_MAX_LISTED])
    if len(ordered) > _MAX_LISTED:
        shown += f", ... ({len(ordered) - _MAX_LISTED} more)"
    return shown or "(no files)"


def _group_by_folder(paths: Iterable[str]) -> dict[str, set[str]]:
    """Map each folder at depth 0 or 1 to the base names it holds.

    Files deeper than one folder are left out: GroupLens zips have exactly one
    top folder, and searching deeper would pick up unrelated copies.
    """
    folders: dict[str, set[str]] = {}
    for path in paths:
        prefix, base = posixpath.split(path)
        if prefix.count("/") == 0:
            folders.setdefault(prefix, set()).add(base)
    return folders


def _skipped_hint(skipped: Sequence[str]) -> str:
    """Name what the listing left out (symlinks), for a message about missing files."""
    if not skipped:
        return ""
    return (
        f"; skipped: {_listing(skipped)} (symlinks are followed only to files inside the drop: "
        "copy the files into the drop)"
    )


def _no_ratings_error(paths: list[str], where: str, skipped: Sequence[str]) -> PipelineError:
    """Build the error for a drop with no ratings file where one is searched."""
    deep = [p for p in paths if posixpath.basename(p) in _RATINGS_MARKERS]
    hint = (
        f"; ratings files deeper than one folder are not searched: {_listing(deep)}"
        if deep
        else ""
    )
    return PipelineError(
        f"no ratings file (u.data, ratings.dat or ratings.csv) in {where}; "
        f"found: {_listing(paths)}{hint}{_skipped_hint(skipped)}. Point the source at an unpacked "
        "MovieLens dataset (files at the top level or inside one folder)."
    )


def _pick_folder(folders: dict[str, set[str]], paths: list[str], where: str, skipped: Sequence[str]) -> str:
    """Return the one folder holding a ratings file, or raise."""
    candidates = sorted(p for p, bases in folders.items() if bases & _RATINGS_MARKERS.keys())
    if not candidates:
        raise _no_ratings_error(paths, where, skipped)
    if len(candidates) > 1:
        shown = ", ".join(f"'{c}'" if c else "'' (top level)" for c in candidates)
        raise PipelineError(
            f"several candidate folders with a ratings file in {where}: {shown}; "
            "expected exactly one dataset. Keep one MovieLens dataset per source."
        )
    return candidates[0]


def _choose_dat_layout(bases: set[str], prefix: str, where: str) -> Layout:
    """Tell ml-1m from ml-10m: only ml-1m ships users.dat (see module docstring)."""
    if _USERS_1M in bases:
        if _TAGS_10M in bases:
            logger.warning(
                "both %s and %s in %s; treating it as ml-1m because users.dat wins",
                _USERS_1M,
                _TAGS_10M,
                _describe(prefix, where),
            )
        return Layout.ML_1M
    return Layout.ML_10M


def _check_single_marker(bases: set[str], prefix: str, where: str) -> str:
    """Return the one ratings file name of a folder, or raise on mixed layouts."""
    markers = sorted(bases & _RATINGS_MARKERS.keys())
    if len(markers) > 1:
        raise PipelineError(
            f"mixed layouts in {_describe(prefix, where)}: {' and '.join(markers)} are "
            "both present; expected the files of one MovieLens layout. Remove the files "
            "of the other dataset."
        )
    return markers[0]


def detect_layout(
    names: Iterable[str], *, where: str = "the drop", skipped: Sequence[str] = ()
) -> tuple[Layout, str]:
    """Recognise the MovieLens layout of a drop from its relative file paths.

    Args:
        names: relative posix paths of the drop's files, e.g.
            ``["ml-100k/u.data", "ml-100k/u.item", "ml-100k/README"]``.
        where: how to name the drop in error messages (e.g. its source URI).
        skipped: entries the listing left out, e.g. ``"u.data -> /elsewhere/u.data
            (points outside the drop)"`` (:func:`movierec.io.sources.scan_folder`);
            named when a file is missing, and logged otherwise.

    Returns:
        The layout and the folder prefix holding its files: ``""`` for files
        at the top level, else the folder name (e.g. ``"ml-100k"``).

    Raises:
        PipelineError: no ratings file at depth 0 or 1, a ratings file without
            its movies file, two layouts' ratings files in one folder, or
            ratings files in several folders.
    """
    paths = sorted({p for p in (_normalise(n) for n in names) if p is not None})
    folders = _group_by_folder(paths)
    prefix = _pick_folder(folders, paths, where, skipped)
    bases = folders[prefix]
    marker = _check_single_marker(bases, prefix, where)
    layouts = _RATINGS_MARKERS[marker]
    layout = layouts[0] if len(layouts) == 1 else _choose_dat_layout(bases, prefix, where)
    movies_file = LAYOUTS[layout].movies_file
    if movies_file not in bases:
        raise PipelineError(
            f"{marker} found in {_describe(prefix, where)} but no {movies_file}; the "
            f"{layout.value} layout needs both. Found: {_listing(bases)}{_skipped_hint(skipped)}. "
            "Add the movie catalogue from the same MovieLens release."
        )
    if skipped:
        logger.warning("skipped in %s: %s", where, _listing(skipped))
    logger.info("detected layout %s in %s", layout.value, _describe(prefix, where))
    return layout, prefix


_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _column_key(name: str) -> str:
    """Compare column names loosely: ``movieId``, ``movie_id`` and ``MOVIEID`` are one column."""
    return name.strip().lower().replace("_", "")


def header_order(fields: Sequence[str], expected: Sequence[str], file_name: str) -> tuple[int, ...] | None:
    """Where each expected column is, from the fields of a csv file's first line.

    A first line none of whose fields is a number is the header; one with a
    number is data (a file without a header is read in the expected order).
    Trailing empty fields are ignored, as in data lines.

    Args:
        fields: the first line, split into fields (BOM and line ending removed).
        expected: the columns the file must have, e.g. :data:`RATINGS_CSV_COLUMNS`.
        file_name: named in the error.

    Returns:
        For each expected column, its 0-based position in the file; None when
        the first line is data, not a header.

    Raises:
        PipelineError: the header names a column not expected, lacks one, or
            repeats one; the message names the file, the header and the columns expected.
    """
    names = [f.strip() for f in fields]
    while names and not names[-1]:
        names.pop()
    if not names or any(_NUMBER_RE.match(n) for n in names):
        return None
    keys = [_column_key(n) for n in names]
    wanted = {_column_key(c) for c in expected}
    named = list(zip(names, keys, strict=True))
    found = {
        "unknown": [n for n, k in named if k not in wanted],
        "missing": [c for c in expected if _column_key(c) not in keys],
        "repeated": sorted({n for n, k in named if keys.count(k) > 1}),
    }
    problems = [f"{what}: {', '.join(columns)}" for what, columns in found.items() if columns]
    if problems:
        raise PipelineError(
            f"{file_name}: header {','.join(fields)!r} does not name the expected columns "
            f"({'; '.join(problems)}); expected {','.join(expected)} (in any order). "
            "Fix the header line, or re-export the file from the MovieLens release."
        )
    return tuple(keys.index(_column_key(c)) for c in expected)


def layout_files(layout: Layout, prefix: str) -> dict[str, str]:
    """Give the relative path of each file a layout is read from.

    Args:
        layout: the layout returned by :func:`detect_layout`.
        prefix: the folder prefix returned by :func:`detect_layout`.

    Returns:
        Role (``ratings``, ``movies``) -> relative posix path.
    """
    spec = LAYOUTS[layout]
    return {
        "ratings": posixpath.join(prefix, spec.ratings_file),
        "movies": posixpath.join(prefix, spec.movies_file),
    }
