"""FANTASY_JOIN_LANE_PROCESS: the join batches run in a child process (apps.lane).

Each test starts real services on a SQLite file the two processes share, with the
sandbox gateway, which then lives in the child: the API process's gateway forwards to it.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_support import BORN, PASSWORD, api_settings
from litestar import Litestar
from litestar.testing import TestClient

from adapters.sandbox import SandboxPayments
from apps.api.app import create_app
from apps.bootstrap import Services, start
from apps.cli import _start
from apps.lane import (
    LANE_LOST_ALERT,
    JoinQueue,
    LaneGateway,
    LaneLost,
    LaneNotRunning,
    LaneProcess,
    RaisedThere,
    Sent,
    _run_joins,
    serve_lane,
)
from apps.settings import Settings, SettingsError, load_settings
from fantasy_core.alerting import StoredAlert
from fantasy_core.entries import EntryStatus
from fantasy_core.entry_limits import MaxEntries
from fantasy_core.errors import (
    GatewayUnavailable,
    IdempotencyKeyReused,
    InvalidConfiguration,
    JoinRefused,
    PaymentOutcomeUnknown,
)
from fantasy_core.payments import ChargeStatus
from fantasy_core.usecases.contests import create_contest
from fantasy_core.usecases.joining import JoinRequest
from fantasy_core.usecases.payment_events import apply_payment_event
from support.lanes import answers_garbage, answers_interrupted, answers_nothing
from support.world import World, lineup


@pytest.fixture(scope="module")
def lane_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    database = tmp_path_factory.mktemp("lane") / "fantasy.db"
    return api_settings(database_url=f"sqlite:///{database}", join_lane_process=True)


@pytest.fixture(scope="module")
def services(lane_settings: Settings) -> Iterator[Services]:
    with start(lane_settings) as started:
        yield started


def _contest(services: Services, capacity: int = 10, **changes: Any) -> str:
    lock_at = datetime.now(UTC) + timedelta(days=1)
    terms = World().terms(lock_at=lock_at, capacity=capacity, **changes)
    return create_contest(services.platform, terms, actor="operator").contest_id


def _player(services: Services, name: str) -> str:
    account = services.accounts.register_player(
        services.platform, f"{name}@example.com", PASSWORD, date(1990, 5, 17), "NJ"
    )
    return account.user_id


def _killed(lane: LaneProcess) -> int:
    """SIGKILL the lane's child once the reader has seen it end; its pid."""
    pid = lane.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while lane.pid == pid and time.monotonic() < deadline:
        time.sleep(0.01)
    return pid


def _alert(services: Services, key: str) -> StoredAlert | None:
    with services.platform.uow() as uow:
        return uow.alerts.get(key)


def _request(contest_id: str, user: str, key: str, card: str = "pm_card_visa") -> JoinRequest:
    return JoinRequest(contest_id, user, key, lineup(0), card)


def test_a_batch_runs_in_the_child_and_answers_each_join_in_order(services: Services) -> None:
    lane = services.lane
    assert lane is not None
    assert lane.pid not in (None, os.getpid())
    contest = _contest(services, capacity=3)
    ann, bob, cy, dan = (_player(services, n) for n in ("ann", "bob", "cy", "dan"))
    answers = lane.run(
        [
            _request(contest, ann, "a1"),
            _request(contest, bob, "b1", card="pm_card_chargeDeclined"),
            _request(contest, cy, "c1"),
            _request(contest, ann, "a1"),  # the same join again: one entry, one charge
            _request("no-such-contest", ann, "a2"),
        ]
    )
    first, declined, third, again, unknown = answers
    assert not isinstance(first, Exception)
    assert first[0].status is EntryStatus.ACTIVE
    assert not isinstance(declined, Exception)
    assert declined[0].status is EntryStatus.DECLINED
    assert declined[0].decline_code == "generic_decline"
    assert not isinstance(third, Exception)
    assert third[0].status is EntryStatus.ACTIVE
    assert again == first
    assert type(unknown).__name__ == "UnknownContest"
    # The declined seat was freed: bob takes it; then the contest is full, said as such.
    (retried, full) = lane.run([_request(contest, bob, "b2"), _request(contest, dan, "d1")])
    assert not isinstance(retried, Exception)
    assert retried[0].status is EntryStatus.ACTIVE
    assert isinstance(full, JoinRefused)
    assert full.reason == "full"
    # The child's sandbox is this process's gateway: one charge under the join's key.
    gateway = services.platform.gateway
    assert isinstance(gateway, LaneGateway)
    assert isinstance(gateway, SandboxPayments)
    charged = gateway.find_charge(first[1].fingerprint)
    assert charged is not None
    assert charged.status is ChargeStatus.SUCCEEDED
    assert charged.charge_id == first[1].charge_id


def test_the_3d_secure_page_of_this_process_confirms_a_payment_made_in_the_child(
    services: Services,
) -> None:
    lane = services.lane
    assert lane is not None
    contest = _contest(services)
    dee = _player(services, "dee")
    (waiting,) = lane.run([_request(contest, dee, "d1", card="pm_card_authenticationRequired")])
    assert not isinstance(waiting, Exception)
    result, entry = waiting
    assert result.status is EntryStatus.PENDING_ACTION
    gateway = services.platform.gateway
    assert isinstance(gateway, SandboxPayments)
    outcome = services.platform.gateway.find_charge(entry.fingerprint)
    assert outcome is not None
    assert outcome.client_secret is not None
    assert outcome.charge_id is not None
    event = gateway.confirm(outcome.charge_id, outcome.client_secret, succeeded=True)
    apply_payment_event(services.platform, event)
    with services.platform.uow() as uow:
        assert uow.entries.get(entry.entry_id).status is EntryStatus.ACTIVE
    # An error raised in the child comes back as itself: here, the sandbox's own.
    with pytest.raises(Exception, match="no payment") as raised:
        gateway.confirm(outcome.charge_id, "not-the-secret", succeeded=True)
    assert type(raised.value).__name__ == "InvalidClientSecret"


def test_a_child_that_died_between_batches_is_replaced_before_the_next(
    services: Services,
) -> None:
    lane = services.lane
    assert lane is not None
    before = lane.started
    pid = _killed(lane)
    contest = _contest(services)
    (joined,) = lane.run([_request(contest, _player(services, "eve"), "e1")])
    assert not isinstance(joined, Exception), joined
    assert lane.started == before + 1
    assert lane.pid not in (None, pid)
    # The operators are told, by the thread that saw the child end.
    deadline = time.monotonic() + 10
    while (alert := _alert(services, LANE_LOST_ALERT)) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert alert is not None
    assert f"join lane process {pid} ended (exit code -9)" in alert.message


def test_joins_sent_from_the_event_loop_never_start_a_child_there(services: Services) -> None:
    """Starting a child takes seconds: the event loop sends with `start=False` and, with no
    child running, is told so at once, nothing sent and no child started; the app then
    sends from a thread, which starts one (the test below)."""
    lane = services.lane
    assert lane is not None
    contest = _contest(services)
    request = _request(contest, _player(services, "gil"), "g1")
    _killed(lane)
    before = lane.started
    answered: list[list[Any]] = []
    with pytest.raises(LaneNotRunning):
        lane.send([request], answered.append, start=False)
    assert lane.started == before
    assert lane.pid is None
    assert answered == []
    lane.send([request], answered.append)  # the default starts one
    deadline = time.monotonic() + 30
    while not answered and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lane.started == before + 1
    ((joined,),) = answered
    assert not isinstance(joined, Exception), joined
    lane.send([request], answered.append, start=False)  # running now: sent, answered again
    while len(answered) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert answered[1] == answered[0]  # the same key: the same entry


def test_the_apps_joins_go_through_the_lane(services: Services) -> None:
    """A join over HTTP runs in the child. With the child killed, the next join starts
    another even when it is refused before any charge (its lineup breaks the rules): a
    batcher that ran joins in this process would ask the child nothing."""
    lane = services.lane
    assert lane is not None
    contest = _contest(services)
    picks = [{"slot": s, "player_id": p} for s, p in lineup(1).picks]
    with TestClient[Litestar](create_app(services.settings, services=services)) as client:
        login = {"email": "fay@example.com", "password": PASSWORD}
        assert client.post("/auth/register", json={**login, **BORN}).status_code == 201
        token = client.post("/auth/login", json=login).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        def join(key: str, chosen: list[dict[str, str]]) -> Any:
            body = {"lineup": chosen, "payment_method": "pm_card_visa"}
            path = f"/contests/{contest}/entries"
            return client.post(path, json=body, headers={**headers, "Idempotency-Key": key})

        assert join("f1", picks).status_code == 201
        before = lane.started
        _killed(lane)
        twice = [picks[0], picks[0], *picks[2:]]  # one player in two slots
        refused = join("f2", twice)
        assert refused.status_code == 422, refused.text
        assert lane.started == before + 1
        assert join("f3", picks).status_code == 201
        assert client.get("/health").status_code == 200  # the gateway's check, forwarded


def test_only_a_process_that_serves_joins_starts_the_child(tmp_path: Path) -> None:
    """Production on PostgreSQL turns the lane process on for every command that reads
    the settings (decision 0082): a worker, `fantasy status` or a migration must not
    start a child that no join will use."""
    database = tmp_path / "fantasy.db"
    settings = api_settings(database_url=f"sqlite:///{database}", join_lane_process=True)
    with _start(settings) as services:
        assert services.lane is None
    with _start(settings, serves_joins=True) as services:
        assert services.lane is not None
        assert services.lane.running


def test_ctrl_c_is_the_api_processs_to_handle_not_the_childs(services: Services) -> None:
    """Ctrl-C reaches the whole process group: the child ignores it, and the API process
    stops it when it stops itself (after the batches it runs)."""
    lane = services.lane
    assert lane is not None
    (joined,) = lane.run([_request(_contest(services), _player(services, "hal"), "h1")])
    assert not isinstance(joined, Exception)
    pid, started = lane.pid, lane.started
    assert pid is not None
    os.kill(pid, signal.SIGINT)
    time.sleep(0.3)
    (again,) = lane.run([_request(_contest(services), _player(services, "ivy"), "i1")])
    assert not isinstance(again, Exception)
    assert (lane.pid, lane.started) == (pid, started)


def test_a_child_killed_amid_batches_loses_nothing_and_each_retry_finishes_its_join(
    services: Services,
) -> None:
    """Batches keep coming while the child is SIGKILLed: whatever each request was told
    (joined, or LaneLost), the same requests again with their keys end with exactly one
    active entry each, one fee each, and the seat counter equal to the seats held."""
    lane = services.lane
    assert lane is not None
    contest = _contest(services, capacity=1_000, entry_limit=MaxEntries(500))
    gus = _player(services, "gus")
    requests = [_request(contest, gus, f"kill-{n}") for n in range(240)]
    told: dict[str, object] = {}

    def send() -> None:
        for first in range(0, len(requests), 6):
            batch = requests[first : first + 6]
            told.update(zip((r.client_key for r in batch), lane.run(batch), strict=True))

    sender = threading.Thread(target=send)
    sender.start()
    deadline = time.monotonic() + 30
    while len(told) < 30 and time.monotonic() < deadline:
        time.sleep(0.001)
    pid = lane.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    sender.join(60)
    assert len(told) == len(requests)
    assert all(isinstance(a, tuple | LaneLost) for a in told.values()), told
    again = lane.run(requests)
    entries = set()
    for answer in again:
        assert not isinstance(answer, Exception), answer
        assert answer[0].status is EntryStatus.ACTIVE
        entries.add(answer[1].entry_id)
    assert len(entries) == len(requests)
    with services.platform.uow() as uow:
        assert uow.entries.count(contest, [EntryStatus.ACTIVE]) == len(requests)
        assert uow.entries.seats_taken(contest) == len(requests)
        assert len(uow.ledger.for_contest(contest)) == len(requests)


def test_a_child_lost_mid_batch_answers_every_join_to_retry_with_its_key(
    lane_settings: Settings,
) -> None:
    lane = LaneProcess(lane_settings, start, target=answers_nothing)
    try:
        requests = [_request("c", "u", f"k{n}") for n in range(3)]
        answers = lane.run(requests)
        assert len(answers) == 3
        for answer in answers:
            assert isinstance(answer, LaneLost)
            assert isinstance(answer, PaymentOutcomeUnknown)
        assert lane.started == 1
        lane.run(requests)  # a new child for the next batch
        assert lane.started == 2
    finally:
        lane.close()
    with pytest.raises(LaneLost, match="shut down"):
        lane.call("check")


def test_an_answer_that_cannot_be_read_ends_the_child_and_fails_its_callers(
    lane_settings: Settings,
) -> None:
    lane = LaneProcess(lane_settings, start, target=answers_garbage)
    try:
        (answer,) = lane.run([_request("c", "u", "k1")])
        assert isinstance(answer, LaneLost)
        assert lane.pid is None  # killed: nothing can wait for it
        with pytest.raises(LaneLost):
            lane.call("check")  # a new child, which answers garbage too
        assert lane.started == 2
    finally:
        lane.close()


def test_a_batch_interrupted_in_the_child_fails_each_of_its_joins_and_none_waits(
    lane_settings: Settings,
) -> None:
    """Answers are read in the thread that reads the child, where raising would leave the
    callers waiting forever: an interrupt of the child's batch is each join's error."""
    lane = LaneProcess(lane_settings, start, target=answers_interrupted)
    answers: list[Any] = []
    told = threading.Event()

    def done(answered: list[Any]) -> None:
        answers.extend(answered)
        told.set()

    try:
        lane.send([_request("c", "u", "k1"), _request("c", "u", "k2")], done)
        assert told.wait(30), "the callers were never answered"
    finally:
        lane.close()
    assert len(answers) == 2
    for answer in answers:
        assert isinstance(answer, RuntimeError)
        assert "interrupted: KeyboardInterrupt()" in str(answer)


def test_errors_cross_with_their_class_message_and_attributes() -> None:
    errors: list[Exception] = [
        JoinRefused("full", "contest c1 is full (10)"),
        IdempotencyKeyReused("k1", "idempotency key 'k1' was first used for entry e1"),
        GatewayUnavailable("sandbox: charge refused, gateway unreachable"),
        LaneLost("the join lane process ended before it answered"),
    ]
    for error in errors:
        crossed = pickle.loads(pickle.dumps(RaisedThere.of(error))).rebuilt()
        assert type(crossed) is type(error)
        assert str(crossed) == str(error)
        assert crossed.args == error.args
        assert vars(crossed) == vars(error)
    assert vars(errors[0]) == {"reason": "full"}  # an attribute __init__ set, not in args


def test_the_setting_is_refused_where_a_child_could_not_share_the_data_or_the_clock(
    tmp_path: Path,
) -> None:
    base = {"FANTASY_JOIN_LANE_PROCESS": "true"}
    with pytest.raises(SettingsError, match=r"JOIN_LANE_PROCESS.*not memory:"):
        load_settings({**base, "FANTASY_DATABASE_URL": "memory:"})
    with pytest.raises(SettingsError, match=r"JOIN_LANE_PROCESS.*system clock"):
        load_settings(
            {
                **base,
                "FANTASY_DATABASE_URL": f"sqlite:///{tmp_path / 'f.db'}",
                "FANTASY_CLOCK_SPEED": "60",
            }
        )
    with pytest.raises(SettingsError, match=r"JOIN_LANE_PROCESS.*true or false"):
        load_settings({"FANTASY_JOIN_LANE_PROCESS": "sometimes"})
    settings = load_settings({**base, "FANTASY_DATABASE_URL": f"sqlite:///{tmp_path / 'f.db'}"})
    assert settings.join_lane_process
    given: dict[str, Any] = {"gateway": object()}
    with pytest.raises(InvalidConfiguration, match="would not be its"):
        start(settings, **given)


class _StopAtOnce:
    """The API process's end of the pipe, as seen by the child: it says stop at once."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def send(self, message: object) -> None:
        self.events.append(f"sent {message!r}")

    def recv(self) -> None:
        return None


class _Built:
    """What `make` builds, as far as the child's main looks at it."""

    platform = World().p

    def __enter__(self) -> _Built:
        return self

    def __exit__(self, *_: object) -> None:
        pass


def test_the_child_freezes_what_start_up_made_before_it_answers(
    lane_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the API process before it serves (apps.heap): without it, the child's full
    collections walked every object its start-up made, each pausing a batch for 80-105 ms,
    the joins' p99 (docs/performance.md, 2026-12-04 night)."""
    events: list[str] = []

    def make(_: Settings) -> _Built:
        events.append("made")
        return _Built()

    monkeypatch.setattr("apps.lane.freeze_startup_heap", lambda: events.append("frozen"))
    fantasy = logging.getLogger("fantasy")
    handlers, propagate, level = list(fantasy.handlers), fantasy.propagate, fantasy.level
    interrupt = signal.getsignal(signal.SIGINT)
    try:
        serve_lane(lane_settings, make, _StopAtOnce(events))  # type: ignore[arg-type]
    finally:
        signal.signal(signal.SIGINT, interrupt)
        fantasy.handlers[:], fantasy.propagate = handlers, propagate
        fantasy.setLevel(level)
    assert events == ["made", "frozen", "sent ('ready', None)"]


def test_joins_sent_without_waiting_are_each_answered_in_order_and_counted(
    services: Services,
) -> None:
    """Decision 0081: the API process sends joins as they come; the child queues them and
    runs what is queued in batches. Each message gets its own answers, in its order, and
    the lane counts each batch once, with all its joins."""
    lane = services.lane
    assert lane is not None
    contest = _contest(services, capacity=20)
    players = [_player(services, f"q{n}") for n in range(7)]
    batches, joins = lane.batches, lane.joins
    told: dict[int, list[Any]] = {}
    all_told = threading.Event()

    def done(number: int) -> Callable[[list[Any]], None]:
        def answered(answers: list[Any]) -> None:
            told[number] = answers
            if len(told) == 3:
                all_told.set()

        return answered

    groups = [players[:3], players[3:4], players[4:]]
    for number, group in enumerate(groups):
        lane.send([_request(contest, p, f"{p}-k") for p in group], done(number))
    assert all_told.wait(60)
    for number, group in enumerate(groups):
        assert [answer[1].user_id for answer in told[number]] == group
        assert all(answer[0].status is EntryStatus.ACTIVE for answer in told[number])
    assert lane.joins - joins == 7
    assert 1 <= lane.batches - batches <= 3


def test_the_child_s_queue_takes_whole_messages_up_to_a_batch_in_order() -> None:
    queue = JoinQueue(max_batch=4)
    request = _request("c", "u", "k")
    sizes = {1: 2, 2: 1, 3: 2, 4: 6, 5: 1}
    for number, size in sizes.items():
        queue.put(number, [request] * size)
    taken: list[list[int]] = []
    queue.end()  # what is queued is still taken
    while (batch := queue.take()) is not None:
        taken.append([number for number, _ in batch])
    # 2 + 1 fit in 4, a third message would not; one bigger than a batch goes alone.
    assert taken == [[1, 2], [3], [4], [5]]


def test_the_child_s_queue_waits_for_a_message_and_ends_when_told() -> None:
    queue = JoinQueue(max_batch=4)
    got: list[list[Sent] | None] = []
    taker = threading.Thread(target=lambda: got.extend([queue.take(), queue.take()]))
    taker.start()
    time.sleep(0.05)
    assert got == []  # waiting
    queue.put(7, [_request("c", "u", "k")])
    queue.end()
    taker.join(5)
    assert got == [[(7, [_request("c", "u", "k")])], None]


def test_the_end_of_the_child_s_queue_reaches_every_join_thread() -> None:
    """FANTASY_JOIN_BATCH_LANES threads wait on one queue: each must see the end, or the
    child never exits (a child of two threads outlived its server in a benchmark)."""
    queue = JoinQueue(max_batch=4)
    ended: list[None] = []
    takers = [
        threading.Thread(target=lambda: ended.append(queue.take()), daemon=True) for _ in range(3)
    ]
    for taker in takers:
        taker.start()
    time.sleep(0.05)
    queue.end()
    for taker in takers:
        taker.join(5)
    assert ended == [None, None, None]


def test_a_join_thread_answers_each_message_of_a_batch_with_its_own_slice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Messages queued together run as one `join_many`; each gets its own answers, in its
    order, the batch counted with the first; a failed batch fails every message."""
    ran: list[list[str]] = []

    def answered_by_key(_platform: object, requests: list[JoinRequest]) -> list[str]:
        ran.append([r.client_key for r in requests])
        if requests[0].client_key == "boom":
            raise RuntimeError("the batch failed")
        return [f"answer {r.client_key}" for r in requests]

    monkeypatch.setattr("apps.lane.join_many", answered_by_key)
    queue = JoinQueue(max_batch=8)
    for number, keys in ((1, ["a", "b"]), (2, ["c"]), (3, ["d", "e"])):
        queue.put(number, [_request("c1", "u", key) for key in keys])
    queue.end()
    sent: list[tuple[int, object, object]] = []
    _run_joins(queue, None, lambda number, result, batch: sent.append((number, result, batch)))  # type: ignore[arg-type]
    assert ran == [["a", "b", "c", "d", "e"]]
    assert [(number, result) for number, result, _ in sent] == [
        (1, ["answer a", "answer b"]),
        (2, ["answer c"]),
        (3, ["answer d", "answer e"]),
    ]
    first = sent[0][2]
    assert isinstance(first, tuple)
    assert first[0] == 5
    assert [batch for _, _, batch in sent[1:]] == [None, None]

    failing = JoinQueue(max_batch=8)
    failing.put(4, [_request("c1", "u", "boom")])
    failing.put(5, [_request("c1", "u", "f")])
    failing.end()
    sent.clear()
    _run_joins(failing, None, lambda number, result, batch: sent.append((number, result, batch)))  # type: ignore[arg-type]
    assert [number for number, _, _ in sent] == [4, 5]
    for _, result, _ in sent:
        assert isinstance(result, RaisedThere)
        assert "the batch failed" in str(result.rebuilt())
