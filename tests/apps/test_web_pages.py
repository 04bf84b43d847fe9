"""The web pages (apps.web) over the API's rules: sessions, CSRF, CSP, escaping, who may see
what, joining once with a test card, the core's own refusals. Each test on the in-memory
store and on SQLite (tests/apps/conftest.py); the browser itself is tests/browser/'s."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import attrs
from api_support import (
    BORN,
    OPERATOR_EMAIL,
    OPERATOR_PASSWORD,
    PASSWORD,
    Api,
    api_settings,
    services_over,
    wire,
)
from litestar import Litestar
from litestar.testing import TestClient

from adapters.mail import SandboxMailbox
from adapters.stripe_gateway import StripeGateway
from apps.api.state import SERVICES
from apps.settings import Settings
from apps.web.lobby import (
    FINISHED_SHOWN,
    VISITOR_MARK_SECONDS,
    VISITOR_MARKS,
    VISITOR_MARKS_KEPT,
)
from apps.web.recent import RecentEach
from apps.web.routes import CONTENT_SECURITY_POLICY, CSRF_COOKIE, content_security_policy
from apps.web.session import COOKIE
from fantasy_core.calendar import Calendar
from fantasy_core.contest import Contest
from fantasy_core.entries import EntryStatus
from fantasy_core.errors import InvalidLineup
from fantasy_core.lifecycle import ContestState
from fantasy_core.lineups import Lineup, sport_template, validate_lineup
from fantasy_core.money import Money
from fantasy_core.payouts import winner_take_all
from fantasy_core.usecases.calendar import paused_lines
from fantasy_core.usecases.queries import contest_summary, entries_of
from support.calendar_world import LINES, SmallCatalogue
from support.world import LOCK, POOL, World, lineup

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


class Browser:
    """The test client as one person's browser: a session cookie, forms with their token."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.client = api.client
        self.client.cookies.clear()

    def token(self, path: str = "/web/signup") -> str:
        found = CSRF.search(self.client.get(path).text)
        assert found, f"no CSRF field on {path}"
        return found.group(1)

    def post(self, path: str, form: dict[str, str], **kwargs: Any) -> Any:
        return self.client.post(path, data=form, follow_redirects=False, **kwargs)

    def sign_up(self, name: str, display_name: str | None = None) -> str:
        """A new player, signed in; returns the user id."""
        self.client.cookies.clear()
        form = {
            "_csrf_token": self.token(),
            "email": f"{name}@example.com",
            "password": PASSWORD,
            **BORN,
        }
        if display_name is not None:
            form["display_name"] = display_name
        response = self.post("/web/signup", form)
        assert response.status_code == 303, response.text
        return self.api.user_id({"Authorization": "Bearer " + self.session()})

    def log_in(self, email: str, password: str) -> None:
        self.client.cookies.clear()
        form = {"_csrf_token": self.token("/web/login"), "email": email, "password": password}
        response = self.post("/web/login", form)
        assert response.status_code == 303, response.text

    def session(self) -> str:
        value = self.client.cookies.get(COOKIE)
        assert value
        return str(value)

    def join_form(
        self, contest: str, variant: int = 0, card: str = "pm_card_visa"
    ) -> dict[str, str]:
        page = self.client.get(f"/web/contests/{contest}").text
        key = KEY.search(page)
        token = CSRF.search(page)
        assert key, "the contest page has no join form"
        assert token, "the contest page has no form token"
        form = {
            "_csrf_token": token.group(1),
            "idempotency_key": key.group(1),
            "payment_method": card,
        }
        for index, (_, player_id) in enumerate(lineup(variant).picks):
            form[f"slot-{index}"] = player_id
        return form


def test_every_page_sends_the_policy_and_holds_no_inline_script_or_style(api: Api) -> None:
    contest = api.contest("fifty_fifty")
    browser = Browser(api)
    browser.sign_up("ann")
    pages = ["/web/", f"/web/contests/{contest}", "/web/entries", "/web/signup", "/web/login"]
    for path in pages:
        response = api.client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == "text/html; charset=utf-8", path
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
        html = response.text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", html), path


def test_htmx_is_served_by_the_app_itself(api: Api) -> None:
    page = api.client.get("/web/").text
    [source] = re.findall(r'<script src="([^"]+)"', page)
    assert source.startswith("/web/static/htmx-")
    script = api.client.get(source)
    assert script.status_code == 200
    assert "htmx" in script.text[:2000]


def test_the_session_cookie_is_httponly_and_samesite_and_secure_over_https(
    api: Api, app: Litestar
) -> None:
    browser = Browser(api)
    browser.sign_up("ann")
    [cookie] = [c for c in api.client.cookies.jar if c.name == COOKIE]
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite") == "lax"
    assert not cookie.secure
    https = TestClient(app, base_url="https://testserver.local")  # shares the running app
    token = CSRF.search(https.get("/web/login").text)
    assert token
    answer = https.post(
        "/web/login",
        data={"_csrf_token": token.group(1), "email": "ann@example.com", "password": PASSWORD},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    set_cookie = answer.headers["set-cookie"]
    assert "Secure" in set_cookie
    assert "HttpOnly" in set_cookie
    assert "SameSite=lax" in set_cookie


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(api: Api) -> None:
    api.client.cookies.clear()
    form = {"email": "mallory@example.com", "password": PASSWORD}
    response = api.client.post("/web/signup", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert "Traceback" not in response.text
    assert api.client.post("/auth/login", json=form).status_code == 401  # no account was made


def test_a_player_signs_up_joins_with_the_test_card_and_a_replayed_form_charges_once(
    api: Api,
) -> None:
    contest = api.contest("fifty_fifty")
    browser = Browser(api)
    user = browser.sign_up("ann", "Ann")
    form = browser.join_form(contest)
    first = browser.post(f"/web/contests/{contest}/join", form)
    assert first.status_code == 303
    again = browser.post(f"/web/contests/{contest}/join", form)  # the same form, resubmitted
    assert again.headers["location"] == first.headers["location"]
    assert len(api.world.gateway.charges) == 1
    [entry] = entries_of(api.world.p, user)
    assert entry.status is EntryStatus.ACTIVE
    page = api.client.get(first.headers["location"])
    assert page.status_code == 200
    assert entry.entry_id in page.text
    assert "active" in page.text


def test_a_declined_card_shows_why_and_enters_nothing(api: Api) -> None:
    contest = api.contest("fifty_fifty")
    browser = Browser(api)
    user = browser.sign_up("ann")
    form = browser.join_form(contest, card="pm_card_chargeDeclined")
    page = browser.post(f"/web/contests/{contest}/join", form)
    assert page.status_code == 402
    assert "Payment declined" in page.text
    assert "generic_decline" in page.text
    assert [e.status for e in entries_of(api.world.p, user)] == [EntryStatus.DECLINED]
    assert contest_summary(api.world.p, contest).seats_taken == 0
    # The page offers a fresh key, so another card is a new attempt, not the old answer.
    assert KEY.search(page.text).group(1) != form["idempotency_key"]  # type: ignore[union-attr]
    [declined] = entries_of(api.world.p, user)
    entry_page = api.client.get(f"/web/entries/{declined.entry_id}").text
    assert "Charged" not in entry_page
    assert "Nothing charged." in entry_page


def test_an_invalid_lineup_shows_the_cores_own_message(api: Api) -> None:
    contest = api.contest("fifty_fifty")
    browser = Browser(api)
    browser.sign_up("ann")
    form = browser.join_form(contest)
    form["slot-1"] = form["slot-2"]  # one running back twice
    picks = list(lineup(0).picks)
    picks[1] = (picks[1][0], picks[2][1])
    try:
        validate_lineup(sport_template("draftkings_nfl_classic"), POOL, Lineup(tuple(picks)))
    except InvalidLineup as refused:
        message = str(refused)
    check = api.client.post(f"/web/contests/{contest}/lineup-check", data=form)
    assert check.status_code == 200
    assert _text(message) in check.text
    page = browser.post(f"/web/contests/{contest}/join", form)
    assert page.status_code == 422
    assert _text(message) in page.text
    assert len(api.world.gateway.charges) == 0


def test_the_builder_shows_the_salary_left_as_slots_fill(api: Api) -> None:
    contest = api.contest("fifty_fifty")
    browser = Browser(api)
    browser.sign_up("ann")
    form = browser.join_form(contest)
    partial = {k: v for k, v in form.items() if k != "slot-8"}
    check = api.client.post(f"/web/contests/{contest}/lineup-check", data=partial).text
    assert 'Salary left: <span id="salary-left">$10,000</span>' in check  # 8 x $5,000 used
    assert "1 of 9 slots still to fill" in check


def test_a_player_cannot_open_another_players_entry_or_any_operator_page(api: Api) -> None:
    contest = api.contest("fifty_fifty")
    browser = Browser(api)
    browser.sign_up("ann")
    joined = browser.post(f"/web/contests/{contest}/join", browser.join_form(contest))
    entry_page = joined.headers["location"]
    browser.sign_up("bob")
    assert api.client.get(entry_page).status_code == 403
    for path in (
        "/web/operator",
        "/web/operator/audit",
        "/web/operator/ledger",
        f"/web/operator/contests/{contest}/cancel",
    ):
        response = api.client.get(path)
        assert response.status_code == 403, path
        assert "Forbidden" in response.text
    api.client.cookies.clear()
    anonymous = api.client.get(entry_page, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/web/login?next=")


def test_sign_up_refuses_a_player_under_the_age_of_his_state_with_the_apis_words(
    api: Api,
) -> None:
    browser = Browser(api)
    form = {
        "_csrf_token": browser.token(),
        "email": "young@example.com",
        "password": PASSWORD,
        "date_of_birth": str(api.world.clock.now().date().replace(year=2009)),
        "jurisdiction": "MA",  # 21 there
    }
    page = browser.post("/web/signup", form)
    problem = api.client.post(
        "/auth/register",
        json={k: v for k, v in form.items() if k != "_csrf_token"},
    ).json()
    assert page.status_code == problem["status"] == 403
    assert problem["detail"] in page.text.replace("&#39;", "'")
    assert COOKIE not in page.headers.get("set-cookie", "")


def test_a_limit_set_on_the_page_refuses_a_join_over_it_with_the_apis_problem(
    api: Api,
) -> None:
    contest = api.contest("fifty_fifty")  # a $10 fee
    browser = Browser(api)
    user = browser.sign_up("ann")
    token = browser.token("/web/me/protection")
    saved = browser.post("/web/me/protection/limits", {"_csrf_token": token, "fees_day": "5.00"})
    assert saved.status_code == 303
    page = api.client.get("/web/me/protection").text
    assert 'name="fees_day"' in page
    assert 'value="5.00"' in page
    refused = browser.post(f"/web/contests/{contest}/join", browser.join_form(contest))
    assert refused.status_code == 409
    assert "fees_day" in refused.text
    assert entries_of(api.world.p, user) == []
    assert len(api.world.gateway.charges) == 0
    bad = browser.post("/web/me/protection/limits", {"_csrf_token": token, "fees_day": "ten"})
    assert bad.status_code == 422
    assert "is not a number" in bad.text


def test_a_break_from_play_needs_confirming_then_stops_every_join(api: Api) -> None:
    contest = api.contest("fifty_fifty")
    browser = Browser(api)
    browser.sign_up("ann")
    token = browser.token("/web/me/protection")
    form = {"_csrf_token": token, "hours": "72"}
    assert browser.post("/web/me/protection/cool-off", form).status_code == 422
    started = browser.post("/web/me/protection/cool-off", {**form, "confirm": "yes"})
    assert started.status_code == 303
    assert "A break from play since" in api.client.get("/web/me/protection").text
    refused = browser.post(f"/web/contests/{contest}/join", browser.join_form(contest))
    assert refused.status_code == 403
    assert len(api.world.gateway.charges) == 0


def test_a_player_in_a_break_signs_in_to_the_page_that_announces_it(api: Api) -> None:
    browser = Browser(api)
    browser.sign_up("ann")
    token = browser.token("/web/me/protection")
    form = {"_csrf_token": token, "hours": "72", "confirm": "yes"}
    assert browser.post("/web/me/protection/cool-off", form).status_code == 303
    browser.client.cookies.clear()
    login = {"_csrf_token": browser.token("/web/login"), "email": "ann@example.com"}
    signed_in = browser.post("/web/login", {**login, "password": PASSWORD})
    assert signed_in.headers["location"] == "/web/me/protection"
    assert "A break from play since" in api.client.get("/web/me/protection").text
    # A page asked for is still where the sign-in goes; a player with no break goes home.
    asked = {**login, "password": PASSWORD, "next": "/web/me/entries"}
    browser.client.cookies.clear()
    asked["_csrf_token"] = browser.token("/web/login")
    assert browser.post("/web/login", asked).headers["location"] == "/web/me/entries"
    Browser(api).sign_up("bob")
    browser.client.cookies.clear()
    bob = {"_csrf_token": browser.token("/web/login"), "email": "bob@example.com"}
    assert browser.post("/web/login", {**bob, "password": PASSWORD}).headers["location"] == "/web/"


def test_what_players_type_is_escaped(api: Api) -> None:
    browser = Browser(api)
    browser.sign_up("ann", "<b>Ann</b>")
    page = api.client.get("/web/").text
    assert "&lt;b&gt;Ann&lt;/b&gt;" in page
    assert "<b>Ann</b>" not in page


def test_a_logged_out_session_is_refused_everywhere(api: Api) -> None:
    browser = Browser(api)
    browser.sign_up("ann")
    session = browser.session()
    form = {"_csrf_token": browser.token("/web/")}  # the lobby's log-out form
    assert browser.post("/web/logout", form).status_code == 303
    api.client.cookies.set(COOKIE, session)  # the old cookie, replayed
    assert api.client.get("/web/entries", follow_redirects=False).status_code == 303
    assert api.client.get("/me", headers={"Authorization": f"Bearer {session}"}).status_code == 401


def test_an_operator_acknowledges_an_alert_and_cancels_a_contest_with_a_reason(api: Api) -> None:
    contest = api.contest("fifty_fifty")
    api.world.p.alert("by-hand", "look at this")
    browser = Browser(api)
    browser.log_in(OPERATOR_EMAIL, OPERATOR_PASSWORD)
    console = api.client.get("/web/operator").text
    assert "look at this" in console
    token = CSRF.search(console).group(1)  # type: ignore[union-attr]
    acked = browser.post(
        "/web/operator/alerts/acknowledge", {"_csrf_token": token, "key": "by-hand"}
    )
    assert acked.status_code == 303
    assert "No open alert." in api.client.get("/web/operator").text
    cancel = f"/web/operator/contests/{contest}/cancel"
    unconfirmed = browser.post(cancel, {"_csrf_token": token, "reason": "feed outage"})
    assert unconfirmed.status_code == 422
    assert contest_summary(api.world.p, contest).contest.state.value == "SCHEDULED"
    done = browser.post(cancel, {"_csrf_token": token, "reason": "feed outage", "confirm": "yes"})
    assert done.status_code == 303
    cancelled = contest_summary(api.world.p, contest).contest
    assert (cancelled.state.value, cancelled.cancel_reason) == ("CANCELLED", "feed outage")
    audit = api.client.get("/web/operator/audit", params={"by": "contest_id", "id": contest}).text
    assert "feed outage" in audit


def test_the_console_finds_an_entrys_audit_by_its_charge_and_shows_what_contests_wait_for(
    api: Api,
) -> None:
    contest = api.contest("fifty_fifty")
    browser = Browser(api)
    user = browser.sign_up("ann")
    browser.post(f"/web/contests/{contest}/join", browser.join_form(contest))
    [entry] = entries_of(api.world.p, user)
    assert entry.charge_id
    browser.log_in(OPERATOR_EMAIL, OPERATOR_PASSWORD)
    found = api.client.get("/web/operator/audit", params={"by": "charge_id", "id": entry.charge_id})
    assert found.status_code == 200
    assert "join" in found.text
    assert entry.entry_id in found.text
    console = api.client.get("/web/operator").text
    assert "Waits for" in console
    unknown = api.client.get("/web/operator/audit", params={"by": "charge_id", "id": "ch_none"})
    assert unknown.status_code == 404


def test_errors_are_the_apis_problems_for_a_person(api: Api) -> None:
    page = api.client.get("/web/contests/no-such-contest")
    assert page.status_code == 404
    assert "No such contest" in page.text
    assert "Traceback" not in page.text
    assert page.headers["content-type"].startswith("text/html")


def _text(message: str) -> str:
    """A message as the page shows it (Jinja escapes quotes and angle brackets)."""
    return message.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&#34;")


def test_an_operator_pauses_and_resumes_a_calendar_line_from_the_console(
    api: Api, app: Litestar, settings: Settings, world: World
) -> None:
    world.p = attrs.evolve(world.p, calendar=Calendar(LINES), catalogue=SmallCatalogue())
    app.state[SERVICES] = services_over(world, settings)
    browser = Browser(api)
    browser.log_in(OPERATOR_EMAIL, OPERATOR_PASSWORD)
    console = api.client.get("/web/operator").text
    assert "Pause ten" in console
    token = CSRF.search(console).group(1)  # type: ignore[union-attr]
    paused = browser.post("/web/operator/calendar/pause", {"_csrf_token": token, "line": "ten"})
    assert paused.status_code == 303
    assert "Resume ten" in api.client.get("/web/operator").text
    assert paused_lines(world.p) == {"ten"}
    browser.post("/web/operator/calendar/resume", {"_csrf_token": token, "line": "ten"})
    assert paused_lines(world.p) == set()
    unknown = browser.post("/web/operator/calendar/pause", {"_csrf_token": token, "line": "nope"})
    assert unknown.status_code == 404
    assert "duo, ten" in unknown.text


def test_the_lobby_filters_beginners_contests(api: Api) -> None:
    beginners = api.contest("beginners_double_up")
    everyone = api.contest("fifty_fifty")
    page = api.client.get("/web/lobby/rows", params={"beginners": "1"}).text
    assert beginners in page
    assert everyone not in page
    assert "beginners" in page
    both = api.client.get("/web/lobby/rows").text
    assert beginners in both
    assert everyone in both


def test_the_lobby_shows_what_is_in_play_and_only_the_latest_finished(api: Api) -> None:
    done_at = LOCK + timedelta(hours=6)
    with api.world.p.uow() as uow:
        for n in range(FINISHED_SHOWN + 3):  # contest-paid-00 finished first
            paid = Contest(f"contest-paid-{n:02}", api.world.terms(), ContestState.PAID)
            paid.completed_at = done_at + timedelta(minutes=n)
            uow.contests.add(paid)
        uow.contests.add(Contest("contest-live", api.world.terms(), ContestState.LIVE))
        uow.commit()
    page = api.client.get("/web/").text
    in_play, finished = page.split("<h2>In play</h2>")[1].split("<h2>Recently finished</h2>")
    assert "contest-live" in in_play
    assert "contest-paid" not in in_play
    listed = re.findall(r"/web/contests/(contest-paid-\d+)/leaderboard", finished)
    newest_first = [f"contest-paid-{n:02}" for n in range(FINISHED_SHOWN + 2, 2, -1)]
    assert listed == newest_first


def test_tax_details_are_kept_and_only_the_ids_last_four_shown_again(api: Api) -> None:
    browser = Browser(api)
    browser.sign_up("ann")
    token = browser.token("/web/me/protection")
    form = {
        "_csrf_token": token,
        "legal_name": "Ann Example",
        "address": "1 Main St, Newark NJ",
        "taxpayer_id": "123-45-6789",
    }
    assert browser.post("/web/me/protection/tax-details", form).status_code == 303
    page = api.client.get("/web/me/protection").text
    assert "taxpayer id ending 6789" in page
    # The W-9 form is in the page's body once, not in its <title> (where no one sees it).
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title is not None
    assert title.group(1) == "Limits and breaks · Fantasy contests"
    assert page.count('action="/web/me/protection/tax-details"') == 1
    assert "123-45" not in page
    refused = browser.post("/web/me/protection/tax-details", {**form, "taxpayer_id": "12x"})
    assert refused.status_code == 422


def test_the_prizes_page_shows_the_account_and_sends_the_player_to_onboarding(api: Api) -> None:
    browser = Browser(api)
    browser.sign_up("ann")
    page = api.client.get("/web/me/payouts")
    assert page.status_code == 200
    assert "not opened yet" in page.text
    assert "No prize yet." in page.text
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    off = browser.post("/web/me/payouts/onboarding", {"_csrf_token": token})
    assert off.status_code == 303
    assert off.headers["location"]
    back = api.client.get("/web/me/payouts", params={"onboarding": "return"})
    assert back.status_code == 200
    assert "Payout account:" in back.text
    browser.sign_up("bob")
    api.client.cookies.clear()
    assert api.client.get("/web/me/payouts", follow_redirects=False).status_code == 303


def _reset_link(api: Api, address: str) -> str:
    """The path and query of the newest reset link mailed to `address` (the sandbox mailbox)."""
    mail = api.client.get("/sandbox/mail", params={"to": address}).json()
    assert mail, f"no mail to {address}"
    found = re.search(r"https?://[^/\s]+(/web/password-reset\?token=\S+)", mail[-1]["body"])
    assert found, mail[-1]["body"]
    return found.group(1)


def test_a_forgotten_password_is_reset_from_the_mailed_link_once(api: Api) -> None:
    api.client.app.state[SERVICES].mailer = SandboxMailbox()
    browser = Browser(api)
    browser.sign_up("ann")
    api.client.cookies.clear()
    assert 'href="/web/forgot-password"' in api.client.get("/web/login").text
    token = browser.token("/web/forgot-password")
    asked = browser.post("/web/forgot-password", {"_csrf_token": token, "email": "ann@example.com"})
    unknown = browser.post("/web/forgot-password", {"_csrf_token": token, "email": "x@example.com"})
    assert asked.status_code == unknown.status_code == 200
    assert asked.text.replace("ann@", "x@") == unknown.text  # tells nobody who is registered
    assert api.client.get("/sandbox/mail", params={"to": "x@example.com"}).json() == []
    link = _reset_link(api, "ann@example.com")
    form = api.client.get(link)
    assert form.status_code == 200
    assert 'name="new_password"' in form.text
    reset_token = re.search(r'name="token" value="([^"]+)"', form.text)
    assert reset_token
    choose = {"_csrf_token": browser.token(link), "token": reset_token.group(1)}

    differ = browser.post(
        "/web/password-reset",
        {**choose, "new_password": "a new passphrase", "new_password_again": "another one!"},
    )
    assert differ.status_code == 422
    assert "The two passwords differ" in differ.text
    weak = browser.post(
        "/web/password-reset", {**choose, "new_password": "short", "new_password_again": "short"}
    )
    assert weak.status_code == 422
    assert 'aria-invalid="true"' in weak.text
    new = {"new_password": "a new passphrase", "new_password_again": "a new passphrase"}
    done = browser.post("/web/password-reset", {**choose, **new})
    assert (done.status_code, done.headers["location"]) == (303, "/web/login?reset=1")
    assert "Your password was changed" in api.client.get("/web/login?reset=1").text
    browser.log_in("ann@example.com", "a new passphrase")
    assert api.client.get("/web/entries", follow_redirects=False).status_code == 200

    # Used once: the link now says so, before any form, and so does posting it again.
    used = api.client.get(link)
    assert used.status_code == 422
    assert "Password reset refused" in used.text
    assert 'name="new_password"' not in used.text
    assert 'href="/web/forgot-password"' in used.text
    choose["_csrf_token"] = browser.token("/web/forgot-password")  # logging in cleared cookies
    again = browser.post("/web/password-reset", {**choose, **new})
    assert again.status_code == 422
    assert "invalid, used or expired" in again.text
    forged = api.client.get("/web/password-reset", params={"token": "user-1.9999999999.AAAA"})
    assert forged.status_code == 422


def test_forgot_password_pages_need_their_csrf_token_and_a_mail_server(api: Api) -> None:
    api.player("ann")
    refused = api.client.post("/web/forgot-password", data={"email": "ann@example.com"})
    assert refused.status_code == 403
    api.client.app.state[SERVICES].mailer = None
    browser = Browser(api)
    form = {"_csrf_token": browser.token("/web/forgot-password"), "email": "ann@example.com"}
    answer = browser.post("/web/forgot-password", form)
    assert answer.status_code == 503
    assert "Password reset by mail is unavailable" in answer.text


def test_the_prizes_page_shows_what_was_withheld_for_tax(api: Api) -> None:
    """No W-9 when a reportable prize was paid: the page shows the 24% kept (decision 0042)."""
    browser = Browser(api)
    names = {browser.sign_up(name): name for name in ("ann", "bob", "cat", "dan")}
    contest = api.world.create(entry_fee=Money(50_000, "usd"), payout=winner_take_all(), capacity=4)
    for n, user_id in enumerate(names):
        api.world.give_account(user_id)
        assert api.world.join(contest, user_id, key=f"k{n}", variant=n).accepted
    api.world.play_games()
    with api.world.p.uow() as uow:
        (prize,) = uow.payouts.for_contest(contest.contest_id)
    browser.log_in(f"{names[prize.user_id]}@example.com", PASSWORD)
    page = api.client.get("/web/me/payouts").text
    assert "withheld for tax $432.00" in page
    assert "$1,800.00" in page
    browser.log_in(OPERATOR_EMAIL, OPERATOR_PASSWORD)
    ledger = api.client.get("/web/operator/ledger").text
    assert "paid out + withheld for tax" in ledger
    assert (
        '<td class="num" data-label="Paid out">$1,368.00</td>'
        '<td class="num" data-label="Withheld">$432.00</td><td data-label="Conserved">yes</td>'
    ) in ledger


def _directives(policy: str) -> dict[str, str]:
    return {name: value for name, _, value in (p.partition(" ") for p in policy.split("; "))}


def test_the_policy_names_stripe_exactly_where_its_card_form_is_served() -> None:
    sandbox = Settings(environment="test")
    assert content_security_policy(sandbox) == CONTENT_SECURITY_POLICY
    assert "stripe" not in CONTENT_SECURITY_POLICY
    live = Settings(
        environment="production", stripe_api_key="sk_live_x", stripe_publishable_key="pk_live_x"
    )
    policy = _directives(content_security_policy(live))
    assert policy["script-src"] == "'self' https://js.stripe.com"
    assert policy["frame-src"] == "https://js.stripe.com https://hooks.stripe.com"
    assert policy["connect-src"] == "'self' https://api.stripe.com"
    stripe_s = ("script-src", "frame-src", "connect-src")
    unchanged = _directives(CONTENT_SECURITY_POLICY)
    assert {k: v for k, v in policy.items() if k not in stripe_s} == {
        k: v for k, v in unchanged.items() if k not in stripe_s
    }
    assert "unsafe" not in content_security_policy(live)
    emulated = attrs.evolve(
        live, environment="test", stripe_js_url="http://127.0.0.1:9/js.stripe.com/v3/"
    )
    assert "https://" not in content_security_policy(emulated)
    assert "script-src 'self' http://127.0.0.1:9;" in content_security_policy(emulated)
    assert "frame-src http://127.0.0.1:9;" in content_security_policy(emulated)


def test_on_stripe_the_join_form_takes_the_card_with_stripe_js_from_stripe_only() -> None:
    settings = api_settings(stripe_api_key="sk_test_web", stripe_publishable_key="pk_test_web")
    world = World()
    world.p = attrs.evolve(
        world.p,
        gateway=StripeGateway.for_environment("sk_test_web", "test", base_url="http://127.0.0.1:9"),
    )
    with TestClient(wire(world, settings)) as client:
        api = Api(client, world)
        contest = api.contest("fifty_fifty")
        browser = Browser(api)
        browser.sign_up("ann")
        page = client.get(f"/web/contests/{contest}")
        assert page.headers["content-security-policy"] == content_security_policy(settings)
        scripts = re.findall(r'<script src="([^"]+)"', page.text)
        assert scripts == [
            "/web/static/htmx-2.0.11.min.js",
            "https://js.stripe.com/v3/",
            "/web/static/pay.js",
        ]
        assert 'data-publishable-key="pk_test_web"' in page.text
        # The Payment Element's amount and currency, as Stripe.js takes them (decision 0060).
        assert 'data-amount="1000" data-currency="usd"' in page.text
        assert '<input type="hidden" id="payment_method" name="payment_method" value="">' in (
            page.text
        )
        assert "sk_test_web" not in page.text
        assert "pm_card_visa" not in page.text  # no sandbox cards on Stripe
        assert client.get("/web/static/pay.js").status_code == 200
        lobby = client.get("/web/")
        assert "js.stripe.com/v3" not in lobby.text  # Stripe.js only where a card is taken


def test_an_entry_waiting_for_the_bank_follows_itself_and_offers_its_owner_alone_the_bank(
    api: Api,
) -> None:
    contest = api.contest("fifty_fifty")
    browser = Browser(api)
    browser.sign_up("ann")
    joined = browser.post(
        f"/web/contests/{contest}/join",
        browser.join_form(contest, card="pm_card_authenticationRequired"),
    )
    assert joined.status_code == 202
    entry_id = re.search(r"Your entry (\S+) in", joined.text)
    assert entry_id
    page = api.client.get(f"/web/entries/{entry_id.group(1)}")
    assert 'id="payment-waiting"' in page.text
    assert 'hx-trigger="every 2s"' in page.text  # follows the bank's answer by itself
    secret = re.search(r'name="client_secret" value="([^"]+)"', page.text)
    assert secret  # the sandbox's bank page, offered again on the entry's page
    polled = api.client.get(f"/web/entries/{entry_id.group(1)}", headers={"HX-Request": "true"})
    assert secret.group(1) not in polled.text  # polling reads the status only
    api.client.cookies.clear()
    browser.log_in(OPERATOR_EMAIL, OPERATOR_PASSWORD)
    seen = api.client.get(f"/web/entries/{entry_id.group(1)}")
    assert seen.status_code == 200
    assert secret.group(1) not in seen.text  # the client secret is its owner's alone


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def visitor_clock(app: Litestar) -> Ticks:
    """The clock of the marks behind visitors' contest pages, moved by the test."""
    ticks = Ticks()
    app.state[VISITOR_MARKS] = RecentEach(VISITOR_MARK_SECONDS, VISITOR_MARKS_KEPT, ticks)
    return ticks


def test_a_visitors_contest_page_follows_seats_and_changes_within_a_second(
    api: Api, app: Litestar
) -> None:
    # A visitor's page is kept by contest version, seats and openness, from a mark read at
    # most a second ago (decision 0058): it must be what a fresh rendering gives, and show
    # every join and change once that second has passed.
    ticks = visitor_clock(app)
    contest = api.contest("fifty_fifty")
    page = f"/web/contests/{contest}"

    def as_visitor() -> str:
        api.client.cookies.clear()
        response = api.client.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "set-cookie" not in response.headers  # no form, so no CSRF cookie
        return response.text

    def rendered_afresh() -> str:
        api.client.cookies.clear()
        return api.client.get(page, params={"sort": "salary"}).text  # the same page, not kept

    first = as_visitor()
    assert as_visitor() == first
    assert rendered_afresh() == first
    assert "0 / " in first
    browser = Browser(api)
    browser.sign_up("ann")
    joined = browser.post(f"{page}/join", browser.join_form(contest))
    assert joined.status_code == 303
    assert "1 / " in api.client.get(page).text  # the player's own page: read now
    ticks.now = 0.9
    assert "0 / " in as_visitor()  # read 0.9 s ago: within the bound, still shown
    ticks.now = 1.0
    after_join = as_visitor()
    assert "1 / " in after_join
    assert after_join == rendered_afresh()
    browser.log_in(OPERATOR_EMAIL, OPERATOR_PASSWORD)
    token = CSRF.search(api.client.get("/web/operator").text).group(1)  # type: ignore[union-attr]
    cancel = {"_csrf_token": token, "reason": "feed outage", "confirm": "yes"}
    assert browser.post(f"/web/operator/contests/{contest}/cancel", cancel).status_code == 303
    ticks.now = 2.0
    cancelled = as_visitor()
    assert "state cancelled" in cancelled
    assert "feed outage" in cancelled
    assert "Build your lineup" not in cancelled
    assert cancelled == rendered_afresh()


def test_a_signed_in_players_contest_page_is_never_a_visitors_kept_page(
    api: Api, app: Litestar
) -> None:
    visitor_clock(app)  # held until the test moves it: only a fresh read would show a change
    contest = api.contest("fifty_fifty")
    page = f"/web/contests/{contest}"
    api.client.cookies.clear()
    visitors = api.client.get(page).text
    assert "Log in</a> or <a" in visitors
    assert "_csrf_token" not in visitors
    assert "idempotency_key" not in visitors
    browser = Browser(api)
    browser.sign_up("ann", display_name="Ann")
    first = api.client.get(page).text
    assert "Log out Ann" in first
    assert "Pay and join" in first
    form = browser.join_form(contest)
    assert browser.post(f"{page}/join", form).status_code == 303
    own = api.client.get(page).text
    assert "1 / " in own  # the seat just taken, though visitors are shown the mark held
    assert KEY.search(own).group(1) != form["idempotency_key"]  # type: ignore[union-attr]
    browser.sign_up("bob", display_name="Bob")
    bobs = api.client.get(page).text
    assert "Log out Bob" in bobs
    assert "Log out Ann" not in bobs
    api.client.cookies.clear()
    assert api.client.get(page).text == visitors  # the visitor's page, held within the bound


def test_a_visitor_without_a_csrf_cookie_from_a_contest_page_still_logs_in_and_joins(
    api: Api,
) -> None:
    contest = api.contest("fifty_fifty")
    page = f"/web/contests/{contest}"
    browser = Browser(api)
    browser.sign_up("ann")
    api.client.cookies.clear()
    # Anonymous: the lobby and the contest page make no token (they hold no form that
    # posts); a forged session counts as none.
    api.client.cookies.set(COOKIE, "not-a-token", domain="testserver.local")
    for path in ("/web/", "/web/lobby/rows", page):
        seen = api.client.get(path)
        assert seen.status_code == 200
        assert "set-cookie" not in seen.headers
        assert "_csrf_token" not in seen.text
    assert "Log in</a> or <a" in seen.text
    assert api.client.cookies.get(CSRF_COOKIE) is None
    # A form posted with no token is refused as before.
    refused = browser.post("/web/login", {"email": "ann@example.com", "password": PASSWORD})
    assert refused.status_code == 403
    # The login page makes the token; logging in from there and joining works.
    login = api.client.get(f"/web/login?next={page}")
    assert api.client.cookies.get(CSRF_COOKIE)
    token = CSRF.search(login.text).group(1)  # type: ignore[union-attr]
    form = {"_csrf_token": token, "email": "ann@example.com", "password": PASSWORD}
    assert browser.post("/web/login", form).status_code == 303
    joined = browser.post(f"{page}/join", browser.join_form(contest))
    assert joined.status_code == 303, joined.text
    # Signed in, the lobby carries the logout form with the session's token, and it works.
    lobby = api.client.get("/web/")
    assert CSRF.search(lobby.text).group(1) == token  # type: ignore[union-attr]
    assert browser.post("/web/logout", {"_csrf_token": token}).status_code == 303
    assert api.client.cookies.get(COOKIE) is None


def test_the_pool_search_answers_from_the_kept_pool(api: Api) -> None:
    contest = api.contest("fifty_fifty")
    players = f"/web/contests/{contest}/players"
    everyone = api.client.get(players).text
    shown = {p.name for p in POOL.players.values()}
    assert f"{len(shown)} of {len(shown)} players" in everyone
    by_name = api.client.get(players, params={"sort": "name"}).text
    names = re.findall(r"<tr><td>([^<]+)</td>", by_name)
    assert names == sorted(names)
    assert sorted(names) == sorted(re.findall(r"<tr><td>([^<]+)</td>", everyone))
    some = next(iter(POOL.players.values()))
    found = api.client.get(players, params={"q": some.team, "position": some.position.value})
    wanted = [
        p for p in POOL.players.values() if p.team == some.team and p.position == some.position
    ]
    assert f"{len(wanted)} of {len(shown)} players" in found.text
    # Each player's game shows its teams and kickoff, not the feed's game id.
    game = some.game_id
    teams = sorted({p.team for p in POOL.players.values() if p.game_id == game})
    assert f"<td>{' v '.join(teams)}, " in everyone
    assert f"<td>{game}</td>" not in everyone
