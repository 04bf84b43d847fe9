"""Input refused before any handler runs: no body, NUL characters, repeated JSON keys, deep nesting.

PostgreSQL cannot store a NUL in text: a NUL in an id or a reason made the
statement fail, a 500. No id, email, lineup or reason of ours contains one, so it
is a 400 wherever it appears (path, query, JSON strings and keys). A JSON object
that repeats a key means different things to different parsers (the first wins,
or the last): a proxy could check one payment method while we charge the other.
It is a 400 too, as is JSON nested so deep that decoding it would exhaust the stack
(which ended in a 500), and a body that is not UTF-8 (RFC 8259 allows no other
encoding; the decoder's UnicodeDecodeError was a 500). All are refused before
anything is read or written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import ValidationException
from litestar.handlers.base import BaseRouteHandler

from apps.api.auth import check_role

NUL = "\x00"
_ESCAPED_NUL = "\\u0000"
# The largest request body read (Litestar's default, stated here so a 413 can say it).
MAX_BODY_BYTES = 10_000_000


class _Refused(Exception):
    pass


class StrictJsonRequest(Request[Any, Any, Any]):
    """The app's request class: a JSON body is checked (see the module doc) before decoding."""

    async def json(self) -> Any:
        body = await self.body()
        if body:
            refuse_ambiguous_json(body)
        return await super().json()


def refuse_ambiguous_json(body: bytes) -> None:
    """ValidationException (400) for bytes that are not UTF-8, a repeated key or a NUL;
    not JSON: left to the decoder."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValidationException(
            f"the body is not UTF-8: byte {error.start} (0x{body[error.start]:02x}) "
            f"cannot be decoded ({error.reason})"
        ) from None
    # A NUL can only be written as the escape \u0000 (JSON refuses a raw one): without
    # that text anywhere, only the keys need checking, and a dict built in C does that.
    check = _checked_object if _ESCAPED_NUL in text else _distinct_keys
    try:
        json.loads(text, object_pairs_hook=check)
    except _Refused as refused:
        raise ValidationException(str(refused)) from None
    except RecursionError:
        # The framework's decoder would recurse as deep and fail the same way: a 500.
        raise ValidationException("the JSON body is nested too deep") from None
    except ValueError:
        return  # malformed: the framework's own decoder refuses it, saying where


def _distinct_keys(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    built = dict(pairs)
    if len(built) != len(pairs):
        _checked_object(pairs)  # raises, naming the repeated key
    return built


def _checked_object(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, value in pairs:
        if key in seen:
            raise _Refused(f"the JSON body repeats the key {key!r}")
        seen.add(key)
        if NUL in key or _holds_nul(value):
            raise _Refused("the JSON body holds a NUL character (\\u0000)")
    return dict(pairs)


def _holds_nul(value: Any) -> bool:
    # Objects were checked as they were built (innermost first); strings and lists remain.
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


async def checked_before_handler(request: Request[Any, Any, Any]) -> None:
    """The app's one check of each request before its handler reads anything (Litestar's
    `before_request`): no NUL in the path or the query, a body where the route reads one,
    then the caller's role where the route serves one (`apps.api.auth.ROLE`).

    Not guards: Litestar hands each guard of each request its own copy of the route
    handler, and a join had two (decision 0076). The order is the one the guards had:
    the 400s, then the 403.
    """
    handler = request.route_handler
    _no_nul_characters(request)
    await _body_present(request, handler)
    check_role(request, handler)


async def _body_present(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """A route that reads a JSON body (`data`) and got none is a 400 saying so.

    Without it, an empty body was decoded as nothing at all and refused as "'data'",
    the name of a Python parameter, which says nothing to a client.
    """
    if "data" not in handler.parsed_fn_signature.parameters:
        return
    if isinstance(connection, Request) and not (await connection.body()).strip():
        raise ValidationException(
            "the request body is missing: this route expects a JSON object "
            "(Content-Type: application/json)"
        )


def _no_nul_characters(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """A NUL in the path or the query is a 400."""
    query = connection.query_params
    if NUL in connection.scope["path"] or any(
        NUL in key or any(NUL in value for value in query.getall(key)) for key in query
    ):
        raise ValidationException("NUL characters (%00) are not accepted in a path or a query")
