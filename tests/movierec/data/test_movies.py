"""Tests for movierec.movies: parsing u.item, movies.dat and movies.csv.

Every sample is written by hand here, in the format of the real files.
"""

from __future__ import annotations

import pytest

from movierec.core.errors import PipelineError
from movierec.data.movies import MovieRow, Rejected, parse_movies
from movierec.data.layouts import GENRES_100K, Layout

NO_FLAGS = ["0"] * len(GENRES_100K)


def item_line(
    movie_id: str,
    title: str,
    release: str = "01-Jan-1995",
    genres: tuple[str, ...] = (),
    flags: list[str] | None = None,
) -> str:
    """One u.item line with the given genres flagged (or explicit flags)."""
    if flags is None:
        flags = ["1" if name in genres else "0" for name in GENRES_100K]
    url = "http://us.imdb.com/M/title-exact?x"
    return "|".join([movie_id, title, release, "", url, *flags])


def item_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("latin-1")


def rejection(rejected: list[Rejected]) -> list[tuple[int, str]]:
    return [(r.line_no, r.reason) for r in rejected]


# --- ml-100k: u.item ------------------------------------------------------


def test_item_parses_title_year_and_genre_flags() -> None:
    data = item_bytes(
        item_line("1", "Toy Story (1995)", genres=("Animation", "Children's", "Comedy")),
        item_line("2", "GoldenEye (1995)", genres=("Action", "Adventure", "Thriller")),
    )
    rows, rejected = parse_movies(data, Layout.ML_100K, "u.item")
    assert rows == [
        MovieRow(1, "Toy Story (1995)", 1995, ["Animation", "Children's", "Comedy"]),
        MovieRow(2, "GoldenEye (1995)", 1995, ["Action", "Adventure", "Thriller"]),
    ]
    assert rejected == []


def test_item_decodes_latin_1() -> None:
    data = item_line("7", "Caf\xe9 Society (1995)", genres=("Drama",)).encode("latin-1")
    assert b"Caf\xe9" in data
    rows, _ = parse_movies(data, Layout.ML_100K, "u.item")
    assert rows[0].title == "Café Society (1995)"


def test_item_latin_1_byte_0x85_is_not_a_line_break() -> None:
    data = item_line("7", "A\x85B (1995)").encode("latin-1")
    rows, rejected = parse_movies(data, Layout.ML_100K, "u.item")
    assert [r.title for r in rows] == ["A\x85B (1995)"]
    assert rejected == []


def test_item_unknown_flag_alone_means_no_genres() -> None:
    data = item_bytes(item_line("267", "unknown", release="", genres=("unknown",)))
    rows, _ = parse_movies(data, Layout.ML_100K, "u.item")
    assert rows == [MovieRow(267, "unknown", None, [])]


def test_item_title_with_trailing_space_keeps_year() -> None:
    rows, _ = parse_movies(item_bytes(item_line("1635", "Two Friends (1986) ")), Layout.ML_100K, "u.item")
    assert rows == [MovieRow(1635, "Two Friends (1986)", 1986, [])]


def test_item_title_without_year_uses_release_date_year() -> None:
    data = item_bytes(item_line("1412", "Land Before Time III (1995) (V)", release="4-Feb-1996"))
    rows, _ = parse_movies(data, Layout.ML_100K, "u.item")
    assert rows == [MovieRow(1412, "Land Before Time III (1995) (V)", 1996, [])]


def test_item_title_year_wins_over_release_date() -> None:
    data = item_bytes(item_line("10", "Richard III (1995)", release="22-Jan-1996"))
    assert parse_movies(data, Layout.ML_100K, "u.item")[0][0].year == 1995


def test_item_rejections_name_line_and_reason() -> None:
    bad_flags = NO_FLAGS.copy()
    bad_flags[3] = "2"
    data = item_bytes(
        item_line("1", "Toy Story (1995)"),
        "2|GoldenEye (1995)|01-Jan-1995",
        item_line("abc", "Four Rooms (1995)"),
        item_line("4", "   "),
        item_line("5", "Copycat (1995)", flags=bad_flags),
        item_line("6", "Shanghai Triad (1995)", release="1995-01-01"),
        item_line("1", "Toy Story again (1995)"),
        item_line("-8", "Babe (1995)"),
    )
    rows, rejected = parse_movies(data, Layout.ML_100K, "ml-100k/u.item")
    assert [r.movie_id for r in rows] == [1]
    assert rejection(rejected) == [
        (2, "expected 24 fields, found 3"),
        (3, "movie_id 'abc' is not a positive integer"),
        (4, "empty title"),
        (5, "genre flag 3 (Animation) is '2', expected 0 or 1"),
        (6, "release date '1995-01-01' is not like 01-Jan-1995"),
        (7, "duplicate movie_id 1 (first at line 1)"),
        (8, "movie_id '-8' is not a positive integer"),
    ]
    assert rejected[0] == Rejected(
        "ml-100k/u.item", 2, "2|GoldenEye (1995)|01-Jan-1995", b"2|GoldenEye (1995)|01-Jan-1995",
        "expected 24 fields, found 3",
    )


def test_dat_1m_latin_1() -> None:
    data = b"1::Toy Story (1995)::Animation|Children's|Comedy\n73::Mis\xe9rables, Les (1995)::Drama|War\n"
    rows, rejected = parse_movies(data, Layout.ML_1M, "movies.dat")
    assert rows == [
        MovieRow(1, "Toy Story (1995)", 1995, ["Animation", "Children's", "Comedy"]),
        MovieRow(73, "Misérables, Les (1995)", 1995, ["Drama", "War"]),
    ]
    assert rejected == []


def test_dat_10m_utf_8_and_colons_in_titles() -> None:
    data = (
        "1::Star Wars: Episode IV - A New Hope (1977)::Action|Sci-Fi\n"
        "2::Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)::Comedy|Romance\n"
        "3::Nothing (2003)::(no genres listed)\n"
    ).encode()
    rows, rejected = parse_movies(data, Layout.ML_10M, "movies.dat")
    assert rows == [
        MovieRow(1, "Star Wars: Episode IV - A New Hope (1977)", 1977, ["Action", "Sci-Fi"]),
        MovieRow(2, "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)", 2001, ["Comedy", "Romance"]),
        MovieRow(3, "Nothing (2003)", 2003, []),
    ]
    assert rejected == []


def test_dat_title_ending_in_colon_keeps_it() -> None:
    rows, _ = parse_movies(b"5::Foo:::Drama\n", Layout.ML_10M, "movies.dat")
    assert rows[0] == MovieRow(5, "Foo:", None, ["Drama"])


def test_dat_rejections() -> None:
    data = (
        b"1::Toy Story (1995)::Comedy\n"
        b"2::Jumanji (1995)\n"
        b"x1::Heat (1995)::Action\n"
        b"4::::Drama\n"
        b"1::Dup (1995)::Drama\n"
    )
    rows, rejected = parse_movies(data, Layout.ML_1M, "movies.dat")
    assert [r.movie_id for r in rows] == [1]
    assert rejection(rejected) == [
        (2, "expected 3 fields, found 2"),
        (3, "movie_id 'x1' is not a positive integer"),
        (4, "empty title"),
        (5, "duplicate movie_id 1 (first at line 1)"),
    ]


def test_dat_10m_rejects_invalid_utf_8_naming_file_and_offset() -> None:
    data = b"1::Toy Story (1995)::Comedy\n2::Caf\xe9 (1995)::Drama\n"
    with pytest.raises(PipelineError) as err:
        parse_movies(data, Layout.ML_10M, "ml-10M100K/movies.dat")
    message = str(err.value)
    assert message.startswith("ml-10M100K/movies.dat: cannot decode")
    assert "byte offset 34 (line 2)" in message
    assert "utf-8" in message


# --- csv: movies.csv --------------------------------------------------------


CSV_HEADER = "movieId,title,genres"


def test_csv_header_quoted_titles_and_no_genres() -> None:
    data = (
        f"{CSV_HEADER}\n"
        "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
        '11,"American President, The (1995)",Comedy|Drama|Romance\n'
        '12,"Dracula: Dead and Loving It (1995)",Comedy|Horror\n'
        "182,Babylon 5,(no genres listed)\n"
        '200,"Say ""Hello"" (2001)",Drama\n'
    ).encode()
    rows, rejected = parse_movies(data, Layout.CSV, "movies.csv")
    assert rows == [
        MovieRow(1, "Toy Story (1995)", 1995, ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]),
        MovieRow(11, "American President, The (1995)", 1995, ["Comedy", "Drama", "Romance"]),
        MovieRow(12, "Dracula: Dead and Loving It (1995)", 1995, ["Comedy", "Horror"]),
        MovieRow(182, "Babylon 5", None, []),
        MovieRow(200, 'Say "Hello" (2001)', 2001, ["Drama"]),
    ]
    assert rejected == []


def test_csv_bom_crlf_trailing_empty_columns_and_blank_lines() -> None:
    data = b"\xef\xbb\xbfmovieId,title,genres,,\r\n1,Toy Story (1995),Comedy,,\r\n\r\n2,Jumanji (1995),Fantasy\r\n"
    rows, rejected = parse_movies(data, Layout.CSV, "movies.csv")
    assert rows == [
        MovieRow(1, "Toy Story (1995)", 1995, ["Comedy"]),
        MovieRow(2, "Jumanji (1995)", 1995, ["Fantasy"]),
    ]
    assert rejected == []


def test_csv_without_header_parses_line_1() -> None:
    rows, _ = parse_movies(b"1,Toy Story (1995),Comedy\n", Layout.CSV, "movies.csv")
    assert [r.movie_id for r in rows] == [1]


def test_csv_columns_are_read_by_header_name_in_any_order() -> None:
    data = b'genres,title,movieId\nComedy,"American President, The (1995)",11\n'
    rows, rejected = parse_movies(data, Layout.CSV, "movies.csv")
    assert rows == [MovieRow(11, "American President, The (1995)", 1995, ["Comedy"])]
    assert rejected == []


def test_csv_header_naming_other_columns_is_refused() -> None:
    with pytest.raises(PipelineError) as err:
        parse_movies(b"id,title,genres\n1,Toy Story (1995),Comedy\n", Layout.CSV, "ml-32m/movies.csv")
    assert str(err.value).startswith(
        "ml-32m/movies.csv: header 'id,title,genres' does not name the expected columns (unknown: id; "
        "missing: movieId); expected movieId,title,genres (in any order)."
    )


def test_csv_header_only_skipped_on_line_1() -> None:
    data = f"{CSV_HEADER}\n1,Toy Story (1995),Comedy\n{CSV_HEADER}\n".encode()
    _, rejected = parse_movies(data, Layout.CSV, "movies.csv")
    assert rejection(rejected) == [(3, "movie_id 'movieId' is not a positive integer")]


@pytest.mark.parametrize(
    ("title", "year"),
    [
        ("Toy Story (1995)", 1995),
        ("Fawlty Towers (1975-1979)", 1975),
        ("Big Bang Theory, The (2007-)", 2007),
        ("Sherlock (2010\u2013 )", 2010),
        ("Blade Runner (1982)  ", 1982),
        ("Babylon 5", None),
        ("1984", None),
        ("2001: A Space Odyssey (1968)", 1968),
        ("Hamlet (1996) (re-release)", None),
    ],
)
def test_csv_year_extraction(title: str, year: int | None) -> None:
    data = f'{CSV_HEADER}\n9,"{title}",Drama\n'.encode()
    rows, _ = parse_movies(data, Layout.CSV, "movies.csv")
    assert rows == [MovieRow(9, title.strip(), year, ["Drama"])]


def test_csv_rejections() -> None:
    data = (
        f"{CSV_HEADER}\n"
        "1,Toy Story (1995),Comedy\n"
        "2,Jumanji (1995)\n"
        "3,Heat (1995),Action,extra\n"
        "0,Zero (1995),Drama\n"
        '5,"Unclosed (1995),Drama\n'
        "6,,Drama\n"
        "99999999999,Huge (1995),Drama\n"
        "1,Toy Story (1995),Comedy\n"
    ).encode()
    rows, rejected = parse_movies(data, Layout.CSV, "ml-32m/movies.csv")
    assert [r.movie_id for r in rows] == [1]
    reasons = rejection(rejected)
    assert reasons[:3] == [
        (3, "expected 3 fields, found 2"),
        (4, "expected 3 fields, found 4"),
        (5, "movie_id '0' is not a positive integer"),
    ]
    assert reasons[3][0] == 6
    assert reasons[3][1].startswith("malformed CSV quoting")
    assert reasons[4:] == [
        (7, "empty title"),
        (8, "movie_id 99999999999 is above the 32-bit limit 2147483647"),
        (9, "duplicate movie_id 1 (first at line 2)"),
    ]
    assert all(r.file_name == "ml-32m/movies.csv" for r in rejected)


@pytest.mark.parametrize(("layout", "expected"), [(Layout.CSV, "UTF-8"), (Layout.ML_100K, "ISO-8859-1")])
def test_a_utf_16_catalogue_is_refused_with_what_to_convert_it_to(layout: Layout, expected: str) -> None:
    data = "1|Toy Story (1995)|01-Jan-1995||http://x|0\n".encode("utf-16")
    with pytest.raises(PipelineError, match=rf"^movies is UTF-16 \(little-endian.*Convert it to {expected}"):
        parse_movies(data, layout, "movies")


def test_rejected_lines_keep_their_bytes() -> None:
    data = item_bytes(item_line("1", "Toy Story (1995)"), "2|Mis\xe9rables (1995)")
    _, rejected = parse_movies(data, Layout.ML_100K, "u.item")
    assert (rejected[0].source_line, rejected[0].source_bytes) == ("2|Mis\xe9rables (1995)", b"2|Mis\xe9rables (1995)")


def test_csv_invalid_utf_8_raises_naming_file() -> None:
    data = b"\xef\xbb\xbfmovieId,title,genres\n1,Caf\xe9 (1995),Drama\n"
    with pytest.raises(PipelineError, match=r"^movies\.csv: cannot decode .* byte offset 29 \(line 2\)"):
        parse_movies(data, Layout.CSV, "movies.csv")


# --- whole-file failures ----------------------------------------------------


def test_no_valid_rows_names_first_rejection() -> None:
    data = b"movieId,title,genres\nabc,Toy Story (1995),Comedy\nxyz,Heat,Action\n"
    with pytest.raises(PipelineError) as err:
        parse_movies(data, Layout.CSV, "movies.csv")
    assert str(err.value).startswith(
        "movies.csv: no valid movie rows; first rejection at line 2: "
        "movie_id 'abc' is not a positive integer"
    )


def test_empty_file_has_no_valid_rows() -> None:
    with pytest.raises(PipelineError, match=r"^movies\.dat: no valid movie rows; the file has no data lines"):
        parse_movies(b"\n\n", Layout.ML_1M, "movies.dat")


def test_wrong_layout_file_is_explained() -> None:
    # A movies.csv handed over as ml-1m: every line has one field.
    data = b"movieId,title,genres\n1,Toy Story (1995),Comedy\n"
    with pytest.raises(PipelineError, match=r"line 1: expected 3 fields, found 1"):
        parse_movies(data, Layout.ML_1M, "movies.dat")


def test_long_source_lines_are_clipped() -> None:
    data = b"1::Ok (1995)::Drama\n" + b"x" * 5000 + b"\n"
    _, rejected = parse_movies(data, Layout.ML_1M, "movies.dat")
    assert len(rejected[0].source_line) == 1003
