"""Public contest routes: the lobby, a contest's detail, its leaderboard and its settlement."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery, HeaderParameter, QueryParameter
from litestar.response import Stream

from apps.accounts import Accounts, display_names
from apps.api.exports import lineups_csv
from apps.api.problems import problem_responses
from apps.api.state import STANDINGS
from apps.api.streams import StandingsHub, stream
from apps.api.wire import (
    ContestDetailOut,
    ContestOut,
    LeaderboardOut,
    SettlementOut,
    contest_detail_out,
    contest_out,
    leaderboard_out,
)
from apps.templates import SPORT_OF_TEMPLATE
from fantasy_core.errors import UnknownEntry
from fantasy_core.lifecycle import ContestState
from fantasy_core.lineups import sport_template
from fantasy_core.platform import Platform
from fantasy_core.usecases.lineup_export import exported_lineups
from fantasy_core.usecases.protecting import highly_experienced
from fantasy_core.usecases.queries import (
    LobbyFilter,
    contest_summary,
    leaderboard,
    lobby_contests,
    settlement_snapshot,
)

MAX_PAGE = 200
DEFAULT_CONTEST_PAGE = 100
MAX_STREAMED_ENTRIES = 20


def _templates_of(sport: str) -> frozenset[str]:
    templates = frozenset(t for t, of in SPORT_OF_TEMPLATE.items() if of == sport)
    if not templates:
        offered = ", ".join(sorted(set(SPORT_OF_TEMPLATE.values())))
        raise ValidationException(f"sport {sport!r} is not offered; the sports are: {offered}")
    return templates


class LobbyController(Controller):
    path = "/contests"
    tags = ("lobby",)

    @get(
        "/",
        exclude_from_auth=True,
        operation_id="listContests",
        sync_to_thread=True,
        responses=problem_responses(400, 503),
    )
    def lobby(
        self,
        platform: NamedDependency[Platform],
        contest_state: Annotated[ContestState | None, QueryParameter(name="state")] = None,
        sport: FromQuery[str | None] = None,
        min_fee: Annotated[int | None, QueryParameter(ge=0, description="minor units")] = None,
        max_fee: Annotated[int | None, QueryParameter(ge=0, description="minor units")] = None,
        guaranteed: Annotated[
            bool | None,
            QueryParameter(
                description="only contests with (true) or without (false) a guaranteed prize pool"
            ),
        ] = None,
        open_only: Annotated[
            bool, QueryParameter(description="only contests taking entries now, with a seat")
        ] = False,
        after: Annotated[
            str | None,
            QueryParameter(
                max_length=255,
                description="the last contest_id of the page before: the page after it",
            ),
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = DEFAULT_CONTEST_PAGE,
    ) -> list[ContestOut]:
        """Contests, filtered by state, sport (nfl), entry fee range, guaranteed prize pool,
        and whether they take entries now, by ascending contest_id, at most `limit` a page:
        the next page is asked with `after` set to this page's last contest_id, and a page
        shorter than `limit` is the last. 400 for a sport the platform does not offer."""
        admitted = LobbyFilter(
            states=None if contest_state is None else frozenset({contest_state}),
            sport_templates=None if sport is None else _templates_of(sport),
            min_fee_minor=min_fee,
            max_fee_minor=max_fee,
            guaranteed=guaranteed,
            open_at=platform.clock.now() if open_only else None,
        )
        return [contest_out(s) for s in lobby_contests(platform, admitted, after, limit)]

    @get(
        "/{contest_id:str}",
        exclude_from_auth=True,
        operation_id="contestDetail",
        responses=problem_responses(404, 503),
        sync_to_thread=True,
    )
    def detail(
        self, contest_id: FromPath[str], platform: NamedDependency[Platform]
    ) -> ContestDetailOut:
        """What a lineup must be (roster slots, salary cap, teams and games), the scoring
        rules and their fingerprint, payout table, seats, lock time, the slate's players."""
        return contest_detail_out(contest_summary(platform, contest_id))

    @get(
        "/{contest_id:str}/leaderboard",
        exclude_from_auth=True,
        operation_id="leaderboard",
        responses=problem_responses(400, 404, 503),
        sync_to_thread=True,
    )
    def leaderboard(
        self,
        contest_id: FromPath[str],
        platform: NamedDependency[Platform],
        accounts: NamedDependency[Accounts],
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
    ) -> LeaderboardOut:
        """Standings, best first, with each player's display name, points and rank (ties
        share it): live (projected prizes) until settled, final after."""
        board = leaderboard(platform, contest_id, offset, limit)
        experienced = highly_experienced(platform, [row.user_id for row in board.rows])
        names = display_names(accounts, board.rows)
        return leaderboard_out(board, offset, limit, names, experienced)

    @get(
        "/{contest_id:str}/leaderboard/stream",
        exclude_from_auth=True,
        operation_id="leaderboardStream",
        media_type="text/event-stream",
        responses=problem_responses(400, 404, 409, 503),
    )
    async def leaderboard_stream(
        self,
        contest_id: FromPath[str],
        request: Request[Any, Any, Any],
        entry_id: Annotated[
            list[str] | None,
            QueryParameter(
                max_items=MAX_STREAMED_ENTRIES,
                description="Follow these entries (rank and points) instead of the top",
            ),
        ] = None,
        last_event_id: Annotated[
            int | None,
            HeaderParameter(
                name="Last-Event-ID",
                ge=0,
                description="The id of the last event received: the stream resumes after it",
            ),
        ] = None,
    ) -> Stream:
        """The live standings as Server-Sent Events (`text/event-stream`), from lock until
        settlement, pushed as the worker ingests stat updates.

        First a `standings` event: the top of the board (or the `entry_id`s given, up to
        20) with each entry's `rank` and exact `points`. Then a `changes` event per stat
        update: the rows of the top that moved or entered it and those that left it (or
        the followed entries that moved). Each event's id is the stats change sequence:
        reconnect with `Last-Event-ID` to get every update after it, or, when it is no
        longer held, the standings again. An `end` event closes a contest that settled or
        was cancelled. 409 before lock and after settlement; 404 an unknown contest or an
        entry that does not play in it.
        """
        hub: StandingsHub = request.app.state[STANDINGS]
        channel = await hub.join(contest_id)
        wanted = tuple(dict.fromkeys(entry_id or ()))
        try:
            for followed in wanted:
                channel.live.standings.standing(followed)
        except KeyError as unknown:
            hub.leave(channel)
            raise UnknownEntry(f"entry {unknown.args[0]} does not play in {contest_id}") from None
        return Stream(
            stream(hub, channel, wanted, last_event_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @get(
        "/{contest_id:str}/lineups.csv",
        exclude_from_auth=True,
        operation_id="lineupsCsv",
        media_type="text/csv",
        responses=problem_responses(404, 409, 503),
        sync_to_thread=True,
    )
    def lineups_csv(
        self,
        contest_id: FromPath[str],
        platform: NamedDependency[Platform],
        accounts: NamedDependency[Accounts],
    ) -> Response[str]:
        """Every active entry's lineup and points, best first, as CSV: `rank`, `entry_id`,
        `display_name`, `points`, then one column per roster slot with the player id, empty
        while the pick is hidden (its game has not started; all show once the contest
        completes). From lock on; 409 before it and for a cancelled contest."""
        contest, rows = exported_lineups(platform, contest_id)
        text = lineups_csv(
            sport_template(contest.terms.sport_template), rows, display_names(accounts, rows)
        )
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{contest_id}-lineups.csv"'},
        )

    @get(
        "/{contest_id:str}/settlement",
        exclude_from_auth=True,
        operation_id="settlement",
        responses=problem_responses(404, 503),
        sync_to_thread=True,
    )
    def settlement(
        self, contest_id: FromPath[str], platform: NamedDependency[Platform]
    ) -> SettlementOut:
        """The settlement's published hash, and where to fetch the snapshot it hashes."""
        stored = settlement_snapshot(platform, contest_id)
        if stored is None:
            raise NotFoundException(f"contest {contest_id} is not settled")
        url = f"/contests/{contest_id}/settlement/snapshot"
        return SettlementOut(
            contest_id=contest_id,
            sha256=stored[1],
            snapshot_url=url,
            check_with=f"fantasy recompute SNAPSHOT_FILE --sha256 {stored[1]}",
        )

    @get(
        "/{contest_id:str}/settlement/snapshot",
        exclude_from_auth=True,
        operation_id="settlementSnapshot",
        responses=problem_responses(404, 503),
        sync_to_thread=True,
        media_type="application/json",
    )
    def snapshot(
        self, contest_id: FromPath[str], platform: NamedDependency[Platform]
    ) -> Response[bytes]:
        """The snapshot's exact bytes: anyone can hash it and recompute the result offline."""
        stored = settlement_snapshot(platform, contest_id)
        if stored is None:
            raise NotFoundException(f"contest {contest_id} is not settled")
        document, digest = stored
        return Response(
            document, media_type="application/json", headers={"X-Snapshot-SHA256": digest}
        )
