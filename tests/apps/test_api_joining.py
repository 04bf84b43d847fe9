"""Joining over HTTP: 201 new, the same on a replay, 402 declined, 409 refused, 422 invalid, 400."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from api_support import Api, assert_problem

from apps.api.state import JOINS
from support.world import LOCK, lineup


def test_a_new_entry_is_201_and_a_replay_of_its_key_is_the_same_response_charged_once(
    api: Api,
) -> None:
    contest = api.contest()
    ann = api.player("ann")
    first = api.join(contest, ann, key="tap-1")
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "active"
    again = api.join(contest, ann, key="tap-1")
    assert (again.status_code, again.json()) == (201, first.json())
    assert len(api.world.gateway.charges) == 1


def test_a_key_reused_with_another_lineup_or_card_is_a_422_naming_the_key(api: Api) -> None:
    contest = api.contest()
    ann = api.player("ann")
    first = api.join(contest, ann, key="tap-1")
    assert first.status_code == 201, first.text
    for other in (api.join(contest, ann, key="tap-1", variant=1),
                  api.join(contest, ann, key="tap-1", card="pm_card_mastercard")):  # fmt: skip
        problem = assert_problem(other, 422, "idempotency-key-reused")
        assert problem["idempotency_key"] == "tap-1"
        assert first.json()["entry_id"] in problem["detail"]
    both = assert_problem(
        api.join(contest, ann, key="tap-1", variant=1, card="pm_card_mastercard"),
        422,
        "idempotency-key-reused",
    )
    assert "another lineup and payment method" in both["detail"]
    again = api.join(contest, ann, key="tap-1")
    assert (again.status_code, again.json()) == (201, first.json())
    assert len(api.world.gateway.charges) == 1


def test_the_same_key_from_two_players_is_two_entries(api: Api) -> None:
    contest = api.contest()
    assert api.join(contest, api.player("ann"), key="k").status_code == 201
    assert api.join(contest, api.player("bob"), key="k", variant=1).status_code == 201
    assert len(api.world.gateway.charges) == 2


def test_a_declined_card_is_402_with_the_decline_code_and_stays_402_on_replay(api: Api) -> None:
    contest = api.contest()
    ann = api.player("ann")
    body = assert_problem(
        api.join(contest, ann, card="pm_card_chargeDeclinedInsufficientFunds"),
        402,
        "payment-declined",
    )
    assert body["decline_code"] == "insufficient_funds"
    again = api.join(contest, ann, card="pm_card_chargeDeclinedInsufficientFunds")
    assert again.status_code == 402
    assert again.json()["entry_id"] == body["entry_id"]
    # The seat was not kept: a new key with a good card gets in.
    assert api.join(contest, ann, key="key-2").status_code == 201


def test_a_payment_needing_3d_secure_is_202_with_what_the_client_needs_to_finish_it(
    api: Api,
) -> None:
    contest = api.contest()
    ann = api.player("ann")
    response = api.join(contest, ann, key="3ds", card="pm_card_authenticationRequired")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending_action"
    payment = body["payment"]
    intent = payment["payment_intent"]
    assert payment["status"] == "requires_action"
    assert payment["client_secret"].startswith(f"{intent}_secret_")
    assert payment["confirm_url"] == f"/sandbox/payments/{intent}/confirm"
    replay = api.join(contest, ann, key="3ds", card="pm_card_authenticationRequired")
    assert (replay.status_code, replay.json()) == (202, body)

    url = payment["confirm_url"]
    forged = {"client_secret": f"{intent}_secret_forged", "outcome": "succeeded"}
    assert_problem(api.client.post(url, json=forged), 404, "not-found")
    assert_problem(
        api.client.post(
            "/sandbox/payments/pi_nope/confirm",
            json={"client_secret": payment["client_secret"], "outcome": "succeeded"},
        ),
        404,
        "not-found",
    )
    confirm = {"client_secret": payment["client_secret"], "outcome": "succeeded"}
    done = api.client.post(url, json=confirm)
    assert done.status_code == 200, done.text
    assert (done.json()["entry_id"], done.json()["status"]) == (body["entry_id"], "active")
    assert done.json()["payment"] is None
    assert_problem(api.client.post(url, json=confirm), 409, "nothing-to-confirm")
    final = api.join(contest, ann, key="3ds", card="pm_card_authenticationRequired")
    assert (final.status_code, final.json()["status"]) == (201, "active")
    assert len(api.world.gateway.charges) == 1


def test_a_failed_3d_secure_challenge_declines_the_entry_and_frees_the_seat(api: Api) -> None:
    contest = api.contest("head_to_head")
    ann = api.player("ann")
    payment = api.join(contest, ann, card="pm_card_authenticationRequired").json()["payment"]
    assert api.join(contest, api.player("bob"), variant=1).status_code == 201
    failed = api.client.post(
        payment["confirm_url"],
        json={"client_secret": payment["client_secret"], "outcome": "failed"},
    )
    assert (failed.status_code, failed.json()["status"]) == (200, "declined")
    assert api.join(contest, api.player("cy"), variant=2).status_code == 201


def test_a_full_contest_is_409_full(api: Api) -> None:
    contest = api.contest("head_to_head")
    assert api.join(contest, api.player("ann")).status_code == 201
    assert api.join(contest, api.player("bob"), variant=1).status_code == 201
    body = assert_problem(api.join(contest, api.player("cat"), variant=2), 409, "join-refused")
    assert body["reason"] == "full"


def test_a_second_entry_over_the_limit_is_409_entry_limit(api: Api) -> None:
    contest = api.contest("fifty_fifty")  # single entry
    ann = api.player("ann")
    assert api.join(contest, ann, key="a").status_code == 201
    body = assert_problem(api.join(contest, ann, key="b", variant=1), 409, "join-refused")
    assert body["reason"] == "entry_limit"


def test_a_join_after_lock_is_409_locked(api: Api) -> None:
    contest = api.contest()
    api.world.clock.set(LOCK + timedelta(seconds=1))
    body = assert_problem(api.join(contest, api.player("ann")), 409, "join-refused")
    assert body["reason"] == "locked"


def test_an_invalid_lineup_is_422_naming_the_rule_and_the_player(api: Api) -> None:
    contest = api.contest()
    ann = api.player("ann")
    picks = [{"slot": s, "player_id": p} for s, p in api.world_lineup_picks()]
    picks[1]["player_id"] = "NOBODY"
    response = api.client.post(
        f"/contests/{contest}/entries",
        json={"lineup": picks, "payment_method": "pm_card_visa"},
        headers={**ann, "Idempotency-Key": "k"},
    )
    body = assert_problem(response, 422, "invalid-lineup")
    assert (body["rule"], body["player_id"]) == ("unknown_player", "NOBODY")
    assert not api.world.gateway.charges


def test_malformed_joins_are_400(api: Api) -> None:
    contest = api.contest()
    ann = api.player("ann")
    url = f"/contests/{contest}/entries"
    good = {"lineup": [{"slot": "QB", "player_id": "KC-QB0"}], "payment_method": "pm_card_visa"}
    cases = [
        (good, {}),  # no Idempotency-Key
        (good, {"Idempotency-Key": "x" * 256}),
        ({"lineup": "QB", "payment_method": "pm_card_visa"}, {"Idempotency-Key": "k"}),
        ({**good, "coupon": "FREE"}, {"Idempotency-Key": "k"}),
        ({"lineup": []}, {"Idempotency-Key": "k"}),
    ]
    for body, headers in cases:
        assert_problem(
            api.client.post(url, json=body, headers={**ann, **headers}), 400, "malformed"
        )
    bad_json = api.client.post(
        url,
        content=b"{not json",
        headers={**ann, "Idempotency-Key": "k", "Content-Type": "application/json"},
    )
    assert_problem(bad_json, 400, "malformed")


def test_joining_an_unknown_contest_is_404(api: Api) -> None:
    assert_problem(api.join("contest-404", api.player("ann")), 404, "unknown-contest")


def test_an_unreachable_gateway_is_503_and_the_same_key_later_charges_once(api: Api) -> None:
    contest = api.contest()
    ann = api.player("ann")
    api.world.gateway.unavailable = True
    response = api.join(contest, ann, key="k")
    body = assert_problem(response, 503, "gateway-unavailable")
    assert response.headers["Retry-After"]
    assert "Idempotency-Key" in body["hint"]
    api.world.gateway.unavailable = False
    assert api.join(contest, ann, key="k").status_code == 201
    assert len(api.world.gateway.charges) == 1


def test_operators_do_not_enter_contests_and_anonymous_callers_must_log_in(api: Api) -> None:
    contest = api.contest()
    assert_problem(api.join(contest, api.operator), 403, "forbidden")
    assert_problem(api.join(contest, {}), 401, "not-authenticated")


def test_withdrawing_refunds_the_fee_and_only_the_owner_may(api: Api) -> None:
    contest = api.contest()
    ann, bob = api.player("ann"), api.player("bob")
    entry = api.join(contest, ann).json()["entry_id"]
    assert_problem(api.client.post(f"/entries/{entry}/withdraw", headers=bob), 403, "forbidden")
    response = api.client.post(f"/entries/{entry}/withdraw", headers=ann)
    assert (response.status_code, response.json()["status"]) == (200, "withdrawn")
    assert len(api.world.gateway.refunds) == 1
    payments = api.client.get("/me/payments", headers=ann).json()
    assert [r["status"] for r in payments["refunds"]] == ["confirmed"]


def test_withdrawing_after_the_cut_off_is_409(api: Api) -> None:
    contest = api.contest()
    ann = api.player("ann")
    entry = api.join(contest, ann).json()["entry_id"]
    api.world.clock.set(LOCK - timedelta(minutes=1))
    assert_problem(
        api.client.post(f"/entries/{entry}/withdraw", headers=ann), 409, "withdraw-refused"
    )


def test_joins_racing_for_the_last_seats_are_batched_and_never_oversell(api: Api) -> None:
    contest = api.contest("fifty_fifty")  # 10 seats
    players = [api.player(f"racer{n}") for n in range(16)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(
            pool.map(lambda n: api.join(contest, players[n], key=f"race-{n}"), range(16))
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [409] * 6
    for refused in (r for r in responses if r.status_code == 409):
        assert assert_problem(refused, 409, "join-refused")["reason"] == "full"
    joins = api.client.app.state[JOINS]
    assert joins.items >= 16
    with api.world.p.uow() as uow:
        assert uow.entries.seats_taken(contest) == 10
    charged = [k for k in api.world.gateway.charges if api.world.gateway.charged_total(k)]
    assert len(charged) == 10


VISA, DECLINED = "pm_card_visa", "pm_card_chargeDeclinedInsufficientFunds"


def _bulk(api: Api, contest: str, headers: dict[str, str], key: str, *items: Any) -> Any:
    """A bulk join of (lineup variant, payment method) items."""
    entries = [
        {"lineup": [{"slot": s, "player_id": p} for s, p in lineup(variant).picks],
         "payment_method": card}
        for variant, card in items
    ]  # fmt: skip
    return api.client.post(
        f"/contests/{contest}/entries/bulk",
        json={"entries": entries},
        headers={**headers, "Idempotency-Key": key},
    )


def test_a_bulk_join_answers_each_lineup_as_a_single_join_would_and_charges_each_once(
    api: Api,
) -> None:
    contest = api.contest("tournament")  # three entries per player
    ann = api.player("ann")
    items = ((0, VISA), (1, DECLINED), (2, VISA))
    response = _bulk(api, contest, ann, "upload-1", *items)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["index"], r["idempotency_key"], r["status"]) for r in results] == [
        (0, "upload-1/0", 201),
        (1, "upload-1/1", 402),
        (2, "upload-1/2", 201),
    ]
    assert results[0]["entry"]["status"] == "active"
    assert results[0]["problem"] is None
    assert results[1]["entry"] is None
    assert results[1]["problem"]["decline_code"] == "insufficient_funds"
    assert results[1]["problem"]["type"].endswith("/payment-declined")
    assert len(api.world.gateway.charges) == 3
    again = _bulk(api, contest, ann, "upload-1", *items).json()
    # As for a single join, a replayed decline says 402 and which entry, not the code again.
    assert again["results"][1]["problem"].pop("decline_code") is None
    first = response.json()
    del first["results"][1]["problem"]["decline_code"]
    assert again == first
    assert len(api.world.gateway.charges) == 3
    # A single join of the same key and lineup is the same entry: one key space.
    single = api.join(contest, ann, key="upload-1/0", variant=0)
    assert single.json()["entry_id"] == results[0]["entry"]["entry_id"]


def test_a_bulk_join_refuses_per_lineup_what_a_single_join_refuses(api: Api) -> None:
    contest = api.contest("tournament")
    ann = api.player("ann")
    assert api.join(contest, ann, key="before", variant=7).status_code == 201
    response = _bulk(api, contest, ann, "upload", (0, VISA), (1, VISA), (0, VISA))
    results = response.json()["results"]
    statuses = [(r["status"], (r["problem"] or {}).get("reason")) for r in results]
    assert statuses == [(201, None), (201, None), (409, "entry_limit")]


def test_a_bulk_join_of_more_lineups_than_the_entry_limit_enters_nothing(api: Api) -> None:
    contest = api.contest("tournament")
    ann = api.player("ann")
    response = _bulk(api, contest, ann, "upload", *[(n, VISA) for n in range(4)])
    problem = assert_problem(response, 422, "too-many-lineups")
    assert "at most 3 entries per player, 4 lineups were sent" in problem["detail"]
    assert len(api.world.gateway.charges) == 0
    unknown = _bulk(api, "contest-404", ann, "upload", (0, VISA))
    assert_problem(unknown, 404, "unknown-contest")
