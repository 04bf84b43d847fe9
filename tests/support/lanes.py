"""Stand-ins for the join lane's child (apps.lane.serve_lane), for tests of its loss."""

from __future__ import annotations

import os
from multiprocessing.connection import Connection
from typing import Any

from apps.lane import RaisedThere


def answers_nothing(_settings: Any, _make: Any, connection: Connection) -> None:
    """Say ready, take the first request, and end without answering it (as a child killed
    mid-batch would)."""
    connection.send(("ready", None))
    connection.recv()
    os._exit(3)


def answers_garbage(_settings: Any, _make: Any, connection: Connection) -> None:
    """Say ready, then answer each request with bytes that are no pickle, and wait."""
    connection.send(("ready", None))
    while True:
        connection.recv()
        connection.send_bytes(b"not a pickle")


def answers_interrupted(_settings: Any, _make: Any, connection: Connection) -> None:
    """Say ready, then answer each message as a batch interrupted (KeyboardInterrupt)."""
    connection.send(("ready", None))
    while True:
        number, _, _ = connection.recv()
        connection.send((number, RaisedThere.of(KeyboardInterrupt()), None))
