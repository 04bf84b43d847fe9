"""The lean floor for joins over HTTP: the least a request that records one row must cost.

Usage: python bench/lean_floor_server.py PORT POSTGRES_URL

Litestar under uvicorn in one process, async psycopg connections (16, handed out through
a queue), and per `POST /floor` one autocommit `INSERT ... RETURNING`: no authentication,
no idempotency, no worker thread, none of the product's request class or middleware. A
join must at least receive a request, write a row and answer; bench/join_http.py measures
this server in the same run as the joins and judges them by it. `GET /ping` answers at
once (a readiness probe).
"""

from __future__ import annotations

import asyncio
import sys

import psycopg
import uvicorn
from litestar import Litestar, get, post

CONNECTIONS = 16


def app(url: str) -> Litestar:
    idle: asyncio.Queue[psycopg.AsyncConnection[tuple[int]]] = asyncio.Queue()

    async def connect() -> None:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS lean_floor (id bigserial PRIMARY KEY, k text)"
            )
        for _ in range(CONNECTIONS):
            idle.put_nowait(await psycopg.AsyncConnection.connect(url, autocommit=True))

    @post("/floor", status_code=201)
    async def floor(data: dict[str, str]) -> dict[str, int]:
        conn = await idle.get()
        try:
            cursor = await conn.execute(
                "INSERT INTO lean_floor (k) VALUES (%s) RETURNING id", (data.get("key", ""),)
            )
            row = await cursor.fetchone()
        finally:
            idle.put_nowait(conn)
        if row is None:
            raise RuntimeError("INSERT ... RETURNING returned no row")
        return {"id": row[0]}

    @get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return Litestar([floor, ping], on_startup=[connect])


if __name__ == "__main__":
    port, url = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(app(url), host="127.0.0.1", port=port, log_config=None, access_log=False)
