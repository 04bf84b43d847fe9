"""Entry routes: joining with an Idempotency-Key, an entry, its score explained, withdrawing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.security.jwt import Token
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
)

from apps.accounts import Accounts, display_names
from apps.api.auth import BEARER, PLAYERS_ONLY, ensure_can_see_entry
from apps.api.batching import Answers, Batcher, Overloaded
from apps.api.problems import Problem, payment_declined, problem_of, problem_responses, shed
from apps.api.quota import spend
from apps.api.sandbox import sandbox_confirm_url
from apps.api.state import LINEUPS, services_of
from apps.api.wire import (
    BulkItemOut,
    BulkJoinIn,
    BulkJoinOut,
    EntryOut,
    ExplanationOut,
    JoinIn,
    LineupIn,
    PickIn,
    entry_out,
    explanation_out,
    payment_action_out,
)
from apps.lane import LaneNotRunning
from apps.settings import Settings
from fantasy_core.accounts import Account, Role
from fantasy_core.entries import Entry, EntryStatus, JoinResult
from fantasy_core.errors import DomainError
from fantasy_core.lineups import Lineup
from fantasy_core.platform import Platform
from fantasy_core.usecases.joining import JoinRequest, pending_payment, withdraw
from fantasy_core.usecases.joining_batch import Joined, join_many
from fantasy_core.usecases.lineups import edit_lineup
from fantasy_core.usecases.queries import contest_summary, get_entry, placings
from fantasy_core.usecases.reports import explain_entry
from fantasy_core.usecases.visibility import LineupView, lineup_views

JoinBatcher = Batcher[JoinRequest, Joined]


def join_batcher(state: State, settings: Settings) -> JoinBatcher:
    """Joins that arrive together run as one batch (`join_many`): see apps.api.batching.
    The platform is the app's at the time of the batch (tests swap it); with a join lane
    process (FANTASY_JOIN_LANE_PROCESS) the batch runs there (apps.lane)."""
    # With the lane process, batches are cut so that two groups of joins alternate
    # (settings.LANE_PROCESS_JOIN_BATCH_MAX): one waits whole while the other runs.
    batches_waiting = 2 if settings.join_lane_process else 1
    waiting = settings.join_batch_max * settings.join_batch_lanes * batches_waiting

    def run(requests: Sequence[JoinRequest]) -> list[Joined | Exception]:
        services = services_of(state)
        if services.lane is not None:
            return services.lane.run(requests)
        return join_many(services.platform, requests)

    def send(requests: Sequence[JoinRequest], answers: Answers[Joined]) -> None:
        # On the event loop: the joins go to the child's queue as they come (decision
        # 0081). Starting a child takes seconds: then, and without a lane, in a thread.
        lane = services_of(state).lane
        if lane is not None:
            try:
                lane.send(requests, answers, start=False)
                return
            except LaneNotRunning:
                pass

        def elsewhere() -> None:
            try:
                answers(run(requests))
            except Exception as error:
                answers([error for _ in requests])

        threading.Thread(target=elsewhere, name="fantasy-join-send", daemon=True).start()

    return Batcher(
        run,
        send=send if settings.join_lane_process else None,
        name="joins",
        max_batch=settings.join_batch_max,
        lanes=settings.join_batch_lanes,
        # A join accepted waits for at most the batches running and one more a lane (two
        # with the lane process): under overload the rest are shed (503) and the accepted
        # keep their latency (bench/).
        max_waiting=settings.join_max_waiting or waiting,
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
        opt=PLAYERS_ONLY,
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
    )
    async def join(
        self,
        contest_id: FromPath[str],
        data: JSONBody[JoinIn],
        idempotency_key: IdempotencyKey,
        request: Request[Account, Token, Any],
        joins: NamedDependency[JoinBatcher],
    ) -> Response[EntryOut]:
        """Join with a lineup and a payment method.

        201 a new entry (and the same again on a replay of the key); 202 the bank asks the
        player to confirm (3-D Secure); 402 declined, with the decline code; 409 locked,
        full or over the entry limit; 422 an invalid lineup (which rule, which player).
        """
        _spend_quota(request, 1)
        result, entry = await joins.submit(
            _join_request(contest_id, request.user.user_id, idempotency_key, data)
        )
        status = status_of_join(result)
        return Response(await _entry_answer(request, result, entry), status_code=status)

    @post(
        "/contests/{contest_id:str}/entries/bulk",
        opt=PLAYERS_ONLY,
        status_code=200,
        operation_id="joinContestBulk",
        responses=problem_responses(400, 401, 403, 404, 422, 429, 503),
    )
    async def join_bulk(
        self,
        contest_id: FromPath[str],
        data: JSONBody[BulkJoinIn],
        idempotency_key: IdempotencyKey,
        request: Request[Account, Token, Any],
        joins: NamedDependency[JoinBatcher],
        platform: NamedDependency[Platform],
    ) -> BulkJoinOut:
        """Enter several lineups at once, up to the contest's entry limit per player.

        Each lineup joins exactly as a single join would, under the idempotency key
        `<Idempotency-Key>/<index>`, and is charged once: one answer per lineup, in order,
        with the status a single join would have answered (201, 202, 402, 409, 422, 503).
        The same request again gives the same answers and charges nothing more; retry it
        as it is after a 503 in any answer. 422 (nothing entered) for more lineups than the
        contest takes from one player; the lineups count against the per-minute quota.
        """
        summary = await anyio.to_thread.run_sync(contest_summary, platform, contest_id)
        limit = summary.contest.terms.max_entries_per_player
        if len(data.entries) > limit:
            raise Problem(
                HTTP_422_UNPROCESSABLE_ENTITY,
                "too-many-lineups",
                "Too many lineups",
                f"contest {contest_id} takes at most {limit} entries per player, "
                f"{len(data.entries)} lineups were sent; nothing was entered",
            )
        _spend_quota(request, len(data.entries))
        keys = [f"{idempotency_key}/{n}" for n in range(len(data.entries))]
        requests = [
            _join_request(contest_id, request.user.user_id, key, item)
            for key, item in zip(keys, data.entries, strict=True)
        ]
        answers = await asyncio.gather(*(joins.submit(r) for r in requests), return_exceptions=True)
        results = []
        for n, (key, answer) in enumerate(zip(keys, answers, strict=True)):
            results.append(await _bulk_item(request, n, key, answer))
        return BulkJoinOut(contest_id=contest_id, results=results)

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
        accounts: NamedDependency[Accounts],
    ) -> EntryOut:
        """An entry: its owner's (and operators') until lock, anyone's after; with its
        player's display name, and from lock its points and rank. Another player sees
        only the picks whose game has started (`player_id` null for the others) until
        the contest completes."""
        entry, contest = get_entry(platform, entry_id)
        ensure_can_see_entry(request.user, entry, contest)
        return entry_out(
            entry,
            display_name=display_names(accounts, [entry]).get(entry.user_id),
            placing=placings(platform, [entry]).get(entry.entry_id),
            view=lineup_view_for(platform, request.user, entry),
        )

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
        """The entry's score, player by player and stat by stat (stat x rule = points).
        Another player's players whose game has not started are left out until the
        contest completes (hidden lineups)."""
        entry, contest = get_entry(platform, entry_id)
        ensure_can_see_entry(request.user, entry, contest)
        view = lineup_view_for(platform, request.user, entry)
        return explanation_out(explain_entry(platform, entry_id), view)

    @post(
        "/entries/{entry_id:str}/withdraw",
        opt=PLAYERS_ONLY,
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
        withdraw(platform, entry.contest_id, entry_id, request.user.user_id)
        entry, _ = get_entry(platform, entry_id)
        return entry_out(entry, display_name=request.user.display_name)

    @put(
        "/entries/{entry_id:str}/lineup",
        opt=PLAYERS_ONLY,
        status_code=200,
        operation_id="changeLineup",
        responses=problem_responses(400, 401, 403, 404, 409, 422, 503),
        sync_to_thread=True,
    )
    def change_lineup(
        self,
        entry_id: FromPath[str],
        data: JSONBody[LineupIn],
        request: Request[Account, Token, Any],
        platform: NamedDependency[Platform],
    ) -> EntryOut:
        """Replace the entry's lineup (an edit) until the contest locks; after lock, on a
        contest with `late_swap`, swap players whose games have not started (a swap); no
        money moves.

        A swap may change only picks whose player's game has not started, for players
        whose game has not started: a player locks at his game's kickoff (`kickoffs` of
        the contest), or when the feed first reports the game under way if that is
        earlier. The same lineup again changes nothing. 403 not the owner's entry; 409
        with `reason`: `locked` (the contest takes no changes: locked without late swap,
        or over), `player_started` (with the `player_id` a swap may not move), or
        `not_active`; 422 an invalid lineup (which rule, which player), under exactly
        the rules of a join.
        """
        edited = edit_lineup(platform, entry_id, request.user.user_id, _lineup(data.lineup))
        return entry_out(edited, display_name=request.user.display_name)


def lineup_view_for(platform: Platform, user: Account, entry: Entry) -> LineupView:
    """`entry`'s lineup as `user` may see it; operators see every lineup."""
    views = lineup_views(
        platform, entry.contest_id, [entry], user.user_id, sees_all=user.role is Role.OPERATOR
    )
    return views[entry.entry_id]


def _lineup(picks: list[PickIn]) -> Lineup:
    return Lineup(tuple((pick.slot, pick.player_id) for pick in picks))


def _join_request(contest_id: str, user_id: str, key: str, data: JoinIn) -> JoinRequest:
    return JoinRequest(
        contest_id, user_id, key, _lineup(data.lineup), data.payment_method, data.location
    )


def _spend_quota(request: Request[Account, Token, Any], lineups: int) -> None:
    """Count `lineups` against the player's minute, or refuse with 429 and Retry-After."""
    spend(request.app.state[LINEUPS], request.user.user_id, lineups, "lineups")


async def _entry_answer(
    request: Request[Account, Token, Any], result: JoinResult, entry: Entry
) -> EntryOut:
    """The entry as answered; one waiting for 3-D Secure with what the client needs."""
    payment = None
    if result.status is EntryStatus.PENDING_ACTION:
        platform = services_of(request.app.state).platform
        outcome = await anyio.to_thread.run_sync(pending_payment, platform, entry)
        if outcome is not None:
            payment = payment_action_out(outcome, sandbox_confirm_url(platform, outcome))
    return entry_out(entry, payment, display_name=request.user.display_name)


async def _bulk_item(
    request: Request[Account, Token, Any], index: int, key: str, answer: Joined | BaseException
) -> BulkItemOut:
    instance = f"{request.url.path}#{index}"
    if isinstance(answer, Overloaded):
        answer = shed(answer)  # this lineup was not queued: retrying the bulk request enters it
    if isinstance(answer, BaseException):
        if not isinstance(answer, DomainError | Problem):
            raise answer  # not an answer about this lineup: the request fails as a whole
        problem = problem_of(answer, instance)
        status = _int(problem["status"])
        return BulkItemOut(
            index=index, idempotency_key=key, status=status, entry=None, problem=problem
        )
    result, entry = answer
    try:
        status = status_of_join(result)
    except Problem as refused:
        problem = problem_of(refused, instance)
        return BulkItemOut(
            index=index, idempotency_key=key, status=refused.status, entry=None, problem=problem
        )
    entry_answer = await _entry_answer(request, result, entry)
    return BulkItemOut(
        index=index, idempotency_key=key, status=status, entry=entry_answer, problem=None
    )


def _int(value: object) -> int:
    if not isinstance(value, int):
        raise TypeError(f"a problem's status is an int, got {value!r}")
    return value


def status_of_join(result: JoinResult) -> int:
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
