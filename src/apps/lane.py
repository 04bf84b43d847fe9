"""The join lane in a process of its own (FANTASY_JOIN_LANE_PROCESS, decision 0065).

An API process serves requests on its event loop and runs each batch of joins
(`join_many`) in a worker thread, and the two share one GIL: a batch waited for the loop
after each of its round trips to the database, and took about half as long again as the
same batch alone. With this setting the batches run in a child process with services of
its own, built from the same settings, and the API process only sends each batch and
waits for its answers.

The child is started with the services (`apps.bootstrap.start`) and runs the batches it
is sent side by side, one thread each (the API's join lanes). With the sandbox gateway,
whose payments live in the memory of one process, the child holds the only sandbox and
the API process's gateway forwards every call to it (`LaneGateway`): the 3-D Secure page,
the worker's refunds and the charges of the joins all see the same payments.

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

    MakeServices = Callable[[Settings], Services]
    LaneMain = Callable[[Settings, MakeServices, Connection], None]

_log = logging.getLogger("fantasy.lane")

LANE_LOST_ALERT = "join-lane-lost"
START_SECONDS = 120.0  # the child's imports, engine and services, on a slow machine
STOP_SECONDS = 10.0


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


# --- the child --------------------------------------------------------------------------


def serve_lane(settings: Settings, make: MakeServices, connection: Connection) -> None:
    """The child's main: services made from `settings` by `make` (apps.bootstrap.start),
    then each message answered in a thread of its own, until the API process says stop or
    goes away."""
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

    def answer(number: int, kind: str, payload: Any) -> None:
        try:
            if kind == "joins":
                result: object = [_packed(a) for a in join_many(services.platform, payload)]
            else:
                name, args, kwargs = payload
                if name not in GATEWAY_CALLS:
                    raise ValueError(f"the join lane does not forward {name!r}")
                result = getattr(gateway, name)(*args, **kwargs)
        except BaseException as error:  # every failure goes back to its caller
            result = RaisedThere.of(error)
        with sending:
            try:
                connection.send((number, result))
            except (OSError, ValueError):
                raise  # the pipe is gone: the API process is, too
            except Exception as error:  # an answer that cannot cross: its caller must hear
                _log.exception("answer %d of the join lane could not be sent", number)
                unsent = RuntimeError(f"the join lane's answer could not be sent: {error!r}")
                connection.send((number, RaisedThere.of(unsent)))

    lanes = max(1, settings.join_batch_lanes) + 2  # the batches, plus gateway calls beside
    with services, ThreadPoolExecutor(lanes, thread_name_prefix="fantasy-lane") as pool:
        with sending:
            connection.send(("ready", None))
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):
                break  # the API process is gone
            if message is None:
                break
            pool.submit(answer, *message)


# --- the API process's side -------------------------------------------------------------


class LaneLost(PaymentOutcomeUnknown):
    """The join lane process ended before it answered: whatever it was doing may or may not
    have happened; the same request with the same Idempotency-Key finishes it."""


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

    def start(self) -> None:
        """Start the child unless it runs; raise what made it fail to start."""
        with self._guard:
            self._running()

    def _running(self) -> _Child:
        """The child, started anew if there is none or it ended (the caller holds _guard)."""
        if self._closed:
            raise LaneLost("the join lane is shut down")
        child = self._child
        if child is not None and child.process.is_alive():
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
                number, answer = child.connection.recv()
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

    def _ask(self, kind: str, payload: object) -> object:
        future: Future[object] = Future()
        with self._guard:
            child = self._running()
            number = next(self._numbers)
            child.waiting[number] = future
        try:
            with child.sending:
                child.connection.send((number, kind, payload))
        except (OSError, ValueError) as error:
            with self._guard:
                child.waiting.pop(number, None)
            raise LaneLost(f"the join lane process could not be reached: {error!r}") from error
        return _unpacked(future.result())

    def run(self, requests: Sequence[JoinRequest]) -> list[Joined | Exception]:
        """`join_many(requests)` in the child: one answer a request, in order."""
        try:
            answers = self._ask("joins", list(requests))
        except LaneLost as lost:
            return [lost for _ in requests]
        if isinstance(answers, Exception):  # the child lost, or join_many itself failed
            return [answers for _ in requests]
        if isinstance(answers, BaseException):
            raise answers
        assert isinstance(answers, list)
        return [_unpacked(answer) for answer in answers]  # type: ignore[misc]

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
