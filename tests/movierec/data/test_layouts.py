"""Tests for movierec.layouts: recognising a drop's layout from its file names."""

from __future__ import annotations

import pytest

from movierec.core.errors import PipelineError
from movierec.data.layouts import RATINGS_CSV_COLUMNS, detect_layout, header_order, layout_files
from movierec.data.layouts import Layout

# The files of each official layout, as GroupLens ships them (names only).
DROPS = {
    Layout.ML_100K: ["u.data", "u.item", "u.user", "u.genre", "README"],
    Layout.ML_1M: ["ratings.dat", "movies.dat", "users.dat", "README"],
    Layout.ML_10M: ["ratings.dat", "movies.dat", "tags.dat", "README.html"],
    Layout.CSV: ["ratings.csv", "movies.csv", "tags.csv", "links.csv", "README.txt"],
}
ZIP_FOLDERS = {
    Layout.ML_100K: "ml-100k",
    Layout.ML_1M: "ml-1m",
    Layout.ML_10M: "ml-10M100K",
    Layout.CSV: "ml-latest-small",
}


@pytest.mark.parametrize("layout", list(Layout))
def test_detects_each_layout_at_top_level(layout: Layout) -> None:
    assert detect_layout(DROPS[layout]) == (layout, "")


@pytest.mark.parametrize("layout", list(Layout))
def test_detects_each_layout_inside_one_folder(layout: Layout) -> None:
    folder = ZIP_FOLDERS[layout]
    names = [f"{folder}/{name}" for name in DROPS[layout]]
    assert detect_layout(names) == (layout, folder)


def test_users_dat_means_ml_1m() -> None:
    assert detect_layout(["ratings.dat", "movies.dat", "users.dat"])[0] is Layout.ML_1M


def test_tags_dat_means_ml_10m() -> None:
    assert detect_layout(["ratings.dat", "movies.dat", "tags.dat"])[0] is Layout.ML_10M


def test_dat_files_without_users_dat_mean_ml_10m() -> None:
    assert detect_layout(["ratings.dat", "movies.dat"])[0] is Layout.ML_10M


def test_users_dat_wins_over_tags_dat() -> None:
    names = ["ratings.dat", "movies.dat", "users.dat", "tags.dat"]
    assert detect_layout(names)[0] is Layout.ML_1M


def test_folder_name_does_not_decide_the_layout() -> None:
    # A renamed ml-10m folder is still recognised by its files.
    names = ["ml-1m/ratings.dat", "ml-1m/movies.dat", "ml-1m/tags.dat"]
    assert detect_layout(names) == (Layout.ML_10M, "ml-1m")


def test_ignores_directory_entries_and_macos_junk() -> None:
    names = [
        "ml-100k/",
        "ml-100k/u.data",
        "ml-100k/u.item",
        "__MACOSX/ml-100k/._u.data",
        "__MACOSX/ml-100k/._u.item",
        "ml-100k/._u.data",
    ]
    assert detect_layout(names) == (Layout.ML_100K, "ml-100k")


def test_accepts_dot_slash_prefixes() -> None:
    assert detect_layout(["./ratings.csv", "./movies.csv"]) == (Layout.CSV, "")


def test_no_ratings_file_lists_what_was_found() -> None:
    with pytest.raises(PipelineError) as err:
        detect_layout(["README", "movies.csv", "notes.txt"], where="file:///drops/x")
    message = str(err.value)
    assert "no ratings file (u.data, ratings.dat or ratings.csv) in file:///drops/x" in message
    assert "found: README, movies.csv, notes.txt" in message


def test_no_ratings_file_in_empty_drop() -> None:
    with pytest.raises(PipelineError, match=r"found: \(no files\)"):
        detect_layout([])


def test_missing_files_name_the_skipped_symlinks() -> None:
    skipped = ["u.data -> /elsewhere/u.data (points outside the drop)"]
    with pytest.raises(PipelineError) as err:
        detect_layout([], skipped=skipped)
    message = str(err.value)
    assert "found: (no files); skipped: u.data -> /elsewhere/u.data (points outside the drop)" in message
    assert "copy the files into the drop" in message
    with pytest.raises(PipelineError, match=r"no u\.item.*skipped: u\.item -> /elsewhere/u\.item"):
        detect_layout(["u.data"], skipped=["u.item -> /elsewhere/u.item (points outside the drop)"])


def test_ratings_file_two_folders_deep_is_not_searched_and_is_named() -> None:
    names = ["data/ml-100k/u.data", "data/ml-100k/u.item"]
    with pytest.raises(PipelineError) as err:
        detect_layout(names)
    message = str(err.value)
    assert message.startswith("no ratings file")
    assert "deeper than one folder are not searched: data/ml-100k/u.data" in message


def test_long_listing_is_bounded() -> None:
    names = [f"file{i:03}.txt" for i in range(50)]
    with pytest.raises(PipelineError, match=r"\.\.\. \(30 more\)"):
        detect_layout(names)


@pytest.mark.parametrize(
    ("names", "ratings", "movies"),
    [
        (["u.data", "u.user"], "u.data", "u.item"),
        (["ratings.dat", "users.dat"], "ratings.dat", "movies.dat"),
        (["ml-25m/ratings.csv", "ml-25m/tags.csv"], "ratings.csv", "movies.csv"),
    ],
)
def test_ratings_without_movies_file(names: list[str], ratings: str, movies: str) -> None:
    with pytest.raises(PipelineError) as err:
        detect_layout(names)
    message = str(err.value)
    assert f"{ratings} found in" in message
    assert f"but no {movies}" in message


def test_missing_movies_message_names_the_folder() -> None:
    with pytest.raises(PipelineError, match=r"folder 'ml-25m' of the drop"):
        detect_layout(["ml-25m/ratings.csv"])


def test_mixed_layouts_name_both_ratings_files() -> None:
    names = ["u.data", "u.item", "ratings.csv", "movies.csv"]
    with pytest.raises(PipelineError) as err:
        detect_layout(names)
    message = str(err.value)
    assert "mixed layouts" in message
    assert "ratings.csv and u.data" in message


def test_several_candidate_folders_are_named() -> None:
    names = [
        "ml-100k/u.data",
        "ml-100k/u.item",
        "ml-latest-small/ratings.csv",
        "ml-latest-small/movies.csv",
    ]
    with pytest.raises(PipelineError) as err:
        detect_layout(names)
    message = str(err.value)
    assert "several candidate folders" in message
    assert "'ml-100k'" in message
    assert "'ml-latest-small'" in message


def test_top_level_and_folder_are_several_candidates() -> None:
    names = ["ratings.csv", "movies.csv", "ml-1m/ratings.dat", "ml-1m/movies.dat"]
    with pytest.raises(PipelineError, match=r"'' \(top level\), 'ml-1m'"):
        detect_layout(names)


@pytest.mark.parametrize(
    ("layout", "prefix", "expected"),
    [
        (
            Layout.ML_100K,
            "ml-100k",
            {"ratings": "ml-100k/u.data", "movies": "ml-100k/u.item"},
        ),
        (Layout.ML_1M, "", {"ratings": "ratings.dat", "movies": "movies.dat"}),
        (
            Layout.ML_10M,
            "ml-10M100K",
            {"ratings": "ml-10M100K/ratings.dat", "movies": "ml-10M100K/movies.dat"},
        ),
        (Layout.CSV, "ml-32m", {"ratings": "ml-32m/ratings.csv", "movies": "ml-32m/movies.csv"}),
    ],
)
def test_layout_files(layout: Layout, prefix: str, expected: dict[str, str]) -> None:
    assert layout_files(layout, prefix) == expected


def test_detect_then_layout_files_round_trip() -> None:
    names = ["ml-100k/u.data", "ml-100k/u.item", "ml-100k/README"]
    layout, prefix = detect_layout(names)
    assert layout_files(layout, prefix) == {
        "ratings": "ml-100k/u.data",
        "movies": "ml-100k/u.item",
    }


@pytest.mark.parametrize(
    ("line", "order"),
    [
        ("userId,movieId,rating,timestamp", (0, 1, 2, 3)),
        ("movieId,userId,rating,timestamp", (1, 0, 2, 3)),
        ("timestamp,rating,user_id,MOVIEID,,", (2, 3, 1, 0)),
        ("1,31,2.5,1260759144", None),  # a data line: no header, read in file order
        ("", None),
    ],
)
def test_csv_header_columns_are_found_by_name(line: str, order: tuple[int, ...] | None) -> None:
    assert header_order(line.split(","), RATINGS_CSV_COLUMNS, "ratings.csv") == order


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("user,movieId,rating,timestamp", "unknown: user; missing: userId"),
        ("userId,movieId,rating", "missing: timestamp"),
        ("userId,movieId,rating,timestamp,tag", "unknown: tag"),
        ("userId,movieId,rating,rating,timestamp", "repeated: rating"),
    ],
)
def test_csv_header_with_unknown_or_missing_columns_is_refused(line: str, problem: str) -> None:
    with pytest.raises(PipelineError) as err:
        header_order(line.split(","), RATINGS_CSV_COLUMNS, "ml-32m/ratings.csv")
    assert str(err.value) == (
        f"ml-32m/ratings.csv: header {line!r} does not name the expected columns ({problem}); expected "
        "userId,movieId,rating,timestamp (in any order). Fix the header line, or re-export the file from "
        "the MovieLens release."
    )
