"""Logging for the long-running apps: JSON lines when not on a terminal, plain text when on one.

Ids passed as `extra={"contest_id": ..., "entry_id": ..., "payout_id": ...}` become
fields of the JSON record, so logs can be searched by contest, entry or payout.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

# Fields of a record, when given as `extra`: ids to search by, and an audit line's parts.
ID_FIELDS = (
    "contest_id",
    "entry_id",
    "payout_id",
    "user_id",
    "slate_id",
    "subject",
    "action",
    "actor",
)


# One encoder for every line: json.dumps builds a new one at each call with ensure_ascii off.
_encode = json.JSONEncoder(ensure_ascii=False).encode


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, object] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ID_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                document[name] = value
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return _encode(document)


def configure_logging(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Send the `fantasy` loggers to `stream` (stderr), as JSON unless it is a terminal.

    The process's records are made without what neither format shows: the caller's file,
    line and function, the thread, the process (the logging HOWTO's "Optimization"). A
    join batch logs a line for each audit record, in the join lane, and each line cost
    about 30 µs with them.
    """
    logging._srcfile = None  # no frame walk for the caller
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    target = stream or sys.stderr
    handler = logging.StreamHandler(target)
    if target.isatty():
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    else:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger("fantasy")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
