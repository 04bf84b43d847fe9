"""A Server-Sent Events reader for tests and benchmarks: one connection read in a thread,
each event put on a queue as (id, event, data as JSON)."""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

import httpx

Event = tuple[int | None, str, dict[str, Any]]


class EventReader:
    """Reads `url` as text/event-stream until `close()`, the server ends it, or an error."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.events: queue.Queue[Event | BaseException | None] = queue.Queue()
        self.status: int | None = None
        self._url = url
        self._headers = headers or {}
        self._stop = threading.Event()
        self._response: httpx.Response | None = None
        self._client = httpx.Client(timeout=httpx.Timeout(30.0, read=None))
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with self._client.stream("GET", self._url, headers=self._headers) as response:
                self._response = response
                self.status = response.status_code
                if response.status_code != 200:
                    response.read()
                    self.events.put(RuntimeError(f"{response.status_code}: {response.text}"))
                    return
                fields: dict[str, str] = {}
                for line in response.iter_lines():
                    if self._stop.is_set():
                        return
                    if not line:
                        if "data" in fields:
                            event_id = fields.get("id")
                            self.events.put(
                                (
                                    None if event_id is None else int(event_id),
                                    fields.get("event", "message"),
                                    json.loads(fields["data"]),
                                )
                            )
                        fields = {}
                    elif not line.startswith(":"):
                        name, _, value = line.partition(":")
                        fields[name] = value.removeprefix(" ")
            self.events.put(None)  # the server ended the stream
        except Exception as error:
            # Closing the connection from another thread breaks the read in whatever way
            # the transport does: only an error while still reading is news.
            if not self._stop.is_set():
                self.events.put(error)

    def next(self, timeout: float = 30.0) -> Event | None:
        """The next event; None once the server ended the stream."""
        item = self.events.get(timeout=timeout)
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        self._stop.set()
        if self._response is not None:
            self._response.close()
        self._client.close()
        self._thread.join(timeout=10)
