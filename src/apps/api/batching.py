"""Requests that arrive together, served by one call: the app's micro-batcher (decision 0013).

A route awaits `Batcher.submit(item)`; a few lanes (tasks on the app's event loop) take
what has queued up, at most `max_batch` items, and run them in one call of `run` in a
worker thread, which goes on to the next batch while items wait. There is no waiting
window: a lone request runs at once, and under load the requests that arrive while a
batch runs make the next one, so batches grow with the load and a batch costs the
database a few statements rather than a few per request.

With `send` instead (the join lane process, decision 0081), the items are handed on as
they come, without waiting for the answers of those before: the receiver queues and
batches them itself, and calls back with the answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import anyio.to_thread

from fantasy_core.errors import GatewayUnavailable

_log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

Answers = Callable[[Sequence[R | Exception]], None]
"""Told a group of items' answers, in order, from any thread."""


class Overloaded(Exception):
    """More items wait than the batcher accepts: the item is refused at once (shed), so the
    ones accepted keep their latency; the client retries after `retry_after` seconds."""

    def __init__(self, name: str, waiting: int, retry_after: int = 1) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"{waiting} {name} are waiting, the most this server queues; retry in {retry_after} s"
        )


class Batcher(Generic[T, R]):
    """Runs submitted items in batches: `run(items)` answers each item with a result or the
    exception to raise for it, in order."""

    def __init__(
        self,
        run: Callable[[Sequence[T]], Sequence[R | Exception]],
        *,
        name: str,
        max_batch: int = 64,
        lanes: int = 2,
        max_waiting: int | None = None,
        send: Callable[[Sequence[T], Answers[R]], None] | None = None,
    ) -> None:
        """`max_waiting` bounds the items waiting for a lane (default: four full batches a
        lane); beyond it `submit` raises Overloaded at once instead of queueing.

        `send(items, answers)`, if given, is called on the event loop with each group of
        at most `max_batch` items as soon as they queue, instead of `run` in a thread; it
        must not block, and must call `answers` once (from any thread). The items it was
        given beyond one batch's count as waiting."""
        if max_batch < 1 or lanes < 1:
            raise ValueError(
                f"a batcher needs max_batch >= 1 and lanes >= 1, not {max_batch}, {lanes}"
            )
        if max_waiting is not None and max_waiting < max_batch:
            raise ValueError(f"max_waiting {max_waiting} is below one batch ({max_batch})")
        self.max_waiting = 4 * max_batch * lanes if max_waiting is None else max_waiting
        self._run = run
        self._send = send
        self._sent = 0  # items handed to `send` and not answered yet
        self.name = name
        self.max_batch = max_batch
        self._lanes = lanes
        self._pending: deque[tuple[T, asyncio.Future[R | Exception]]] = deque()
        self._taking = threading.Lock()
        self._ready: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self._generation = 0  # moved on by `open`: a lane's thread works for one opening
        self.batches = 0  # how many batches ran, and how many items: the mean batch size
        self.items = 0
        self.shed = 0  # items refused because too many were waiting
        # Seconds the lanes spent running batches (wall time, summed over lanes): over a
        # window of load, busy / window is how much of it the lanes worked; near 1 for one
        # lane, the lane is what bounds the throughput (docs/performance.md).
        self.busy_seconds = 0.0

    async def submit(self, item: T) -> R:
        """Run `item` with whatever else is waiting; its result, or raise its exception."""
        if self._closed:
            raise GatewayUnavailable(f"the {self.name} batcher is shut down")
        waiting = len(self._pending)
        if self._send is not None:  # what was handed on waits as well, beyond one batch
            waiting = max(0, waiting + self._sent - self.max_batch)
        if waiting >= self.max_waiting:
            self.shed += 1
            raise Overloaded(self.name, waiting)
        ready = self._start()
        future: asyncio.Future[R | Exception] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        ready.set()
        answer = await future
        if isinstance(answer, Exception):
            raise answer
        return answer

    def _start(self) -> asyncio.Event:
        # Started on first use, on the loop that serves requests (a test client has its own).
        if self._ready is None:
            self._ready = asyncio.Event()
            # Handing on never waits: one task does it (the receiver has its own lanes).
            lanes = 1 if self._send is not None else self._lanes
            self._tasks = [
                asyncio.create_task(self._lane(self._ready), name=f"{self.name}-lane-{n}")
                for n in range(lanes)
            ]
        return self._ready

    async def _lane(self, ready: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        # Until closed, as well as until cancelled: `close` wakes a waiting lane to end it.
        while not self._closed:
            await ready.wait()
            ready.clear()  # before looking: an item queued from now on sets it again
            if self._send is not None:
                self._hand_on(loop)
            elif self._pending and not self._closed:
                await anyio.to_thread.run_sync(self._drain, loop, self._generation)

    def _hand_on(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the event loop: give `send` every item waiting, in groups of `max_batch`."""
        assert self._send is not None
        while self._pending and not self._closed:
            count = min(self.max_batch, len(self._pending))
            batch = [self._pending.popleft() for _ in range(count)]
            self.batches += 1
            self.items += count
            self._sent += count
            answered = functools.partial(self._answered_elsewhere, loop, batch)
            self._send([item for item, _ in batch], answered)

    def _answered_elsewhere(
        self,
        loop: asyncio.AbstractEventLoop,
        batch: _Batch[R],
        answers: Sequence[R | Exception],
    ) -> None:
        """From `send`'s thread: the answers, to be handed out on the event loop."""
        try:
            loop.call_soon_threadsafe(self._answered, batch, answers)
        except RuntimeError:  # the loop is closed: no request waits for them any more
            _log.warning("%d %s answered after their event loop closed", len(batch), self.name)

    def _answered(self, batch: _Batch[R], answers: Sequence[R | Exception]) -> None:
        self._sent -= len(batch)
        _answer(batch, answers)

    def _drain(self, loop: asyncio.AbstractEventLoop, generation: int) -> None:
        """In the lane's worker thread: run batches until nothing waits, each batch's
        answers handed to the event loop as it ends. The thread takes the next batch
        itself: going back to a busy event loop between batches left the lane idle for
        a quarter of its time under load (docs/performance.md)."""
        while True:
            with self._taking:  # deque operations are atomic; a batch of several is not
                # A thread of a closed batcher takes nothing more, even once it is opened
                # again on another loop: what it took would be answered on a dead loop.
                if self._closed or self._generation != generation:
                    return
                count = min(self.max_batch, len(self._pending))
                batch = [self._pending.popleft() for _ in range(count)]
            if not batch:
                return
            items = [item for item, _ in batch]
            self.batches += 1
            self.items += len(items)
            started = time.perf_counter()
            try:
                answers: list[R | Exception] = list(self._run(items))
            except Exception as error:  # the batch itself failed: each of its items says so
                _log.exception("a batch of %d %s failed", len(items), self.name)
                answers = [error] * len(items)
            finally:
                with self._taking:  # lanes may end batches at once: += is not atomic
                    self.busy_seconds += time.perf_counter() - started
            loop.call_soon_threadsafe(_answer, batch, answers)

    def open(self) -> None:
        """Accept items again after `close` (an app served a second time, as by a second
        test client): the lanes start on the loop of the next submission."""
        with self._taking:
            self._generation += 1
            self._closed = False
        self._ready = None
        self._tasks = []

    async def close(self) -> None:
        """Stop the lanes; anything still waiting is answered 'unavailable'."""
        with self._taking:
            self._closed = True
        if self._ready is not None:
            self._ready.set()  # a lane waiting for items sees the batcher closed and ends
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        while self._pending:
            _, future = self._pending.popleft()
            if not future.done():
                future.set_result(GatewayUnavailable(f"the {self.name} batcher shut down"))


_Batch = Sequence[tuple[object, asyncio.Future[R | Exception]]]


def _answer(batch: _Batch[R], answers: Sequence[R | Exception]) -> None:
    """On the event loop: each item its answer; a wrong count of answers fails them all."""
    if len(answers) != len(batch):
        error = RuntimeError(f"{len(answers)} answers for a batch of {len(batch)}")
        _log.error("%s", error)
        answers = [error] * len(batch)
    for (_, future), answer in zip(batch, answers, strict=True):
        if not future.done():  # its request may have been cancelled (client gone)
            future.set_result(answer)
