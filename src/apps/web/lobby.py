"""The lobby, a contest's page (terms, prizes, the player pool, the lineup builder) and joining."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import anyio.to_thread
import msgspec
from attrs import frozen
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from markupsafe import Markup

from adapters.sandbox import TEST_CARDS, SandboxPayments
from apps.api.auth import PLAYERS_ONLY
from apps.api.batching import Overloaded
from apps.api.entries import JoinBatcher, status_of_join
from apps.api.problems import Problem
from apps.api.quota import spend
from apps.api.sandbox import sandbox_confirm_url
from apps.api.state import JOINS, LINEUPS
from apps.api.wire import (
    ContestDetailOut,
    ContestOut,
    SlatePlayerOut,
    contest_detail_out,
    contest_out,
)
from apps.templates import SPORT_OF_TEMPLATE
from apps.web.errors import api_problem
from apps.web.forms import FormBody, field, new_idempotency_key, picks_of, render
from apps.web.recent import Kept, Recent, RecentEach
from apps.web.session import signed_in, viewer
from apps.web.views import (
    PrizeRow,
    check_lineup,
    contest_kind,
    game_labels,
    lobby_rows,
    prize_rows,
)
from fantasy_core.accounts import Role
from fantasy_core.contest import ContestMark
from fantasy_core.entries import EntryStatus
from fantasy_core.errors import DomainError
from fantasy_core.lifecycle import ContestState
from fantasy_core.lineups import Lineup
from fantasy_core.platform import Platform
from fantasy_core.usecases.joining import JoinRequest, pending_payment
from fantasy_core.usecases.queries import (
    ContestSummary,
    contest_mark,
    contest_summary,
    latest_completed,
    list_contests,
)

SORTS = {"salary", "name", "position", "team"}
LOBBY = "web_lobby"  # the app state's Recent[LobbyRead]
LOBBY_SECONDS = 1.0
CONTEST_VIEWS = "web_contest_views"  # the app state's Kept[ContestView], by id and version
CONTEST_VIEWS_KEPT = 64
VISITOR_PAGES = "web_visitor_pages"  # the app state's Kept[bytes], by id, version, seats, open
VISITOR_PAGES_KEPT = 64
VISITOR_MARKS = "web_visitor_marks"  # the app state's RecentEach[str, ContestMark], by id
VISITOR_MARK_SECONDS = 1.0  # a visitor's contest page is at most this stale (decision 0058)
VISITOR_MARKS_KEPT = 256
# A page's route opt: its GET renders no form for a visitor not signed in, so it makes
# them no CSRF token (routes.WebCSRF); a signed-in person's page gets theirs as usual.
NO_FORM_FOR_VISITORS = "no_form_for_visitors"
KIND_CHOICES = ("head-to-head", "50/50", "double-up", "tournament", "fixed prizes")
FEE_CHOICES = (100, 500, 1_000, 2_500, 10_000)  # "at most" filters, minor units
# In play: every contest from lock until its prizes are paid (as many as are running);
# finished: only the latest FINISHED_SHOWN paid, not every contest the platform ever ran.
IN_PLAY = [ContestState.LOCKED, ContestState.LIVE, ContestState.COMPLETE, ContestState.SETTLED]
FINISHED_SHOWN = 20


class LobbyPages(Controller):
    path = "/web"

    @get("/", opt={NO_FORM_FOR_VISITORS: True})  # its filters' form is a GET
    async def lobby(
        self, request: Request[Any, Any, Any], platform: NamedDependency[Platform]
    ) -> Any:
        """Open contests with filters; the table refreshes itself (htmx) every few seconds."""
        read = await _lobby_read(request, platform)
        return render(request, "lobby.html", **_lobby(request, platform, read))

    @get("/lobby/rows", opt={NO_FORM_FOR_VISITORS: True})
    async def lobby_rows(
        self, request: Request[Any, Any, Any], platform: NamedDependency[Platform]
    ) -> Any:
        read = await _lobby_read(request, platform)
        return render(request, "_lobby_rows.html", **_lobby(request, platform, read))

    @get("/contests/{contest_id:str}", opt={NO_FORM_FOR_VISITORS: True})
    async def contest(
        self,
        contest_id: FromPath[str],
        request: Request[Any, Any, Any],
        platform: NamedDependency[Platform],
    ) -> Any:
        """Terms, prize table, the player pool and, while it takes entries, the builder.
        A visitor not signed in, with no search, is answered on the event loop from what
        was read at most a second ago (decision 0058); anyone signed in, from a read of
        their own request."""
        if viewer(request) is None and not request.query_params:
            page = _held_visitor_page(request, platform, contest_id)
            if page is None:
                page = await anyio.to_thread.run_sync(_visitor_page, request, platform, contest_id)
            return Response(page, media_type=MediaType.HTML)
        context = await anyio.to_thread.run_sync(
            lambda: contest_context(request, platform, contest_id, {})
        )
        return render(request, "contest.html", **context)

    @get("/contests/{contest_id:str}/players", sync_to_thread=True)
    def players(
        self,
        contest_id: FromPath[str],
        request: Request[Any, Any, Any],
        platform: NamedDependency[Platform],
    ) -> Any:
        """The pool table alone, searched and sorted (what the search form refreshes)."""
        view, detail = contest_view(request, platform, contest_id)
        _, players = _pool(request, view)
        if players is None:
            return Response(view.pool_html, media_type=MediaType.HTML)
        return render(request, "_pool.html", detail=detail, pool_players=players, games=view.games)

    @post("/contests/{contest_id:str}/lineup-check", sync_to_thread=True)
    def lineup_check(
        self,
        contest_id: FromPath[str],
        request: Request[Any, Any, Any],
        data: FormBody,
        platform: NamedDependency[Platform],
    ) -> Any:
        """The builder's verdict on the picks so far: salary left and the core's message."""
        view, detail = contest_view(request, platform, contest_id)
        terms = view.summary.contest.terms
        check = check_lineup(terms.sport_template, terms.pool, picks_of(detail.roster, data))
        return render(request, "_lineup_check.html", check=check, detail=detail)

    @post("/contests/{contest_id:str}/join", opt=PLAYERS_ONLY)
    async def join(
        self,
        contest_id: FromPath[str],
        request: Request[Any, Any, Any],
        data: FormBody,
        platform: NamedDependency[Platform],
    ) -> Response[Any]:
        """Pay and join, with the form's idempotency key: the same form submitted again is
        the same join, answered by its first outcome and charged once."""
        user = signed_in(request)
        summary = await anyio.to_thread.run_sync(contest_summary, platform, contest_id)
        detail = contest_detail_out(summary)
        picks = picks_of(detail.roster, data)
        key, card = field(data, "idempotency_key"), field(data, "payment_method")
        try:
            spend(request.app.state[LINEUPS], user.user_id, 1, "lineups")
            lineup = Lineup(tuple((slot, pid) for slot, pid in picks if pid))
            joins: JoinBatcher = request.app.state[JOINS]
            result, entry = await joins.submit(
                JoinRequest(contest_id, user.user_id, key, lineup, card)
            )
            status_of_join(result)  # a declined card or a refused join: its problem
        except (DomainError, Problem, Overloaded) as refused:
            problem = api_problem(request, refused)
            context = await anyio.to_thread.run_sync(
                lambda: contest_context(request, platform, contest_id, data, problem)
            )
            status = problem.get("status")
            return render(
                request,
                "contest.html",
                status if isinstance(status, int) else 422,
                **context,
            )
        if result.status is EntryStatus.PENDING_ACTION:
            outcome = await anyio.to_thread.run_sync(pending_payment, platform, entry)
            confirm = None if outcome is None else sandbox_confirm_url(platform, outcome)
            return render(
                request,
                "confirm_payment.html",
                202,
                entry=entry,
                detail=detail,
                outcome=outcome,
                confirm_url=confirm,
            )
        return Redirect(f"/web/entries/{entry.entry_id}", status_code=303)


async def _lobby_read(request: Request[Any, Any, Any], platform: Platform) -> LobbyRead:
    """What the lobby read at most a second ago (Recent), answered on the event loop; the
    store is read in a worker thread, by one caller at a time. Most lobby requests so
    never wait for a thread (bench/web_pages.py)."""
    recent: Recent[LobbyRead] = request.app.state[LOBBY]
    held = recent.held(platform)
    if held is not None:
        return held
    return await anyio.to_thread.run_sync(
        lambda: recent.get(platform, lambda: _read_lobby(platform))
    )


def _lobby(request: Request[Any, Any, Any], platform: Platform, read: LobbyRead) -> dict[str, Any]:
    query = request.query_params
    contests, kinds = read.open, read.kinds
    max_fee_text = query.get("max_fee") or ""
    max_fee = int(max_fee_text) if max_fee_text.isdigit() else None
    sport, kind = query.get("sport") or "", query.get("kind") or ""
    guaranteed = query.get("guaranteed") == "1"
    beginners = query.get("beginners") == "1"
    filters = {
        "sport": sport,
        "kind": kind,
        "max_fee": max_fee,
        "guaranteed": guaranteed,
        "beginners": beginners,
    }
    shown = [
        c for c in contests if not beginners or read.fair_play.get(c.contest_id) == "beginners"
    ]
    rows = lobby_rows(
        sorted(shown, key=lambda c: (c.lock_at, c.contest_id)),
        platform.clock.now(),
        sport=sport or None,
        kind=kind or None,
        max_fee=max_fee,
        guaranteed=guaranteed,
        kinds=kinds,
    )
    return {
        "fair_play": read.fair_play,
        "in_play": read.in_play,
        "finished": read.finished,
        "rows": rows,
        "filters": filters,
        "sports": sorted(set(SPORT_OF_TEMPLATE.values())),
        "kinds": KIND_CHOICES,
        "fees": FEE_CHOICES,
        "now": platform.clock.now(),
    }


@frozen
class LobbyRead:
    """What the lobby reads from the store (reused for a second: apps.web.recent)."""

    open: list[ContestOut]
    kinds: dict[str, str]
    in_play: list[ContestOut]  # from lock until paid, by lock time
    finished: list[ContestOut]  # the latest paid, the most recently completed first
    fair_play: dict[str, str]  # by contest id: open, beginners, no_highly_experienced


def _read_lobby(platform: Platform) -> LobbyRead:
    summaries = list_contests(platform, [ContestState.SCHEDULED])
    kinds = {
        s.contest.contest_id: contest_kind(s.contest.terms.payout, s.contest.terms.capacity)
        for s in summaries
    }
    in_play = sorted(
        (contest_out(s) for s in list_contests(platform, IN_PLAY)),
        key=lambda c: (c.lock_at, c.contest_id),
    )
    finished = [
        contest_out(s) for s in latest_completed(platform, [ContestState.PAID], FINISHED_SHOWN)
    ]
    fair_play = {s.contest.contest_id: s.contest.terms.fair_play.value for s in summaries}
    return LobbyRead([contest_out(s) for s in summaries], kinds, in_play, finished, fair_play)


def _pool(
    request: Request[Any, Any, Any], view: ContestView
) -> tuple[dict[str, str], list[SlatePlayerOut] | None]:
    """The pool table's query (search, position, sort) and its rows; None for the rows of
    the table as first shown (no search, by salary), which the view holds rendered."""
    query = request.query_params
    text = (query.get("q") or "").strip().lower()
    position = query.get("position") or ""
    sort = query.get("sort") or "salary"
    sort = sort if sort in SORTS else "salary"
    shown = {"q": query.get("q") or "", "position": position, "sort": sort}
    if not text and not position and sort == "salary":
        return shown, None
    players = [
        p
        for p in view.by_salary
        if (not text or text in p.name.lower() or text in p.team.lower())
        and (not position or p.position == position)
    ]
    if sort != "salary":  # stable: by salary within each name, position or team
        players.sort(key=lambda p: str(getattr(p, sort)))
    return shown, players


@frozen
class ContestView:
    """What a contest's page shows that changes only with the contest's version (its
    state, cancel reason, terms), made once per version and kept (CONTEST_VIEWS): the
    terms, the prize table if full, the pool by salary and its table as first shown, the
    builder's choices per slot. Seats taken are read per request (`contest_mark`)."""

    summary: ContestSummary  # as read; its seats are those of that read
    detail: ContestDetailOut
    kind: str
    prizes_full: list[PrizeRow]
    positions: list[str]
    by_salary: list[SlatePlayerOut]
    pool_html: Markup  # the pool table as first shown (no search, by salary)
    games: dict[str, str]  # each game's label in the pool: teams and kickoff
    eligible: dict[int, list[SlatePlayerOut]]  # by slot index, by salary

    @property
    def version(self) -> int:
        return self.summary.contest.version


def _make_view(request: Request[Any, Any, Any], summary: ContestSummary) -> ContestView:
    detail = contest_detail_out(summary)
    terms = summary.contest.terms
    by_salary = sorted(detail.players, key=lambda p: (-p.salary, p.name))
    engine = request.app.template_engine
    if not isinstance(engine, JinjaTemplateEngine):
        raise TypeError("the web pages render with Jinja")
    games = game_labels(((p.game_id, p.team) for p in detail.players), detail.kickoffs)
    pool_html = engine.engine.get_template("_pool.html").render(
        detail=detail, pool_players=by_salary, games=games
    )
    return ContestView(
        summary=summary,
        detail=detail,
        kind=contest_kind(terms.payout, terms.capacity),
        prizes_full=prize_rows(terms, terms.capacity),
        positions=sorted({p.position for p in detail.players}),
        by_salary=by_salary,
        pool_html=Markup(pool_html),  # rendered by the autoescaping environment
        games=games,
        eligible={
            index: [p for p in by_salary if p.position in slot.positions]
            for index, slot in enumerate(detail.roster.slots)
        },
    )


def contest_view(
    request: Request[Any, Any, Any], platform: Platform, contest_id: str
) -> tuple[ContestView, ContestDetailOut]:
    """The contest's view and its detail with the seats taken now: one small read (the
    contest's version and seats) per request, the whole contest once per version. Raises
    UnknownContest."""
    mark = contest_mark(platform, contest_id)
    view = _view_for(request, platform, mark)
    return view, _with_seats(view, mark)


def _view_for(
    request: Request[Any, Any, Any], platform: Platform, mark: ContestMark
) -> ContestView:
    """The kept view of the mark's version, or the contest read now and kept under it."""
    kept: Kept[ContestView] = request.app.state[CONTEST_VIEWS]
    return kept.get(
        platform,
        (mark.contest_id, mark.version),
        lambda: _make_view(request, contest_summary(platform, mark.contest_id)),
    )


def _visitor_mark(
    request: Request[Any, Any, Any], platform: Platform, contest_id: str
) -> ContestMark:
    """The contest's version and seats as read at most VISITOR_MARK_SECONDS ago (or, while
    another caller reads it afresh, as held): the one read behind a visitor's page, made
    by one caller at a time per contest. Raises UnknownContest."""
    marks: RecentEach[str, ContestMark] = request.app.state[VISITOR_MARKS]
    return marks.get(platform, contest_id, lambda: contest_mark(platform, contest_id))


def _with_seats(view: ContestView, mark: ContestMark) -> ContestDetailOut:
    """The view's detail with the mark's seats; a view read after a later change than the
    mark's holds the seats of its own read."""
    seats = mark.seats_taken if view.version == mark.version else view.summary.seats_taken
    if seats == view.detail.seats_taken:
        return view.detail
    return msgspec.structs.replace(view.detail, seats_taken=seats)


def _visitor_key(
    contest_id: str, view: ContestView, detail: ContestDetailOut, now: datetime
) -> tuple[str, int, int, bool]:
    return (contest_id, view.version, detail.seats_taken, view.summary.contest.accepts_entries(now))


def _held_visitor_page(
    request: Request[Any, Any, Any], platform: Platform, contest_id: str
) -> bytes | None:
    """The visitor's page from what is held (the mark read at most a second ago, the view
    of its version, the page rendered for it), without reading or rendering: answered on
    the event loop; None when something must be read or made (in a worker thread)."""
    marks: RecentEach[str, ContestMark] = request.app.state[VISITOR_MARKS]
    mark = marks.held(platform, contest_id)
    if mark is None:
        return None
    views: Kept[ContestView] = request.app.state[CONTEST_VIEWS]
    view = views.held(platform, (contest_id, mark.version))
    if view is None:
        return None
    pages: Kept[bytes] = request.app.state[VISITOR_PAGES]
    key = _visitor_key(contest_id, view, _with_seats(view, mark), platform.clock.now())
    return pages.held(platform, key)


def _visitor_page(request: Request[Any, Any, Any], platform: Platform, contest_id: str) -> bytes:
    """The page as a visitor who is not signed in first opens it (no search, no form): the
    same bytes for the same contest version, seats taken and openness, so rendered once
    for them and kept (VISITOR_PAGES), from the contest's mark read at most a second ago
    (VISITOR_MARKS). Raises UnknownContest."""
    mark = _visitor_mark(request, platform, contest_id)
    view = _view_for(request, platform, mark)
    detail = _with_seats(view, mark)
    now = platform.clock.now()

    def make() -> bytes:
        context = _contest_context(request, platform, view, detail, {}, None, now)
        engine = request.app.template_engine
        if not isinstance(engine, JinjaTemplateEngine):
            raise TypeError("the web pages render with Jinja")
        # Rendered without the request: no form token can be in it (csrf_token() needs
        # the request), which is why the page may skip the CSRF cookie (routes.WebCSRF).
        return engine.engine.get_template("contest.html").render(viewer=None, **context).encode()

    kept: Kept[bytes] = request.app.state[VISITOR_PAGES]
    return kept.get(platform, _visitor_key(mark.contest_id, view, detail, now), make)


def contest_context(
    request: Request[Any, Any, Any],
    platform: Platform,
    contest_id: str,
    form: dict[str, str],
    problem: dict[str, object] | None = None,
) -> dict[str, Any]:
    view, detail = contest_view(request, platform, contest_id)
    return _contest_context(request, platform, view, detail, form, problem, platform.clock.now())


def _contest_context(
    request: Request[Any, Any, Any],
    platform: Platform,
    view: ContestView,
    detail: ContestDetailOut,
    form: dict[str, str],
    problem: dict[str, object] | None,
    now: datetime,
) -> dict[str, Any]:
    terms = view.summary.contest.terms
    picks = picks_of(detail.roster, form)
    user = viewer(request)
    builds = user is not None and user.role is Role.PLAYER  # only a player sees the builder
    pool_query, pool_players = _pool(request, view)
    return {
        "detail": detail,
        "now": now,
        "open": view.summary.contest.accepts_entries(now),
        "prizes_now": prize_rows(terms, detail.seats_taken),
        "prizes_full": view.prizes_full,
        "kind": view.kind,
        "eligible": view.eligible if builds else {},
        "picks": picks,
        "check": check_lineup(terms.sport_template, terms.pool, picks),
        "idempotency_key": new_idempotency_key() if builds else "",
        "cards": _cards(platform),
        "chosen_card": form.get("payment_method", ""),
        "problem": problem,
        "pool_query": pool_query,
        "pool_players": pool_players,
        "positions": view.positions,
        "pool_html": view.pool_html if pool_players is None else None,
        "games": view.games,
    }


def _cards(platform: Platform) -> dict[str, str]:
    """The payment methods the form offers: the sandbox's test cards where it takes payments."""
    if isinstance(platform.gateway, SandboxPayments):
        return dict(TEST_CARDS)
    return {}
