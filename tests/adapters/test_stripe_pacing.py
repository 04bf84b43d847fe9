"""Pacing Stripe requests: never more in a second than the rate, whichever thread sends."""

from __future__ import annotations

import threading

import pytest

from adapters.stripe_gateway import RequestPacer, StripeGateway


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))


def test_requests_sent_at_once_are_spaced_by_the_rate() -> None:
    time = FakeTime()
    pacer = RequestPacer(10, clock=time.clock, sleep=time.sleep)
    for _ in range(3):
        pacer.wait()
    assert time.slept == [0.1, 0.2]  # the first goes at once, then one every 0.1 s


def test_a_request_after_a_quiet_spell_goes_at_once() -> None:
    time = FakeTime()
    pacer = RequestPacer(10, clock=time.clock, sleep=time.sleep)
    pacer.wait()
    time.now += 5
    pacer.wait()
    assert time.slept == []


def test_threads_share_one_pace() -> None:
    time = FakeTime()
    pacer = RequestPacer(100, clock=time.clock, sleep=time.sleep)
    threads = [threading.Thread(target=pacer.wait) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(time.slept) == [round(0.01 * n, 6) for n in range(1, 10)]


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RequestPacer(0)


def test_the_gateway_paces_writes_and_reads_separately_when_asked() -> None:
    paced = StripeGateway.for_environment("sk_test_x", "test", requests_per_second=50)
    assert paced.writes is not None
    assert paced.reads is not None
    assert paced.writes is not paced.reads
    assert paced.writes.interval == pytest.approx(0.02)
    unpaced = StripeGateway.for_environment("sk_test_x", "test")
    assert unpaced.writes is None
    assert unpaced.reads is None
