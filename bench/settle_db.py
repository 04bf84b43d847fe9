"""Benchmark: settle a contest of N entries end to end on SQLite and PostgreSQL, against a floor.

Usage: uv run python bench/settle_db.py [--entries 10000,100000,1000000]
           [--backends sqlite,postgresql] [--repeat R] [--postgres-url URL]

For each backend and size: a fresh database is migrated, a contest on the real NFL
week-1 slate (replay feed) is created through the use case, N active entries are
loaded by a bulk path (COPY on PostgreSQL, executemany on SQLite: the loader writes the
adapter's `entries` table directly, as joins would have left it), the final stats are
ingested and `tick` takes the contest to COMPLETE. Then the timed part: one `tick` taking
the COMPLETE contest to SETTLED through the real use case and adapter (read the entries,
score, rank, record every payout, the ledger, the audit record and the snapshot, and
commit). Repeats put the contest back to COMPLETE (payouts, ledger and snapshot
removed) and settle it again; the median is reported.

The floor, measured in the same run, is the least settlement must do against the
database: read the columns it reads (entry id, user, fee and lineup of the contest's
active entries, in entry-id order) into Python tuples and write the payouts it writes
(the very rows it wrote, prepared before the timer starts) into a table of the payouts'
shape with its primary key, in one transaction. On PostgreSQL both with binary COPY, on
SQLite a SELECT and an executemany, with the driver and nothing of ours in between.

The floor used until now stays as a second figure, named for what it is
(`copy_all_columns`): every column of every entry written into a table of the entries'
shape and read back (binary COPY on PostgreSQL; on SQLite an executemany whose
timestamps are formatted outside the timer, and a SELECT). It is not a lower bound:
settlement neither writes the entries nor reads their eleven columns.

Prints one JSON line per figure:
{"scenario": "settle_postgresql", "entries": N, "seconds": s, "floor_seconds": f,
 "ratio": s/f, "floor_copy_all_columns_seconds": g, "ratio_copy_all_columns": s/g,
 "runs": [...], "payouts": P}
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import psycopg.sql
from sqlalchemy import Engine, func, select

from adapters.alerts import CollectedAlerts
from adapters.clock import ControllableClock
from adapters.feeds.replay import ReplayFeed
from adapters.ids import TimeOrderedIds
from adapters.sandbox import SandboxGateway
from adapters.sqlalchemy import SqlDatabase, garbage_collection_paused, open_database
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.records import lineup_to_text
from fantasy_core.contest import ContestTerms
from fantasy_core.entries import EntryStatus
from fantasy_core.entry_limits import MaxEntries
from fantasy_core.lifecycle import ContestState
from fantasy_core.lineups import Lineup, PlayerPool, Position
from fantasy_core.money import Money
from fantasy_core.payouts import paid_places_for, top_heavy
from fantasy_core.platform import Platform
from fantasy_core.scoring import preset
from fantasy_core.stats import FeedSnapshot
from fantasy_core.usecases.contests import create_contest
from fantasy_core.usecases.lifecycle import tick
from fantasy_core.usecases.stats import ingest
from harness import emit, fresh_postgres, libpq_url, median, postgres_url, with_floor

SLATE = "nfl-2025-reg-wk01"
FEE = 1_000
RAKE_BPS = 1_000
PAID_SHARE_BPS = 2_000  # a fifth of the field is paid: 200,000 payouts at 1M entries
ENTRIES_PER_USER = 5
SIZES = (10_000, 100_000, 1_000_000)
BACKENDS = ("sqlite", "postgresql")

ENTRY_COLUMNS = tuple(c.name for c in t.entries.columns)
# Binary COPY needs the PostgreSQL type of every column, in ENTRY_COLUMNS order.
ENTRY_PG_TYPES = (
    "varchar", "varchar", "varchar", "varchar", "text", "text", "int8", "timestamptz",
    "varchar", "varchar", "text", "text",
)  # fmt: skip
# The last two are the reason and the joined lineup (migration 0011): None, never edited.
EntryRow = tuple[str, str, str, str, str, str, int, datetime, str, str, None, None]
# The seat counter the adapter keeps as entries are added (migration 0003); absent when
# this runs against the code before it, for a before/after comparison.
SEAT_COUNTER = "seats_taken" in t.contests.c
# Each player's seats, kept beside the contest's since migration 0021 (decision 0079).
PLAYER_SEATS = "player_seats" in t.metadata.tables
_COUNT_PLAYER_SEATS = (
    "INSERT INTO player_seats (contest_id, user_id, seats)"
    " SELECT contest_id, user_id, count(*) FROM entries GROUP BY contest_id, user_id"
)


# ---- the slate and the entries --------------------------------------------------------


def week_one() -> tuple[PlayerPool, FeedSnapshot, datetime]:
    """The week-1 pool, its final stats, and the first kickoff (the contest's lock)."""
    late = datetime(2025, 9, 20, tzinfo=UTC)
    feed = ReplayFeed.recorded(lambda: late)
    final = feed.snapshot(SLATE)
    return feed.player_pool(SLATE), final, min(g.kickoff for g in final.games)


def lineups(pool: PlayerPool, count: int, seed: int) -> Iterator[Lineup]:
    """`count` random DraftKings classic lineups of distinct players (salaries not checked:
    settlement never looks at them)."""
    rng = random.Random(seed)
    by_position: dict[Position, list[str]] = {}
    for player in pool.players.values():
        by_position.setdefault(player.position, []).append(player.player_id)
    qb, rb, wr, te, dst = (by_position[p] for p in ("QB", "RB", "WR", "TE", "DST"))
    flex = rb + wr + te
    for _ in range(count):
        rbs, wrs = rng.sample(rb, 2), rng.sample(wr, 3)
        tight = rng.choice(te)
        while (extra := rng.choice(flex)) in rbs or extra in wrs or extra == tight:
            pass
        yield Lineup(
            (
                ("QB", rng.choice(qb)),
                ("RB", rbs[0]),
                ("RB", rbs[1]),
                ("WR", wrs[0]),
                ("WR", wrs[1]),
                ("WR", wrs[2]),
                ("TE", tight),
                ("FLEX", extra),
                ("DST", rng.choice(dst)),
            )
        )


def entry_rows(contest_id: str, pool: PlayerPool, count: int, seed: int) -> list[EntryRow]:
    """Active, paid entries as the adapter stores them, in `entries` column order."""
    joined = datetime(2025, 9, 1, tzinfo=UTC)
    users = max(1, count // ENTRIES_PER_USER)
    rows: list[EntryRow] = []
    for i, lineup in enumerate(lineups(pool, count, seed)):
        stamp = f"{i:016x}"
        user = f"user-{i % users:016x}{i % 7:08x}"
        rows.append(
            (
                f"entry-{stamp}{i % 9973:08x}",
                contest_id,
                user,
                "join-" + hashlib.sha256(stamp.encode()).hexdigest(),
                lineup_to_text(lineup),
                "pm_card_visa",
                FEE,
                joined + timedelta(microseconds=i),
                EntryStatus.ACTIVE.value,
                f"ch_bench_{stamp}",
                None,
                None,
            )
        )
    return rows


# ---- loading and floors ---------------------------------------------------------------


def _sqlite_instant(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def load_sqlite(path: Path, rows: Sequence[EntryRow]) -> None:
    names = ", ".join(ENTRY_COLUMNS)
    marks = ", ".join("?" for _ in ENTRY_COLUMNS)
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            f"INSERT INTO entries ({names}) VALUES ({marks})",
            ((*row[:7], _sqlite_instant(row[7]), *row[8:]) for row in rows),
        )
        if SEAT_COUNTER:
            conn.execute("UPDATE contests SET seats_taken = ?", (len(rows),))
        if PLAYER_SEATS:
            conn.execute(_COUNT_PLAYER_SEATS)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")


def load_postgres(url: str, rows: Sequence[EntryRow]) -> None:
    names = ", ".join(ENTRY_COLUMNS)
    with psycopg.connect(libpq_url(url)) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY entries ({names}) FROM STDIN BINARY") as copy:
            copy.set_types(list(ENTRY_PG_TYPES))
            for row in rows:
                copy.write_row(row)
        if SEAT_COUNTER:
            conn.execute("UPDATE contests SET seats_taken = %s", (len(rows),))
        if PLAYER_SEATS:
            conn.execute(_COUNT_PLAYER_SEATS)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE entries")


def floor_postgres(url: str, rows: Sequence[EntryRow]) -> float:
    """Seconds to COPY the rows in (binary) and back out into Python tuples (binary)."""
    names = ", ".join(ENTRY_COLUMNS)
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS floor_entries")
        conn.execute("CREATE TABLE floor_entries (LIKE entries INCLUDING DEFAULTS)")
        conn.execute("ALTER TABLE floor_entries ADD PRIMARY KEY (entry_id)")
        started = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy(f"COPY floor_entries ({names}) FROM STDIN BINARY") as copy,
        ):
            copy.set_types(list(ENTRY_PG_TYPES))
            for row in rows:
                copy.write_row(row)
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY floor_entries ({names}) TO STDOUT BINARY") as out,
        ):
            out.set_types(list(ENTRY_PG_TYPES))
            back = sum(1 for _ in out.rows())
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE floor_entries")
    if back != len(rows):
        raise SystemExit(f"the floor read back {back} rows of {len(rows)}")
    return seconds


def floor_sqlite(path: Path, rows: Sequence[EntryRow]) -> float:
    """Seconds to executemany the rows into a table of the same shape and SELECT them back
    (timestamps formatted before the timer)."""
    names = ", ".join(ENTRY_COLUMNS)
    marks = ", ".join("?" for _ in ENTRY_COLUMNS)
    columns = ", ".join(f"{name}{' PRIMARY KEY' if i == 0 else ''}" for i, name in
                        enumerate(ENTRY_COLUMNS))  # fmt: skip
    prepared = [(*row[:7], _sqlite_instant(row[7]), *row[8:]) for row in rows]
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute(f"PRAGMA cache_size=-{64 * 1024}")
        conn.execute("DROP TABLE IF EXISTS floor_entries")
        conn.execute(f"CREATE TABLE floor_entries ({columns})")
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(f"INSERT INTO floor_entries ({names}) VALUES ({marks})", prepared)
        back = len(conn.execute(f"SELECT {names} FROM floor_entries").fetchall())
        conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE floor_entries")
    if back != len(rows):
        raise SystemExit(f"the floor read back {back} rows of {len(rows)}")
    return seconds


# What settlement reads of each active entry (the adapter's `for_settlement`).
SETTLEMENT_READ = "SELECT entry_id, user_id, fee_minor, lineup FROM entries"
PAYOUT_COLUMNS = tuple(c.name for c in t.payouts.columns)
PAYOUT_PG_TYPES = (
    "varchar", "varchar", "varchar", "varchar", "varchar", "int8", "varchar", "varchar",
    "varchar", "int4", "text", "timestamptz", "int4", "int8",
)  # fmt: skip
# A column added to payouts without its type here would fail only the benchmark's floor.
assert len(PAYOUT_PG_TYPES) == len(PAYOUT_COLUMNS), "PAYOUT_PG_TYPES: one type a column"


def written_payouts(ready: Ready) -> list[tuple[object, ...]]:
    """The payout rows the last settlement wrote, as the driver gives them back."""
    names = ", ".join(PAYOUT_COLUMNS)
    query = f"SELECT {names} FROM payouts WHERE contest_id = "
    if ready.backend == "sqlite":
        with closing(sqlite3.connect(str(ready.engine.url.database))) as conn:
            return list(conn.execute(query + "?", (ready.contest_id,)).fetchall())
    with psycopg.connect(libpq_url(ready.url)) as conn:
        return list(conn.execute(query + "%s", (ready.contest_id,)).fetchall())


def lean_floor_postgres(ready: Ready, payouts: Sequence[tuple[object, ...]]) -> float:
    """Seconds to COPY out what settlement reads and COPY in the payouts it wrote (binary)."""
    names = ", ".join(PAYOUT_COLUMNS)
    read = psycopg.sql.SQL(
        "COPY ({} WHERE contest_id = {} AND status = 'active' ORDER BY entry_id) "
        "TO STDOUT (FORMAT BINARY)"
    ).format(psycopg.sql.SQL(SETTLEMENT_READ), psycopg.sql.Literal(ready.contest_id))
    with psycopg.connect(libpq_url(ready.url), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS floor_payouts")
        conn.execute("CREATE TABLE floor_payouts (LIKE payouts INCLUDING DEFAULTS)")
        conn.execute("ALTER TABLE floor_payouts ADD PRIMARY KEY (fingerprint)")
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            with cur.copy(read) as out:
                out.set_types(["varchar", "varchar", "int8", "text"])
                entries = list(out.rows())
            with cur.copy(f"COPY floor_payouts ({names}) FROM STDIN BINARY") as copy:
                copy.set_types(list(PAYOUT_PG_TYPES))
                for row in payouts:
                    copy.write_row(row)
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE floor_payouts")
    _check_floor(len(entries), ready.entries)
    return seconds


def lean_floor_sqlite(ready: Ready, payouts: Sequence[tuple[object, ...]]) -> float:
    """Seconds to SELECT what settlement reads and executemany the payouts it wrote."""
    names = ", ".join(PAYOUT_COLUMNS)
    marks = ", ".join("?" for _ in PAYOUT_COLUMNS)
    path = str(ready.engine.url.database)
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("DROP TABLE IF EXISTS floor_payouts")
        conn.execute(f"CREATE TABLE floor_payouts ({names}, PRIMARY KEY (fingerprint))")
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        entries = conn.execute(
            f"{SETTLEMENT_READ} WHERE contest_id = ? AND status = 'active' ORDER BY entry_id",
            (ready.contest_id,),
        ).fetchall()
        conn.executemany(f"INSERT INTO floor_payouts ({names}) VALUES ({marks})", payouts)
        conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE floor_payouts")
    _check_floor(len(entries), ready.entries)
    return seconds


def _check_floor(read: int, entries: int) -> None:
    if read != entries:
        raise SystemExit(f"the floor read {read} entries of {entries}")


# ---- the contest, ready to settle -----------------------------------------------------


@dataclass
class Ready:
    """A database holding one COMPLETE contest of `entries` entries, due for settlement."""

    backend: str
    url: str
    engine: Engine
    platform: Platform
    clock: ControllableClock
    contest_id: str
    entries: int
    rows: list[EntryRow]
    cpu_seconds: list[float] = field(default_factory=list)  # this process's, per settlement

    def close(self) -> None:
        self.engine.dispose()


def database_url(backend: str, directory: Path, pg_url: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{directory / 'settle.db'}"
    return fresh_postgres(pg_url)


def prepare(backend: str, entries: int, directory: Path, pg_url: str, seed: int = 2025) -> Ready:
    """A fresh database with a COMPLETE contest of `entries` loaded entries (not timed)."""
    url = database_url(backend, directory, pg_url)
    engine = open_database(url, "test", upgrade=True)
    pool, final, first_kickoff = week_one()
    clock = ControllableClock(first_kickoff - timedelta(days=3))
    # The week replayed on the bench's clock: at ingestion, six hours after the last kickoff,
    # its snapshot is `final`, every game over.
    feed = ReplayFeed.recorded(clock.now)
    platform = Platform(
        uow=SqlDatabase(engine).unit_of_work,
        gateway=SandboxGateway(),
        feed=feed,
        clock=clock,
        alerts=CollectedAlerts(),
        ids=TimeOrderedIds(),
        bulk=garbage_collection_paused,  # as bootstrap wires the worker's platform
    )
    terms = ContestTerms(
        name=f"Benchmark Million ({entries} entries)",
        sport_template="draftkings_nfl_classic",
        pool=pool,
        lock_at=first_kickoff,
        entry_fee=Money(FEE, "usd"),
        capacity=entries,
        entry_limit=MaxEntries(150),
        rules=preset("draftkings_nfl_classic"),
        payout=top_heavy(paid_places_for(entries, PAID_SHARE_BPS)),
        rake_bps=RAKE_BPS,
        correction_window=timedelta(hours=1),
    )
    contest = create_contest(platform, terms, actor="bench")
    rows = entry_rows(contest.contest_id, pool, entries, seed)
    if backend == "sqlite":
        load_sqlite(Path(str(engine.url.database)), rows)
    else:
        load_postgres(url, rows)
    clock.set(max(g.kickoff for g in final.games) + timedelta(hours=6))
    if feed.snapshot(SLATE) != final:
        raise SystemExit("the replayed week-1 snapshot is not final six hours after kickoff")
    if not ingest(platform, SLATE):
        raise SystemExit("the final week-1 snapshot was not ingested")
    tick(platform)  # LOCKED, LIVE, COMPLETE
    clock.advance(terms.correction_window + timedelta(minutes=1))
    ready = Ready(backend, url, engine, platform, clock, contest.contest_id, entries, rows)
    if state_of(ready) is not ContestState.COMPLETE:
        raise SystemExit(f"the contest is {state_of(ready)}, not COMPLETE")
    return ready


def state_of(ready: Ready) -> ContestState:
    with ready.platform.uow() as uow:
        return uow.contests.get(ready.contest_id).state


def settle_once(ready: Ready, profile: Path | None = None) -> tuple[float, int]:
    """Seconds for the tick that settles the contest, and the payouts it recorded.

    With `profile`, the tick runs under pyinstrument and its report is written there.
    """
    profiler = None
    if profile is not None:
        from pyinstrument import Profiler  # noqa: PLC0415 (a dev tool, only when asked)

        profiler = Profiler(interval=0.005)
        profiler.start()
    started, cpu = time.perf_counter(), time.process_time()
    moved = tick(ready.platform)
    seconds = time.perf_counter() - started
    ready.cpu_seconds.append(time.process_time() - cpu)
    if profiler is not None and profile is not None:
        profiler.stop()
        profile.write_text(profiler.output_text(unicode=True, show_all=False))
    if [e.target for e in moved] != [ContestState.SETTLED]:
        raise SystemExit(f"the tick moved {moved}, not COMPLETE -> SETTLED")
    with ready.engine.connect() as conn:
        payouts = conn.execute(select(func.count()).select_from(t.payouts)).scalar_one()
        snapshots = conn.execute(select(func.count()).select_from(t.settlements)).scalar_one()
    if snapshots != 1 or not payouts:
        raise SystemExit(f"settlement left {snapshots} snapshots and {payouts} payouts")
    return seconds, int(payouts)


def unsettle(ready: Ready) -> None:
    """Put the contest back to COMPLETE for another run: its payouts, ledger and snapshot go.

    (The audit trail is append-only; its settlement records stay.)
    """
    cid = ready.contest_id
    with ready.engine.begin() as conn:
        conn.execute(t.payouts.delete().where(t.payouts.c.contest_id == cid))
        conn.execute(t.settlements.delete().where(t.settlements.c.contest_id == cid))
        sets = t.posting_sets.c
        ids = t.posting_sets.select().with_only_columns(sets.id).where(sets.contest_id == cid)
        conn.execute(t.postings.delete().where(t.postings.c.set_id.in_(ids)))
        conn.execute(t.posting_sets.delete().where(sets.contest_id == cid))
        conn.execute(
            t.contests.update()
            .where(t.contests.c.contest_id == cid)
            .values(state=ContestState.COMPLETE.value, version=t.contests.c.version - 1)
        )
    if ready.backend == "postgresql":
        with psycopg.connect(libpq_url(ready.url), autocommit=True) as conn:
            conn.execute("VACUUM payouts, settlements, posting_sets, postings")


def floor(ready: Ready) -> float:
    """The lean floor, on the payouts the settlement just wrote."""
    payouts = written_payouts(ready)
    if ready.backend == "sqlite":
        return lean_floor_sqlite(ready, payouts)
    return lean_floor_postgres(ready, payouts)


def copy_all_columns_floor(ready: Ready, directory: Path) -> float:
    if ready.backend == "sqlite":
        return floor_sqlite(directory / "floor.db", ready.rows)
    return floor_postgres(ready.url, ready.rows)


def run(
    backend: str, entries: int, repeat: int, pg_url: str, profile: Path | None = None
) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="settle-bench-") as scratch:
        directory = Path(scratch)
        ready = prepare(backend, entries, directory, pg_url)
        try:
            runs: list[float] = []
            floors: list[float] = []
            all_columns: list[float] = []
            payouts = 0
            for n in range(repeat):
                if n:
                    unsettle(ready)
                report = (
                    None if profile is None else profile / f"settle_{backend}_{entries}_{n}.txt"
                )
                seconds, payouts = settle_once(ready, report)
                runs.append(seconds)
                floors.append(floor(ready))
                all_columns.append(copy_all_columns_floor(ready, directory))
        finally:
            ready.close()
    record: dict[str, object] = {"scenario": f"settle_{backend}", "entries": entries}
    with_floor(record, median(runs), median(floors))
    record["floor_copy_all_columns_seconds"] = round(median(all_columns), 3)
    record["ratio_copy_all_columns"] = round(median(runs) / median(all_columns), 2)
    record["runs"] = [round(s, 3) for s in runs]
    record["client_cpu_seconds"] = round(median(ready.cpu_seconds), 3)
    record["payouts"] = payouts
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--entries", default=",".join(str(n) for n in SIZES))
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument(
        "--profile", type=Path, default=None, help="write a pyinstrument report per run here"
    )
    args = parser.parse_args()
    for backend in args.backends.split(","):
        for entries in (int(n) for n in args.entries.split(",")):
            url = postgres_url(args.postgres_url)
            emit(run(backend, entries, args.repeat, url, args.profile))


if __name__ == "__main__":
    main()
