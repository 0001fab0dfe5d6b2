"""Ingest then preprocess, in this process on the test session: source paths and drops the jobs must cope with.

Faster than ``spark-submit`` (tests/jobs/test_jobs_submit.py) and enough here: what is tested is how the
jobs name and read files, not how they are submitted.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from movierec.core.errors import PipelineError
from movierec.data.layouts import Layout
from movierec.settings import IngestSettings, PreprocessSettings
from movierec_dev.generate import generate_drop

DS = "2026-03-01"
# A space, a literal %-escape and an escaped-looking name: each once broke the Hadoop paths (double escaping).
AWKWARD = "with space %41 %20"


@pytest.fixture
def jobs(spark):
    """The ingest and preprocess modules; the SQL settings preprocess sizes to its data are put back after."""
    import ingest
    import preprocess

    keys = ("spark.sql.shuffle.partitions", "spark.sql.adaptive.enabled")
    saved = {key: spark.conf.get(key) for key in keys}
    yield ingest, preprocess
    for key, value in saved.items():
        spark.conf.set(key, value)


def run_both(jobs, source: str, warehouse: Path) -> dict:
    """Ingest ``source`` and preprocess it; return the curated manifest."""
    ingest, preprocess = jobs
    root = "file://" + warehouse.as_posix()  # a warehouse URI as Hadoop reads it: unescaped
    ingest.ingest(IngestSettings(ds=DS, warehouse=root, source=source))
    preprocess.preprocess(PreprocessSettings(ds=DS, warehouse=root))
    return json.loads((warehouse / "curated" / f"ds={DS}" / "_manifest.json").read_text())


@pytest.mark.parametrize("form", ["folder", "zip", "file URI"])
def test_source_and_warehouse_paths_with_a_space_and_a_percent_sign(jobs, tmp_path, form, records):
    base = tmp_path / AWKWARD
    drop = generate_drop(base / "ml-100k", Layout.ML_100K, n_ratings=300, seed=5, zip_output=form == "zip")
    source = drop.as_uri() if form == "file URI" else str(drop)  # a file:// URI is escaped, a path is not

    manifest = run_both(jobs, source, base / "warehouse")

    raw = base / "warehouse" / "raw" / "movielens" / f"ds={DS}"
    copied = sorted(p.name for p in raw.iterdir() if not p.name.endswith(".crc"))
    assert copied == ["_fingerprint.json", "_manifest.json", "u.data", "u.item"]
    lines = (raw / "u.data").read_text().count("\n")
    counts = manifest["counts"]
    rejected = sum(counts["rejected"].values())
    records(kept=counts["ratings_kept"], rejected=rejected, lost=lines - counts["ratings_kept"] - rejected)
    assert counts["rating_lines"] == lines == 300 and counts["ratings_kept"] + rejected == lines


def test_ingest_names_the_symlinks_it_did_not_follow(jobs, tmp_path):
    ingest, _ = jobs
    elsewhere = generate_drop(tmp_path / "elsewhere", Layout.ML_100K, n_ratings=50, seed=5)
    drop = tmp_path / "drop"
    drop.mkdir()
    for name in ("u.data", "u.item"):
        (drop / name).symlink_to(elsewhere / name)
    warehouse = "file://" + (tmp_path / "warehouse").as_posix()

    with pytest.raises(PipelineError) as err:
        ingest.ingest(IngestSettings(ds=DS, warehouse=warehouse, source=str(drop)))

    message = str(err.value)
    assert f"skipped: u.data -> {elsewhere / 'u.data'} (points outside the drop)" in message
    assert f"u.item -> {elsewhere / 'u.item'} (points outside the drop)" in message
    assert "copy the files into the drop" in message
    assert not (tmp_path / "warehouse" / "raw").exists()


def reorder_columns(path: Path, order: list[str]) -> None:
    """Rewrite a csv file with its columns in ``order`` (header included)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, order, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.parametrize(
    ("file_name", "order"),
    [("ratings.csv", ["movieId", "userId", "rating", "timestamp"]), ("movies.csv", ["title", "genres", "movieId"])],
)
def test_csv_files_with_columns_in_another_order_are_read_by_name(jobs, tmp_path, records, file_name, order):
    drop = generate_drop(tmp_path / "ml-latest-small", Layout.CSV, n_ratings=300, seed=5)
    expected = pd.read_csv(drop / "ratings.csv")
    movies = pd.read_csv(drop / "movies.csv")
    reorder_columns(drop / file_name, order)

    manifest = run_both(jobs, str(drop), tmp_path / "warehouse")

    curated = tmp_path / "warehouse" / "curated" / f"ds={DS}"
    kept = pd.concat([pd.read_parquet(curated / "train"), pd.read_parquet(curated / "test")])
    rejected = sum(manifest["counts"]["rejected"].values())
    records(kept=len(kept), rejected=rejected, lost=len(expected) - len(kept) - rejected)
    as_read = sorted(zip(kept.user_id, kept.movie_id, kept.rating, strict=True))
    assert as_read == sorted(zip(expected.userId, expected.movieId, expected.rating, strict=True))
    assert rejected == 0  # the header line is skipped, not rejected
    titles = pd.read_parquet(curated / "movies").set_index("movie_id").title
    assert titles.to_dict() == dict(zip(movies.movieId, movies.title, strict=True))


def test_a_csv_header_naming_unknown_columns_stops_preprocess(jobs, tmp_path):
    drop = generate_drop(tmp_path / "ml-latest-small", Layout.CSV, n_ratings=100, seed=5)
    ratings = drop / "ratings.csv"
    ratings.write_text(ratings.read_text().replace("userId,movieId,", "user,movieId,", 1))

    with pytest.raises(PipelineError) as err:
        run_both(jobs, str(drop), tmp_path / "warehouse")

    assert str(err.value).startswith(
        "ratings.csv: header 'user,movieId,rating,timestamp' does not name the expected columns "
        "(unknown: user; missing: userId); expected userId,movieId,rating,timestamp (in any order)."
    )
    assert not (tmp_path / "warehouse" / "curated" / f"ds={DS}").exists()


def test_a_utf_16_ratings_file_stops_preprocess_saying_to_convert_it(jobs, tmp_path):
    drop = generate_drop(tmp_path / "ml-100k", Layout.ML_100K, n_ratings=100, seed=5)
    ratings = drop / "u.data"
    ratings.write_bytes(ratings.read_text().encode("utf-16"))  # what a Windows editor's "Unicode" saves

    with pytest.raises(PipelineError) as err:
        run_both(jobs, str(drop), tmp_path / "warehouse")

    message = str(err.value)
    assert message.startswith("u.data is UTF-16 (little-endian, with a byte-order mark), not UTF-8 text")
    assert "Convert it to UTF-8" in message
    assert not (tmp_path / "warehouse" / "curated" / f"ds={DS}").exists()


def test_invalid_utf_8_in_a_rejected_line_reads_back_with_its_bytes(jobs, tmp_path, records):
    drop = generate_drop(tmp_path / "ml-100k", Layout.ML_100K, n_ratings=100, seed=5)
    bad = b"1\t2\t\xff\t3"
    with (drop / "u.data").open("ab") as handle:
        handle.write(bad + b"\n")

    manifest = run_both(jobs, str(drop), tmp_path / "warehouse")

    rejected = pd.read_parquet(tmp_path / "warehouse" / "rejected" / f"ds={DS}")
    counts = manifest["counts"]
    records(kept=counts["ratings_kept"], rejected=len(rejected), lost=101 - counts["ratings_kept"] - len(rejected))
    row = rejected.set_index("line_no").loc[101]
    assert row["source_bytes"] == bad
    assert row["source_line"] == "1\t2\t\ufffd\t3"
    assert row["reason"] == "rating '\ufffd' is not a number"
