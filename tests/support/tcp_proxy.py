"""A TCP proxy on 127.0.0.1 that loses, delays or cuts connections: the network between us and them.

Between the Stripe adapter and the emulator it makes replies go missing (the request
took effect, the answer never came), requests vanish (never delivered), and requests
arrive late (after the client gave up and retried). In front of PostgreSQL it is the
database going away: `cut()` drops every open connection and refuses new ones until
`restore()`.

Faults are decided per chunk the client sends (an HTTP request, or a part of one),
with the campaign's seeded random generator; every fault injected is counted.
Plain threads and blocking sockets: a few dozen connections at most.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections import Counter
from types import TracebackType
from typing import Self

from attrs import define

BUFFER = 65_536


@define
class Faults:
    """Probabilities, per chunk a client sends, of each fault (the rest pass untouched)."""

    drop_request: float = 0.0  # close both ends without forwarding: never delivered
    lose_reply: float = 0.0  # forward it, swallow the answer, close: done, but unanswered
    delay: float = 0.0  # hold it up to `max_delay` seconds before forwarding
    max_delay: float = 0.0


class _Link:
    """One client connection and its upstream connection."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.swallow = threading.Event()
        self.closed = threading.Event()

    def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class FaultyProxy:
    def __init__(
        self,
        upstream: tuple[str, int],
        faults: Faults | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.upstream = upstream
        self.faults = faults or Faults()
        self.rng = rng or random.Random(0)
        self.injected: Counter[str] = Counter()
        self.connections = 0
        self._down = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._links: set[_Link] = set()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, name="faulty-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        self._close_all()

    # ---- the outage switch -------------------------------------------------------------

    def cut(self) -> None:
        """The other side is unreachable: open connections drop, new ones are refused."""
        self._down.set()
        self._close_all()
        self.injected["cut"] += 1

    def restore(self) -> None:
        self._down.clear()

    @property
    def is_cut(self) -> bool:
        return self._down.is_set()

    # ---- internals -----------------------------------------------------------------------

    def _close_all(self) -> None:
        with self._lock:
            links = list(self._links)
        for link in links:
            link.close()

    def _pick(self) -> str | None:
        f = self.faults
        roll = self.rng.random()
        for name, p in (
            ("drop_request", f.drop_request),
            ("lose_reply", f.lose_reply),
            ("delay", f.delay),
        ):
            if roll < p:
                return name
            roll -= p
        return None

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._down.is_set():
                self.injected["refused while cut"] += 1
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            link = _Link(client, upstream)
            with self._lock:
                self._links.add(link)
                self.connections += 1
            threading.Thread(target=self._forward, args=(link,), daemon=True).start()
            threading.Thread(target=self._backward, args=(link,), daemon=True).start()

    def _forward(self, link: _Link) -> None:
        try:
            while not link.closed.is_set():
                chunk = link.client.recv(BUFFER)
                if not chunk:
                    break
                with self._lock:
                    fault = self._pick()
                if fault is not None:
                    self.injected[fault] += 1
                if fault == "drop_request":
                    break
                if fault == "delay":
                    time.sleep(self.rng.uniform(0, self.faults.max_delay))
                if fault == "lose_reply":
                    link.swallow.set()
                link.upstream.sendall(chunk)
        except OSError:
            pass
        finally:
            if not link.swallow.is_set():
                self._finish(link)

    def _backward(self, link: _Link) -> None:
        try:
            while not link.closed.is_set():
                chunk = link.upstream.recv(BUFFER)
                if not chunk:
                    break
                if link.swallow.is_set():
                    break  # the answer arrived upstream: the client never sees it
                link.client.sendall(chunk)
        except OSError:
            pass
        finally:
            self._finish(link)

    def _finish(self, link: _Link) -> None:
        link.close()
        with self._lock:
            self._links.discard(link)
