"""Entry routes: joining with an Idempotency-Key, an entry, its score explained, withdrawing."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.security.jwt import Token
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_409_CONFLICT,
)

from apps.accounts import Account
from apps.api.auth import BEARER, ensure_can_see_entry, players_only
from apps.api.batching import Batcher
from apps.api.problems import Problem, payment_declined, problem_responses
from apps.api.state import JOINS, services_of
from apps.api.wire import EntryOut, ExplanationOut, JoinIn, entry_out, explanation_out
from apps.settings import Settings
from fantasy_core.entries import EntryStatus, JoinResult
from fantasy_core.lineups import Lineup
from fantasy_core.platform import Platform
from fantasy_core.usecases.joining import JoinRequest, withdraw
from fantasy_core.usecases.joining_batch import Joined, join_many
from fantasy_core.usecases.queries import get_entry
from fantasy_core.usecases.reports import explain_entry

JoinBatcher = Batcher[JoinRequest, Joined]


def join_batcher(state: State, settings: Settings) -> JoinBatcher:
    """Joins that arrive together run as one batch (`join_many`): see apps.api.batching.
    The platform is the app's at the time of the batch (tests swap it)."""
    return Batcher(
        lambda requests: join_many(services_of(state).platform, requests),
        name="joins",
        max_batch=settings.join_batch_max,
        lanes=settings.join_batch_lanes,
    )


IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="The client's key for this join: the same key again returns the first "
        "outcome and charges nothing.",
    ),
]

# What a join's outcome is over HTTP; declines and late charges are problems (below).
_STATUS = {
    EntryStatus.ACTIVE: HTTP_201_CREATED,
    EntryStatus.PENDING_ACTION: HTTP_202_ACCEPTED,
    EntryStatus.RESERVED: HTTP_202_ACCEPTED,
    EntryStatus.WITHDRAWN: HTTP_200_OK,
}


class EntryController(Controller):
    tags = ("entries",)
    security = BEARER

    @post(
        "/contests/{contest_id:str}/entries",
        guards=[players_only],
        status_code=201,
        operation_id="joinContest",
        responses={
            **problem_responses(400, 401, 402, 403, 404, 409, 422, 429, 503),
            HTTP_202_ACCEPTED: ResponseSpec(
                data_container=EntryOut,
                description="The bank asks the player to confirm (3-D Secure); a webhook "
                "says how it ended",
            ),
        },
        opt={"rate_limit": "join"},
    )
    async def join(
        self,
        contest_id: FromPath[str],
        data: JSONBody[JoinIn],
        idempotency_key: IdempotencyKey,
        request: Request[Account, Token, Any],
    ) -> Response[EntryOut]:
        """Join with a lineup and a payment method.

        201 a new entry (and the same again on a replay of the key); 202 the bank asks the
        player to confirm (3-D Secure); 402 declined, with the decline code; 409 locked,
        full or over the entry limit; 422 an invalid lineup (which rule, which player).
        """
        lineup = Lineup(tuple((pick.slot, pick.player_id) for pick in data.lineup))
        joins: JoinBatcher = request.app.state[JOINS]
        result, entry = await joins.submit(
            JoinRequest(
                contest_id, request.user.user_id, idempotency_key, lineup, data.payment_method
            )
        )
        return Response(entry_out(entry), status_code=_status_of(result))

    @get(
        "/entries/{entry_id:str}",
        operation_id="entry",
        sync_to_thread=True,
        responses=problem_responses(401, 403, 404, 503),
    )
    def entry(
        self,
        entry_id: FromPath[str],
        request: Request[Account, Token, Any],
        platform: NamedDependency[Platform],
    ) -> EntryOut:
        """An entry: its owner's (and operators') until lock, anyone's after."""
        entry, contest = get_entry(platform, entry_id)
        ensure_can_see_entry(request.user, entry, contest)
        return entry_out(entry)

    @get(
        "/entries/{entry_id:str}/explanation",
        operation_id="explainEntry",
        sync_to_thread=True,
        responses=problem_responses(401, 403, 404, 503),
    )
    def explanation(
        self,
        entry_id: FromPath[str],
        request: Request[Account, Token, Any],
        platform: NamedDependency[Platform],
    ) -> ExplanationOut:
        """The entry's score, player by player and stat by stat (stat x rule = points)."""
        entry, contest = get_entry(platform, entry_id)
        ensure_can_see_entry(request.user, entry, contest)
        return explanation_out(explain_entry(platform, entry_id))

    @post(
        "/entries/{entry_id:str}/withdraw",
        guards=[players_only],
        status_code=200,
        operation_id="withdrawEntry",
        responses=problem_responses(401, 403, 404, 409, 503),
        sync_to_thread=True,
    )
    def withdraw(
        self,
        entry_id: FromPath[str],
        request: Request[Account, Token, Any],
        platform: NamedDependency[Platform],
    ) -> EntryOut:
        """Withdraw before the cut-off; the fee is refunded. 409 once withdrawals closed."""
        entry, _ = get_entry(platform, entry_id)
        if entry.user_id != request.user.user_id:
            raise PermissionDeniedException("only the entry's owner can withdraw it")
        withdraw(platform, entry.contest_id, entry_id, request.user.user_id)
        entry, _ = get_entry(platform, entry_id)
        return entry_out(entry)


def _status_of(result: JoinResult) -> int:
    if result.status is EntryStatus.DECLINED:
        raise payment_declined(result.entry_id, result.decline_code, result.reason)
    status = _STATUS.get(result.status)
    if status is None:  # charged after the contest locked or filled: refunded; never charged
        raise Problem(
            HTTP_409_CONFLICT,
            "join-refused",
            "Join refused",
            result.reason or f"the entry is {result.status.value}",
            reason="locked",
            entry_id=result.entry_id,
        )
    return status
