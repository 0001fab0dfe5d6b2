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

The functions here are pure: they look at names only and do no I/O.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterable

from movierec.errors import PipelineError
from movierec.schema import LAYOUTS, Layout

logger = logging.getLogger(__name__)

# The file that identifies each family of layouts; ml-1m and ml-10m share one.
_RATINGS_MARKERS: dict[str, tuple[Layout, ...]] = {
    "u.data": (Layout.ML_100K,),
    "ratings.dat": (Layout.ML_1M, Layout.ML_10M),
    "ratings.csv": (Layout.CSV,),
}
_USERS_1M = "users.dat"
_TAGS_10M = "tags.dat"
_GENRES_100K = "u.genre"

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


def _no_ratings_error(paths: list[str], where: str) -> PipelineError:
    """Build the error for a drop with no ratings file where one is searched."""
    deep = [p for p in paths if posixpath.basename(p) in _RATINGS_MARKERS]
    hint = (
        f"; ratings files deeper than one folder are not searched: {_listing(deep)}"
        if deep
        else ""
    )
    return PipelineError(
        f"no ratings file (u.data, ratings.dat or ratings.csv) in {where}; "
        f"found: {_listing(paths)}{hint}. Point the source at an unpacked MovieLens "
        "dataset (files at the top level or inside one folder)."
    )


def _pick_folder(folders: dict[str, set[str]], paths: list[str], where: str) -> str:
    """Return the one folder holding a ratings file, or raise."""
    candidates = sorted(p for p, bases in folders.items() if bases & _RATINGS_MARKERS.keys())
    if not candidates:
        raise _no_ratings_error(paths, where)
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


def detect_layout(names: Iterable[str], *, where: str = "the drop") -> tuple[Layout, str]:
    """Recognise the MovieLens layout of a drop from its relative file paths.

    Args:
        names: relative posix paths of the drop's files, e.g.
            ``["ml-100k/u.data", "ml-100k/u.item", "ml-100k/README"]``.
        where: how to name the drop in error messages (e.g. its source URI).

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
    prefix = _pick_folder(folders, paths, where)
    bases = folders[prefix]
    marker = _check_single_marker(bases, prefix, where)
    layouts = _RATINGS_MARKERS[marker]
    layout = layouts[0] if len(layouts) == 1 else _choose_dat_layout(bases, prefix, where)
    movies_file = LAYOUTS[layout].movies_file
    if movies_file not in bases:
        raise PipelineError(
            f"{marker} found in {_describe(prefix, where)} but no {movies_file}; the "
            f"{layout.value} layout needs both. Found: {_listing(bases)}. "
            "Add the movie catalogue from the same MovieLens release."
        )
    logger.info("detected layout %s in %s", layout.value, _describe(prefix, where))
    return layout, prefix


def layout_files(
    layout: Layout, prefix: str, *, names: Iterable[str] | None = None
) -> dict[str, str]:
    """Give the relative path of each file a layout is read from.

    Args:
        layout: the layout returned by :func:`detect_layout`.
        prefix: the folder prefix returned by :func:`detect_layout`.
        names: the drop's relative paths. When given, the optional ``genres``
            role of ml-100k is included only if ``u.genre`` is among them;
            when None it is always included for ml-100k and the caller must
            treat it as optional (the file may be missing).

    Returns:
        Role → relative posix path: ``ratings`` and ``movies`` always, and
        ``genres`` (``u.genre``) for ml-100k as described above.
    """
    spec = LAYOUTS[layout]
    files = {
        "ratings": posixpath.join(prefix, spec.ratings_file),
        "movies": posixpath.join(prefix, spec.movies_file),
    }
    if layout is Layout.ML_100K:
        genres = posixpath.join(prefix, _GENRES_100K)
        present = names is None or genres in {_normalise(n) for n in names}
        if present:
            files["genres"] = genres
    return files
