"""What pages share: rendering with the viewer, reading a form, the lineup a form carries."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Annotated, Any

from litestar import Request
from litestar.enums import MediaType, RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Body
from litestar.response import Template

from apps.api.wire import RosterOut
from apps.web.session import viewer

# A form body: every field a string (Litestar decodes application/x-www-form-urlencoded).
FormBody = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
MAX_FIELD = 500


def render(
    request: Request[Any, Any, Any], name: str, status_code: int = 200, **context: Any
) -> Template:
    return Template(
        name,
        context={"viewer": viewer(request), **context},
        status_code=status_code,
        media_type=MediaType.HTML,  # not the handler's default (JSON) for an `Any` return
    )


def field(form: Mapping[str, str], name: str, *, required: bool = True) -> str:
    """A form field's value, stripped; a 400 naming the field when missing or oversized."""
    value = form.get(name, "").strip()
    if required and not value:
        raise ValidationException(f"the form field {name!r} is required")
    if len(value) > MAX_FIELD:
        raise ValidationException(f"the form field {name!r} is longer than {MAX_FIELD}")
    return value


def new_idempotency_key() -> str:
    """The key a join form carries: submitting the same form twice is one join."""
    return "web-" + secrets.token_urlsafe(18)


def slot_fields(roster: RosterOut) -> list[str]:
    return [f"slot-{index}" for index in range(len(roster.slots))]


def picks_of(roster: RosterOut, form: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """(slot name, player id or None) for each roster slot, in order, from `slot-N` fields."""
    return [
        (slot.name, form.get(name, "").strip() or None)
        for slot, name in zip(roster.slots, slot_fields(roster), strict=True)
    ]


def safe_next(target: str | None, default: str) -> str:
    """Where to go after logging in: a page of this site only (no open redirect)."""
    if target and target.startswith("/web") and not target.startswith("//"):
        return target
    return default
