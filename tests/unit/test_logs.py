"""The apps' log lines: JSON with the ids as fields, made without what they do not show."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from apps.logs import configure_logging

_FLAGS = ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing")


@pytest.fixture
def configured() -> Iterator[tuple[io.StringIO, list[logging.LogRecord]]]:
    """configure_logging into a buffer (not a terminal: JSON); the records it handled.
    The logging module's flags and the `fantasy` logger are as they were afterwards."""
    saved = {name: getattr(logging, name) for name in _FLAGS}
    root = logging.getLogger("fantasy")
    handlers, level, propagate = root.handlers[:], root.level, root.propagate
    stream = io.StringIO()
    configure_logging(stream=stream)
    seen: list[logging.LogRecord] = []
    root.handlers[0].addFilter(lambda record: seen.append(record) or True)
    try:
        yield stream, seen
    finally:
        for name, value in saved.items():
            setattr(logging, name, value)
        root.handlers[:], root.level, root.propagate = handlers, level, propagate


def test_a_line_is_json_with_its_ids_and_its_text_as_written(
    configured: tuple[io.StringIO, list[logging.LogRecord]],
) -> None:
    stream, _ = configured
    logging.getLogger("fantasy.audit").warning(
        "entry.declined %s: %s", "entry-1", "carte refusée", extra={"entry_id": "entry-1"}
    )
    [line] = stream.getvalue().splitlines()
    assert "refusée" in line  # not \u00e9: the lines are UTF-8, as written
    document = json.loads(line)
    assert document["message"] == "entry.declined entry-1: carte refusée"
    assert (document["level"], document["logger"]) == ("warning", "fantasy.audit")
    assert document["entry_id"] == "entry-1"
    assert document["at"].endswith("+00:00")


def test_records_are_made_without_caller_thread_or_process(
    configured: tuple[io.StringIO, list[logging.LogRecord]],
) -> None:
    _, seen = configured
    logging.getLogger("fantasy.audit").info("entry.reserved")
    [record] = seen
    assert (record.lineno, record.funcName) == (0, "(unknown function)")
    assert (record.thread, record.process, record.processName) == (None, None, None)
