"""Alert receivers on 127.0.0.1 for tests: an HTTP endpoint (a webhook, PagerDuty-shaped)
and an SMTP server (aiosmtpd), each recording what arrived and able to refuse on demand."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from attrs import define, field


@define
class Received:
    """One request or message as the receiver saw it."""

    headers: dict[str, str]
    body: dict[str, Any]


@define
class HttpReceiver:
    """Records every POSTed JSON body; answers `status` (202 unless told otherwise)."""

    url: str = ""
    status: int = 202
    # Seconds to wait after taking a request in, before answering (a slow receiver: a
    # sender killed meanwhile never learns that it was accepted).
    delay: float = 0.0
    received: list[Received] = field(factory=list)
    _lock: threading.Lock = field(factory=threading.Lock)

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.body for r in self.received]

    def record(self, item: Received) -> None:
        with self._lock:
            self.received.append(item)


@contextmanager
def http_receiver(path: str = "/hook") -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            status = receiver.status if self.path == path else 404
            if status < 300:
                receiver.record(Received(dict(self.headers.items()), json.loads(raw)))
            if receiver.delay:
                time.sleep(receiver.delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status": "success"}' if status < 300 else b'{"error": "no"}')
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender died waiting (a campaign's SIGKILL): it was taken in all the same

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the test reads `received`

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, name="http-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@define
class SmtpReceiver:
    """Records every message accepted; answers 451 (try later) while `refusing`."""

    url: str = ""
    refusing: bool = False
    delay: float = 0.0  # as HttpReceiver.delay, after the message is taken in
    messages: list[Message] = field(factory=list)
    recipients: list[list[str]] = field(factory=list)
    _lock: threading.Lock = field(factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.refusing:
            return "451 4.3.0 try again later"
        content = envelope.content
        assert isinstance(content, bytes)
        with self._lock:
            self.messages.append(message_from_bytes(content))
            self.recipients.append(list(envelope.rcpt_tos))
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 OK"

    def seen(self) -> list[Message]:
        with self._lock:
            return list(self.messages)


@contextmanager
def smtp_receiver() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    # The controller checks it is up by connecting to its port: it needs a real number.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(receiver, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        receiver.url = f"smtp://127.0.0.1:{port}"
        yield receiver
    finally:
        controller.stop()
