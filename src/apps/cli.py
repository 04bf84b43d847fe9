"""The `fantasy` command line: one argparse subcommand per use, errors as one line on stderr.

Exit status: 0 done; 1 the input could not be read or scored (missing or unreadable
file, malformed CSV, a stat that is not a number); 2 the command line itself is wrong
(unknown command or option, missing argument, unknown rules name). Expected errors print
`fantasy: error: <what>` and no traceback.

To add a command: write `_add_<name>(commands)` registering a subparser whose `run`
default is a function of the parsed arguments, and call it from `build_parser`.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import NoReturn

from fantasy_core.errors import InvalidStatLine, UnknownRules
from fantasy_core.scoring import PRESETS, ScoringRules, format_points, parse_stat_value, preset

EXIT_OK = 0
EXIT_DATA_ERROR = 1
EXIT_USAGE = 2

# nflverse writes a missing stat as an empty cell or NA (R's missing value); both count 0.
_MISSING = frozenset({"", "NA"})

Command = Callable[[argparse.Namespace], None]


class CommandError(Exception):
    """An expected failure of a command: its one-line message and the exit status it means."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _Parser(argparse.ArgumentParser):
    # argparse prints usage and exits on a bad command line; we want one line and a
    # return value, so the error travels up to main like any other.
    def error(self, message: str) -> NoReturn:
        raise CommandError(message, EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    """The `fantasy` parser with every subcommand registered."""
    parser = _Parser(
        prog="fantasy",
        description="Fantasy contests from the command line.",
        epilog="Exit status: 0 done, 1 bad or unreadable input, 2 bad command line.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_score(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `fantasy` command; the exit status is returned, never raised."""
    try:
        args = build_parser().parse_args(argv)
        run: Command = args.run
        run(args)
    except CommandError as error:
        print(f"fantasy: error: {error}", file=sys.stderr)
        return error.exit_code
    except SystemExit as done:  # --help has been printed
        return done.code if isinstance(done.code, int) else EXIT_OK
    except BrokenPipeError:
        # The reader went away (`fantasy score ... | head`): not an error worth a traceback.
        # Point stdout at devnull so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_DATA_ERROR
    return EXIT_OK


# ---- fantasy score --------------------------------------------------------------------


def _add_score(commands: argparse._SubParsersAction[_Parser]) -> None:
    score = commands.add_parser(
        "score",
        help="score every row of a stats CSV",
        description=(
            "Score every row of a CSV whose columns are stat keys (nflverse player_stats "
            "names). Prints CSV: player_id (when the input has one) and points, exactly, "
            "one line per input row in order. Other columns are ignored; a stat column "
            "that is absent, an empty cell or NA counts 0 (and a tiered stat such as "
            "points allowed then does not apply)."
        ),
    )
    score.add_argument(
        "--rules", required=True, metavar="NAME", help=f"one of: {', '.join(sorted(PRESETS))}"
    )
    score.add_argument("file", type=Path, metavar="FILE.csv", help="the stat lines to score")
    score.set_defaults(run=_run_score)


def _run_score(args: argparse.Namespace) -> None:
    try:
        rules = preset(args.rules)
    except UnknownRules as error:
        raise CommandError(str(error), EXIT_USAGE) from error
    path: Path = args.file
    # Read and score everything before writing, so a bad row leaves no partial output.
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            table = score_csv(file, rules, str(path))
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}", EXIT_DATA_ERROR) from error
    except UnicodeDecodeError as error:
        raise CommandError(f"{path} is not UTF-8 text: {error.reason}", EXIT_DATA_ERROR) from error
    except csv.Error as error:
        raise CommandError(f"{path} is not valid CSV: {error}", EXIT_DATA_ERROR) from error
    csv.writer(sys.stdout, lineterminator="\n").writerows(table)


def score_csv(lines: Iterable[str], rules: ScoringRules, name: str) -> list[list[str]]:
    """The output table (header first) of `fantasy score` for CSV text; CommandError on bad data."""
    reader = csv.reader(lines, strict=True)  # a stray or unclosed quote is an error, not data
    header = next(reader, None)
    if header is None:
        raise CommandError(f"{name} is empty: expected a header row of stat keys", EXIT_DATA_ERROR)
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        raise CommandError(f"{name}: repeated columns {', '.join(repeated)}", EXIT_DATA_ERROR)
    stat_columns = [(column, i) for i, column in enumerate(header) if column in rules.stat_keys]
    id_column = header.index("player_id") if "player_id" in header else None
    table = [["player_id", "points"] if id_column is not None else ["points"]]
    row_number = 0
    for cells in reader:
        if not cells:  # a blank line is not a row
            continue
        row_number += 1
        where = f"{name} row {row_number} (line {reader.line_num})"
        if len(cells) != len(header):
            raise CommandError(
                f"{where}: {len(cells)} cells, but the header has {len(header)}", EXIT_DATA_ERROR
            )
        points = _score_cells(cells, stat_columns, rules, where)
        line = [format_points(points)]
        table.append(line if id_column is None else [cells[id_column], *line])
    return table


def _score_cells(
    cells: Sequence[str], stat_columns: Sequence[tuple[str, int]], rules: ScoringRules, where: str
) -> Fraction:
    stats: dict[str, Fraction] = {}
    for column, i in stat_columns:
        text = cells[i]
        if text.strip() in _MISSING:
            continue
        try:
            stats[column] = parse_stat_value(text)
        except InvalidStatLine as error:
            raise CommandError(f"{where}, column {column}: {error}", EXIT_DATA_ERROR) from error
    try:
        return rules.score(stats)
    except InvalidStatLine as error:  # e.g. points allowed in no tier
        raise CommandError(f"{where}: {error}", EXIT_DATA_ERROR) from error
