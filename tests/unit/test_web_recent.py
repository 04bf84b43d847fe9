"""apps.web.recent: a value read once a second from one source, afresh from another."""

from __future__ import annotations

import threading

import pytest

from apps.web.recent import Kept, Recent, RecentEach


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


def test_each_key_is_read_once_a_second_and_its_reader_alone_reads_it() -> None:
    ticks, reads = Ticks(), []
    recent: RecentEach[str, str] = RecentEach(1.0, 8, ticks)
    source = object()

    def load(key: str) -> str:
        reads.append((key, ticks.now))
        return f"{key}@{ticks.now}"

    assert recent.held(source, "a") is None
    assert recent.get(source, "a", lambda: load("a")) == "a@0.0"
    ticks.now = 0.5
    assert recent.get(source, "b", lambda: load("b")) == "b@0.5"  # its own second
    ticks.now = 0.9
    assert recent.held(source, "a") == "a@0.0"
    assert recent.get(source, "a", lambda: load("a")) == "a@0.0"
    ticks.now = 1.0
    assert recent.held(source, "a") is None  # a's second is over; b's is not
    assert recent.held(source, "b") == "b@0.5"
    assert recent.get(source, "a", lambda: load("a")) == "a@1.0"
    assert reads == [("a", 0.0), ("b", 0.5), ("a", 1.0)]
    assert recent.held(object(), "a") is None  # another platform reads afresh


def test_while_a_key_is_read_afresh_its_callers_get_the_value_held() -> None:
    ticks, started, release = Ticks(), threading.Event(), threading.Event()
    recent: RecentEach[str, str] = RecentEach(1.0, 8, ticks)
    source = object()
    recent.get(source, "a", lambda: "old a")
    ticks.now = 5.0

    def slow() -> str:
        started.set()
        assert release.wait(10)
        return "new a"

    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(recent.get(source, "a", slow)))
    reader.start()
    assert started.wait(10)
    assert recent.held(source, "a") == "old a"
    assert recent.get(source, "a", lambda: "a second read") == "old a"
    assert recent.get(source, "b", lambda: "b") == "b"  # another key is not held up
    release.set()
    reader.join(10)
    assert got == ["new a"]
    assert recent.held(source, "a") == "new a"


def test_a_failed_read_of_a_key_lets_the_next_caller_read_it() -> None:
    ticks = Ticks()
    recent: RecentEach[str, str] = RecentEach(1.0, 8, ticks)
    source = object()
    recent.get(source, "a", lambda: "old")
    ticks.now = 5.0

    def broken() -> str:
        raise OSError("store unavailable")

    with pytest.raises(OSError, match="store unavailable"):
        recent.get(source, "a", broken)
    assert recent.held(source, "a") is None
    assert recent.get(source, "a", lambda: "new") == "new"


def test_only_the_last_read_keys_are_held() -> None:
    recent: RecentEach[str, str] = RecentEach(60.0, 2, Ticks())
    source = object()
    recent.get(source, "a", lambda: "A")
    recent.get(source, "b", lambda: "B")
    recent.get(source, "c", lambda: "C")  # "a", read longest ago, goes
    assert recent.held(source, "a") is None
    assert recent.held(source, "b") == "B"
    assert recent.held(source, "c") == "C"


def test_a_kept_value_is_held_without_making_it() -> None:
    kept: Kept[str] = Kept(2)
    source = object()
    assert kept.held(source, "a") is None
    kept.get(source, "a", lambda: "A")
    assert kept.held(source, "a") == "A"
    assert kept.held(object(), "a") is None
