"""The `fantasy` command line: one argparse subcommand per use, errors as one line on stderr.

Exit status: 0 done; 1 the input could not be read or scored (missing or unreadable
file, malformed CSV, a stat that is not a number), a check failed (a snapshot that does
not recompute, a ledger that does not verify, a demo that did not close every contest) or
the database cannot be used; 2 the command line itself is wrong (unknown command or
option, missing argument, unknown rules name) or the configuration (FANTASY_* variables)
is. Expected errors print `fantasy: error: <what>` and no traceback.

Commands that use the platform (worker, db, verify-ledger, audit, serve) are configured
by apps.settings (FANTASY_* environment variables); `--database-url` overrides one.

To add a command: write `_add_<name>(commands)` registering a subparser whose `run`
default is a function of the parsed arguments, and call it from `build_parser`.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import attrs

from fantasy_core.errors import InvalidStatLine, UnknownRules
from fantasy_core.scoring import PRESETS, ScoringRules, format_points, parse_stat_value, preset

if TYPE_CHECKING:
    from apps.bootstrap import Services
    from apps.settings import Settings

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


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default as `(default: ...)`, unless its help already says it or
    there is nothing to show (a flag, or an option whose absence its help explains)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text or action.default in (None, False, argparse.SUPPRESS):
            return text
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Subcommands' parsers are built by argparse with this class: each shows defaults.
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    # argparse prints usage and exits on a bad command line; we want one line and a
    # return value, so the error travels up to main like any other.
    def error(self, message: str) -> NoReturn:
        raise CommandError(message, EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    """The `fantasy` parser with every subcommand registered."""
    parser = _Parser(
        prog="fantasy",
        description="Fantasy contests from the command line.",
        epilog=(
            "Each command's --help shows its options and their defaults. Commands that use "
            "the platform are configured by FANTASY_* environment variables (the README "
            "lists them; unset, a test platform on sqlite:///var/fantasy.db with the sandbox "
            "gateway and the replay feed). "
            "Exit status: 0 done, 1 bad or unreadable input, 2 bad command line."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_score(commands)
    _add_demo(commands)
    _add_worker(commands)
    _add_serve(commands)
    _add_db(commands)
    _add_recompute(commands)
    _add_verify_ledger(commands)
    _add_audit(commands)
    _add_alerts(commands)
    _add_status(commands)
    _add_tax(commands)
    _add_fair_play(commands)
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


# ---- the platform's commands ----------------------------------------------------------
# Their modules import SQLAlchemy, Alembic, Stripe and Litestar: imported inside each
# command, so that `fantasy score` and `--help` start without loading them.


def _database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="the database (default: FANTASY_DATABASE_URL, else sqlite:///var/fantasy.db)",
    )


def _clock_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--clock-speed",
        type=float,
        metavar="N",
        help="test environments only: the clock runs N times real time, so a contest "
        "goes from lock to PAID in minutes (60: a one-hour correction window lasts a "
        "minute) (default: FANTASY_CLOCK_SPEED, else 1: real time)",
    )
    parser.add_argument(
        "--clock-since",
        type=_instant,
        metavar="INSTANT",
        help="the real instant (ISO 8601 with a zone) the faster clock runs from; give an "
        "API and a separate worker the same one and they agree on the time (default: "
        "FANTASY_CLOCK_SINCE, else when the command starts)",
    )


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, not {text!r}")
    return int(text)


def _instant(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 instant: {text!r}") from None


def _clocked(args: argparse.Namespace, settings: Settings, other: str) -> Settings:
    """The settings with the clock asked for on the command line, its start fixed now (so
    that it can be given to another process) and told on stdout."""
    from apps.settings import SettingsError, accelerated  # noqa: PLC0415

    try:
        settings = accelerated(settings, args.clock_speed, args.clock_since)
    except SettingsError as error:
        raise CommandError("; ".join(error.problems), EXIT_USAGE) from error
    if settings.clock_speed == 1:
        return settings
    since = settings.clock_since or datetime.now(UTC).replace(microsecond=0)
    settings = attrs.evolve(settings, clock_since=since)
    print(
        f"fantasy: the clock runs {settings.clock_speed:g}x real time since "
        f"{since.isoformat()}; the same clock elsewhere: fantasy {other} "
        f"--clock-speed {settings.clock_speed:g} --clock-since {since.isoformat()}",
        flush=True,
    )
    return settings


def _settings(args: argparse.Namespace, *, auto_upgrade: bool | None = None) -> Settings:
    from apps.settings import SettingsError, load_settings  # noqa: PLC0415

    # --database-url is read as FANTASY_DATABASE_URL would be, so that the defaults that
    # follow from the database (the join lane process, decision 0082) and its checks see it.
    url: str | None = getattr(args, "database_url", None)
    environ = {**os.environ, "FANTASY_DATABASE_URL": url} if url else None
    try:
        settings = load_settings(environ)
    except SettingsError as error:
        raise CommandError("; ".join(error.problems), EXIT_USAGE) from error
    if auto_upgrade is not None:
        settings = attrs.evolve(settings, database_auto_upgrade=auto_upgrade)
    return settings


def _start(settings: Settings, *, serves_joins: bool = False) -> Services:
    """The services; with the join lane process (FANTASY_JOIN_LANE_PROCESS) only for a
    process that `serves_joins`: a worker or a command would start a child for nothing."""
    from adapters.sqlalchemy import DatabaseError, UnsupportedDatabase  # noqa: PLC0415
    from apps.bootstrap import start  # noqa: PLC0415

    if not serves_joins:
        settings = attrs.evolve(settings, join_lane_process=False)
    try:
        return start(settings)
    except (DatabaseError, UnsupportedDatabase) as error:
        raise CommandError(str(error), EXIT_DATA_ERROR) from error


def _add_demo(commands: argparse._SubParsersAction[_Parser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="run a whole contest week end to end on a fresh SQLite database",
        description=(
            "Create contests from templates, let simulated players join (some declined, "
            "one double-submitting, one refused after lock), replay a real NFL week "
            "(nflverse data) on a simulated clock through lock, the games, settlement and "
            "payouts, and print a summary. Uses a fresh SQLite file under ./var/ (or "
            "--database-url), the sandbox payment gateway and the replay feed. Exit 0 when "
            "every contest closed and the ledger verifies."
        ),
    )
    demo.add_argument(
        "--week",
        type=int,
        default=1,
        choices=range(1, 9),
        metavar="1-8",
        help="the 2025 regular-season week to replay",
    )
    demo.add_argument("--seed", type=int, default=2025, help="the lineups' seed")
    demo.add_argument(
        "--serve",
        action="store_true",
        help="then keep the app (web pages at /web/, API) running on the demo's database "
        "(default: exit once the week is played)",
    )
    demo.add_argument("--host", default="127.0.0.1", help="with --serve: the address")
    demo.add_argument(
        "--port", type=int, default=8000, help="with --serve: the port; 0 for any free one"
    )
    demo.add_argument(
        "--replay-csv",
        type=Path,
        metavar="FILE.csv",
        help="the nflverse player_stats recording (default: the one beside the repository)",
    )
    _database_option(demo)
    demo.set_defaults(run=_run_demo)


def _run_demo(args: argparse.Namespace) -> None:
    from apps.demo import DemoOptions, run_demo  # noqa: PLC0415
    from fantasy_core.errors import FeedUnavailable  # noqa: PLC0415

    options = DemoOptions(
        week=args.week,
        seed=args.seed,
        database_url=args.database_url,
        replay_csv=args.replay_csv,
        serve_on=(args.host, args.port) if args.serve else None,
    )
    try:
        code = run_demo(options, sys.stdout)
    except FeedUnavailable as error:
        hint = "; point --replay-csv at an nflverse player_stats CSV"
        raise CommandError(str(error) + hint, EXIT_DATA_ERROR) from error
    if code != EXIT_OK:
        raise CommandError("the demo did not close every contest with a verified ledger", code)


def _add_worker(commands: argparse._SubParsersAction[_Parser]) -> None:
    worker = commands.add_parser(
        "worker",
        help="run the lifecycle worker until stopped",
        description=(
            "Every few seconds: ingest game data, resolve interrupted joins, move contests "
            "through their lifecycle, settle, pay and refund. SIGTERM or SIGINT stops it "
            "after the current pass. Safe to run as several processes on one PostgreSQL."
        ),
    )
    worker.add_argument(
        "--interval",
        type=float,
        metavar="SECONDS",
        help="pause between passes (default: FANTASY_WORKER_INTERVAL_SECONDS, else 5)",
    )
    worker.add_argument(
        "--passes", type=int, metavar="N", help="stop after N passes (default: run until stopped)"
    )
    _clock_options(worker)
    worker.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help=(
            "serve this worker's pass durations (fantasy_worker_pass_seconds) for Prometheus "
            "at http://ADDRESS:PORT/metrics (default: not served; the API's /metrics has the "
            "rest)"
        ),
    )
    worker.add_argument(
        "--metrics-address",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="the address --metrics-port listens on (default: 127.0.0.1)",
    )
    _database_option(worker)
    worker.set_defaults(run=_run_worker)


def _run_worker(args: argparse.Namespace) -> None:
    from prometheus_client import CollectorRegistry, start_http_server  # noqa: PLC0415

    from apps.bootstrap import watchdog_thresholds  # noqa: PLC0415
    from apps.logs import configure_logging  # noqa: PLC0415
    from apps.metrics import pass_histogram  # noqa: PLC0415
    from apps.worker import Worker  # noqa: PLC0415

    configure_logging()
    settings = _clocked(args, _settings(args), "serve")
    on_pass = None
    if args.metrics_port is not None:
        registry = CollectorRegistry(auto_describe=False)
        on_pass = pass_histogram(registry).observe
        try:
            start_http_server(args.metrics_port, args.metrics_address, registry)
        except OSError as error:
            raise CommandError(
                f"--metrics-port {args.metrics_port}: cannot listen: {error}", EXIT_USAGE
            ) from error
    with _start(settings) as services:
        worker = Worker(
            services.platform,
            args.interval or settings.worker_interval_seconds,
            watchdogs=watchdog_thresholds(settings),
            ledger_every=timedelta(seconds=settings.watchdog_ledger_every_seconds),
            on_pass=on_pass,
        )
        worker.install_signal_handlers()
        worker.run(max_passes=args.passes)


def _add_serve(commands: argparse._SubParsersAction[_Parser]) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve the HTTP API (and, unless --no-worker, run the worker beside it)",
        description=(
            "The player and operator API with its OpenAPI docs at /schema. Prints the "
            "address it listens on once it does."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    serve.add_argument(
        "--port", type=int, default=8000, help="the port to listen on; 0 for any free one"
    )
    serve.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        metavar="N",
        help="API processes on the one port, each with its own batcher and database pool "
        "(a database they share, not memory:) [1]",
    )
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="serve the API only (default: the lifecycle worker runs beside it)",
    )
    _clock_options(serve)
    _database_option(serve)
    serve.set_defaults(run=_run_serve)


def _run_serve(args: argparse.Namespace) -> None:
    from apps.api.app import create_app  # noqa: PLC0415
    from apps.heap import freeze_startup_heap  # noqa: PLC0415
    from apps.logs import configure_logging  # noqa: PLC0415
    from apps.serving import serve  # noqa: PLC0415

    configure_logging()
    settings = _clocked(args, _settings(args), "worker")
    if args.workers > 1:
        _serve_processes(args, settings)
        return
    with _start(settings, serves_joins=True) as services:
        app = create_app(settings, services=services, run_worker=not args.no_worker)
        freeze_startup_heap()
        serve(app, args.host, args.port, sys.stdout)


def _serve_processes(args: argparse.Namespace, settings: Settings) -> None:
    from apps.api.processes import RUN_WORKER  # noqa: PLC0415
    from apps.serving import serve_processes  # noqa: PLC0415

    if settings.uses_memory_store:
        raise CommandError(
            "--workers needs a database the processes share, not memory:", EXIT_USAGE
        )
    with _start(settings):
        pass  # migrated and the operator seeded once, before the processes race to
    shared = {
        "FANTASY_DATABASE_URL": settings.database_url,
        "FANTASY_TOKEN_SECRET": settings.token_secret,
        RUN_WORKER: "0" if args.no_worker else "1",
    }
    if settings.clock_speed != 1 and settings.clock_since is not None:
        shared["FANTASY_CLOCK_SPEED"] = f"{settings.clock_speed:g}"
        shared["FANTASY_CLOCK_SINCE"] = settings.clock_since.isoformat()
    os.environ.update(shared)
    serve_processes(
        "apps.api.processes:app_from_environment", args.host, args.port, args.workers, sys.stdout
    )


def _add_db(commands: argparse._SubParsersAction[_Parser]) -> None:
    db = commands.add_parser("db", help="database maintenance", description="Database maintenance.")
    actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    upgrade = actions.add_parser(
        "upgrade",
        help="migrate the database to the latest schema",
        description=(
            "Bring the database to the latest revision; a new database is labelled with "
            "FANTASY_ENV, and one labelled for another environment is refused."
        ),
    )
    _database_option(upgrade)
    upgrade.set_defaults(run=_run_db_upgrade)


def _run_db_upgrade(args: argparse.Namespace) -> None:
    from adapters.sqlalchemy import (  # noqa: PLC0415
        DatabaseError,
        UnsupportedDatabase,
        describe,
        head_revision,
        upgrade,
    )

    settings = _settings(args)
    if settings.uses_memory_store:
        raise CommandError("memory: has no schema to upgrade", EXIT_USAGE)
    try:
        upgrade(settings.database_url, settings.environment)
    except (DatabaseError, UnsupportedDatabase) as error:
        raise CommandError(str(error), EXIT_DATA_ERROR) from error
    print(
        f"{describe(settings.database_url)}: at revision {head_revision()} ({settings.environment})"
    )


def _add_recompute(commands: argparse._SubParsersAction[_Parser]) -> None:
    recompute = commands.add_parser(
        "recompute",
        help="check a settlement snapshot offline",
        description=(
            "Recompute a contest's result from its settlement snapshot alone and check that "
            "it is the snapshot, byte for byte (and, with --sha256, that it hashes as "
            "published). Prints one line; exit 0 when it holds, 1 when it does not."
        ),
    )
    recompute.add_argument("file", type=Path, metavar="SNAPSHOT_FILE")
    recompute.add_argument(
        "--sha256", metavar="HASH", help="the published hash (sha256:...) (default: recompute only)"
    )
    recompute.set_defaults(run=_run_recompute)


def _run_recompute(args: argparse.Namespace) -> None:
    from fantasy_core.codec import sha256_of  # noqa: PLC0415
    from fantasy_core.snapshot import InvalidSnapshot, recompute, verify  # noqa: PLC0415

    path: Path = args.file
    try:
        document = path.read_bytes()
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}", EXIT_DATA_ERROR) from error
    digest = sha256_of(document)
    expected: str | None = args.sha256
    if expected is not None and not expected.startswith("sha256:"):
        expected = "sha256:" + expected
    try:
        if expected is None:
            if recompute(document) != document:
                raise InvalidSnapshot("recomputing the snapshot gives a different result")
        else:
            verify(document, expected)
    except InvalidSnapshot as error:
        raise CommandError(f"MISMATCH: {path}: {error}", EXIT_DATA_ERROR) from error
    checked = "hashes as published and " if expected is not None else ""
    print(f"OK: {path} {checked}recomputes to itself ({digest})")


def _add_verify_ledger(commands: argparse._SubParsersAction[_Parser]) -> None:
    verify = commands.add_parser(
        "verify-ledger",
        aliases=["verify"],
        help="check the money ledger",
        description=(
            "Check that every posting set balances and that every closed contest conserves "
            "money to the cent (collected + overlay = paid out + rake + refunded)."
        ),
    )
    _database_option(verify)
    verify.set_defaults(run=_run_verify_ledger)


def _run_verify_ledger(args: argparse.Namespace) -> None:
    from fantasy_core.usecases.reports import verify_ledger  # noqa: PLC0415

    with _start(_settings(args, auto_upgrade=False)) as services:
        report = verify_ledger(services.platform)
    for contest in report.closed_contests:
        verdict = "ok" if contest.conserved else "NOT CONSERVED"
        print(f"{verdict}: {contest.describe()}")
    for key in report.unbalanced:
        print(f"UNBALANCED: posting set {key}")
    if not report.ok:
        raise CommandError("the ledger does not verify", EXIT_DATA_ERROR)
    print(
        f"OK: {report.posting_sets} posting sets balanced, "
        f"{len(report.closed_contests)} closed contests conserved"
    )


def _add_audit(commands: argparse._SubParsersAction[_Parser]) -> None:
    audit = commands.add_parser(
        "audit",
        help="print a contest's audit trail",
        description="Every recorded action of a contest, oldest first, one per line.",
    )
    audit.add_argument("contest", metavar="CONTEST_ID")
    _database_option(audit)
    audit.set_defaults(run=_run_audit)


def _run_audit(args: argparse.Namespace) -> None:
    from fantasy_core.errors import UnknownContest  # noqa: PLC0415
    from fantasy_core.usecases.reports import audit_trail  # noqa: PLC0415

    with _start(_settings(args, auto_upgrade=False)) as services:
        try:
            records = audit_trail(services.platform, args.contest)
        except UnknownContest as error:
            raise CommandError(str(error), EXIT_DATA_ERROR) from error
    for record in records:
        outcome = "ok  " if record.outcome.value == "success" else "FAIL"
        print(
            f"{record.at.isoformat()} {outcome} {record.action:<22} {record.actor:<14} "
            f"{record.subject or '-'}: {record.detail}"
        )


# ---- fantasy tax ------------------------------------------------------------------------


def _add_tax(commands: argparse._SubParsersAction[_Parser]) -> None:
    tax = commands.add_parser("tax", help="tax reporting", description="Tax reporting.")
    actions = tax.add_subparsers(dest="action", required=True, metavar="ACTION")
    report = actions.add_parser(
        "report",
        help="write the year's 1099-MISC data (CSV)",
        description=(
            "Write one CSV row per player whose net winnings (prizes minus the fees of those "
            "contests, refunds excluded; from the ledger) of contests paid in YEAR reach the "
            "year's reporting threshold ($600 for 2025, $2,000 from 2026), with their W-9. "
            "The file holds full taxpayer ids: it is created readable by its owner only."
        ),
    )
    report.add_argument("--year", type=int, required=True, metavar="YYYY")
    report.add_argument(
        "--output", type=Path, default=None, help="the CSV file (default: tax-YYYY-1099-misc.csv)"
    )
    _database_option(report)
    report.set_defaults(run=_run_tax_report)


def _run_tax_report(args: argparse.Namespace) -> None:
    from apps.tax_commands import write_report  # noqa: PLC0415
    from fantasy_core.usecases.tax import open_taxpayer_id, tax_report  # noqa: PLC0415

    if not 2000 <= args.year <= 2100:
        raise CommandError(f"--year {args.year} is not a tax year", EXIT_USAGE)
    path: Path = args.output or Path(f"tax-{args.year}-1099-misc.csv")
    with _start(_settings(args, auto_upgrade=False)) as services:
        platform = services.platform
        rows = tax_report(platform, args.year)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", encoding="utf-8", newline="") as out:
            count = write_report(rows, out, lambda d: open_taxpayer_id(platform, d))
    missing = sum(1 for row in rows if row.details is None)
    print(f"{path}: {count} players at or over the {args.year} threshold, {missing} without a W-9")


def _add_fair_play(commands: argparse._SubParsersAction[_Parser]) -> None:
    figures = commands.add_parser(
        "fair-play",
        help="a month's published fair-play figures",
        description=(
            "The median and mean net winnings of the players of the contests paid in MONTH, "
            "and the share of its prize money won by highly experienced players, from the "
            "ledger."
        ),
    )
    figures.add_argument("--month", required=True, metavar="YYYY-MM")
    _database_option(figures)
    figures.set_defaults(run=_run_fair_play)


def _run_fair_play(args: argparse.Namespace) -> None:
    from fantasy_core.usecases.net_winnings import published_figures  # noqa: PLC0415

    year_text, _, month_text = str(args.month).partition("-")
    if not (year_text.isdigit() and month_text.isdigit() and 1 <= int(month_text) <= 12):
        raise CommandError(f"--month {args.month!r} is not YYYY-MM", EXIT_USAGE)
    with _start(_settings(args, auto_upgrade=False)) as services:
        figures = published_figures(services.platform, int(year_text), int(month_text))
    share = figures.experienced_share
    print(f"{args.month}: {figures.players} players, prizes {_cents(figures.prizes_minor)}")
    print(f"  median net winnings {_cents(round(figures.median_net_minor))}")
    print(f"  mean net winnings   {_cents(round(figures.mean_net_minor))}")
    tenths = round(share * 1000)  # exact fraction, rounded once, for display only
    print(f"  won by highly experienced players: {tenths // 10}.{tenths % 10}% of the prizes")


def _cents(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}${whole:,}.{cents:02d}"


# ---- fantasy alerts ---------------------------------------------------------------------


def _add_alerts(commands: argparse._SubParsersAction[_Parser]) -> None:
    alerts = commands.add_parser(
        "alerts", help="the alert channels and the stored alerts", description="Alerts."
    )
    actions = alerts.add_subparsers(dest="action", required=True, metavar="ACTION")
    trial = actions.add_parser(
        "test",
        help="send one test alert through every configured channel",
        description=(
            "Send one test alert straight through every configured channel (webhook, "
            "PagerDuty, e-mail) and say which succeeded; exit 1 naming any that failed."
        ),
    )
    trial.set_defaults(run=_run_alerts_test)
    listing = actions.add_parser(
        "list",
        help="print the stored alerts",
        description="Every stored alert (the current incident of each key), oldest first.",
    )
    listing.add_argument(
        "--open",
        action="store_true",
        help="only alerts neither acknowledged nor resolved (default: every alert)",
    )
    _database_option(listing)
    listing.set_defaults(run=_run_alerts_list)


def _run_alerts_test(args: argparse.Namespace) -> None:
    from adapters.clock import SystemClock  # noqa: PLC0415
    from apps.alert_commands import channel_report  # noqa: PLC0415
    from apps.bootstrap import alert_channels  # noqa: PLC0415

    settings = _settings(args)
    channels = alert_channels(settings)
    if not channels:
        raise CommandError(
            "no alert channel is configured: set FANTASY_ALERT_WEBHOOK_URL, "
            "FANTASY_PAGERDUTY_ROUTING_KEY or FANTASY_SMTP_URL",
            EXIT_DATA_ERROR,
        )
    lines, failed = channel_report(channels, SystemClock())
    for line in lines:
        print(line)
    if failed:
        raise CommandError(f"alert channel failed: {', '.join(failed)}", EXIT_DATA_ERROR)


def _run_alerts_list(args: argparse.Namespace) -> None:
    from apps.alert_commands import alert_lines  # noqa: PLC0415
    from fantasy_core.alerting import AlertState  # noqa: PLC0415
    from fantasy_core.usecases.alerts import list_alerts  # noqa: PLC0415

    with _start(_settings(args, auto_upgrade=False)) as services:
        alerts = list_alerts(services.platform, [AlertState.OPEN] if args.open else None)
    for line in alert_lines(alerts):
        print(line)
    if not alerts:
        print("no alerts")


# ---- fantasy status ---------------------------------------------------------------------


def _add_status(commands: argparse._SubParsersAction[_Parser]) -> None:
    status = commands.add_parser(
        "status",
        help="the platform's figures as a table (what /metrics serves)",
        description=(
            "Contests by state, joins and charges, payouts by status, refunds, unresolved "
            "alerts by severity, the alert outbox's backlog per channel, the age of each "
            "watched slate's data and each worker's last pass: for a person without "
            "Prometheus."
        ),
    )
    _database_option(status)
    status.set_defaults(run=_run_status)


def _run_status(args: argparse.Namespace) -> None:
    from apps.status import status_lines  # noqa: PLC0415
    from fantasy_core.usecases.figures import platform_figures  # noqa: PLC0415

    with _start(_settings(args, auto_upgrade=False)) as services:
        figures = platform_figures(services.platform)
    for line in status_lines(figures):
        print(line)
