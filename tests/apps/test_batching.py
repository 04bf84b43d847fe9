"""The micro-batcher: what arrives together runs together, and every item gets its own answer."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence

import pytest
from api_support import Api, api_settings, assert_problem, wire
from litestar.testing import TestClient

from apps.api.batching import Batcher, Overloaded
from apps.api.state import JOINS
from fantasy_core.errors import GatewayUnavailable
from support.world import World


def test_items_submitted_while_a_batch_runs_make_the_next_batch() -> None:
    release = threading.Event()
    seen: list[list[int]] = []

    def run(items: Sequence[int]) -> list[int | Exception]:
        seen.append(list(items))
        if len(seen) == 1:
            release.wait(5)  # the first batch holds its lane while the others queue up
        return [n * 10 for n in items]

    async def scenario() -> list[int]:
        batcher = Batcher(run, name="test", lanes=1, max_batch=3)
        first = asyncio.create_task(batcher.submit(0))
        await asyncio.sleep(0.05)  # the lone first item runs at once, no waiting window
        rest = [asyncio.create_task(batcher.submit(n)) for n in range(1, 6)]
        await asyncio.sleep(0.05)
        release.set()
        answers = await asyncio.gather(first, *rest)
        assert (batcher.batches, batcher.items) == (3, 6)
        await batcher.close()
        return answers

    assert asyncio.run(scenario()) == [0, 10, 20, 30, 40, 50]
    assert seen == [[0], [1, 2, 3], [4, 5]]  # at most max_batch, in arrival order


def test_a_batcher_counts_the_seconds_its_lanes_spend_running_batches() -> None:
    # bench/join_http.py divides them by a run's seconds: how busy the join lane was.
    def run(items: Sequence[int]) -> list[int | Exception]:
        time.sleep(0.05)
        return list(items)

    async def scenario() -> tuple[float, float]:
        batcher = Batcher(run, name="test", lanes=1, max_batch=4)
        assert batcher.busy_seconds == 0.0
        started = time.perf_counter()
        await batcher.submit(1)  # one batch, then an idle lane, then another
        await asyncio.sleep(0.1)
        await batcher.submit(2)
        elapsed = time.perf_counter() - started
        await batcher.close()
        return batcher.busy_seconds, elapsed

    busy, elapsed = asyncio.run(scenario())
    assert 0.1 <= busy <= elapsed - 0.1  # both batches' time, not the idle wait between


def test_beyond_its_bound_a_batcher_sheds_at_once_and_loses_nothing_it_accepted() -> None:
    release = threading.Event()

    def run(items: Sequence[int]) -> list[int | Exception]:
        release.wait(5)
        return [n * 10 for n in items]

    async def scenario() -> tuple[list[int | BaseException], int]:
        batcher = Batcher(run, name="joins", lanes=1, max_batch=2, max_waiting=4)
        running = asyncio.create_task(batcher.submit(0))
        await asyncio.sleep(0.05)  # the first batch holds the lane; four may wait
        waiting = [asyncio.create_task(batcher.submit(n)) for n in range(1, 5)]
        await asyncio.sleep(0)
        with pytest.raises(Overloaded, match="4 joins are waiting") as shed:
            await batcher.submit(99)
        assert shed.value.retry_after == 1
        release.set()
        answers = await asyncio.gather(running, *waiting, return_exceptions=True)
        after = await batcher.submit(5)  # room again once the queue drains
        await batcher.close()
        return [*answers, after], batcher.shed

    answers, shed_count = asyncio.run(scenario())
    assert answers == [0, 10, 20, 30, 40, 50]
    assert shed_count == 1


def test_a_bound_below_one_batch_is_refused() -> None:
    with pytest.raises(ValueError, match="below one batch"):
        Batcher(list, name="test", max_batch=8, max_waiting=7)


def test_a_shed_join_is_a_503_problem_with_retry_after(api: Api) -> None:
    contest = api.contest()
    ann = api.player("ann")
    batcher = api.client.app.state[JOINS]
    batcher.max_waiting = 0  # every join finds the queue full
    response = api.join(contest, ann)
    problem = assert_problem(response, 503, "overloaded")
    assert response.headers["Retry-After"] == "1"
    assert "nothing was done" in problem["detail"]
    assert len(api.world.gateway.charges) == 0
    batcher.max_waiting = 256
    assert api.join(contest, ann).status_code == 201


def test_the_join_batcher_queues_one_batch_a_lane_two_with_the_lane_process() -> None:
    def max_waiting(**changes: int) -> int:
        app = wire(World(), api_settings(**changes))
        waiting: int = app.state[JOINS].max_waiting
        return waiting

    assert max_waiting(join_batch_lanes=2) == 2 * 64
    assert max_waiting(join_batch_max=8, join_max_waiting=500) == 500
    # With the lane process, the other group of joins waits whole while one batch runs.
    assert max_waiting(join_lane_process=True, join_batch_max=16) == 2 * 16
    assert max_waiting(join_lane_process=True, join_batch_max=16, join_batch_lanes=3) == 96
    assert max_waiting(join_lane_process=True, join_batch_max=16, join_max_waiting=20) == 20


def test_each_item_gets_its_own_answer_or_its_own_exception() -> None:
    def run(items: Sequence[int]) -> list[int | Exception]:
        return [ValueError(f"odd {n}") if n % 2 else n for n in items]

    async def scenario() -> list[int | BaseException]:
        batcher = Batcher(run, name="test")
        answers = await asyncio.gather(
            *(batcher.submit(n) for n in range(4)), return_exceptions=True
        )
        await batcher.close()
        return answers

    answers = asyncio.run(scenario())
    assert answers[0::2] == [0, 2]
    assert [str(a) for a in answers[1::2]] == ["odd 1", "odd 3"]


def test_a_batch_that_fails_as_a_whole_fails_each_of_its_items_and_the_next_batch_runs() -> None:
    calls: list[int] = []

    def run(items: Sequence[int]) -> list[int | Exception]:
        calls.append(len(items))
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return list(items)

    async def scenario() -> None:
        batcher = Batcher(run, name="test", lanes=1)
        with pytest.raises(RuntimeError, match="went away"):
            await batcher.submit(1)
        assert await batcher.submit(2) == 2
        await batcher.close()

    asyncio.run(scenario())


def test_a_batch_answering_the_wrong_number_of_items_is_an_error_for_each() -> None:
    async def scenario() -> None:
        batcher = Batcher(lambda items: [], name="test")
        with pytest.raises(RuntimeError, match="0 answers for a batch of 1"):
            await batcher.submit(1)
        await batcher.close()

    asyncio.run(scenario())


def test_after_close_a_submission_is_refused_as_unavailable_until_opened_again() -> None:
    async def scenario() -> Batcher[int, int]:
        batcher = Batcher(list, name="test")
        assert await batcher.submit(1) == 1
        await batcher.close()
        with pytest.raises(GatewayUnavailable, match="shut down"):
            await batcher.submit(2)
        return batcher

    batcher = asyncio.run(scenario())

    async def served_again() -> None:  # on another loop, as by a second test client
        batcher.open()
        assert await batcher.submit(3) == 3
        await batcher.close()

    asyncio.run(served_again())


def test_sizes_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="max_batch >= 1 and lanes >= 1"):
        Batcher(list, name="test", max_batch=0)


def test_an_app_served_twice_joins_both_times() -> None:
    world = World()
    app = wire(world, api_settings())
    for n in range(2):
        with TestClient(app) as client:
            api = Api(client, world)
            contest = api.contest()
            response = api.join(contest, api.player(f"twice{n}"))
            assert response.status_code == 201, response.text


def test_a_batcher_closed_and_opened_again_answers_every_item_each_time() -> None:
    """A lane's thread that outlived `close` once took the next opening's item and answered
    it on the closed loop: its request waited for ever (about one run in forty)."""
    batcher: Batcher[int, int] = Batcher(list, name="test")

    async def one_opening(n: int) -> None:
        batcher.open()
        assert await asyncio.wait_for(batcher.submit(n), 5) == n
        await asyncio.wait_for(batcher.close(), 5)

    for n in range(400):
        asyncio.run(one_opening(n))


# --- handing on as items come (`send`: the join lane process, decision 0081) ---------------


class _Receiver:
    """A `send` that keeps each group and answers when told, from another thread."""

    def __init__(self) -> None:
        self.groups: list[list[int]] = []
        self._answers: list[Callable[[Sequence[int | Exception]], None]] = []

    def send(
        self, items: Sequence[int], answers: Callable[[Sequence[int | Exception]], None]
    ) -> None:
        self.groups.append(list(items))
        self._answers.append(answers)

    def answer(self, group: int, answers: Sequence[int | Exception]) -> None:
        thread = threading.Thread(target=self._answers[group], args=(answers,))
        thread.start()
        thread.join()

    def answer_tenfold(self, groups: range) -> None:
        for group in groups:
            self.answer(group, [n * 10 for n in self.groups[group]])


def _unused_run(items: Sequence[int]) -> list[int | Exception]:
    raise AssertionError("a batcher that sends never runs a batch itself")


def test_items_are_handed_on_as_they_come_without_waiting_for_earlier_answers() -> None:
    receiver = _Receiver()

    async def scenario() -> list[int | BaseException]:
        batcher = Batcher(_unused_run, name="test", max_batch=3, send=receiver.send)
        first = asyncio.create_task(batcher.submit(0))
        await asyncio.sleep(0.01)
        rest = [asyncio.create_task(batcher.submit(n)) for n in range(1, 6)]
        await asyncio.sleep(0.01)
        # Both groups went before any answer: nothing waits for the first group's.
        assert receiver.groups == [[0], [1, 2, 3], [4, 5]]
        assert (batcher.batches, batcher.items) == (3, 6)
        receiver.answer(1, [10, 20, RuntimeError("refused")])
        receiver.answer(2, [40, 50])
        receiver.answer(0, [0])
        answers = await asyncio.gather(first, *rest, return_exceptions=True)
        await batcher.close()
        return answers

    answers = asyncio.run(scenario())
    assert answers[:3] + answers[4:] == [0, 10, 20, 40, 50]
    assert isinstance(answers[3], RuntimeError)


def test_a_sending_batcher_counts_what_it_sent_beyond_one_batch_as_waiting() -> None:
    receiver = _Receiver()

    async def scenario() -> int:
        batcher = Batcher(_unused_run, name="joins", max_batch=2, max_waiting=3, send=receiver.send)
        sent = [asyncio.create_task(batcher.submit(n)) for n in range(5)]
        await asyncio.sleep(0.01)  # 5 sent: one batch's 2 run, 3 wait
        with pytest.raises(Overloaded, match="3 joins are waiting"):
            await batcher.submit(99)
        assert [n for group in receiver.groups for n in group] == [0, 1, 2, 3, 4]
        receiver.answer_tenfold(range(1))
        await asyncio.sleep(0.01)
        more = asyncio.create_task(batcher.submit(5))  # room again
        await asyncio.sleep(0.01)
        receiver.answer_tenfold(range(1, len(receiver.groups)))
        assert await asyncio.gather(*sent, more) == [0, 10, 20, 30, 40, 50]
        await batcher.close()
        return batcher.shed

    assert asyncio.run(scenario()) == 1


def test_a_group_answered_with_the_wrong_count_fails_each_of_its_items() -> None:
    receiver = _Receiver()

    async def scenario() -> list[int | BaseException]:
        batcher = Batcher(_unused_run, name="test", max_batch=4, send=receiver.send)
        items = [asyncio.create_task(batcher.submit(n)) for n in range(2)]
        await asyncio.sleep(0.01)
        receiver.answer(0, [1])
        answers = await asyncio.gather(*items, return_exceptions=True)
        await batcher.close()
        return answers

    for answer in asyncio.run(scenario()):
        assert isinstance(answer, RuntimeError)
        assert "1 answers for a batch of 2" in str(answer)


def test_answers_after_the_event_loop_closed_are_dropped_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver = _Receiver()

    async def scenario() -> None:
        batcher = Batcher(_unused_run, name="test", max_batch=4, send=receiver.send)
        asyncio.get_running_loop().call_later(0.01, lambda: None)
        pending = asyncio.create_task(batcher.submit(1))
        await asyncio.sleep(0.01)
        pending.cancel()  # the client went away; then the loop ends

    asyncio.run(scenario())
    receiver.answer(0, [1])  # the reader thread of a lane whose app stopped
    assert "answered after their event loop closed" in caplog.text
