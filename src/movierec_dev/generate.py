"""Synthetic MovieLens drops in the official file layouts, with planted structure.

The GroupLens licence forbids redistributing MovieLens, so tests, demos and
load tests use drops made here instead. They copy what the ingest jobs must
cope with: file names, separators, encodings (Latin-1 ``u.item`` with accented
titles), rating scales, quoted CSV titles containing commas and quotes, titles
containing ``:`` in the ``::`` layouts, and the blank last line of ``u.genre``.

Ratings come from a biased matrix-factorisation model, so a recommender has
something to learn::

    rating = clip(round_to_scale(mu + b_u + b_i + p_u . q_i + eps))

with ``mu = 3.5``, ``b_u ~ N(0, 0.3^2)``, ``b_i ~ N(0, 0.5^2)``, factor entries
``~ N(0, 1/sqrt(rank))`` (so ``p_u . q_i`` has unit variance whatever the rank)
and ``eps ~ N(0, noise^2)``. :func:`planted_model` rebuilds these parameters
from the same arguments, for tests that check what a model recovers.

Who rates what is long-tailed like the real data: movie popularity is
Zipf-like, ``1 / (r + 5)`` for the movie of popularity rank ``r`` (ranks are a
random permutation of ids), and user activity is lognormal with every user
getting at least 5 ratings when ``n_ratings`` allows. No (user, movie) pair
repeats. Timestamps are uniform over 213 days (about 7 months) from ``start``.

When not given, sizes follow MovieLens proportions, with ``s = n_ratings / 100_000``::

    n_users  = max(20, round(943 * s ** 0.8))
    n_movies = max(30, round(1682 * s ** 0.6))

which gives ml-100k's 943 users and 1,682 movies at 100k ratings, about 5,950
users (ml-1m: 6,040) at 1M and about 78,000 users and 46,000 movies at 25M
(ml-25m: 162,541 and 59,047).

Generation works on blocks of users (about a million ratings each) with numpy
and appends each block to the file, so memory stays bounded at any size.

Outputs: a folder ``dest`` holding the layout's files, or ``<dest>.zip`` whose
entries sit under a top folder ``<dest name>/`` like the GroupLens zips.

The planted model, the sampling and the per-layout writers are one reproducible pipeline
keyed by one seed; a developer tool, never shipped to Spark.
"""

from __future__ import annotations

import argparse
import csv
import logging
import shutil
import sys
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from movierec.core.errors import PipelineError
from movierec.data.layouts import GENRES_100K, LAYOUTS, Layout, LayoutSpec

logger = logging.getLogger(__name__)

DEFAULT_START = datetime(1997, 9, 20, tzinfo=UTC)
SPAN_SECONDS = 213 * 24 * 3600  # about 7 months, like ml-100k

GLOBAL_MEAN = 3.5
USER_BIAS_SD = 0.3
MOVIE_BIAS_SD = 0.5
ACTIVITY_SIGMA = 1.0  # lognormal sigma: mean/median of ratings per user ~1.6, as in ml-100k
POPULARITY_OFFSET = 5.0
MIN_PER_USER = 5
MAX_DENSITY = 0.5  # no user rates more than half the catalogue
BLOCK_RATINGS = 1_000_000
MAX_ROUNDS = 30

# Independent random streams, so that e.g. the catalogue does not change
# when only the number of ratings does.
_STREAMS = ("model", "activity", "sampling", "catalogue")

# The 18 real genres (without "unknown"), with rough MovieLens frequencies.
_GENRES = GENRES_100K[1:]
_GENRE_WEIGHTS = np.array([9, 6, 2, 3, 15, 5, 2, 20, 2, 1, 4, 2, 3, 6, 4, 9, 2, 1], dtype=float)
_N_GENRES_P = (0.02, 0.5, 0.33, 0.15)  # P(a movie has 0, 1, 2, 3 genres)

_ADJECTIVES = tuple(
    "Silent Last Golden Broken Hidden Lost Midnight Crimson Wild Little Secret Frozen Distant "
    "Electric Summer Dark Bright Long Quiet Final".split()
)
_NOUNS = tuple(
    "River Garden Kingdom Detective Letter Horizon Mirror Road Island Promise Storm Stranger "
    "Orchard Harbour Machine Dream Winter City Witness Journey".split()
)
# Latin-1 words, so that Latin-1 and UTF-8 layouts both get non-ASCII titles.
_ACCENTED = ("Café", "Señor", "Amélie", "Château", "Über", "Noël", "Fiancée", "Façade")
_TITLE_PATTERNS = (
    "{adj} {noun}",
    "{noun}, The",  # comma: quoted in movies.csv
    "{noun} of the {noun2}",
    "{accented} {noun}",
    "{noun}: {adj} {noun2}",  # colon: must not break '::' splitting
    '"{noun}" {adj} {noun2}',  # embedded quotes: doubled in movies.csv
)
_TITLE_P = (0.4, 0.15, 0.15, 0.1, 0.15, 0.05)


@dataclass(frozen=True)
class PlantedModel:
    """The hidden parameters ratings are drawn from; index ``i`` is id ``i + 1``.

    Attributes:
        global_mean: mean rating before biases.
        user_bias: bias per user, shape (n_users,).
        movie_bias: bias per movie, shape (n_movies,).
        user_factors: latent factors, shape (n_users, rank).
        movie_factors: latent factors, shape (n_movies, rank).
        popularity: probability of drawing each movie, shape (n_movies,).
    """

    global_mean: float
    user_bias: np.ndarray
    movie_bias: np.ndarray
    user_factors: np.ndarray
    movie_factors: np.ndarray
    popularity: np.ndarray


def default_sizes(n_ratings: int) -> tuple[int, int]:
    """Return (n_users, n_movies) in MovieLens proportions for ``n_ratings``."""
    scale = n_ratings / 100_000
    return max(20, round(943 * scale**0.8)), max(30, round(1682 * scale**0.6))


def planted_model(n_users: int, n_movies: int, rank: int = 8, seed: int = 0) -> PlantedModel:
    """Build the planted parameters that :func:`generate_drop` uses for these arguments.

    Args:
        n_users: number of users.
        n_movies: number of movies.
        rank: dimension of the latent factors.
        seed: the seed given to :func:`generate_drop`.

    Returns:
        The parameters, identical to those behind a drop with the same arguments.
    """
    rng = _rng(seed, "model")
    factor_sd = rank**-0.25  # variance 1/sqrt(rank) per entry: p.q has unit variance
    user_factors = rng.normal(0.0, factor_sd, (n_users, rank)).astype(np.float32)
    movie_factors = rng.normal(0.0, factor_sd, (n_movies, rank)).astype(np.float32)
    user_bias = rng.normal(0.0, USER_BIAS_SD, n_users)
    movie_bias = rng.normal(0.0, MOVIE_BIAS_SD, n_movies)
    popularity = np.empty(n_movies)
    popularity[rng.permutation(n_movies)] = 1.0 / (np.arange(n_movies) + POPULARITY_OFFSET)
    popularity /= popularity.sum()
    return PlantedModel(GLOBAL_MEAN, user_bias, movie_bias, user_factors, movie_factors, popularity)


def generate_drop(
    dest: str | Path,
    layout: Layout,
    n_ratings: int,
    seed: int = 0,
    n_users: int | None = None,
    n_movies: int | None = None,
    rank: int = 8,
    noise: float = 0.5,
    start: datetime | None = None,
    zip_output: bool = False,
) -> Path:
    """Write a synthetic MovieLens drop in ``layout`` to ``dest``.

    Args:
        dest: folder to create; it must not exist yet. With ``zip_output``
            the result is ``<dest>.zip`` instead and no folder remains.
        layout: which official layout to imitate.
        n_ratings: number of ratings to generate.
        seed: seed of every random draw; same arguments give identical bytes.
        n_users: number of users; MovieLens proportions when None.
        n_movies: number of movies; MovieLens proportions when None.
        rank: dimension of the planted latent factors.
        noise: standard deviation of the per-rating Gaussian noise.
        start: first possible timestamp (naive means UTC); 1997-09-20 if None.
        zip_output: write a zip with a top folder, like GroupLens downloads.

    Returns:
        The folder, or the zip when ``zip_output`` is set.

    Raises:
        PipelineError: if an argument is out of range or the output exists.

    Notes:
        The count is exact unless users would need more distinct movies than
        sampling finds in its rounds; the summary line logs the actual count.
    """
    layout = Layout(layout)
    dest = Path(dest)
    default_users, default_movies = default_sizes(n_ratings) if n_ratings > 0 else (1, 1)
    n_users = default_users if n_users is None else n_users
    n_movies = default_movies if n_movies is None else n_movies
    start = DEFAULT_START if start is None else start
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    _validate(n_ratings, seed, n_users, n_movies, rank, noise)
    target = dest.with_name(dest.name + ".zip") if zip_output else dest
    if target.exists():
        raise PipelineError(f"output {target} already exists; delete it or choose another destination")

    began = time.monotonic()
    staging = dest.with_name(f".{dest.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)  # left over from an interrupted run
    staging.mkdir(parents=True)
    try:
        written = _write_files(staging, layout, n_ratings, seed, n_users, n_movies, rank, noise, int(start.timestamp()))
        if zip_output:
            _zip_folder(staging, target, top=dest.name)
            shutil.rmtree(staging)
        else:
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info(
        "wrote %s (%s): %s ratings by %s users on %s movies in %.1f s",
        target,
        layout.value,
        f"{written:,}",
        f"{n_users:,}",
        f"{n_movies:,}",
        time.monotonic() - began,
    )
    return target


def _validate(n_ratings: int, seed: int, n_users: int, n_movies: int, rank: int, noise: float) -> None:
    """Raise PipelineError naming the first argument out of range."""
    checks = (
        (n_ratings >= 1, "n_ratings", n_ratings, "at least 1"),
        (seed >= 0, "seed", seed, "a non-negative integer"),
        (n_users >= 1, "n_users", n_users, "at least 1"),
        (n_movies >= 1, "n_movies", n_movies, "at least 1"),
        (rank >= 1, "rank", rank, "at least 1"),
        (noise >= 0, "noise", noise, "non-negative"),
    )
    for ok, name, value, expected in checks:
        if not ok:
            raise PipelineError(f"{name}={value} is invalid: expected {expected}")
    capacity = n_users * _per_user_cap(n_movies)
    if n_ratings > capacity:
        raise PipelineError(
            f"n_ratings={n_ratings:,} exceeds the {capacity:,} distinct pairs allowed by "
            f"n_users={n_users:,} and n_movies={n_movies:,} (each user rates at most half "
            "the movies); raise n_users or n_movies, or lower n_ratings"
        )


def _per_user_cap(n_movies: int) -> int:
    return max(1, int(np.ceil(n_movies * MAX_DENSITY)))


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAMS.index(stream)])


def _write_files(
    folder: Path,
    layout: Layout,
    n_ratings: int,
    seed: int,
    n_users: int,
    n_movies: int,
    rank: int,
    noise: float,
    start_ts: int,
) -> int:
    """Write the ratings and movies files of ``layout``; return the ratings written."""
    spec = LAYOUTS[layout]
    model = planted_model(n_users, n_movies, rank, seed)
    counts = plan_counts(_rng(seed, "activity"), n_ratings, n_users, _per_user_cap(n_movies))
    written = _write_ratings(folder / spec.ratings_file, layout, model, counts, noise, start_ts, _rng(seed, "sampling"))
    year = datetime.fromtimestamp(start_ts, UTC).year
    movies = _catalogue(_rng(seed, "catalogue"), n_movies, year, layout)
    _write_movies(folder / spec.movies_file, layout, movies)
    if layout is Layout.ML_100K:
        _write_genre_file(folder / "u.genre")
    return written


def plan_counts(rng: np.random.Generator, n_ratings: int, n_users: int, cap: int) -> np.ndarray:
    """Split ``n_ratings`` over users: a floor of 5 each, the rest by lognormal activity.

    Args:
        rng: random stream.
        n_ratings: total to split.
        n_users: number of users.
        cap: most ratings any one user may get.

    Returns:
        Ratings per user, summing to ``n_ratings`` when ``n_users * cap`` allows.
    """
    floor = min(MIN_PER_USER, n_ratings // n_users, cap)
    activity = rng.lognormal(0.0, ACTIVITY_SIGMA, n_users)
    counts = floor + rng.multinomial(n_ratings - floor * n_users, activity / activity.sum())
    for _ in range(MAX_ROUNDS):
        excess = int(np.maximum(counts - cap, 0).sum())
        if excess == 0:
            break
        np.minimum(counts, cap, out=counts)
        room = counts < cap
        counts[room] += rng.multinomial(excess, activity[room] / activity[room].sum())
    return counts


def _user_blocks(counts: np.ndarray, block: int) -> list[tuple[int, int]]:
    """Split users into consecutive [lo, hi) blocks of about ``block`` ratings."""
    cumulative = np.cumsum(counts)
    cuts = np.searchsorted(cumulative, np.arange(block, cumulative[-1], block)) + 1
    bounds = np.unique(np.concatenate(([0], cuts, [len(counts)])))
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))


def sample_movies(rng: np.random.Generator, want: np.ndarray, popularity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``want[k]`` distinct movies for each local user ``k`` by popularity.

    Each user keeps the first distinct movies of an i.i.d. popularity stream,
    which is successive sampling without replacement. Duplicates are removed
    with one ``np.unique`` over ``user * n_movies + movie`` per round, and
    users left short draw again.

    Args:
        rng: random stream.
        want: distinct movies wanted per user.
        popularity: probability of each movie.

    Returns:
        (users, movies) as 0-based indices, grouped by user; a user gets fewer
        than wanted only if MAX_ROUNDS rounds did not find enough.
    """
    n_movies = len(popularity)
    cdf = np.cumsum(popularity)
    cdf[-1] = 1.0
    users = np.empty(0, np.int64)
    movies = np.empty(0, np.int64)
    have = np.zeros_like(want)
    for round_no in range(MAX_ROUNDS):
        need = want - have
        if not need.any():
            break
        draws = np.where(need > 0, need + need // 4 + 2, 0)
        new_users = np.repeat(np.arange(len(want)), draws)
        uniform = rng.random(new_users.size)
        # Heavy users exhaust the popular head; waiting for tail movies under
        # Zipf would take many rounds, so later rounds draw uniformly.
        if round_no < 2:
            new_movies = np.searchsorted(cdf, uniform, side="right")
        else:
            new_movies = (uniform * n_movies).astype(np.int64)
        users = np.concatenate([users, new_users])
        movies = np.concatenate([movies, new_movies])
        _, first = np.unique(users * n_movies + movies, return_index=True)
        first.sort()  # back to draw order, so truncation keeps the earliest draws
        order = np.argsort(users[first], kind="stable")
        users, movies = users[first][order], movies[first][order]
        group_start = np.concatenate(([0], np.cumsum(np.bincount(users, minlength=len(want)))))
        keep = np.arange(len(users)) - group_start[users] < want[users]
        users, movies = users[keep], movies[keep]
        have = np.bincount(users, minlength=len(want))
    return users, movies


def _rate(
    rng: np.random.Generator, model: PlantedModel, users: np.ndarray, movies: np.ndarray, noise: float, spec: LayoutSpec
) -> np.ndarray:
    """Return the step index (0 = lowest rating) of each planted rating."""
    raw = (
        model.global_mean
        + model.user_bias[users]
        + model.movie_bias[movies]
        + np.einsum("ij,ij->i", model.user_factors[users], model.movie_factors[movies])
        + noise * rng.standard_normal(len(users))
    )
    steps = np.rint((raw - spec.min_rating) / spec.rating_step)
    top = round((spec.max_rating - spec.min_rating) / spec.rating_step)
    return np.clip(steps, 0, top).astype(np.int64)


def _rating_labels(layout: Layout) -> np.ndarray:
    """Text of each rating step as the layout writes it: '4', '3.5' or '4.0'."""
    spec = LAYOUTS[layout]
    values = np.arange(spec.min_rating, spec.max_rating + spec.rating_step / 2, spec.rating_step)
    if layout is Layout.CSV:
        labels = [f"{v:.1f}" for v in values]
    else:
        labels = [f"{v:g}" for v in values]  # ratings.dat writes 4 and 3.5
    return np.array(labels, dtype=object)


def _write_ratings(
    path: Path,
    layout: Layout,
    model: PlantedModel,
    counts: np.ndarray,
    noise: float,
    start_ts: int,
    rng: np.random.Generator,
) -> int:
    """Generate ratings block by block and append them to ``path``."""
    spec = LAYOUTS[layout]
    labels = _rating_labels(layout)
    n_movies = len(model.popularity)
    total = int(counts.sum())
    block = min(BLOCK_RATINGS, max(10_000, total // 20))
    written, next_log = 0, total / 10
    with path.open("w", encoding="ascii", newline="") as out:
        if spec.header:
            out.write("userId,movieId,rating,timestamp\n")
        for lo, hi in _user_blocks(counts, block):
            users, movies = sample_movies(rng, counts[lo:hi], model.popularity)
            users += lo
            steps = _rate(rng, model, users, movies, noise, spec)
            stamps = start_ts + rng.integers(0, SPAN_SECONDS, len(users))
            # u.data is unordered; the other releases are sorted by user then movie.
            if layout is Layout.ML_100K:
                order = rng.permutation(len(users))
            else:
                order = np.argsort(users * n_movies + movies, kind="stable")
            frame = pd.DataFrame(
                {
                    "user": users[order] + 1,
                    "movie": movies[order] + 1,
                    "rating": labels[steps[order]],
                    "ts": stamps[order],
                }
            )
            out.write(_format_rows(frame, spec.ratings_sep))
            written += len(frame)
            if written >= next_log:
                logger.info("generated %s / %s ratings", f"{written:,}", f"{total:,}")
                next_log = (written // (total / 10) + 1) * (total / 10)
    return written


def _format_rows(frame: pd.DataFrame, sep: str) -> str:
    """Render rows without header; pandas only takes one-character separators."""
    text = frame.to_csv(sep="\t", header=False, index=False, lineterminator="\n")
    return text if sep == "\t" else text.replace("\t", sep)


@dataclass(frozen=True)
class _Movie:
    movie_id: int
    title: str
    year: int
    genres: tuple[int, ...]  # indices into _GENRES, ascending


def _catalogue(rng: np.random.Generator, n_movies: int, last_year: int, layout: Layout) -> list[_Movie]:
    """Invent titles, years and genres for ``n_movies`` movies."""
    patterns = rng.choice(len(_TITLE_PATTERNS), n_movies, p=_TITLE_P)
    # Even tiny drops must exercise CSV quoting and non-ASCII decoding.
    patterns[:2] = [1, 3][:n_movies]
    words = rng.integers(0, 1 << 30, (n_movies, 4))
    ages = np.minimum(rng.exponential(10.0, n_movies).astype(int), 80)
    n_genres = rng.choice(len(_N_GENRES_P), n_movies, p=_N_GENRES_P)
    if layout is Layout.ML_1M:
        n_genres = np.maximum(n_genres, 1)  # ml-1m has no genre-less movie
    movies = []
    for i in range(n_movies):
        adj, noun, noun2, accented = words[i]
        title = _TITLE_PATTERNS[patterns[i]].format(
            adj=_ADJECTIVES[adj % len(_ADJECTIVES)],
            noun=_NOUNS[noun % len(_NOUNS)],
            noun2=_NOUNS[noun2 % len(_NOUNS)],
            accented=_ACCENTED[accented % len(_ACCENTED)],
        )
        year = last_year - int(ages[i])
        genres = rng.choice(len(_GENRES), n_genres[i], replace=False, p=_GENRE_WEIGHTS / _GENRE_WEIGHTS.sum())
        movies.append(_Movie(i + 1, f"{title} ({year})", year, tuple(sorted(genres.tolist()))))
    return movies


def _genre_names(layout: Layout) -> tuple[str, ...]:
    """Genre names as the layout spells them (the 10M-era files say 'Children')."""
    if layout in (Layout.ML_10M, Layout.CSV):
        return tuple("Children" if g == "Children's" else g for g in _GENRES)
    return _GENRES


def _write_movies(path: Path, layout: Layout, movies: list[_Movie]) -> None:
    """Write the catalogue in the layout's format and encoding."""
    names = _genre_names(layout)
    encoding = LAYOUTS[layout].movies_encoding
    with path.open("w", encoding=encoding, newline="") as out:
        if layout is Layout.ML_100K:
            for m in movies:
                flags = ["0"] * len(GENRES_100K)
                for g in m.genres or (-1,):  # -1 + 1 sets the "unknown" flag
                    flags[g + 1] = "1"
                out.write(
                    f"{m.movie_id}|{m.title}|01-Jan-{m.year}||"
                    f"http://example.invalid/title/{m.movie_id}|{'|'.join(flags)}\n"
                )
        elif layout is Layout.CSV:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["movieId", "title", "genres"])
            for m in movies:
                writer.writerow([m.movie_id, m.title, _genre_text(m, names)])
        else:
            for m in movies:
                out.write(f"{m.movie_id}::{m.title}::{_genre_text(m, names)}\n")


def _genre_text(movie: _Movie, names: tuple[str, ...]) -> str:
    return "|".join(names[g] for g in movie.genres) or "(no genres listed)"


def _write_genre_file(path: Path) -> None:
    """Write ml-100k's u.genre, including its real blank last line."""
    lines = [f"{name}|{i}\n" for i, name in enumerate(GENRES_100K)]
    path.write_text("".join(lines) + "\n", encoding="latin-1")


def _zip_folder(folder: Path, target: Path, top: str) -> None:
    """Zip ``folder``'s files under ``top/``, byte-identical across runs."""
    fixed_time = (1980, 1, 1, 0, 0, 0)  # file mtimes would make every zip differ
    partial = target.with_name(target.name + ".part")
    with zipfile.ZipFile(partial, "w") as archive:
        top_entry = zipfile.ZipInfo(f"{top}/", fixed_time)
        top_entry.external_attr = (0o40755 << 16) | 0x10
        archive.writestr(top_entry, b"")
        for path in sorted(folder.iterdir()):
            entry = zipfile.ZipInfo(f"{top}/{path.name}", fixed_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            entry.file_size = path.stat().st_size  # lets zipfile pick zip64 when needed
            with path.open("rb") as src, archive.open(entry, "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    partial.replace(target)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m movierec_dev.generate --layout csv --ratings N --out DIR``."""
    parser = argparse.ArgumentParser(
        prog="python -m movierec_dev.generate",
        description="Write a synthetic MovieLens drop in an official layout.",
    )
    parser.add_argument("--layout", required=True, choices=[lay.value for lay in Layout])
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--ratings", type=int, help="number of ratings")
    size.add_argument(
        "--ratings-per-user",
        type=int,
        help="mean ratings per user (needs --users): users, movies and activity set independently",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, type=Path, help="folder to create")
    parser.add_argument("--users", type=int, help="default: MovieLens proportions")
    parser.add_argument("--movies", type=int, help="default: MovieLens proportions")
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--noise", type=float, default=0.5)
    parser.add_argument("--zip", action="store_true", help="write <out>.zip instead")
    args = parser.parse_args(argv)
    if args.ratings_per_user is not None:
        if args.users is None:
            parser.error("--ratings-per-user needs --users")
        args.ratings = args.users * args.ratings_per_user
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        path = generate_drop(
            args.out,
            Layout(args.layout),
            args.ratings,
            seed=args.seed,
            n_users=args.users,
            n_movies=args.movies,
            rank=args.rank,
            noise=args.noise,
            zip_output=args.zip,
        )
    except PipelineError as exc:
        logger.error("%s", exc)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
