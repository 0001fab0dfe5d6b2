from __future__ import annotations

import pytest

from movierec.core.errors import PipelineError
from movierec.data.layouts import LAYOUTS, Layout
from movierec.data.ratings import (
    deduplicate,
    first_line,
    parse_ratings,
    read_lines,
    reject_unknown_movies,
    to_rejected,
)


def lines_df(spark, lines):
    return spark.createDataFrame([(v, i + 1) for i, v in enumerate(lines)], "value string, line_no long")


def parse(spark, layout, lines):
    header = lines[0].removeprefix("\ufeff") if lines else None  # as first_line() reads it
    ratings, rejected = parse_ratings(lines_df(spark, lines), LAYOUTS[layout], layout.value, "f", header=header)
    return ratings.orderBy("line_no").collect(), {r.line_no: r.reason for r in rejected.collect()}


def test_parses_100k_lines(spark):
    rows, rejected = parse(spark, Layout.ML_100K, ["196\t242\t3\t881250949", "186\t302\t3\t891717742"])
    assert rejected == {}
    assert [(r.user_id, r.movie_id, r.rating, r.line_no) for r in rows] == [(196, 242, 3.0, 1), (186, 302, 3.0, 2)]
    assert rows[0].rated_at.isoformat() == "1997-12-04T15:55:49"


def test_csv_tolerates_header_bom_crlf_and_trailing_empty_columns(spark, records):
    lines = ["\ufeffuserId,movieId,rating,timestamp", "1,31,2.5,1260759144\r", "1,1029,3.0,1260759179,,"]
    rows, rejected = parse(spark, Layout.CSV, lines)
    records(kept=len(rows), rejected=len(rejected), lost=2 - len(rows) - len(rejected))
    assert rejected == {}
    assert [(r.movie_id, r.rating) for r in rows] == [(31, 2.5), (1029, 3.0)]


def test_csv_columns_are_read_by_header_name_in_any_order(spark, records):
    lines = ["movieId,userId,timestamp,rating", "31,1,1260759144,2.5", "1029,7,1260759179,3.0"]
    rows, rejected = parse(spark, Layout.CSV, lines)
    records(kept=len(rows), rejected=len(rejected), lost=2 - len(rows) - len(rejected))
    assert rejected == {}
    assert [(r.user_id, r.movie_id, r.rating, r.line_no) for r in rows] == [(1, 31, 2.5, 2), (7, 1029, 3.0, 3)]


def test_csv_header_naming_other_columns_is_refused(spark):
    with pytest.raises(
        PipelineError,
        match=r"^f: header 'user,item,rating,timestamp' does not name .*"
        r"expected userId,movieId,rating,timestamp \(in any order\)",
    ):
        parse(spark, Layout.CSV, ["user,item,rating,timestamp", "1,31,2.5,1260759144"])


def test_first_line_of_a_files_head():
    assert first_line(b"\xef\xbb\xbfmovieId,userId\r\n1,2\r\n", "f") == "movieId,userId"
    assert first_line(b"userId,movie", "f") == "userId,movie"  # the head may end mid-line
    assert first_line(b"", "f") is None
    with pytest.raises(PipelineError, match=r"^ratings\.csv is UTF-16 .*Convert it to UTF-8"):
        first_line("userId,movieId,rating,timestamp\n".encode("utf-16"), "ratings.csv")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("1,2,3", "expected 4 fields"),
        ("oops", "expected 4 fields"),
        ("1,2,3,1260759144,x", "expected 4 fields"),
        ("a,2,3,1260759144", "user_id 'a' is not a positive integer"),
        ("1,-2,3,1260759144", "movie_id '-2' is not a positive integer"),
        ("1,2,abc,1260759144", "rating 'abc' is not a number"),
        ("1,2,NaN,1260759144", "rating 'NaN' is not finite"),
        ("1,2,Infinity,1260759144", "is not finite"),
        ("1,2,5.5,1260759144", "rating 5.5 outside the csv scale 0.5..5"),
        ("1,2,-1,1260759144", "outside the csv scale"),
        ("1,2,3.3,1260759144", "rating 3.3 is not a multiple of 0.5"),
        ("1,2,3,12", "timestamp '12' is not epoch seconds"),
        ("1,2,3,99999999999", "is not epoch seconds"),
        ("", "empty line"),
    ],
)
def test_rejects_malformed_csv_lines_with_reason(spark, line, reason, records):
    rows, rejected = parse(spark, Layout.CSV, ["userId,movieId,rating,timestamp", line])
    records(kept=len(rows), rejected=len(rejected), lost=1 - len(rows) - len(rejected))
    assert rows == []
    assert reason in rejected[2]


@pytest.mark.parametrize("user_id", ["2147483648", "99999999999999999999"])
def test_a_user_id_above_what_als_accepts_is_named_so(spark, user_id):
    rows, rejected = parse(spark, Layout.CSV, ["userId,movieId,rating,timestamp", f"{user_id},2,3,1260759144"])
    assert rows == []
    assert rejected[2] == (
        f"user_id '{user_id}' is above 2147483647 (2^31-1), the largest id Spark's ALS accepts; renumber the ids"
    )


# One grammar for ratings in every layout: digits, optionally a point and more digits.
ODD_RATINGS = ["4.5e0", "4e0", "+4", "4.", ".5", "4.5d"]


@pytest.mark.parametrize("layout", [Layout.ML_100K, Layout.ML_1M, Layout.ML_10M, Layout.CSV])
def test_one_rating_grammar_in_every_layout(spark, layout, records):
    spec, odd = LAYOUTS[layout], ODD_RATINGS
    plain = ["4", "4.0", "04", "3.0000"]
    header = ["userId,movieId,rating,timestamp"] if spec.header else []
    lines = header + [spec.ratings_sep.join(["1", str(i + 2), r, "1260759144"]) for i, r in enumerate(plain + odd)]
    rows, rejected = parse(spark, layout, lines)
    first = len(header) + 1
    records(kept=len(rows), rejected=len(rejected), lost=len(plain + odd) - len(rows) - len(rejected))
    assert [r.rating for r in rows] == [4.0, 4.0, 4.0, 3.0]
    assert {n - first - len(plain): reason for n, reason in rejected.items()} == {
        i: f"rating '{r}' is not a plain decimal number (digits, optionally a point and digits: 4, 3.5)"
        for i, r in enumerate(odd)
    }


def test_rejected_rows_keep_file_and_source_line(spark, records):
    kept, rejected = parse_ratings(
        lines_df(spark, ["1::2::9::978300760"]), LAYOUTS[Layout.ML_1M], "ml-1m", "ratings.dat"
    )
    counts = (kept.count(), rejected.count())
    records(kept=counts[0], rejected=counts[1], lost=1 - sum(counts))
    row = rejected.first()
    assert (row.source_file, row.line_no, row.source_line) == ("ratings.dat", 1, "1::2::9::978300760")
    assert "outside the ml-1m scale 1..5" in row.reason


def test_read_lines_numbers_lines_across_partitions(spark, tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("".join(f"line {i}\n" for i in range(1, 2001)))
    spark.conf.set("spark.sql.files.maxPartitionBytes", "1000")
    try:
        df, n = read_lines(spark, str(path))
        assert df.rdd.getNumPartitions() > 5
        rows = df.collect()
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert len(rows) == n == 2000
    assert all(r.value == f"line {r.line_no}" for r in rows)


def test_read_lines_of_a_small_file_counts_its_lines(spark, tmp_path):
    path = tmp_path / "small.txt"
    path.write_text("".join(f"line {i}\n" for i in range(1, 301)))
    df, n = read_lines(spark, str(path))
    rows = df.collect()
    assert n == 300 and [r.line_no for r in rows] == list(range(1, 301))
    assert all(r.value == f"line {r.line_no}" for r in rows)


def test_unknown_movies_and_duplicates_are_rejected_with_reason(spark, records):
    lines = ["1\t10\t3\t881250949", "1\t10\t5\t881250950", "1\t99\t4\t881250949", "2\t10\t4\t881250949"]
    src = lines_df(spark, lines)
    ratings, _ = parse_ratings(src, LAYOUTS[Layout.ML_100K], "ml-100k", "u.data")
    kept, unknown = reject_unknown_movies(ratings, spark.createDataFrame([(10,)], "movie_id int"), "u.item")
    kept, dups = deduplicate(kept)
    assert sorted((r.user_id, r.movie_id, r.rating) for r in kept.collect()) == [(1, 10, 5.0), (2, 10, 4.0)]
    rejected = {r.line_no: r.reason for r in to_rejected(unknown.unionByName(dups), src, "u.data").collect()}
    records(kept=kept.count(), rejected=len(rejected), lost=len(lines) - kept.count() - len(rejected))
    assert rejected == {
        3: "movie_id 99 is not in u.item",
        1: "duplicate rating of user 1 for movie 10; the later one at line 2 is kept",
    }


def test_truncated_file_keeps_whole_lines_and_rejects_the_cut_one(spark, tmp_path, records):
    whole = ["196\t242\t3\t881250949", "186\t302\t3\t891717742"]
    path = tmp_path / "u.data"
    path.write_text("\n".join(whole) + "\n22\t37")  # the transfer stopped mid-line
    lines, _ = read_lines(spark, str(path))
    ratings, rejected = parse_ratings(lines, LAYOUTS[Layout.ML_100K], "ml-100k", "u.data")
    kept = ratings.count()
    reasons = {(r.source_file, r.line_no): (r.source_line, r.reason) for r in rejected.collect()}
    records(kept=kept, rejected=len(reasons), lost=3 - kept - len(reasons))
    assert kept == 2
    assert list(reasons) == [("u.data", 3)]
    assert reasons["u.data", 3][0] == "22\t37" and "expected 4 fields" in reasons["u.data", 3][1]


def test_an_empty_ratings_file_stops_preprocess_with_the_reason():
    from preprocess import check_rejected_share

    with pytest.raises(PipelineError, match=r"the ratings file is empty \(0 lines\); nothing to train on.*rejected"):
        check_rejected_share(0, 0, 0.1, "file:///wh/rejected/ds=2026-01-01")
