"""My entries, one entry (edit, withdraw, payment), its score explained, the live leaderboard."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect

from adapters.sandbox import SandboxPayments
from adapters.sandbox.gateway import InvalidClientSecret, NoActionPending
from apps.accounts import Accounts, display_names
from apps.api.auth import PLAYERS_ONLY, ensure_can_see_entry
from apps.api.entries import lineup_view_for
from apps.api.problems import Problem
from apps.api.sandbox import sandbox_confirm_url
from apps.api.wire import (
    contest_detail_out,
    entry_out,
    explanation_out,
    leaderboard_out,
    payments_out,
)
from apps.web.errors import api_problem
from apps.web.forms import FormBody, field, picks_of, render
from apps.web.session import signed_in
from apps.web.views import check_lineup
from fantasy_core.accounts import Account, Role
from fantasy_core.entries import Entry, EntryStatus
from fantasy_core.errors import DomainError
from fantasy_core.lifecycle import ContestState
from fantasy_core.lineups import Lineup
from fantasy_core.platform import Platform
from fantasy_core.usecases.joining import pending_payment, withdraw
from fantasy_core.usecases.lineups import edit_lineup
from fantasy_core.usecases.live import LIVE_STATES
from fantasy_core.usecases.payment_events import apply_payment_event
from fantasy_core.usecases.queries import (
    contest_summary,
    entries_of,
    entry_charged_by,
    get_entry,
    leaderboard,
    payments_of,
    placings,
    settlement_snapshot,
)
from fantasy_core.usecases.reports import explain_entry

BOARD_ROWS = 100
SWAPPABLE = (ContestState.LOCKED, ContestState.LIVE)


class EntryPages(Controller):
    path = "/web"

    @get("/entries", opt=PLAYERS_ONLY, sync_to_thread=True)
    def my_entries(
        self, request: Request[Any, Any, Any], platform: NamedDependency[Platform]
    ) -> Any:
        """Every entry of mine with its contest, status, payment and, from lock, points."""
        user = signed_in(request)
        found = entries_of(platform, user.user_id)
        placed = placings(platform, found)
        payments = payments_out(payments_of(platform, user.user_id))
        names = {e.contest_id: contest_summary(platform, e.contest_id) for e in found}
        return render(
            request,
            "entries.html",
            entries=[entry_out(e, placing=placed.get(e.entry_id)) for e in found],
            contests={cid: s.contest for cid, s in names.items()},
            payments=payments,
        )

    @get("/entries/{entry_id:str}", sync_to_thread=True)
    def entry(
        self,
        entry_id: FromPath[str],
        request: Request[Any, Any, Any],
        platform: NamedDependency[Platform],
    ) -> Any:
        """My entry: its lineup (editable until lock), withdrawal, payment and points."""
        user = signed_in(request)
        entry, _ = get_entry(platform, entry_id)
        _ensure_owner_or_operator(user, entry)
        context = _entry_context(platform, entry, {}, None)
        # A payment waiting for its owner's bank: what the owner's browser needs to finish
        # it (its client secret is the owner's alone). Not for the page's own polling, which
        # reads the status only (each look-up is a call to the payment provider).
        if entry.user_id == user.user_id and "hx-request" not in request.headers:
            outcome = pending_payment(platform, entry)
            context["outcome"] = outcome
            context["confirm_url"] = (
                None if outcome is None else sandbox_confirm_url(platform, outcome)
            )
        return render(request, "entry.html", **context)

    @post("/entries/{entry_id:str}/lineup", opt=PLAYERS_ONLY, sync_to_thread=True)
    def change_lineup(
        self,
        entry_id: FromPath[str],
        request: Request[Any, Any, Any],
        data: FormBody,
        platform: NamedDependency[Platform],
    ) -> Response[Any]:
        """Replace the lineup until lock, under the join's rules; the core's refusal shown."""
        user = signed_in(request)
        entry, contest = get_entry(platform, entry_id)
        if entry.user_id != user.user_id:
            raise PermissionDeniedException("only the entry's owner can change its lineup")
        detail = contest_detail_out(contest_summary(platform, contest.contest_id))
        picks = picks_of(detail.roster, data)
        try:
            lineup = Lineup(tuple((slot, pid) for slot, pid in picks if pid))
            edit_lineup(platform, entry_id, user.user_id, lineup)
        except DomainError as refused:
            problem = api_problem(request, refused)
            context = _entry_context(platform, entry, data, problem)
            return render(request, "entry.html", _status(problem), **context)
        return Redirect(f"/web/entries/{entry_id}?changed=1", status_code=303)

    @post("/entries/{entry_id:str}/withdraw", opt=PLAYERS_ONLY, sync_to_thread=True)
    def withdraw(
        self,
        entry_id: FromPath[str],
        request: Request[Any, Any, Any],
        data: FormBody,
        platform: NamedDependency[Platform],
    ) -> Response[Any]:
        """Withdraw before the cut-off (the fee is refunded), once the player confirmed."""
        user = signed_in(request)
        entry, _ = get_entry(platform, entry_id)
        if entry.user_id != user.user_id:
            raise PermissionDeniedException("only the entry's owner can withdraw it")
        if data.get("confirm") != "yes":
            problem = api_problem(
                request,
                Problem(
                    422,
                    "not-confirmed",
                    "Not confirmed",
                    "tick the box to confirm the withdrawal; nothing was changed",
                ),
            )
            return render(
                request, "entry.html", 422, **_entry_context(platform, entry, {}, problem)
            )
        try:
            withdraw(platform, entry.contest_id, entry_id, user.user_id)
        except DomainError as refused:
            problem = api_problem(request, refused)
            context = _entry_context(platform, entry, {}, problem)
            return render(request, "entry.html", _status(problem), **context)
        return Redirect(f"/web/entries/{entry_id}", status_code=303)

    @get("/entries/{entry_id:str}/explanation", sync_to_thread=True)
    def explanation(
        self,
        entry_id: FromPath[str],
        request: Request[Any, Any, Any],
        platform: NamedDependency[Platform],
    ) -> Any:
        """The score stat by stat (stat x rule = points): the API's rule for who may see it."""
        user = signed_in(request)
        entry, contest = get_entry(platform, entry_id)
        ensure_can_see_entry(user, entry, contest)
        # Another player's picks whose games have not started stay hidden (as on the API).
        view = lineup_view_for(platform, user, entry)
        explained = explanation_out(explain_entry(platform, entry_id), view)
        names = {pid: p.name for pid, p in contest.terms.pool.players.items()}
        return render(
            request,
            "explanation.html",
            explained=explained,
            entry=entry,
            contest=contest,
            names=names,
        )

    @get("/contests/{contest_id:str}/leaderboard", sync_to_thread=True)
    def leaderboard(
        self,
        contest_id: FromPath[str],
        request: Request[Any, Any, Any],
        platform: NamedDependency[Platform],
        accounts: NamedDependency[Accounts],
    ) -> Any:
        """Standings and my entries' points, refreshed every few seconds while live; after
        settlement the prizes as paid, the snapshot's SHA-256 and its download."""
        context = _board(request, platform, accounts, contest_id)
        return render(request, "leaderboard.html", **context)

    @get("/contests/{contest_id:str}/leaderboard/live", sync_to_thread=True)
    def leaderboard_live(
        self,
        contest_id: FromPath[str],
        request: Request[Any, Any, Any],
        platform: NamedDependency[Platform],
        accounts: NamedDependency[Accounts],
    ) -> Any:
        context = _board(request, platform, accounts, contest_id)
        return render(request, "_board.html", **context)

    @post("/payments/{payment_intent:str}/confirm", opt=PLAYERS_ONLY)
    async def confirm_payment(
        self,
        payment_intent: FromPath[str],
        request: Request[Any, Any, Any],
        data: FormBody,
        platform: NamedDependency[Platform],
    ) -> Response[Any]:
        """The sandbox's stand-in for the bank's 3-D Secure page (test environments only)."""
        user = signed_in(request)
        gateway = platform.gateway
        if not isinstance(gateway, SandboxPayments):
            raise NotFoundException("the sandbox gateway is not in use")
        entry = await anyio.to_thread.run_sync(entry_charged_by, platform, payment_intent)
        if entry is None or entry.user_id != user.user_id:
            raise NotFoundException(f"no payment {payment_intent} of yours waits")
        secret, outcome = field(data, "client_secret"), field(data, "outcome")
        try:
            event = gateway.confirm(payment_intent, secret, succeeded=outcome == "succeeded")
        except InvalidClientSecret as error:
            raise NotFoundException(str(error)) from error
        except NoActionPending as error:
            raise Problem(409, "nothing-to-confirm", "Nothing to confirm", str(error)) from error
        await anyio.to_thread.run_sync(apply_payment_event, platform, event)
        return Redirect(f"/web/entries/{entry.entry_id}", status_code=303)


def _ensure_owner_or_operator(user: Account, entry: Entry) -> None:
    """A player's entry page (lineup, payment, withdrawal) is theirs alone (and operators')."""
    if user.role is not Role.OPERATOR and entry.user_id != user.user_id:
        raise PermissionDeniedException("this entry is another player's")


def _entry_context(
    platform: Platform, entry: Entry, form: dict[str, str], problem: dict[str, object] | None
) -> dict[str, Any]:
    summary = contest_summary(platform, entry.contest_id)
    detail = contest_detail_out(summary)
    terms = summary.contest.terms
    placed = placings(platform, [entry]).get(entry.entry_id)
    current = dict(entry.lineup.picks)
    picks = (
        picks_of(detail.roster, form)
        if form
        else [
            (slot.name, pid)
            for (slot, (_, pid)) in zip(detail.roster.slots, entry.lineup.picks, strict=False)
        ]
    )
    payments = payments_out(payments_of(platform, entry.user_id))
    now = platform.clock.now()
    return {
        "entry": entry_out(entry, placing=placed),
        "detail": detail,
        "contest": summary.contest,
        # Before lock an edit; after it, on a late-swap contest, a swap of the players whose
        # games have not started: the core says which picks it refuses, and why.
        "editable": entry.status is EntryStatus.ACTIVE
        and (
            summary.contest.accepts_entries(now)
            or (terms.late_swap and summary.contest.state in SWAPPABLE)
        ),
        "late_swap": terms.late_swap and not summary.contest.accepts_entries(now),
        "withdrawable": summary.contest.accepts_entries(now)
        and now < terms.withdraw_deadline()
        and entry.status is EntryStatus.ACTIVE,
        "names": {pid: p.name for pid, p in terms.pool.players.items()},
        "current": current,
        "picks": picks,
        "eligible": {
            index: sorted(
                (p for p in detail.players if p.position in slot.positions),
                key=lambda p: (-p.salary, p.name),
            )
            for index, slot in enumerate(detail.roster.slots)
        },
        "check": check_lineup(terms.sport_template, terms.pool, picks),
        "charges": [c for c in payments.charges if c.entry_id == entry.entry_id],
        "refunds": [r for r in payments.refunds if r.entry_id == entry.entry_id],
        "payouts": [x for x in payments.payouts if x.entry_id == entry.entry_id],
        "problem": problem,
        "outcome": None,  # a payment waiting for the bank (the owner's page only)
        "confirm_url": None,
    }


def _board(
    request: Request[Any, Any, Any], platform: Platform, accounts: Accounts, contest_id: str
) -> dict[str, Any]:
    summary = contest_summary(platform, contest_id)
    board = leaderboard(platform, contest_id, 0, BOARD_ROWS)
    out = leaderboard_out(board, 0, BOARD_ROWS, display_names(accounts, board.rows))
    user = request.scope.get("user")
    mine: list[Any] = []
    if isinstance(user, Account):
        own = [
            e
            for e in entries_of(platform, user.user_id)
            if e.contest_id == contest_id and e.status is not EntryStatus.DECLINED
        ]
        placed = placings(platform, own)
        mine = [entry_out(e, placing=placed.get(e.entry_id)) for e in own]
    stored = settlement_snapshot(platform, contest_id) if board.final else None
    return {
        "contest": summary.contest,
        "board": out,
        "mine": mine,
        "mine_ids": {e.entry_id for e in mine},
        "sha256": None if stored is None else stored[1],
        "live": not board.final and summary.contest.state is not ContestState.CANCELLED,
        # The API's stream serves a contest from lock until it leaves the live states.
        "streams": summary.contest.state in LIVE_STATES,
    }


def _status(problem: dict[str, object]) -> int:
    status = problem.get("status")
    return status if isinstance(status, int) else 422
