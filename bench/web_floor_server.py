"""The lean floor of bench/web_pages.py: the lobby and a contest page at the least they cost.

Usage: python bench/web_floor_server.py --database-url URL --port P

A bare ASGI app under uvicorn (one process, as the app is served), over the database the
app serves (SQLite with the standard library's sqlite3, PostgreSQL with psycopg, async,
autocommit, 8 connections handed out through a queue):
- GET /floor/lobby: one query per request for the open contests' changing columns
  (version, seats taken), the page written with string joins;
- GET /floor/contests/{id}: one query per request for the contest's changing columns
  (state, version, seats taken), the page (terms, the pool table) written with string joins.
What a contest's version fixes (its name, fee, capacity, lock time, pool) is read from its
stored terms and written as HTML once per version, as the app does; no framework, no
session, no CSRF cookie, no template. GET /health answers 200.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from html import escape
from typing import Any

import psycopg
import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Row = tuple[Any, ...]

CONNECTIONS = 8
LOBBY = (
    "SELECT contest_id, version, seats_taken FROM contests WHERE state = 'SCHEDULED' "
    "ORDER BY contest_id"
)
CONTEST = "SELECT state, version, seats_taken FROM contests WHERE contest_id = {}"
TERMS = "SELECT terms FROM contests WHERE contest_id = {}"
HEADERS = [
    (b"content-type", b"text/html; charset=utf-8"),
    (b"content-security-policy", b"default-src 'none'; script-src 'self'; style-src 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
]
HEAD = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{}</title>'
    '<link rel="stylesheet" href="/web/static/app.css"></head><body><main id="main">'
)
TAIL = "</main></body></html>"


class Store:
    """The raw driver: sqlite3 on the event loop's thread (one local read, no thread
    hand-off), or psycopg's async connections."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite: sqlite3.Connection | None = None
        self.idle: asyncio.Queue[psycopg.AsyncConnection[Row]] = asyncio.Queue()

    async def open(self) -> None:
        if self.url.startswith("sqlite"):
            path = self.url.split(":///", 1)[1]
            self.sqlite = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            return
        url = self.url.replace("postgresql+psycopg://", "postgresql://")
        for _ in range(CONNECTIONS):
            self.idle.put_nowait(await psycopg.AsyncConnection.connect(url, autocommit=True))

    async def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
        if self.sqlite is not None:
            return self.sqlite.execute(sql.format("?"), params).fetchall()
        conn = await self.idle.get()
        try:
            cursor = await conn.execute(sql.format("%s"), params, prepare=True)
            return await cursor.fetchall()
        finally:
            self.idle.put_nowait(conn)


def _money(minor: int) -> str:
    units, cents = divmod(minor, 100)
    return f"${units:,}.{cents:02d}"


def _countdown(lock_at: datetime, now: datetime) -> str:
    minutes = int((lock_at - now).total_seconds()) // 60
    if minutes <= 0:
        return "locked"
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if days else f"{hours} h {minutes:02d} min"


class Fixed:
    """What a contest's version fixes, as HTML parts, made once per version."""

    def __init__(self, contest_id: str, terms: dict[str, Any]) -> None:
        self.name = escape(terms["name"])
        self.capacity = int(terms["capacity"])
        self.lock_at = datetime.fromisoformat(terms["lock_at"]).astimezone(UTC)
        fee = _money(int(terms["entry_fee"]))
        guaranteed = terms.get("guaranteed_pool")
        prizes = "from the fees" if guaranteed is None else f"{_money(guaranteed)} guaranteed"
        self.lobby_cells = (
            f'<tr><td><a href="/web/contests/{contest_id}">{self.name}</a></td><td>{fee}</td><td>',
            f" / {self.capacity}</td><td>{prizes}</td>"
            f'<td><time datetime="{self.lock_at.isoformat()}">',
        )
        players = sorted(terms["pool"]["players"], key=lambda p: (-p[5], p[1]))
        rows = "".join(
            f"<tr><td>{escape(name)}</td><td>{position}</td><td>{escape(team)}</td>"
            f'<td>{escape(game)}</td><td class="num">${salary:,}</td></tr>'
            for _, name, position, team, game, salary in players
        )
        self.terms_html = (
            '<dl class="terms">'
            f"<dt>Locks</dt><dd>{self.lock_at:%a %d %b %H:%M} UTC</dd>"
            f"<dt>Entry</dt><dd>{fee}</dd><dt>Prizes</dt><dd>{prizes}</dd>"
            f"<dt>Rake</dt><dd>{int(terms['rake_bps']) / 100:.2f}%</dd>"
            f"<dt>Minimum entries</dt><dd>{terms['min_entries']}</dd>"
            f"<dt>Scoring</dt><dd>{escape(terms['rules_fingerprint'][:19])}</dd></dl>"
        )
        self.pool_html = (
            '<section><h2>Player pool</h2><table class="pool">'
            f"<caption>{len(players)} players</caption><thead><tr><th>Player</th><th>Pos</th>"
            "<th>Team</th><th>Game</th><th>Salary</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></section>"
        )


class Floor:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.fixed: dict[tuple[str, int], Fixed] = {}

    async def _fixed(self, contest_id: str, version: int) -> Fixed:
        made = self.fixed.get((contest_id, version))
        if made is None:
            [(text,)] = await self.store.rows(TERMS, (contest_id,))
            made = self.fixed[contest_id, version] = Fixed(contest_id, json.loads(text))
        return made

    async def lobby(self) -> bytes:
        now = datetime.now(UTC)
        parts = [HEAD.format("Lobby"), '<h1>Lobby</h1><table class="lobby"><tbody>']
        for contest_id, version, seats in await self.store.rows(LOBBY):
            fixed = await self._fixed(contest_id, version)
            first, second = fixed.lobby_cells
            locks_in = _countdown(fixed.lock_at, now)
            parts += (first, str(seats), second, locks_in, "</time></td></tr>")
        parts += ("</tbody></table>", TAIL)
        return "".join(parts).encode()

    async def contest(self, contest_id: str) -> bytes | None:
        found = await self.store.rows(CONTEST, (contest_id,))
        if not found:
            return None
        [(state, version, seats)] = found
        fixed = await self._fixed(contest_id, version)
        return "".join(
            (
                HEAD.format(fixed.name),
                f"<h1>{fixed.name}</h1><p>{seats} / {fixed.capacity} entries · state ",
                state.lower(),
                "</p>",
                fixed.terms_html,
                fixed.pool_html,
                TAIL,
            )
        ).encode()


def app(url: str) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    floor = Floor(Store(url))

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                if message["type"] == "lifespan.startup":
                    await floor.store.open()
                    await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        path: str = scope["path"]
        body: bytes | None = None
        if path == "/floor/lobby":
            body = await floor.lobby()
        elif path.startswith("/floor/contests/"):
            body = await floor.contest(path.removeprefix("/floor/contests/"))
        elif path == "/health":
            body = b"ok"
        if body is None:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await send({"type": "http.response.body", "body": body})

    return asgi


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        app(args.database_url), host="127.0.0.1", port=args.port, log_config=None,
        access_log=False, lifespan="on",
    )  # fmt: skip


if __name__ == "__main__":
    main()
