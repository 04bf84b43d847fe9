"""`fantasy score`: a stats CSV in, exact points per row out, one-line errors with exit codes."""

from __future__ import annotations

import csv
import subprocess
import sysconfig
from fractions import Fraction
from pathlib import Path

import pytest

from apps.cli import EXIT_DATA_ERROR, EXIT_OK, EXIT_USAGE, main


def write(tmp_path: Path, text: str, name: str = "stats.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, *fragments: str) -> None:
    assert err.startswith("fantasy: error: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def test_score_prints_player_id_and_exact_points_in_input_order(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "player_id,passing_yards,passing_tds,rushing_yards,receptions\n"
        "b,244,4,-1,0\n"
        "a,0,0,12,3\n"
        "c,0,0,-5,0\n",
    )
    assert run(capsys, "score", "--rules", "ppr", str(path)) == (
        EXIT_OK,
        "player_id,points\nb,25.66\na,4.2\nc,-0.5\n",
        "",
    )


def test_score_without_a_player_id_column_prints_points_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "receptions,receiving_yards\n4,57\n")
    assert run(capsys, "score", "--rules", "half_ppr", str(path)) == (
        EXIT_OK,
        "points\n7.7\n",
        "",
    )


def test_columns_that_are_not_stat_keys_are_ignored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(
        tmp_path, "player_id,player_name,passing_epa,rushing_tds\np1,A. Name,not a number,1\n"
    )
    assert run(capsys, "score", "--rules", "standard", str(path))[1] == "player_id,points\np1,6\n"


def test_absent_columns_empty_cells_and_na_count_zero(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "player_id,rushing_yards,rushing_tds\np1,,1\np2,NA,NA\np3,10,\n")
    assert run(capsys, "score", "--rules", "ppr", str(path))[1] == (
        "player_id,points\np1,6\np2,0\np3,1\n"
    )


def test_a_line_without_points_allowed_does_not_earn_the_shutout_tier(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "player_id,passing_tds,dst_sacks,dst_points_allowed\nqb,1,,\ndst,,3,0\nbad_dst,,1,NA\n",
    )
    assert run(capsys, "score", "--rules", "draftkings_nfl_classic", str(path))[1] == (
        "player_id,points\nqb,4\ndst,13\nbad_dst,1\n"
    )


def test_blank_lines_are_not_rows_and_a_byte_order_mark_is_not_part_of_the_header(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffplayer_id,receptions\r\np1,2\r\n\r\np2,1\r\n".encode())
    assert run(capsys, "score", "--rules", "ppr", str(path))[1] == "player_id,points\np1,2\np2,1\n"


def test_a_header_without_rows_prints_the_header_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "player_id,receptions\n")
    assert run(capsys, "score", "--rules", "ppr", str(path)) == (EXIT_OK, "player_id,points\n", "")


def test_a_non_numeric_stat_is_an_error_naming_the_row_and_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "player_id,receptions,passing_yards\np1,1,10\np2,2,abc\n")
    code, out, err = run(capsys, "score", "--rules", "ppr", str(path))
    assert (code, out) == (EXIT_DATA_ERROR, "")
    assert_one_line_error(err, "row 2 (line 3)", "column passing_yards", "'abc'")


def test_points_allowed_in_no_tier_is_a_data_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "dst_points_allowed\n-3\n")
    code, out, err = run(capsys, "score", "--rules", "fanduel_nfl", str(path))
    assert (code, out) == (EXIT_DATA_ERROR, "")
    assert_one_line_error(err, "row 1 (line 2)", "falls in no tier")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is empty"),
        ("receptions,receptions\n1,2\n", "repeated columns receptions"),
        ("player_id,receptions\np1,1,9\n", "row 1 (line 2): 3 cells, but the header has 2"),
        ('player_id,receptions\n"p1,1\n', "not valid CSV"),
        ('player_id,receptions\n"p1"x,1\n', "not valid CSV"),
    ],
)
def test_malformed_files_are_data_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, fragment: str
) -> None:
    path = write(tmp_path, text)
    code, out, err = run(capsys, "score", "--rules", "ppr", str(path))
    assert (code, out) == (EXIT_DATA_ERROR, "")
    assert_one_line_error(err, fragment)


def test_a_missing_file_is_a_data_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "score", "--rules", "ppr", str(tmp_path / "nope.csv"))
    assert (code, out) == (EXIT_DATA_ERROR, "")
    assert_one_line_error(err, "cannot read", "nope.csv", "No such file")


def test_a_directory_is_a_data_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "score", "--rules", "ppr", str(tmp_path))
    assert code == EXIT_DATA_ERROR
    assert_one_line_error(err, "cannot read")


def test_a_file_that_is_not_utf8_is_a_data_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("player_id,receptions\nJos\xe9,1\n".encode("latin-1"))
    code, _, err = run(capsys, "score", "--rules", "ppr", str(path))
    assert code == EXIT_DATA_ERROR
    assert_one_line_error(err, "not UTF-8")


def test_unknown_rules_are_a_usage_error_listing_the_known_ones(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "receptions\n1\n")
    code, out, err = run(capsys, "score", "--rules", "yahoo", str(path))
    assert (code, out) == (EXIT_USAGE, "")
    assert_one_line_error(err, "'yahoo'", "draftkings_nfl_classic", "fanduel_nfl", "half_ppr")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ([], "required: COMMAND"),
        (["rank"], "invalid choice: 'rank'"),
        (["score", "stats.csv"], "required: --rules"),
        (["score", "--rules", "ppr"], "required: FILE.csv"),
        (["score", "--rules", "ppr", "a.csv", "--colour"], "unrecognized arguments: --colour"),
    ],
)
def test_a_wrong_command_line_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (EXIT_USAGE, "")
    assert_one_line_error(err, fragment)


def test_help_lists_the_presets_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "score", "--help")
    assert code == EXIT_OK
    assert "draftkings_nfl_classic" in out
    assert "FILE.csv" in out


def test_the_installed_fantasy_command_scores_nflverse_like_nflverse(
    nflverse_player_stats_csv: Path,
) -> None:
    fantasy = Path(sysconfig.get_path("scripts")) / "fantasy"
    result = subprocess.run(
        [str(fantasy), "score", "--rules", "ppr", str(nflverse_player_stats_csv)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (EXIT_OK, "")
    printed = list(csv.reader(result.stdout.splitlines()))
    with nflverse_player_stats_csv.open(newline="", encoding="utf-8") as file:
        expected = [(row["player_id"], row["fantasy_points_ppr"]) for row in csv.DictReader(file)]
    assert printed[0] == ["player_id", "points"]
    assert len(printed) == len(expected) + 1
    for (player_id, points), (expected_id, reference) in zip(printed[1:51], expected, strict=False):
        assert player_id == expected_id
        assert abs(Fraction(points) - Fraction(reference)) <= Fraction(1, 100)
