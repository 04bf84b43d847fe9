"""The apps' log lines: JSON with the ids as fields, made without what they do not show."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from apps.logs import ID_FIELDS, JsonFormatter, configure_logging

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


def _as_the_encoder_writes(record: logging.LogRecord) -> str:
    """The line as a dict handed to the json encoder (ensure_ascii off) would be."""
    document: dict[str, object] = {
        "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
        "level": record.levelname.lower(),
        "logger": record.name,
        "message": record.getMessage(),
    }
    for name in ID_FIELDS:
        if record.__dict__.get(name) is not None:
            document[name] = record.__dict__[name]
    if record.exc_info:
        document["exception"] = logging.Formatter().formatException(record.exc_info)
    return json.dumps(document, ensure_ascii=False)


_TEXT = st.text()  # any code point: quotes, backslashes, controls, lone surrogates


@settings(max_examples=300)
@given(
    message=_TEXT,
    fields=st.dictionaries(st.sampled_from(ID_FIELDS), st.none() | _TEXT | st.integers()),
    created=st.floats(min_value=0, max_value=4e9),
    level=st.sampled_from([logging.INFO, logging.WARNING, logging.ERROR]),
)
@example(message='say "hi"\\ \n\t\x00 é \ud800', fields={"entry_id": 'e"1'}, created=0.5, level=20)
@example(message="", fields={}, created=1_700_000_000.0, level=logging.INFO)  # no fraction
def test_a_line_is_the_json_encoders_own_bytes(
    message: str, fields: dict[str, object], created: float, level: int
) -> None:
    record = logging.LogRecord("fantasy.audit", level, "", 0, "%s", (message,), None)
    record.__dict__.update(fields)
    record.created = created
    line = JsonFormatter().format(record)
    assert line == _as_the_encoder_writes(record)
    assert json.loads(line)["message"] == message


def test_an_exception_is_a_field_of_its_line() -> None:
    try:
        raise ValueError('broken "quoted"')
    except ValueError:
        record = logging.LogRecord("fantasy", logging.ERROR, "", 0, "failed", (), sys.exc_info())
    line = JsonFormatter().format(record)
    assert line == _as_the_encoder_writes(record)
    assert 'ValueError: broken "quoted"' in json.loads(line)["exception"]
