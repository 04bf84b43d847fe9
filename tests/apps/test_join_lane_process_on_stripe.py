"""Production's joins on PostgreSQL (decision 0082): the batches in the lane process, which
charges Stripe (the emulator) itself, with production's four join threads and eight
charge senders. Each join is charged once, a decline is a 402, a replay charges nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from api_support import PASSWORD, api_settings

from apps.api.app import create_app
from apps.bootstrap import start
from fantasy_core.entries import EntryStatus
from fantasy_core.usecases.contests import create_contest
from support.live_server import serving
from support.stripe_books import StripeBooks
from support.stripe_emulator_fixture import API_KEY
from support.world import World, lineup

PLAYERS = 12
DECLINED = "pm_card_chargeCustomerFail"  # the emulator's declined card


def test_joins_in_the_lane_process_charge_stripe_once_each_and_a_replay_nothing(
    postgres_url: str, localstripe_url: str
) -> None:
    books = StripeBooks(localstripe_url)
    settings = api_settings(
        database_url=postgres_url,
        database_auto_upgrade=False,
        stripe_api_key=API_KEY,
        stripe_api_base=localstripe_url,
        join_lane_process=True,
        join_batch_max=16,
        join_batch_lanes=4,
        charge_senders=8,
    )
    with (
        start(settings) as services,
        serving(create_app(settings, services=services)) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        lane = services.lane
        assert lane is not None
        terms = World().terms(lock_at=datetime.now(UTC) + timedelta(days=1), capacity=PLAYERS)
        contest = create_contest(services.platform, terms, actor="operator").contest_id
        picks = [{"slot": s, "player_id": p} for s, p in lineup(0).picks]
        tokens = []
        for n in range(PLAYERS):
            email = f"p{n}@example.com"
            services.accounts.register_player(
                services.platform, email, PASSWORD, date(1990, 5, 17), "NJ"
            )
            login = client.post("/auth/login", json={"email": email, "password": PASSWORD})
            assert login.status_code == 200, login.text
            tokens.append(login.json()["access_token"])
        cards = ["pm_card_visa"] * (PLAYERS - 1) + [DECLINED]

        def join(n: int) -> httpx.Response:
            return client.post(
                f"/contests/{contest}/entries",
                json={"lineup": picks, "payment_method": cards[n]},
                headers={"Authorization": f"Bearer {tokens[n]}", "Idempotency-Key": f"k{n}"},
            )

        def all_at_once() -> list[Any]:
            with ThreadPoolExecutor(PLAYERS) as pool:
                return [(r.status_code, r.json()) for r in pool.map(join, range(PLAYERS))]

        first = all_at_once()
        assert [status for status, _ in first] == [201] * (PLAYERS - 1) + [402], first
        assert first[-1][1]["decline_code"] == "card_declined"
        assert lane.joins == PLAYERS  # every join ran in the child, the one started
        assert lane.started == 1

        with services.platform.uow() as uow:
            entries = uow.entries.for_contest(contest)
        active = [e for e in entries if e.status is EntryStatus.ACTIVE]
        assert len(active) == PLAYERS - 1
        assert all(e.charge_id is not None for e in active)
        charged = books.charge_tally(contest)
        assert charged == {e.fingerprint: 1 for e in active}  # the decline charged nothing

        again = all_at_once()
        assert [status for status, _ in again] == [status for status, _ in first]
        assert [body.get("entry_id") for _, body in again] == [
            body.get("entry_id") for _, body in first
        ]
        assert books.charge_tally(contest) == charged
        assert lane.started == 1
