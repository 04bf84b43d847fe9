"""The lean join floor: the least a paid join must cost over HTTP, with none of the product.

Usage: python bench/lean_join_server.py PORT POSTGRES_URL INFO_FILE [--batched]
           [--in-thread [--extra-round-trips N]]

bench/lean_floor_server.py measures the least a request that records one row costs. A join
must do more, whatever code does it, and this server does exactly that much the leanest way
this stack allows: Litestar under uvicorn in one process, async psycopg connections (16,
handed out through a queue, autocommit), raw SQL, each step one statement, one round trip.
Per `POST /contests/{id}/entries` (the product's path and body, the benchmark's bearer
tokens and Idempotency-Key):

1. the lineup is decoded and checked against the slate in memory (the slots in order, known
   and distinct players, eligibility, the salary cap, two teams and two games);
2. the reservation, one statement: the caller's account by its token's SHA-256 (unknown:
   401), the contest's row locked (open, before its lock time), the player's entries in it
   counted against the limit, the entry INSERTed as reserved under its key, the seat
   counter moved and an audit row written; a full, locked or unknown contest, a player at
   the limit and a key used before answer 409 (a floor need not tell them apart);
3. the charge: an in-memory gateway keyed by the Idempotency-Key, as the sandbox's;
4. the record, one statement: the contest's row share-locked (still open), the entry made
   active with its charge, the fee's posting set and its two postings, an audit row.

Answers 201 with the entry's id and status. What it leaves out, the product must do and it
need not: the token's signature and revocation, player protection (location, limits of
spend, self-exclusion), late charges refunded, crash recovery of a reserved seat,
metrics, logs. It is a floor, not a second implementation: the per-player entry count reads
the statement's snapshot, so two joins of one player racing for the last allowed entry
could both pass (the product counts under the lock). `GET /ping` answers at once.

`--in-thread` (with `--batched`) runs each batch's two statements in a worker thread
through sync psycopg, as the product's join lane runs its batch, and
`--extra-round-trips N` adds N `SELECT 1` a batch there: bench/lean_join_round_trips.py
measures what a round trip costs a lane in a thread with them. Neither is the floor.

The contests, players' tokens, lineups and slate come from INFO_FILE, which
bench/join_server.py writes; the tables (lean_join_*) are this server's own.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg
import uvicorn
from litestar import Litestar, Request, Response, get, post

CONNECTIONS = 16
ENTRY_LIMIT = 150
FEE_MINOR = 1_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS lean_join_accounts (
  token_sha256 bytea PRIMARY KEY, user_id text NOT NULL);
CREATE TABLE IF NOT EXISTS lean_join_contests (
  contest_id text PRIMARY KEY, capacity bigint NOT NULL, seats bigint NOT NULL,
  fee_minor bigint NOT NULL, lock_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS lean_join_entries (
  entry_id text PRIMARY KEY, contest_id text NOT NULL REFERENCES lean_join_contests,
  user_id text NOT NULL, idempotency_key text NOT NULL UNIQUE, lineup text NOT NULL,
  fee_minor bigint NOT NULL, status text NOT NULL, charge_id text UNIQUE,
  created_at timestamptz NOT NULL);
CREATE INDEX IF NOT EXISTS lean_join_entries_player ON lean_join_entries (contest_id, user_id);
CREATE TABLE IF NOT EXISTS lean_join_posting_sets (
  id bigserial PRIMARY KEY, key text NOT NULL UNIQUE, contest_id text NOT NULL);
CREATE TABLE IF NOT EXISTS lean_join_postings (
  set_id bigint NOT NULL REFERENCES lean_join_posting_sets, position int NOT NULL,
  account text NOT NULL, amount_minor bigint NOT NULL, PRIMARY KEY (set_id, position));
CREATE TABLE IF NOT EXISTS lean_join_audit (
  id bigserial PRIMARY KEY, at timestamptz NOT NULL, action text NOT NULL,
  subject text NOT NULL, detail text NOT NULL);
"""

RESERVE = """
WITH who AS (
  SELECT user_id FROM lean_join_accounts WHERE token_sha256 = %(token)s
), contest AS (
  SELECT contest_id, capacity, seats, fee_minor FROM lean_join_contests
  WHERE contest_id = %(contest)s AND lock_at > now() FOR UPDATE
), held AS (
  SELECT count(*) AS n FROM lean_join_entries e JOIN who USING (user_id)
  WHERE e.contest_id = %(contest)s
), added AS (
  INSERT INTO lean_join_entries
    (entry_id, contest_id, user_id, idempotency_key, lineup, fee_minor, status, created_at)
  SELECT %(entry_id)s, contest.contest_id, who.user_id, %(key)s, %(lineup)s, contest.fee_minor,
    'reserved', now()
  FROM who, contest, held
  WHERE contest.seats < contest.capacity AND held.n < %(limit)s
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING entry_id, fee_minor
), seated AS (
  UPDATE lean_join_contests SET seats = seats + 1
  WHERE contest_id = %(contest)s AND EXISTS (SELECT FROM added)
), audited AS (
  INSERT INTO lean_join_audit (at, action, subject, detail)
  SELECT now(), 'entry.reserved', entry_id, %(detail)s FROM added
)
SELECT (SELECT user_id FROM who), (SELECT entry_id FROM added),
  (SELECT fee_minor FROM added)
"""

RECORD = """
WITH contest AS (
  SELECT contest_id FROM lean_join_contests
  WHERE contest_id = %(contest)s AND lock_at > now() FOR SHARE
), done AS (
  UPDATE lean_join_entries SET status = 'active', charge_id = %(charge)s
  WHERE entry_id = %(entry)s AND status = 'reserved' AND EXISTS (SELECT FROM contest)
  RETURNING entry_id, user_id, fee_minor
), posted AS (
  INSERT INTO lean_join_posting_sets (key, contest_id)
  SELECT 'fee:' || entry_id, %(contest)s FROM done RETURNING id
), postings AS (
  INSERT INTO lean_join_postings (set_id, position, account, amount_minor)
  SELECT posted.id, 0, 'player:' || done.user_id, done.fee_minor FROM posted, done
  UNION ALL
  SELECT posted.id, 1, 'contest:' || %(contest)s, -done.fee_minor FROM posted, done
), audited AS (
  INSERT INTO lean_join_audit (at, action, subject, detail)
  SELECT now(), 'entry.joined', entry_id, %(charge)s FROM done
)
SELECT entry_id FROM done
"""

# The same two steps for a batch of joins, any contests, the requests bound as arrays (one
# statement text for every batch size): the batch's contests are locked in id order (two
# batches cannot deadlock), seats and each player's entries numbered in the batch's order. A
# request refused by its player's limit still takes a number, so a batch at the capacity's
# edge may leave a seat for the next (a floor's shortcut).
RESERVE_BATCH = """
WITH req AS (
  SELECT * FROM unnest(%(contests)s::text[], %(entries)s::text[], %(keys)s::text[],
    %(tokens)s::bytea[], %(lineups)s::text[], %(details)s::text[]) WITH ORDINALITY
    AS r(contest_id, entry_id, idempotency_key, token, lineup, detail, n)
), contest AS (
  SELECT contest_id, capacity, seats, fee_minor FROM lean_join_contests
  WHERE contest_id = ANY(%(contests)s::text[]) AND lock_at > now()
  ORDER BY contest_id FOR UPDATE
), who AS (
  SELECT req.*, a.user_id FROM req JOIN lean_join_accounts a ON a.token_sha256 = req.token
), held AS (
  SELECT e.contest_id, e.user_id, count(*) AS n FROM lean_join_entries e
  WHERE (e.contest_id, e.user_id) IN (SELECT contest_id, user_id FROM who)
  GROUP BY e.contest_id, e.user_id
), ranked AS (
  SELECT who.*, coalesce(held.n, 0) AS had,
    row_number() OVER (PARTITION BY who.contest_id ORDER BY who.n) AS seat_n,
    row_number() OVER (PARTITION BY who.contest_id, who.user_id ORDER BY who.n) AS user_n
  FROM who LEFT JOIN held USING (contest_id, user_id)
), added AS (
  INSERT INTO lean_join_entries
    (entry_id, contest_id, user_id, idempotency_key, lineup, fee_minor, status, created_at)
  SELECT ranked.entry_id, contest.contest_id, ranked.user_id, ranked.idempotency_key,
    ranked.lineup, contest.fee_minor, 'reserved', now()
  FROM ranked JOIN contest USING (contest_id)
  WHERE contest.seats + ranked.seat_n <= contest.capacity
    AND ranked.had + ranked.user_n <= %(limit)s
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING entry_id, contest_id
), seated AS (
  UPDATE lean_join_contests c SET seats = c.seats + a.k
  FROM (SELECT contest_id, count(*) AS k FROM added GROUP BY contest_id) a
  WHERE c.contest_id = a.contest_id
), audited AS (
  INSERT INTO lean_join_audit (at, action, subject, detail)
  SELECT now(), 'entry.reserved', added.entry_id, req.detail
  FROM added JOIN req USING (entry_id)
)
SELECT req.n, who.user_id IS NOT NULL, added.entry_id IS NOT NULL
FROM req LEFT JOIN who USING (n) LEFT JOIN added ON added.entry_id = req.entry_id
ORDER BY req.n
"""

RECORD_BATCH = """
WITH contest AS (
  SELECT contest_id FROM lean_join_contests
  WHERE contest_id = ANY(%(contests)s::text[]) AND lock_at > now()
  ORDER BY contest_id FOR SHARE
), req AS (
  SELECT * FROM unnest(%(entries)s::text[], %(charges)s::text[]) AS r(entry_id, charge_id)
), done AS (
  UPDATE lean_join_entries e SET status = 'active', charge_id = req.charge_id
  FROM req, contest
  WHERE e.entry_id = req.entry_id AND e.status = 'reserved'
    AND e.contest_id = contest.contest_id
  RETURNING e.entry_id, e.contest_id, e.user_id, e.fee_minor, req.charge_id
), posted AS (
  INSERT INTO lean_join_posting_sets (key, contest_id)
  SELECT 'fee:' || entry_id, contest_id FROM done RETURNING id, key
), postings AS (
  INSERT INTO lean_join_postings (set_id, position, account, amount_minor)
  SELECT posted.id, v.position,
    CASE v.position WHEN 0 THEN 'player:' || done.user_id ELSE 'contest:' || done.contest_id END,
    v.sign * done.fee_minor
  FROM posted JOIN done ON posted.key = 'fee:' || done.entry_id,
    (VALUES (0, 1), (1, -1)) AS v(position, sign)
), audited AS (
  INSERT INTO lean_join_audit (at, action, subject, detail)
  SELECT now(), 'entry.joined', entry_id, charge_id FROM done
)
SELECT entry_id FROM done
"""
BATCH_MAX = 64


class Slate:
    """The benchmark's slate and roster rules, checked as the product's validate_lineup
    checks them (its eight rules, in memory)."""

    def __init__(self, info: Mapping[str, Any]) -> None:
        self.players: dict[str, tuple[str, str, str, int]] = {
            p["player_id"]: (p["position"], p["team"], p["game_id"], p["salary"])
            for p in info["pool"]
        }
        self.slots: list[tuple[str, frozenset[str]]] = [
            (s["name"], frozenset(s["eligible"])) for s in info["template"]["slots"]
        ]
        self.cap: int = info["template"]["salary_cap"]
        self.min_teams: int = info["template"]["min_teams"]
        self.min_games: int = info["template"]["min_games"]

    def problem(self, lineup: object) -> str | None:
        """Why `lineup` (the decoded body's) is not valid, or None."""
        if not isinstance(lineup, list) or len(lineup) != len(self.slots):
            return "shape"
        seen: set[str] = set()
        teams: set[str] = set()
        games: set[str] = set()
        salary = 0
        for pick, (slot, eligible) in zip(lineup, self.slots, strict=True):
            if not isinstance(pick, dict) or pick.get("slot") != slot:
                return "slot"
            player = self.players.get(pick.get("player_id"))  # type: ignore[arg-type]
            if player is None or pick["player_id"] in seen:
                return "player"
            seen.add(pick["player_id"])
            position, team, game, cost = player
            if position not in eligible:
                return "eligibility"
            teams.add(team)
            games.add(game)
            salary += cost
        if salary > self.cap:
            return "salary_cap"
        if len(teams) < self.min_teams or len(games) < self.min_games:
            return "teams_or_games"
        return None


@dataclass
class Asked:
    """One join as the handler hands it to the database: its answer is a status code."""

    entry_id: str
    key: str
    token: bytes
    lineup: str
    detail: str


Connections = asyncio.Queue[psycopg.AsyncConnection[tuple[Any, ...]]]


class Gateway:
    """The in-memory gateway: one charge per Idempotency-Key, as the sandbox's."""

    def __init__(self) -> None:
        self.charges: dict[str, str] = {}

    def charge(self, key: str) -> str:
        return self.charges.setdefault(key, f"ch_{uuid.uuid4().hex}")


async def one(idle: Connections, statement: str, params: Mapping[str, object]) -> list[Any]:
    """The rows of one autocommit statement, on a connection of the pool."""
    conn = await idle.get()
    try:
        cursor = await conn.execute(statement, params)
        return await cursor.fetchall()
    finally:
        idle.put_nowait(conn)


async def join_alone(idle: Connections, gateway: Gateway, contest: str, asked: Asked) -> int:
    """One join, its two statements; the status code it answers."""
    params = {"contest": contest, "limit": ENTRY_LIMIT, **asdict(asked)}
    reserved = (await one(idle, RESERVE, params))[0]
    if reserved[0] is None:
        return 401
    if reserved[1] is None:
        return 409  # full, locked, at the limit, or a replay of the key
    charge = gateway.charge(asked.key)
    params = {"contest": contest, "entry": asked.entry_id, "charge": charge}
    recorded = await one(idle, RECORD, params)
    return 201 if recorded else 409  # the contest locked meanwhile


class Lane:
    """Joins that arrive together run as one batch, as the product's (decision 0013): one lane
    takes what has queued, at most BATCH_MAX, and runs the two batch statements for it."""

    def __init__(
        self, idle: Connections, gateway: Gateway, in_thread: Threaded | None = None
    ) -> None:
        self.idle, self.gateway, self.in_thread = idle, gateway, in_thread
        self.waiting: list[tuple[str, Asked, asyncio.Future[int]]] = []

    async def join(self, contest: str, asked: Asked) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.waiting.append((contest, asked, future))
        if len(self.waiting) == 1:
            asyncio.get_running_loop().create_task(self._run())
        return await future

    async def _run(self) -> None:
        await asyncio.sleep(0)  # the joins that arrived with this one
        while self.waiting:
            batch = self.waiting[:BATCH_MAX]
            try:
                answers = await self._batch([(c, a) for c, a, _ in batch])
            except Exception as error:  # every join of the batch fails with it
                answers = [error] * len(batch)
            del self.waiting[: len(batch)]
            for (_, _, future), answer in zip(batch, answers, strict=True):
                if isinstance(answer, Exception):
                    future.set_exception(answer)
                else:
                    future.set_result(answer)

    async def _batch(self, batch: list[tuple[str, Asked]]) -> list[int | Exception]:
        if self.in_thread is not None:
            return await asyncio.to_thread(self.in_thread.run, self.gateway, batch)
        rows = await one(self.idle, RESERVE_BATCH, {"limit": ENTRY_LIMIT, **_columns(batch)})
        answers: list[int | Exception] = [
            409 if known and not added else 401 if not known else 0 for _, known, added in rows
        ]
        charged = {
            a.entry_id: self.gateway.charge(a.key)
            for (_, a), n in zip(batch, answers, strict=True)
            if n == 0
        }
        if not charged:
            return answers
        contests = sorted({c for (c, a), n in zip(batch, answers, strict=True) if n == 0})
        done = await one(
            self.idle,
            RECORD_BATCH,
            {"contests": contests, "entries": list(charged), "charges": list(charged.values())},
        )
        recorded = {row[0] for row in done}
        return [
            (201 if a.entry_id in recorded else 409) if n == 0 else n
            for (_, a), n in zip(batch, answers, strict=True)
        ]


def _columns(batch: list[tuple[str, Asked]]) -> dict[str, list[Any]]:
    return {
        "contests": [c for c, _ in batch],
        "entries": [a.entry_id for _, a in batch],
        "keys": [a.key for _, a in batch],
        "tokens": [a.token for _, a in batch],
        "lineups": [a.lineup for _, a in batch],
        "details": [a.detail for _, a in batch],
    }


class Threaded:
    """A batch's statements in a worker thread, through one sync psycopg connection (the
    lane runs one batch at a time), with `extra` round trips (`SELECT 1`) before them."""

    def __init__(self, url: str, extra: int) -> None:
        self.url, self.extra = url, extra
        self.conn: psycopg.Connection[tuple[Any, ...]] | None = None

    def run(self, gateway: Gateway, batch: list[tuple[str, Asked]]) -> list[int | Exception]:
        if self.conn is None:
            self.conn = psycopg.connect(self.url, autocommit=True)
        conn = self.conn
        for _ in range(self.extra):
            conn.execute("SELECT 1").fetchall()
        rows = conn.execute(RESERVE_BATCH, {"limit": ENTRY_LIMIT, **_columns(batch)}).fetchall()
        answers: list[int | Exception] = [
            409 if known and not added else 401 if not known else 0 for _, known, added in rows
        ]
        charged = {
            a.entry_id: gateway.charge(a.key)
            for (_, a), n in zip(batch, answers, strict=True)
            if n == 0
        }
        if not charged:
            return answers
        contests = sorted({c for (c, a), n in zip(batch, answers, strict=True) if n == 0})
        params = {"contests": contests, "entries": list(charged), "charges": list(charged.values())}
        recorded = {row[0] for row in conn.execute(RECORD_BATCH, params).fetchall()}
        return [
            (201 if a.entry_id in recorded else 409) if n == 0 else n
            for (_, a), n in zip(batch, answers, strict=True)
        ]


def app(
    url: str, info: Mapping[str, Any], batched: bool, in_thread: Threaded | None = None
) -> Litestar:
    idle: Connections = asyncio.Queue()
    slate = Slate(info)
    gateway = Gateway()
    lane = Lane(idle, gateway, in_thread)

    async def connect() -> None:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute(SCHEMA)
            async with conn.cursor() as cursor:
                await cursor.executemany(
                    "INSERT INTO lean_join_accounts VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    [
                        (hashlib.sha256(token.encode()).digest(), f"user{n}")
                        for n, token in enumerate(info["tokens"])
                    ],
                )
                await cursor.executemany(
                    "INSERT INTO lean_join_contests VALUES (%s, %s, 0, %s, now() + interval"
                    " '2 days') ON CONFLICT DO NOTHING",
                    [(cid, 1_000_000, FEE_MINOR) for cid in info["lobby"]],
                )
        for _ in range(CONNECTIONS):
            idle.put_nowait(await psycopg.AsyncConnection.connect(url, autocommit=True))

    @post("/contests/{contest_id:str}/entries")
    async def join(contest_id: str, request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
        bearer = request.headers.get("authorization", "")
        key = request.headers.get("idempotency-key")
        if not bearer.startswith("Bearer ") or not key:
            return Response({"error": "a bearer token and an Idempotency-Key"}, status_code=401)
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("payment_method"), str):
            return Response({"error": "a JSON object with a payment_method"}, status_code=422)
        lineup = body.get("lineup")
        if problem := slate.problem(lineup):
            return Response({"error": problem}, status_code=422)
        asked = Asked(
            entry_id=uuid.uuid4().hex,
            key=key,
            token=hashlib.sha256(bearer.removeprefix("Bearer ").encode()).digest(),
            lineup=json.dumps(lineup, separators=(",", ":")),
            detail=body["payment_method"],
        )
        if batched:
            status = await lane.join(contest_id, asked)
        else:
            status = await join_alone(idle, gateway, contest_id, asked)
        if status != 201:
            return Response({"error": "refused"}, status_code=status)
        return Response({"entry_id": asked.entry_id, "status": "active"}, status_code=201)

    @get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return Litestar([join, ping], on_startup=[connect])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("url")
    parser.add_argument("info_file", type=Path)
    parser.add_argument("--batched", action="store_true")
    parser.add_argument("--in-thread", action="store_true")
    parser.add_argument("--extra-round-trips", type=int, default=0)
    args = parser.parse_args()
    if (args.in_thread or args.extra_round_trips) and not args.batched:
        raise SystemExit("--in-thread and --extra-round-trips need --batched")
    if args.extra_round_trips < 0:
        raise SystemExit(f"--extra-round-trips must be 0 or more, not {args.extra_round_trips}")
    if args.extra_round_trips and not args.in_thread:
        raise SystemExit("--extra-round-trips needs --in-thread")
    threaded = Threaded(args.url, args.extra_round_trips) if args.in_thread else None
    info = json.loads(args.info_file.read_text())
    served = app(args.url, info, args.batched, threaded)
    uvicorn.run(served, host="127.0.0.1", port=args.port, log_config=None, access_log=False)
