"""apps.web.recent: a value read once a second from one source, afresh from another."""

from __future__ import annotations

import threading

import pytest

from apps.web.recent import Kept, Recent


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_value_is_reused_for_its_seconds_then_read_again() -> None:
    ticks, reads = Ticks(), []
    recent: Recent[int] = Recent(1.0, ticks)
    source = object()

    def load() -> int:
        reads.append(ticks.now)
        return len(reads)

    assert recent.held(source) is None  # nothing read yet: a caller must read
    assert recent.get(source, load) == 1
    ticks.now = 0.9
    assert recent.get(source, load) == 1
    assert recent.held(source) == 1
    ticks.now = 1.0
    assert recent.held(source) is None  # expired and nobody reading
    assert recent.get(source, load) == 2
    assert reads == [0.0, 1.0]


def test_while_one_caller_reads_afresh_the_others_get_the_value_held() -> None:
    ticks, started, release = Ticks(), threading.Event(), threading.Event()
    recent: Recent[str] = Recent(1.0, ticks)
    source = object()
    assert recent.get(source, lambda: "old") == "old"
    ticks.now = 5.0  # expired

    def slow() -> str:
        started.set()
        assert release.wait(10)
        return "new"

    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(recent.get(source, slow)))
    reader.start()
    assert started.wait(10)
    # Expired, but another caller is reading: the held value, and no second read.
    assert recent.get(source, lambda: "a second read") == "old"
    assert recent.held(source) == "old"
    release.set()
    reader.join(10)
    assert got == ["new"]
    assert recent.get(source, lambda: "a third read") == "new"


def test_a_failed_read_lets_the_next_caller_read_afresh() -> None:
    ticks = Ticks()
    recent: Recent[str] = Recent(1.0, ticks)
    source = object()
    assert recent.get(source, lambda: "old") == "old"
    ticks.now = 5.0

    def broken() -> str:
        raise OSError("store unavailable")

    with pytest.raises(OSError, match="store unavailable"):
        recent.get(source, broken)
    assert recent.get(source, lambda: "new") == "new"


def test_another_source_is_always_read_afresh() -> None:
    recent: Recent[str] = Recent(60.0, Ticks())
    first, second = object(), object()
    assert recent.get(first, lambda: "first") == "first"
    assert recent.get(second, lambda: "second") == "second"
    assert recent.held(first) is None
    assert recent.get(first, lambda: "first again") == "first again"


def test_kept_values_are_made_once_per_key_and_the_oldest_go_first() -> None:
    kept: Kept[str] = Kept(2)
    source, made = object(), []

    def make(key: str) -> str:
        made.append(key)
        return key.upper()

    assert kept.get(source, "a", lambda: make("a")) == "A"
    assert kept.get(source, "a", lambda: make("a")) == "A"
    kept.get(source, "b", lambda: make("b"))
    kept.get(source, "c", lambda: make("c"))  # "a" goes
    kept.get(source, "a", lambda: make("a"))
    assert made == ["a", "b", "c", "a"]
    other = object()
    assert kept.get(other, "b", lambda: "other b") == "other b"  # another platform
