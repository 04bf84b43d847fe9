"""The join lane in a process of its own (FANTASY_JOIN_LANE_PROCESS, decision 0065).

An API process serves requests on its event loop and runs each batch of joins
(`join_many`) in a worker thread, and the two share one GIL: a batch waited for the loop
after each of its round trips to the database, and took about half as long again as the
same batch alone. With this setting the batches run in a child process with services of
its own, built from the same settings, and the API process only hands the joins on and
hands their answers out.

The child is started with the services (`apps.bootstrap.start`). The API process sends it
the joins as they come, without waiting for the answers of those before (decision 0081);
the child queues them and runs them on its join threads (FANTASY_JOIN_BATCH_LANES: one,
four in production against Stripe), each batch taking every join queued, up to
FANTASY_JOIN_BATCH_MAX: the next batch starts as the last ends, with no hand-over between
the processes in between. Gateway calls run beside, a thread each. With the sandbox
gateway, whose payments live in the memory of one process, the child holds the only
sandbox and the API process's gateway forwards every call to it (`LaneGateway`): the
3-D Secure page, the worker's refunds and the charges of the joins all see the same
payments.

If the child ends (killed, out of memory), every request it was answering gets
PaymentOutcomeUnknown, which tells the client to send the same request again with the
same Idempotency-Key: a join is idempotent by its fingerprint, so the retry finishes a
seat reserved or charged before the loss, and never charges twice. The operators get the
alert LANE_LOST_ALERT, and the next request starts a new child. (The sandbox's payments
are lost with its process; Stripe's are not.)
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

import attrs

from apps.heap import freeze_startup_heap
from apps.logs import configure_logging
from fantasy_core.errors import PaymentOutcomeUnknown
from fantasy_core.money import Money
from fantasy_core.payments import ChargeOutcome, PaymentEvent, RefundOutcome, TransferOutcome
from fantasy_core.payout_accounts import AccountStatus, OnboardingLink
from fantasy_core.usecases.joining import JoinRequest
from fantasy_core.usecases.joining_batch import Joined, join_many

if TYPE_CHECKING:
    from apps.bootstrap import Services
    from apps.settings import Settings
    from fantasy_core.platform import Platform

    MakeServices = Callable[[Settings], Services]
    LaneMain = Callable[[Settings, MakeServices, Connection], None]

_log = logging.getLogger("fantasy.lane")

LANE_LOST_ALERT = "join-lane-lost"
START_SECONDS = 120.0  # the child's imports, engine and services, on a slow machine
STOP_SECONDS = 10.0
GATEWAY_THREADS = 4  # the API process's calls of the child's gateway, side by side


@attrs.frozen
class RaisedThere:
    """An exception raised in the other process, as it crossed: its class, its args and its
    attributes, rebuilt without calling its __init__ (many of ours take other arguments
    than the args they keep, which pickle's own way would pass back)."""

    kind: type[BaseException]
    args: tuple[Any, ...]
    state: dict[str, Any]

    @classmethod
    def of(cls, error: BaseException) -> RaisedThere:
        state = {k: v for k, v in vars(error).items() if not k.startswith("__")}
        return cls(type(error), tuple(error.args), state)

    def rebuilt(self) -> BaseException:
        error = self.kind.__new__(self.kind)
        error.args = self.args
        vars(error).update(self.state)
        return error


def _packed(answer: object) -> object:
    return RaisedThere.of(answer) if isinstance(answer, BaseException) else answer


def _unpacked(answer: object) -> object:
    return answer.rebuilt() if isinstance(answer, RaisedThere) else answer


def _answers(crossed: object, count: int) -> list[Joined | Exception]:
    """The answers of a message of `count` joins, as they crossed: one each, or for each
    the one error (the child lost, or `join_many` itself failed). Read in the thread that
    reads the child, where nothing may be raised (the callers would wait forever): a
    BaseException of the child's batch (an interrupt) is answered as a RuntimeError."""
    answers = _unpacked(crossed)
    if isinstance(answers, BaseException):
        if not isinstance(answers, Exception):
            answers = RuntimeError(f"the join lane's batch was interrupted: {answers!r}")
        return [answers for _ in range(count)]
    assert isinstance(answers, list)
    return [_unpacked(answer) for answer in answers]  # type: ignore[misc]


# --- the child --------------------------------------------------------------------------

Sent = tuple[int, list[JoinRequest]]
"""A message of joins as the child queues it: its number, and its requests in order."""


class JoinQueue:
    """The joins the child was sent, in order, for its join threads: `take` gives the
    messages queued, whole, as many as fit in `max_batch` joins (always at least one)."""

    def __init__(self, max_batch: int) -> None:
        self._max_batch = max_batch
        self._queued: deque[Sent] = deque()
        self._changed = threading.Condition()
        self._ended = False

    def put(self, number: int, requests: list[JoinRequest]) -> None:
        with self._changed:
            self._queued.append((number, requests))
            self._changed.notify()

    def end(self) -> None:
        """No more messages: `take` gives what is queued, then None (to every join thread)."""
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def take(self) -> list[Sent] | None:
        """The next batch's messages, waiting for one; None once ended and empty."""
        with self._changed:
            while not self._queued and not self._ended:
                self._changed.wait()
            if not self._queued:
                return None
            taken = [self._queued.popleft()]
            count = len(taken[0][1])
            while self._queued and count + len(self._queued[0][1]) <= self._max_batch:
                taken.append(self._queued.popleft())
                count += len(taken[-1][1])
            return taken


Ran = tuple[int, float]
"""A batch the child ran, told with the first answer of it: its joins, its seconds."""


def _run_joins(
    queue: JoinQueue, platform: Platform, send: Callable[[int, object, Ran | None], None]
) -> None:
    """A join thread of the child: each batch of the messages queued run by `join_many`,
    and each message answered (its answers, in order, or the batch's one failure)."""
    while (taken := queue.take()) is not None:
        started = time.perf_counter()
        requests = [request for _, sent in taken for request in sent]
        try:
            answers = [_packed(a) for a in join_many(platform, requests)]
        except BaseException as error:  # every failure goes back to its callers
            failed = RaisedThere.of(error)
            results: list[object] = [failed for _ in taken]
        else:
            ends = list(itertools.accumulate(len(sent) for _, sent in taken))
            results = [
                answers[end - len(sent) : end] for (_, sent), end in zip(taken, ends, strict=True)
            ]
        ran: Ran | None = (len(requests), time.perf_counter() - started)
        for (number, _), result in zip(taken, results, strict=True):
            send(number, result, ran)
            ran = None  # the batch counted once


def _receive(connection: Connection, queue: JoinQueue, call: Callable[[int, Any], object]) -> None:
    """Take the API process's messages until it says stop or goes away: joins to `queue`,
    gateway calls to `call`."""
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return  # the API process is gone
        if message is None:
            return
        number, kind, payload = message
        if kind == "joins":
            queue.put(number, payload)
        else:
            call(number, payload)


def serve_lane(settings: Settings, make: MakeServices, connection: Connection) -> None:
    """The child's main: services made from `settings` by `make` (apps.bootstrap.start),
    then the joins sent run in batches on one thread (`JoinQueue`), and each gateway call
    in a thread of its own, until the API process says stop or goes away (the joins
    queued still run)."""
    # Ctrl-C reaches the whole process group: the API process stops this one (a None
    # message, or the pipe's end), after the batches it runs.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging()
    own = attrs.evolve(settings, join_lane_process=False, database_auto_upgrade=False)
    try:
        services = make(own)
    except BaseException as error:
        connection.send(("failed", RaisedThere.of(error)))
        raise
    # As the API process does before it serves: without it every full collection walked
    # the ~134,000 objects start-up made, pausing a batch for 80-105 ms, the joins' p99
    # (docs/performance.md, 2026-12-04 night).
    freeze_startup_heap()
    sending = threading.Lock()
    gateway = services.platform.gateway

    def send(number: int, result: object, ran: Ran | None = None) -> None:
        with sending:
            try:
                connection.send((number, result, ran))
            except (OSError, ValueError):
                raise  # the pipe is gone: the API process is, too
            except Exception as error:  # an answer that cannot cross: its caller must hear
                _log.exception("answer %d of the join lane could not be sent", number)
                unsent = RuntimeError(f"the join lane's answer could not be sent: {error!r}")
                connection.send((number, RaisedThere.of(unsent), ran))

    def call(number: int, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            if name not in GATEWAY_CALLS:
                raise ValueError(f"the join lane does not forward {name!r}")
            result = getattr(gateway, name)(*args, **kwargs)
        except BaseException as error:  # every failure goes back to its caller
            result = RaisedThere.of(error)
        send(number, result)

    queue = JoinQueue(settings.join_batch_max)
    # One thread makes the biggest batches (the sandbox's default); against Stripe, whose
    # charges take a few hundred ms, FANTASY_JOIN_BATCH_LANES threads overlap one batch's
    # charges with the next's, all taking from the one queue.
    joiners = [
        threading.Thread(
            target=_run_joins, args=(queue, services.platform, send), name=f"fantasy-joins-{n}"
        )
        for n in range(max(1, settings.join_batch_lanes))
    ]
    with services, ThreadPoolExecutor(GATEWAY_THREADS, thread_name_prefix="fantasy-lane") as pool:
        for joiner in joiners:
            joiner.start()
        try:
            with sending:
                connection.send(("ready", None))
            _receive(connection, queue, lambda number, payload: pool.submit(call, number, *payload))
        finally:
            queue.end()
            for joiner in joiners:
                joiner.join()


# --- the API process's side -------------------------------------------------------------


class LaneLost(PaymentOutcomeUnknown):
    """The join lane process ended before it answered: whatever it was doing may or may not
    have happened; the same request with the same Idempotency-Key finishes it."""


class LaneNotRunning(Exception):
    """No child runs, and the caller asked that none be started (starting one takes
    seconds: not on an event loop). Nothing was sent."""


@attrs.define
class _Child:
    """One child process: its pipe, and the callers waiting for its answers by number."""

    process: Any
    connection: Connection
    waiting: dict[int, Future[object]] = attrs.field(factory=dict)
    sending: threading.Lock = attrs.field(factory=threading.Lock)


class LaneProcess:
    """The child process that runs join batches (and holds the sandbox, with it): `run` a
    batch, `call` its gateway; `close` at shutdown. Safe to use from many threads."""

    def __init__(
        self, settings: Settings, make: MakeServices, *, target: LaneMain = serve_lane
    ) -> None:
        """`make` builds the child's services from the settings (apps.bootstrap.start, passed
        by reference); `target` is the child's main (tests give another)."""
        self._settings = settings
        self._make = make
        self._target = target
        # Told (in a thread of its own) when a child ends unasked, with what happened:
        # apps.bootstrap raises the operators' alert LANE_LOST_ALERT with it.
        self.on_lost: Callable[[str], None] | None = None
        self._guard = threading.Lock()  # the child's start, replacement and stop
        self._child: _Child | None = None
        self._numbers = itertools.count(1)
        self._closed = False
        self.started = 0  # children started: more than one means one was lost
        # The batches the children ran, their joins, and the seconds their join threads
        # spent running them (as the Batcher counts its own: the mean batch, how busy).
        self.batches = 0
        self.joins = 0
        self.busy_seconds = 0.0

    def start(self) -> None:
        """Start the child unless it runs; raise what made it fail to start."""
        with self._guard:
            self._running()

    def _alive(self) -> _Child | None:
        """The child, if it runs now."""
        child = self._child
        return child if child is not None and child.process.is_alive() else None

    def _running(self) -> _Child:
        """The child, started anew if there is none or it ended (the caller holds _guard)."""
        if self._closed:
            raise LaneLost("the join lane is shut down")
        child = self._alive()
        if child is not None:
            return child
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=self._target,
            args=(self._settings, self._make, theirs),
            name="fantasy-join-lane",
        )
        process.daemon = True
        process.start()
        theirs.close()
        try:
            if not ours.poll(START_SECONDS):
                process.kill()
                raise LaneLost(f"the join lane process did not start in {START_SECONDS:.0f} s")
            status, detail = ours.recv()
        except (EOFError, OSError) as error:
            raise LaneLost(f"the join lane process ended as it started: {error!r}") from error
        if status != "ready":
            process.join(STOP_SECONDS)
            raise _unpacked(detail)  # type: ignore[misc]
        child = self._child = _Child(process, ours)
        self.started += 1
        threading.Thread(
            target=self._read, args=(child,), name="fantasy-lane-reader", daemon=True
        ).start()
        _log.info("join lane process %s started", process.pid)
        return child

    def _read(self, child: _Child) -> None:
        """Hand each of `child`'s answers to its caller; when it ends, fail every caller
        still waiting for it."""
        while True:
            try:
                number, answer, ran = child.connection.recv()
            except (EOFError, OSError) as error:
                self._lost(child, error)
                return
            except Exception as error:  # an answer that cannot be read: whose, unknown
                _log.exception("an answer of the join lane process could not be read")
                child.process.kill()  # so that no caller waits for it forever
                self._lost(child, error)
                return
            with self._guard:
                waiting = child.waiting.pop(number, None)
                if ran is not None:
                    self.batches += 1
                    self.joins += ran[0]
                    self.busy_seconds += ran[1]
            if waiting is not None:
                waiting.set_result(answer)

    def _lost(self, child: _Child, error: BaseException) -> None:
        with self._guard:
            waiting, child.waiting = child.waiting, {}
            if self._child is child:
                self._child = None
            closed = self._closed
        for future in waiting.values():
            future.set_result(LaneLost("the join lane process ended before it answered"))
        if closed and not waiting:
            return  # stopped on purpose
        child.process.join(STOP_SECONDS)  # its exit code, for the operators
        what = (
            f"the join lane process {child.process.pid} ended (exit code "
            f"{child.process.exitcode}) with {len(waiting)} batches or gateway calls "
            "unanswered; their joins were told to retry with their Idempotency-Key, and the "
            "next request starts another process"
        )
        _log.error(what, extra={"error": repr(error)})
        if self.on_lost is not None:
            try:
                self.on_lost(what)
            except Exception:  # the log line above says it anyway
                _log.exception("the join lane's loss could not be raised as an alert")

    def _post(self, kind: str, payload: object, *, start: bool = True) -> Future[object]:
        """Send the child a message; the future of its answer (as it crossed). Without a
        child, one is started, or with `start` false LaneNotRunning raised."""
        future: Future[object] = Future()
        with self._guard:
            child = self._running() if start else self._alive()
            if child is None:
                raise LaneNotRunning("no join lane process runs")
            number = next(self._numbers)
            child.waiting[number] = future
        try:
            with child.sending:
                child.connection.send((number, kind, payload))
        except (OSError, ValueError) as error:
            with self._guard:
                child.waiting.pop(number, None)
            raise LaneLost(f"the join lane process could not be reached: {error!r}") from error
        return future

    def _ask(self, kind: str, payload: object) -> object:
        return _unpacked(self._post(kind, payload).result())

    @property
    def running(self) -> bool:
        """Whether a child runs now."""
        return self._alive() is not None

    def send(
        self,
        requests: Sequence[JoinRequest],
        done: Callable[[list[Joined | Exception]], None],
        *,
        start: bool = True,
    ) -> None:
        """Queue `requests` in the child and return at once; `done` gets one answer a
        request, in order, when the batch that ran them ends (in the thread that reads the
        child's answers: it must not block), or LaneLost for each if the child cannot be
        reached or ends first. Starts a child if none runs; with `start` false, raises
        LaneNotRunning instead (and `done` is not called)."""
        asked = list(requests)

        def answered(future: Future[object]) -> None:
            done(_answers(future.result(), len(asked)))

        try:
            self._post("joins", asked, start=start).add_done_callback(answered)
        except LaneNotRunning:
            raise
        except Exception as error:  # not sent (LaneLost), or a child that failed to start
            done([error for _ in asked])

    def run(self, requests: Sequence[JoinRequest]) -> list[Joined | Exception]:
        """`join_many(requests)` in the child, waited for: one answer a request, in order."""
        answers: Future[list[Joined | Exception]] = Future()
        self.send(requests, answers.set_result)
        return answers.result()

    def call(self, name: str, *args: object, **kwargs: object) -> Any:
        """The child's gateway's `name`(*args, **kwargs): its answer, or its exception."""
        answer = self._ask("call", (name, args, kwargs))
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def close(self) -> None:
        """Stop the child (after the batches it runs) and wait for it."""
        with self._guard:
            self._closed = True
            child, self._child = self._child, None
        if child is None:
            return
        try:
            with child.sending:
                child.connection.send(None)
        except (OSError, ValueError):
            pass
        child.process.join(STOP_SECONDS)
        if child.process.is_alive():
            child.process.kill()
            child.process.join(STOP_SECONDS)
        child.connection.close()

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        child = self._child
        return None if child is None else int(child.process.pid)


class LaneGateway:
    """The API process's payment gateway when the sandbox lives in the join lane process:
    every call goes to that one sandbox (the PaymentGateway port, and `confirm`, the
    sandbox's 3-D Secure page)."""

    def __init__(self, lane: LaneProcess) -> None:
        self._lane = lane

    def charge(
        self, key: str, amount: Money, payment_method: str, metadata: Mapping[str, str]
    ) -> ChargeOutcome:
        answer: ChargeOutcome = self._lane.call("charge", key, amount, payment_method, metadata)
        return answer

    def find_charge(self, key: str) -> ChargeOutcome | None:
        answer: ChargeOutcome | None = self._lane.call("find_charge", key)
        return answer

    def refund(self, key: str, charge_id: str, amount: Money) -> RefundOutcome:
        answer: RefundOutcome = self._lane.call("refund", key, charge_id, amount)
        return answer

    def transfer(
        self,
        key: str,
        destination: str,
        amount: Money,
        group: str,
        metadata: Mapping[str, str],
    ) -> TransferOutcome:
        answer: TransferOutcome = self._lane.call(
            "transfer", key, destination, amount, group, metadata
        )
        return answer

    def find_transfer(self, key: str, group: str) -> TransferOutcome | None:
        answer: TransferOutcome | None = self._lane.call("find_transfer", key, group)
        return answer

    def reverse_transfer(self, key: str, transfer_id: str) -> str:
        answer: str = self._lane.call("reverse_transfer", key, transfer_id)
        return answer

    def open_account(self, key: str, email: str, country: str, metadata: Mapping[str, str]) -> str:
        answer: str = self._lane.call("open_account", key, email, country, metadata)
        return answer

    def account_status(self, account_id: str) -> AccountStatus:
        answer: AccountStatus = self._lane.call("account_status", account_id)
        return answer

    def onboarding_link(self, account_id: str, refresh_url: str, return_url: str) -> OnboardingLink:
        answer: OnboardingLink = self._lane.call(
            "onboarding_link", account_id, refresh_url, return_url
        )
        return answer

    def login_link(self, account_id: str) -> OnboardingLink:
        answer: OnboardingLink = self._lane.call("login_link", account_id)
        return answer

    def check(self) -> None:
        self._lane.call("check")

    def confirm(self, charge_id: str, client_secret: str, succeeded: bool) -> PaymentEvent:
        answer: PaymentEvent = self._lane.call("confirm", charge_id, client_secret, succeeded)
        return answer


# What the API process may ask of the child's gateway: what LaneGateway forwards (the
# port's calls and the sandbox's 3-D Secure page). Nothing else crosses.
GATEWAY_CALLS = frozenset(name for name in vars(LaneGateway) if not name.startswith("_"))
