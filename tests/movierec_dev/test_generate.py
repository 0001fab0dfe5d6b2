"""Tests of movierec_dev.generate: format per layout, planted structure, determinism."""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from movierec.core.errors import PipelineError
from movierec.data.layouts import GENRES_100K, LAYOUTS, MAX_TIMESTAMP, MIN_TIMESTAMP, Layout
from movierec_dev.generate import default_sizes, generate_drop, main, planted_model, sample_movies

N = 3_000


def read_ratings(folder: Path, layout: Layout) -> list[tuple[int, int, float, int]]:
    """Parse a ratings file back with plain Python, checking every line's shape."""
    spec = LAYOUTS[layout]
    raw = (folder / spec.ratings_file).read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")
    lines = raw.decode("ascii").splitlines()
    if spec.header:
        assert lines[0] == "userId,movieId,rating,timestamp"
        lines = lines[1:]
    rows = []
    for line in lines:
        user, movie, rating, stamp = line.split(spec.ratings_sep)
        rows.append((int(user), int(movie), float(rating), int(stamp)))
    return rows


def read_movie_ids(folder: Path, layout: Layout) -> list[int]:
    spec = LAYOUTS[layout]
    text = (folder / spec.movies_file).read_text(encoding=spec.movies_encoding)
    if layout is Layout.CSV:
        return [int(row["movieId"]) for row in csv.DictReader(io.StringIO(text))]
    sep = "|" if layout is Layout.ML_100K else "::"
    return [int(line.split(sep, 1)[0]) for line in text.splitlines()]


@pytest.fixture(scope="module")
def drops(tmp_path_factory: pytest.TempPathFactory) -> dict[Layout, Path]:
    root = tmp_path_factory.mktemp("drops")
    return {layout: generate_drop(root / layout.value, layout, N, seed=7) for layout in Layout}


@pytest.mark.parametrize("layout", list(Layout))
def test_ratings_respect_the_layout(drops: dict[Layout, Path], layout: Layout) -> None:
    spec = LAYOUTS[layout]
    rows = read_ratings(drops[layout], layout)

    assert abs(len(rows) - N) <= 0.03 * N
    ratings = {r for _, _, r, _ in rows}
    allowed = set(np.arange(spec.min_rating, spec.max_rating + 0.25, spec.rating_step).tolist())
    assert ratings <= allowed
    assert len(ratings) >= 4  # the whole scale is used, not one value
    assert len({(u, m) for u, m, _, _ in rows}) == len(rows)
    assert all(MIN_TIMESTAMP <= t < MAX_TIMESTAMP for _, _, _, t in rows)
    assert {m for _, m, _, _ in rows} <= set(read_movie_ids(drops[layout], layout))


def test_csv_ratings_are_written_with_one_decimal(drops: dict[Layout, Path]) -> None:
    lines = (drops[Layout.CSV] / "ratings.csv").read_text().splitlines()[1:]
    assert all(line.split(",")[2] in {f"{x / 2:.1f}" for x in range(1, 11)} for line in lines)


def test_ml_100k_item_file_is_latin1_with_genre_flags(drops: dict[Layout, Path]) -> None:
    raw = (drops[Layout.ML_100K] / "u.item").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # really Latin-1, as in the original
    text = raw.decode("latin-1")
    assert any(ord(ch) > 127 for ch in text)
    for line in text.splitlines():
        fields = line.split("|")
        assert len(fields) == 5 + len(GENRES_100K)
        assert fields[1].endswith(")") and fields[2].startswith("01-Jan-")
        assert fields[3] == "" and fields[4].startswith("http://example.invalid/")
        assert set(fields[5:]) <= {"0", "1"} and "1" in fields[5:]

    genre_lines = (drops[Layout.ML_100K] / "u.genre").read_text("latin-1").split("\n")
    assert genre_lines[:2] == ["unknown|0", "Action|1"]
    assert genre_lines[-2:] == ["", ""]  # the real file ends with a blank line


def test_movies_csv_round_trips_quoted_titles(drops: dict[Layout, Path]) -> None:
    raw = (drops[Layout.CSV] / "movies.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(raw)))

    assert raw.startswith("movieId,title,genres\n")
    with_comma = [row["title"] for row in rows if "," in row["title"]]
    assert with_comma and f'"{with_comma[0]}"' in raw
    assert all(row["title"].endswith(")") for row in rows)
    assert any(not title.isascii() for title in (row["title"] for row in rows))
    for row in rows:
        assert row["genres"] == "(no genres listed)" or all(g and "(" not in g for g in row["genres"].split("|"))


@pytest.mark.parametrize(("layout", "encoding"), [(Layout.ML_1M, "latin-1"), (Layout.ML_10M, "utf-8")])
def test_dat_movies_have_three_fields(drops: dict[Layout, Path], layout: Layout, encoding: str) -> None:
    text = (drops[layout] / "movies.dat").read_text(encoding=encoding)
    for line in text.splitlines():
        movie_id, title, genres = line.split("::")
        assert movie_id.isdigit() and title.endswith(")") and genres


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    def files(folder: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}

    first = generate_drop(tmp_path / "a", Layout.CSV, 500, seed=3)
    again = generate_drop(tmp_path / "b", Layout.CSV, 500, seed=3)
    other = generate_drop(tmp_path / "c", Layout.CSV, 500, seed=4)

    assert files(first) == files(again)
    assert files(first)["ratings.csv"] != files(other)["ratings.csv"]


def test_zip_output_has_a_top_folder_and_is_reproducible(tmp_path: Path) -> None:
    first = generate_drop(tmp_path / "ml-100k", Layout.ML_100K, 500, zip_output=True)
    second = generate_drop(tmp_path / "again" / "ml-100k", Layout.ML_100K, 500, zip_output=True)

    assert first == tmp_path / "ml-100k.zip" and not (tmp_path / "ml-100k").exists()
    with zipfile.ZipFile(first) as archive:
        names = set(archive.namelist())
    assert {"ml-100k/u.data", "ml-100k/u.item", "ml-100k/u.genre"} <= names
    assert first.read_bytes() == second.read_bytes()


def test_every_user_gets_a_floor_and_activity_is_long_tailed(drops: dict[Layout, Path]) -> None:
    per_user = Counter(u for u, _, _, _ in read_ratings(drops[Layout.CSV], Layout.CSV))
    n_users, _ = default_sizes(N)

    assert len(per_user) == n_users
    assert min(per_user.values()) >= 5
    assert max(per_user.values()) > 2 * np.median(list(per_user.values()))


def test_planted_structure_is_visible_in_the_ratings(tmp_path: Path) -> None:
    n, seed = 20_000, 11
    rows = read_ratings(generate_drop(tmp_path / "d", Layout.CSV, n, seed=seed), Layout.CSV)
    n_users, n_movies = default_sizes(n)
    model = planted_model(n_users, n_movies, seed=seed)

    per_movie = Counter(m for _, m, _, _ in rows)
    top_decile = sum(c for _, c in per_movie.most_common(n_movies // 10))
    assert top_decile / len(rows) > 0.3

    sums: dict[int, float] = Counter()
    for _, m, r, _ in rows:
        sums[m] += r
    movies = sorted(per_movie)
    means = [sums[m] / per_movie[m] for m in movies]
    bias = model.movie_bias[np.array(movies) - 1]
    assert np.corrcoef(means, bias)[0, 1] > 0.5
    # Popular movies are the ones the planted popularity favours.
    popular = [m for m, _ in per_movie.most_common(10)]
    assert np.all(model.popularity[np.array(popular) - 1] > np.median(model.popularity))


def test_default_sizes_follow_movielens_proportions() -> None:
    assert default_sizes(100_000) == (943, 1682)
    users, movies = default_sizes(25_000_000)
    assert 60_000 <= users <= 160_000 and 30_000 <= movies <= 60_000
    assert default_sizes(10) == (20, 30)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"n_ratings": 0}, "n_ratings=0"),
        ({"noise": -1.0}, "noise=-1.0"),
        ({"n_ratings": 1000, "n_users": 2, "n_movies": 10}, "n_ratings=1,000"),
    ],
)
def test_invalid_arguments_are_named(tmp_path: Path, kwargs: dict, named: str) -> None:
    args = {"n_ratings": 100, **kwargs}
    with pytest.raises(PipelineError, match=named):
        generate_drop(tmp_path / "x", Layout.CSV, **args)
    assert not list(tmp_path.iterdir())


def test_existing_output_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    with pytest.raises(PipelineError, match="already exists"):
        generate_drop(tmp_path / "x", Layout.CSV, 100)


def test_cli_prints_the_output_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    code = main(
        ["--layout", "ml-1m", "--ratings", "300", "--seed", "1", "--out", str(out), "--users", "10", "--movies", "100"]
    )

    assert code == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert len({u for u, _, _, _ in read_ratings(out, Layout.ML_1M)}) == 10


def test_cli_sets_users_movies_and_ratings_per_user_independently(tmp_path: Path) -> None:
    out = tmp_path / "wide"
    code = main(["--layout", "ml-1m", "--ratings-per-user", "6", "--users", "400", "--movies", "20", "--out", str(out)])

    assert code == 0
    ratings = read_ratings(out, Layout.ML_1M)
    assert len(ratings) == 400 * 6
    assert len({u for u, _, _, _ in ratings}) == 400
    assert {m for _, m, _, _ in ratings} <= set(range(1, 21))


def test_cli_ratings_per_user_needs_users(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--layout", "csv", "--ratings-per-user", "5", "--out", str(tmp_path / "o")])


def test_cli_reports_invalid_sizes_with_exit_code(tmp_path: Path) -> None:
    assert main(["--layout", "csv", "--ratings", "0", "--out", str(tmp_path / "o")]) == 1


def test_sample_movies_gives_distinct_movies_even_to_heavy_users() -> None:
    popularity = 1.0 / (np.arange(200) + 5.0)
    want = np.array([100, 0, 1, 37])

    users, movies = sample_movies(np.random.default_rng(0), want, popularity / popularity.sum())

    assert np.bincount(users, minlength=4).tolist() == want.tolist()
    assert len(set(zip(users.tolist(), movies.tolist(), strict=True))) == len(users)


def test_progress_is_logged_in_tenths(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="movierec_dev.generate")
    generate_drop(tmp_path / "p", Layout.CSV, 200_000, n_users=2_000, n_movies=3_000)

    progress = [m for m in caplog.messages if m.startswith("generated ")]
    assert 5 <= len(progress) <= 11 and progress[-1] == "generated 200,000 / 200,000 ratings"
    assert "200,000 ratings by 2,000 users on 3,000 movies" in caplog.messages[-1]
