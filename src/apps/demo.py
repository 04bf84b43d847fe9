"""`fantasy demo`: a whole contest week on the embedded default, end to end, in seconds.

A fresh SQLite database, the sandbox payment gateway, a real NFL week replayed from
nflverse data, and a clock the demo moves: the worker opens the week's contests by itself
from the shipped calendar (no operator creates any; a head-to-head that fills is refilled),
simulated players join (some declined, one double-submitting, one confirming 3-D
Secure, one withdrawing, some refused), the clock runs through lock, the games, the
correction window; the lifecycle worker's pass runs at every step. The players act
through the HTTP API (the real app, in process: apps.demo_players).
Everything is seeded, so the output is the same on every run apart from paths and timings.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from attrs import define, field, frozen
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_402_PAYMENT_REQUIRED,
    HTTP_409_CONFLICT,
)

from adapters.clock import ControllableClock
from adapters.feeds.replay import default_csv_path
from adapters.ids import SequentialIds
from adapters.sandbox import SandboxGateway
from apps.api.app import create_app
from apps.bootstrap import Services, start
from apps.calendar_file import DEFAULT_CALENDAR_FILE, read_calendar
from apps.demo_players import PASSWORD, DemoApi, InProcessClient, LineupPicker
from apps.settings import Settings
from apps.templates import Catalogue
from fantasy_core.calendar import CalendarOpening
from fantasy_core.contest import Contest
from fantasy_core.entries import join_fingerprint
from fantasy_core.ledger import Conservation
from fantasy_core.lifecycle import ContestState, is_closed
from fantasy_core.lineups import Lineup, PlayerPool
from fantasy_core.money import Money
from fantasy_core.platform import Platform
from fantasy_core.scoring import format_points
from fantasy_core.snapshot import InvalidSnapshot, verify
from fantasy_core.stats import GameStatus
from fantasy_core.usecases.queries import contest_summary, leaderboard, settlement_snapshot
from fantasy_core.usecases.reports import LedgerReport, verify_ledger
from fantasy_core.usecases.worker import PassReport, run_once

GOOD_CARD = "pm_card_visa"
DECLINED_CARD = "pm_card_chargeDeclined"
THREE_D_SECURE_CARD = "pm_card_authenticationRequired"
NFLVERSE = "nflverse (https://github.com/nflverse), player_stats"
OPERATOR = "operator"
OPERATOR_EMAIL = "operator@demo.example"
OPERATOR_PASSWORD = "demo operator password"
# Not a secret: the demo signs its own webhook, in process, in the test environment.
WEBHOOK_SECRET = "whsec_demo_in_process"


@frozen
class DemoOptions:
    week: int = 1
    seed: int = 2025
    database_url: str | None = None
    var_dir: Path = Path("var")
    replay_csv: Path | None = None
    # (host, port): once the week is over, serve the app (pages and API) on its database.
    serve_on: tuple[str, int] | None = None


# Serves an app until stopped: apps.serving.serve (a test passes its own).
Serve = Callable[[Any, str, int, TextIO], None]


@define
class _Tally:
    """What the demo saw happen, for the summary."""

    accepted: int = 0
    declined: int = 0
    refused: dict[str, int] = field(factory=dict)
    replays: int = 0
    withdrawn: int = 0


class Demo:
    """One run of the demo, printing as it goes."""

    def __init__(
        self,
        services: Services,
        api: DemoApi,
        clock: ControllableClock,
        gateway: SandboxGateway,
        options: DemoOptions,
        out: TextIO,
        snapshot_dir: Path | None = None,
    ) -> None:
        self.p: Platform = services.platform
        self.api = api
        self.clock = clock
        self.gateway = gateway
        self.options = options
        self.out = out
        self.slate = f"nfl-2025-reg-wk{options.week:02d}"
        self.rng = random.Random(options.seed)
        self.tally = _Tally()
        self.contests: dict[str, str] = {}  # the demo's name for a contest -> its id
        self.opened: list[CalendarOpening] = []  # what the calendar opened, in order
        self.keys = 0
        self.snapshot_dir = snapshot_dir

    # ---- output --------------------------------------------------------------------

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def step(self, text: str) -> None:
        self.say(f"[{self.clock.now():%a %m-%d %H:%M}] {text}")

    # ---- joining -------------------------------------------------------------------

    def _key(self) -> str:
        self.keys += 1
        return f"demo-key-{self.keys:04d}"

    def join(
        self,
        contest: str,
        user: str,
        lineup: Lineup,
        card: str = GOOD_CARD,
        key_override: str | None = None,
    ) -> dict[str, Any] | None:
        """POST the join; the entry's JSON when it was created (201 or 202), else None."""
        idempotency_key = key_override or self._key()
        response = self.api.join(self.contests[contest], user, lineup, card, idempotency_key)
        body: dict[str, Any] = response.json()
        status = response.status_code
        if status == HTTP_201_CREATED:
            self.tally.accepted += 1
            return body
        if status == HTTP_202_ACCEPTED:
            return body
        if status == HTTP_402_PAYMENT_REQUIRED:
            self.tally.declined += 1
            self.say(
                f"    {user} declined in {contest}: 402 {body['decline_code']} ({body['detail']})"
            )
            return None
        if status == HTTP_409_CONFLICT and "reason" in body:
            reason = str(body["reason"])
            self.tally.refused[reason] = self.tally.refused.get(reason, 0) + 1
            self.say(f"    {user} refused in {contest}: 409 {reason} ({body['detail']})")
            return None
        raise RuntimeError(f"unexpected answer to a join: {status} {body}")

    # ---- the story -----------------------------------------------------------------

    def run(self) -> bool:
        kickoffs = self._kickoffs()
        lock_at = kickoffs[0]
        pool = self.p.feed.player_pool(self.slate)
        self.step(
            f"slate {self.slate}: {len(kickoffs)} games, {len(pool)} players, "
            f"lock at {lock_at:%a %m-%d %H:%M} UTC (the first kickoff)"
        )
        self._open_from_calendar()
        self._accounts()
        self._join_everyone(pool)
        self.clock.set(lock_at - timedelta(hours=2))
        self._withdraw()
        self._self_exclusion()
        self.clock.set(lock_at)
        self._pass("lock time")
        self.clock.advance(timedelta(minutes=1))
        self.join(
            "fifty_fifty",
            "player-late",
            LineupPicker(pool, "draftkings_nfl_classic", self.rng).lineup(),
        )
        for moment in sorted(set(kickoffs))[1:]:
            self.clock.set(moment + timedelta(minutes=90))
            self._pass("games in progress")
        self.clock.set(max(kickoffs) + timedelta(hours=3, minutes=1))
        self._pass("every game final")
        self.clock.advance(timedelta(hours=1, minutes=1))
        self._pass("stat-correction window over")
        return self._summary()

    def _kickoffs(self) -> list[datetime]:
        games = self.p.feed.snapshot(self.slate).games
        return sorted(game.kickoff for game in games)

    def _open_from_calendar(self) -> None:
        """The worker's first pass opens the week's contests from the calendar by itself."""
        report = self._pass("the calendar's lines open 6 days before the first kickoff")
        for opening in report.calendar_opened:
            if opening.key.slate_id == self.slate:
                self.contests[opening.key.line] = opening.contest_id

    def _say_opened(self, opening: CalendarOpening) -> None:
        terms = contest_summary(self.p, opening.contest_id).contest.terms
        guaranteed = terms.guaranteed_pool
        self.say(
            f"    calendar {opening.key.text} opened {opening.contest_id}: {terms.name}, "
            f"fee {terms.entry_fee}, {terms.capacity} seats, min {terms.min_entries}"
            + (f", guaranteed {guaranteed}" if guaranteed else "")
            + f", locks {terms.lock_at:%a %m-%d %H:%M}"
        )

    def _refill(self, pick: Callable[[], Lineup]) -> None:
        """The head-to-head is full: the next pass opens an identical one (its refill)."""
        report = self._pass("the head-to-head filled")
        refills = [o for o in report.calendar_opened if o.key.line == "head_to_head"]
        if not refills:
            raise RuntimeError("the full head-to-head was not refilled")
        self.contests["head_to_head #2"] = refills[0].contest_id
        # One player takes the refill, and nobody else: below its minimum at lock.
        self.join("head_to_head #2", "player-24", pick())

    def _accounts(self) -> None:
        for name in [f"player-{n:02d}" for n in range(1, 41)] + ["player-late"]:
            self.api.register(name)
            self.api.set_payout_account(name, f"acct_{name.replace('-', '_')}")
        # Paid play in Massachusetts is for 21 and over: a 20-year-old gets no account.
        today = self.clock.now().date()
        born = today.replace(year=today.year - 20).isoformat()
        refused = self.api.try_register("player-young", born, "MA")
        problem = refused.json()
        self.step(
            f"player-young (born {born}, MA) refused at registration: "
            f"{refused.status_code} {problem['type'].rsplit('/', 1)[-1]} ({problem['detail']})"
        )

    def _join_everyone(self, pool: PlayerPool) -> None:
        pick = LineupPicker(pool, "draftkings_nfl_classic", self.rng).lineup
        self.clock.advance(timedelta(minutes=5))
        self.step("players join (seeded lineups, under the $50,000 cap)")
        for n in range(1, 12):  # ten seats: the eleventh is refused, full
            self.join("fifty_fifty", f"player-{n:02d}", pick())
        self._double_up(pick)
        for n in range(1, 41):  # up to three entries each; player-01's fourth is refused
            for _ in range(1 if n > 10 else 3):
                self.join("tournament", f"player-{n:02d}", pick())
        self.join("tournament", "player-01", pick())
        self._limit_reached(pick)
        for n in (21, 22):
            self.join("head_to_head", f"player-{n:02d}", pick())
        self._refill(pick)
        for n in (31, 32, 33):  # three of the six it needs: cancelled at lock
            self.join("league", f"player-{n:02d}", pick())
        self.step(
            f"{self.tally.accepted} entries accepted, {self.tally.declined} declined, "
            f"refused: {_counts(self.tally.refused)}"
        )

    def _double_up(self, pick: Callable[[], Lineup]) -> None:
        for n in range(11, 21):
            self.join("double_up", f"player-{n:02d}", pick())
        self.join("double_up", "player-21", pick(), card=DECLINED_CARD)
        # player-22 double-submits: the same idempotency key twice, charged once.
        lineup = pick()
        first = self.join("double_up", "player-22", lineup, key_override="player-22-tap")
        charges = len(self.gateway.charges)
        contest_id = self.contests["double_up"]
        again = self.api.join(contest_id, "player-22", lineup, GOOD_CARD, "player-22-tap")
        if first is not None and again.json() == first and len(self.gateway.charges) == charges:
            self.tally.replays += 1
            self.say(
                f"    player-22 submitted twice with one key: {again.status_code} both times, "
                f"same entry {first['entry_id']}, charged once"
            )
        # player-23's bank asks for 3-D Secure (202); Stripe's webhook says it succeeded.
        pending = self.join(
            "double_up", "player-23", pick(), card=THREE_D_SECURE_CARD, key_override="3ds"
        )
        if pending is not None:
            user_id = self.api.user_ids["player-23"]
            fingerprint = join_fingerprint(contest_id, user_id, "3ds")
            self.gateway.complete_action(fingerprint, True, "evt_demo_3ds")
            charge_id = self.gateway.charges[fingerprint].charge_id
            answer = self.api.stripe_event(
                "evt_demo_3ds", "payment_intent.succeeded", {"id": charge_id}
            )
            if answer["applied"]:
                self.tally.accepted += 1
                self.say(
                    f"    player-23 confirmed 3-D Secure: {pending['entry_id']} active after "
                    "Stripe's signed webhook"
                )

    def _limit_reached(self, pick: Callable[[], Lineup]) -> None:
        """player-38 set a daily limit of $5 on entry fees: a second $3 entry is refused."""
        self.api.set_limits("player-38", {"fees_day": 500})
        self.say("    player-38 set a daily entry-fee limit of $5.00")
        self.join("tournament", "player-38", pick())

    def _self_exclusion(self) -> None:
        """player-40 excludes themself for a year: their tournament entry is refunded."""
        contest_id = self.contests["tournament"]
        entry_id = next(
            e["entry_id"] for e in self.api.entries("player-40") if e["contest_id"] == contest_id
        )
        answer = self.api.self_exclude("player-40", "1y")
        status = self.api.entry("player-40", entry_id)["status"]
        self.step(
            f"player-40 self-excluded until {answer['until'][:10]}: entry {entry_id} "
            f"{status}, fee refunded; no joins until then"
        )

    def _withdraw(self) -> None:
        contest_id = self.contests["double_up"]
        entry_id = next(
            e["entry_id"] for e in self.api.entries("player-11") if e["contest_id"] == contest_id
        )
        response = self.api.withdraw("player-11", entry_id)
        if response.status_code != HTTP_200_OK:
            self.say(f"    withdrawal refused: {response.json()['detail']}")
            return
        self.tally.withdrawn += 1
        self.step(f"player-11 withdrew {entry_id} from the double-up: fee refunded")

    def _pass(self, what: str) -> PassReport:
        report = run_once(self.p)
        self.step(
            f"{what}: worker pass, {len(report.calendar_opened)} contests opened by the "
            f"calendar, {len(report.transitions)} transitions, "
            f"{report.slates_ingested} feed snapshots stored, "
            f"{report.payouts_confirmed} payouts, {report.refunds_confirmed} refunds"
        )
        for opening in report.calendar_opened:
            self.opened.append(opening)
            self._say_opened(opening)
        names = {contest_id: key for key, contest_id in self.contests.items()}
        for event in report.transitions:
            self.say(
                f"    {names.get(event.contest_id, event.contest_id)}: "
                f"{event.source.value} -> {event.target.value} ({event.reason})"
            )
        self._live_status()
        return report

    def _live_status(self) -> None:
        snapshot = self.p.feed.snapshot(self.slate)
        final = sum(1 for g in snapshot.games if g.status is GameStatus.FINAL)
        if "tournament" not in self.contests:
            return
        board = leaderboard(self.p, self.contests["tournament"], 0, 1)
        if not board.rows or board.final:
            return
        top = board.rows[0]
        leader = self.api.names.get(top.user_id, top.user_id)
        self.say(
            f"    {final}/{len(snapshot.games)} games final; tournament leader "
            f"{leader} ({top.entry_id}) with {format_points(top.score)} points"
        )

    # ---- the summary ---------------------------------------------------------------

    def _summary(self) -> bool:
        report = verify_ledger(self.p)
        money = {c.contest_id: c for c in report.closed_contests}
        all_closed = True
        self.say("")
        self.say("Summary")
        closed: list[tuple[Contest, Conservation | None]] = []
        for contest_id in self.contests.values():
            contest = contest_summary(self.p, contest_id).contest
            all_closed = all_closed and is_closed(contest.state)
            self._contest_summary(contest, money.get(contest_id))
            closed.append((contest, money.get(contest_id)))
        self._calendar_summary()
        self._ledger_summary(report)
        self._table(closed)
        ok = all_closed and report.ok
        self.say("")
        self.say("RESULT: " + ("every contest closed, ledger verified" if ok else "FAILED"))
        return ok

    def _contest_summary(self, contest: Contest, cons: Conservation | None) -> None:
        terms = contest.terms
        currency = terms.currency
        self.say(f"  {contest.contest_id}  {terms.name}: {contest.state.value}")
        if cons is None:
            self.say("    (not closed: no money summary)")
            return
        entries = cons.collected // terms.entry_fee.minor
        self.say(
            f"    collected {Money(cons.collected, currency)}, refunded "
            f"{Money(cons.refunded, currency)}, rake {Money(cons.rake, currency)}, "
            f"overlay {Money(cons.overlay, currency)}, paid out "
            f"{Money(cons.paid_out, currency)}  ({entries} fees collected)"
        )
        if cons.withheld:
            self.say(
                f"    withheld for tax {Money(cons.withheld, currency)} (24% backup withholding "
                "of prizes won without a W-9 on file, decision 0042)"
            )
        if contest.state is ContestState.CANCELLED:
            self.say(f"    cancelled: {contest.cancel_reason}")
            return
        board = leaderboard(self.p, contest.contest_id, 0, 100_000)
        winners = [row for row in board.rows if row.prize_minor > 0]
        self.say(f"    {board.total} entries, {len(winners)} paid")
        for row in winners[:3]:
            self.say(
                f"      #{row.rank:<3} {self.api.names.get(row.user_id, row.user_id):<12} "
                f"{row.entry_id}  "
                f"{format_points(row.score):>7} pts  {Money(row.prize_minor, currency)}"
            )
        if len(winners) > 3:
            self.say(f"      ... and {len(winners) - 3} more paid places")
        stored = settlement_snapshot(self.p, contest.contest_id)
        if stored is not None:
            document, digest = stored
            try:
                verify(document, digest)
                verdict = "recomputes to itself"
            except InvalidSnapshot as error:
                verdict = f"DOES NOT VERIFY: {error}"
            self.say(f"    settlement snapshot {digest} ({verdict})")
            if self.snapshot_dir is not None:
                self.snapshot_dir.mkdir(parents=True, exist_ok=True)
                path = self.snapshot_dir / f"{contest.contest_id}.json"
                path.write_bytes(document)
                self.say(f"      check it yourself: fantasy recompute {path} --sha256 {digest}")

    def _calendar_summary(self) -> None:
        """Which calendar line opened which contest: every contest of the demo did."""
        self.say("")
        self.say("  calendar (no contest was created by an operator):")
        by_line: dict[tuple[str, str], list[str]] = {}
        for opening in self.opened:
            where = (opening.key.slate_id, opening.key.line)
            by_line.setdefault(where, []).append(f"{opening.contest_id} (#{opening.key.sequence})")
        for (slate_id, line), contests in by_line.items():
            template = self.p.calendar.line(line).template
            upcoming = "" if slate_id == self.slate else "  (next week's, open for entries)"
            self.say(
                f"    {slate_id}  line {line} (template {template}): "
                f"{', '.join(contests)}{upcoming}"
            )

    def _table(self, contests: list[tuple[Contest, Conservation | None]]) -> None:
        """One line per contest: its state and its money, and whether it conserved it."""
        header = ["contest", "state", "fees", "collected", "rake", "overlay", "paid", "refunded"]
        rows = [[*header, "ledger"]]
        for contest, cons in contests:
            row = [contest.contest_id, contest.state.value]
            if cons is None:
                row += ["-"] * (len(header) - 2) + ["open"]
            else:
                currency = contest.terms.currency
                amounts = (cons.collected, cons.rake, cons.overlay, cons.paid_out, cons.refunded)
                row.append(str(cons.collected // contest.terms.entry_fee.minor))
                row += [str(Money(amount, currency)) for amount in amounts]
                row.append("conserved" if cons.conserved else "NOT CONSERVED")
            rows.append(row)
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        self.say("")
        for row in rows:
            cells = [
                cell.ljust(width) if i < 2 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ]
            self.say("  " + "  ".join(cells))

    def _ledger_summary(self, report: LedgerReport) -> None:
        gateway = self.gateway
        succeeded = sum(1 for c in gateway.charges.values() if c.status.value == "succeeded")
        declined = len(gateway.charges) - succeeded
        paid = sum(t.amount.minor for t in gateway.transfers.values())
        refunded = sum(amount.minor for _, _, amount in gateway.refunds.values())
        self.say("")
        self.say(
            f"  ledger: {report.posting_sets} posting sets, "
            + (
                "all balanced, every closed contest conserves money to the cent"
                if report.ok
                else f"PROBLEMS: unbalanced {list(report.unbalanced)}"
            )
        )
        self.say(
            f"  sandbox gateway: {succeeded} charges succeeded, {declined} declined or "
            f"pending, {len(gateway.refunds)} refunds ({Money(refunded, 'usd')}), "
            f"{len(gateway.transfers)} transfers ({Money(paid, 'usd')})"
        )
        self.say(
            f"  joins: {self.tally.accepted} accepted, {self.tally.declined} declined, "
            f"{self.tally.replays} replayed key answered from the first outcome, "
            f"{self.tally.withdrawn} withdrawn, refused: {_counts(self.tally.refused)}"
        )


def _serve_demo(
    settings: Settings,
    services: Services,
    address: tuple[str, int],
    out: TextIO,
    serve: Serve | None,
) -> None:
    from apps.serving import serve as serve_with_uvicorn  # noqa: PLC0415

    for line in (
        "",
        "The app stays up on the demo's database (the clock stopped at the end of the week):",
        "  open /web/ at the address below: the lobby, each contest's leaderboard and prizes",
        f"  players: player-01@demo.example ... player-40@demo.example, password '{PASSWORD}'",
        f"  operator console (/web/operator): {OPERATOR_EMAIL}, password '{OPERATOR_PASSWORD}'",
        "  the API's docs at /schema; Ctrl-C stops it",
    ):
        print(line, file=out, flush=True)
    (serve or serve_with_uvicorn)(create_app(settings, services=services), *address, out)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items())) or "none"


def _snapshot_dir(database_url: str) -> Path | None:
    """Next to a SQLite file: `<file stem>-snapshots/`; nowhere for another database."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix) or database_url.endswith(":memory:"):
        return None
    database = Path(database_url.removeprefix(prefix))
    return database.with_name(database.stem + "-snapshots")


def demo_database_url(var_dir: Path, now: datetime) -> str:
    path = (var_dir / f"demo-{now:%Y%m%dT%H%M%S}.db").resolve()
    return f"sqlite:///{path}"


def _header(settings: Settings, options: DemoOptions, out: TextIO) -> None:
    lines = [
        "Fantasy contests demo: one NFL week, end to end, on a simulated clock.",
        f"  database  {settings.describe()['database']} (fresh, test environment)",
        "  payments  the sandbox gateway: no real money moves",
        f"  games     2025 week {options.week}, replayed from {NFLVERSE}; "
        "statistics courtesy of nflverse",
        "  players   simulated, through the HTTP API (in process)",
        f"  seed      {options.seed}",
        "",
    ]
    for line in lines:
        print(line, file=out)


def run_demo(options: DemoOptions, out: TextIO, serve: Serve | None = None) -> int:
    """Run the demo; 0 when every contest closed and the ledger verifies, else 1.

    With `options.serve_on`, the app then serves the demo's database (its clock stopped at
    the end of the week) until stopped, so a person can open the pages and look around.
    """
    started = time.perf_counter()
    database_url = options.database_url or demo_database_url(options.var_dir, datetime.now(UTC))
    settings = Settings(
        environment="test",
        database_url=database_url,
        database_auto_upgrade=True,
        replay_csv=options.replay_csv or default_csv_path(),
        calendar=read_calendar(DEFAULT_CALENDAR_FILE, Catalogue().sport_of),
        stripe_webhook_secret=WEBHOOK_SECRET,
        operator_email=OPERATOR_EMAIL,
        operator_password=OPERATOR_PASSWORD,
        # Every simulated player calls from the same (in-process) address.
        login_rate_per_minute=100_000,
        join_rate_per_minute=100_000,
    )
    clock = ControllableClock(datetime(2025, 9, 1, tzinfo=UTC))
    gateway = SandboxGateway()
    with start(settings, clock=clock, gateway=gateway, ids=SequentialIds()) as services:
        slate = f"nfl-2025-reg-wk{options.week:02d}"
        kickoff = min(g.kickoff for g in services.platform.feed.snapshot(slate).games)
        clock.set(kickoff - timedelta(days=2))
        _header(settings, options, out)
        app = create_app(settings, services=services)
        with InProcessClient(app) as client:
            api = DemoApi(client, WEBHOOK_SECRET)
            api.log_in(OPERATOR, OPERATOR_EMAIL, OPERATOR_PASSWORD)
            snapshots = _snapshot_dir(database_url)
            ok = Demo(services, api, clock, gateway, options, out, snapshots).run()
        first = "contest-00000001"
        for line in (
            f"  finished in {time.perf_counter() - started:.1f} s. Where to look next:",
            f"    fantasy verify-ledger --database-url {database_url}",
            f"    fantasy audit {first} --database-url {database_url}",
            f"    fantasy serve --database-url {database_url}   (API docs at /schema)",
            "    fantasy demo --serve   (the same week, then the web pages at /web/)",
        ):
            print(line, file=out)
        if options.serve_on is not None:
            _serve_demo(settings, services, options.serve_on, out, serve)
    return 0 if ok else 1
