"""The floor of bench/sse_fanout.py: a bare ASGI server-sent-events fan-out under uvicorn.

Usage: python bench/lean_sse_server.py --port P

GET /stream holds a text/event-stream open (an `id: 0` event first); POST
/publish?id=N&size=B pushes one event of B bytes with id N to every open stream at once
(one encoding, every subscriber's queue) and answers 204; GET /health answers 200. No
framework, no database, no computing: what pushing the same bytes to the same sockets
costs at the least.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_queues: set[asyncio.Queue[bytes]] = set()


async def _plain(send: Send, status: int, body: bytes = b"") -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def _stream(send: Send) -> None:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    _queues.add(queue)
    headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    try:
        await send(
            {"type": "http.response.body", "body": b"id: 0\ndata: {}\n\n", "more_body": True}
        )
        while True:
            await send({"type": "http.response.body", "body": await queue.get(), "more_body": True})
    finally:
        _queues.discard(queue)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    path, method = scope["path"], scope["method"]
    if path == "/health":
        await _plain(send, 200, b"ok")
    elif path == "/stream" and method == "GET":
        await _stream(send)
    elif path == "/publish" and method == "POST":
        query = parse_qs(scope["query_string"].decode())
        size = int(query["size"][0])
        event = f"id: {int(query['id'][0])}\nevent: changes\ndata: {'x' * size}\n\n".encode()
        for queue in _queues:
            queue.put_nowait(event)
        await _plain(send, 204)
    else:
        await _plain(send, 404)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
