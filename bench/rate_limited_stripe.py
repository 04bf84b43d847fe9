"""A local stand-in for Stripe's transfers API that refuses writes beyond a rate, with 429.

Usage (by payouts_rate_limited.py): python bench/rate_limited_stripe.py --port P [--limit 100]

Serves what StripeGateway.transfer and .find_transfer use: POST /v1/transfers (with
Idempotency-Key: a repeated key gets the first response again) and GET /v1/transfers
filtered by transfer_group. Every POST counts against the limit, as Stripe counts every
write request: more than `limit` in any one-second window is answered 429 with a
rate_limit error, and nothing is done. GET /stats says what was accepted and refused.
"""

from __future__ import annotations

import argparse
import itertools
import json
import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class Books:
    """The stub's state: transfers by id and by idempotency key, and the window of writes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.lock = threading.Lock()
        self.window: deque[float] = deque()
        self.transfers: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, dict[str, Any]] = {}
        self.accepted = 0
        self.replayed = 0
        self.refused = 0
        self.first: float | None = None
        self.last: float | None = None
        self.ids = itertools.count(1)

    def admit(self) -> bool:
        """Count a write; False when it is over the limit of the last second."""
        now = time.monotonic()
        with self.lock:
            while self.window and self.window[0] <= now - 1.0:
                self.window.popleft()
            if len(self.window) >= self.limit:
                self.refused += 1
                return False
            self.window.append(now)
            return True

    def transfer(self, key: str | None, form: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            if key is not None and key in self.by_key:
                self.replayed += 1
                return self.by_key[key]
            metadata = {
                k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[")
            }
            made = {
                "id": f"tr_bench{next(self.ids):010d}",
                "object": "transfer",
                "amount": int(form.get("amount", "0")),
                "currency": form.get("currency", "usd"),
                "destination": form.get("destination"),
                "transfer_group": form.get("transfer_group"),
                "metadata": metadata,
                "created": int(time.time()),
                "livemode": False,
                "reversed": False,
            }
            self.transfers[made["id"]] = made
            if key is not None:
                self.by_key[key] = made
            self.accepted += 1
            now = time.monotonic()
            self.first = self.first if self.first is not None else now
            self.last = now
            return made


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    books: Books

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm holds
        # the body until the client's delayed ACK, 40 ms a request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", f"req_bench{time.monotonic_ns()}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if urlsplit(self.path).path != "/v1/transfers":
            self._send(404, {"error": {"type": "invalid_request_error", "message": "no route"}})
            return
        if not self.books.admit():
            self._send(
                429,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "rate_limit",
                        "message": "Too many requests hit the API too quickly.",
                    }
                },
            )
            return
        self._send(200, self.books.transfer(self.headers.get("Idempotency-Key"), form))

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/stats":
            books = self.books
            span = (books.last or 0) - (books.first or 0)
            self._send(
                200,
                {
                    "accepted": books.accepted,
                    "replayed": books.replayed,
                    "refused": books.refused,
                    "span_seconds": span,
                },
            )
            return
        if url.path != "/v1/transfers":
            self._send(404, {"error": {"type": "invalid_request_error", "message": "no route"}})
            return
        group = parse_qs(url.query).get("transfer_group", [None])[0]
        with self.books.lock:
            found = [t for t in self.books.transfers.values() if t["transfer_group"] == group]
        self._send(
            200, {"object": "list", "data": found, "has_more": False, "url": "/v1/transfers"}
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--limit", type=int, default=100, help="writes per second")
    args = parser.parse_args()
    Handler.books = Books(args.limit)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
