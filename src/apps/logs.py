"""Logging for the long-running apps: JSON lines when not on a terminal, plain text when on one.

Ids passed as `extra={"contest_id": ..., "entry_id": ..., "payout_id": ...}` become
fields of the JSON record, so logs can be searched by contest, entry or payout.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from json.encoder import encode_basestring
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
# The function that encoder quotes each text with (C, non-ASCII kept as written).
_quoted = encode_basestring


class JsonFormatter(logging.Formatter):
    """One JSON object a record: at, level, logger, message, then the id fields it has.

    The line is written out piece by piece, each text quoted by the function the json
    encoder itself uses, rather than as a dict handed to the encoder: the join lane logs
    a line for every audit record, and this takes half the time (docs/performance.md).
    The bytes are the encoder's own (tests/unit/test_logs.py holds the two equal).
    """

    def format(self, record: logging.LogRecord) -> str:
        parts = [
            '{"at": "',
            datetime.fromtimestamp(record.created, UTC).isoformat(),  # digits and signs only
            '", "level": ',
            _quoted(record.levelname.lower()),
            ', "logger": ',
            _quoted(record.name),
            ', "message": ',
            _quoted(record.getMessage()),
        ]
        fields = record.__dict__
        for name in ID_FIELDS:
            value = fields.get(name)
            if value is not None:
                parts.append(_KEYS[name])
                parts.append(_quoted(value) if type(value) is str else _encode(value))
        if record.exc_info:
            parts.append(', "exception": ')
            parts.append(_quoted(self.formatException(record.exc_info)))
        parts.append("}")
        return "".join(parts)


_KEYS = {name: f", {_quoted(name)}: " for name in ID_FIELDS}


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
