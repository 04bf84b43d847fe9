"""Live standings over Server-Sent Events: GET /contests/{id}/leaderboard/stream.

One StandingsHub per API process. For each contest with subscribers it keeps one
LiveContest (fantasy_core.usecases.live) and asks storage every `poll_seconds` for the
slate's stats change sequence, because the worker that ingests may be another process.
Each change is computed once (the core rescores only the holders of the players whose
points changed), kept in a bounded history, encoded once for the top of the board, and
every subscriber of the contest is woken to send it.

Event ids are the stats change sequence. A client reconnecting with `Last-Event-ID` gets
every update after it from the history; when that id is no longer there (older than the
history, or another process's), it gets the current standings as one `standings` event,
so it misses nothing either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence

import anyio.to_thread
from attrs import define, field

from fantasy_core.errors import DomainError
from fantasy_core.platform import Platform
from fantasy_core.scoring import format_points
from fantasy_core.standing_changes import StandingChange, StandingsUpdate
from fantasy_core.usecases.live import LIVE_STATES, LiveContest, open_live, refresh_live

HISTORY = 512  # updates kept per contest for clients that reconnect
# A contest's board stays (and keeps following the data) this long after its last subscriber
# left, so that a client reconnecting resumes from its Last-Event-ID.
IDLE_SECONDS = 120.0
KEEPALIVE_SECONDS = 15.0  # a comment line when nothing moved, so proxies keep the stream open
_LIVE = frozenset(state.value for state in LIVE_STATES)
_log = logging.getLogger(__name__)


def _rows(changes: Iterable[StandingChange]) -> list[dict[str, object]]:
    return [
        {"entry_id": c.entry_id, "rank": c.rank, "points": format_points(c.points)} for c in changes
    ]


def sse(event: str, data: dict[str, object], event_id: int | None = None) -> bytes:
    """One Server-Sent Event: its id (the stats change sequence), its type and one JSON line."""
    head = "" if event_id is None else f"id: {event_id}\n"
    body = json.dumps(data, separators=(",", ":"), sort_keys=True)
    return f"{head}event: {event}\ndata: {body}\n\n".encode()


def _document(update: StandingsUpdate, rows: list[dict[str, object]]) -> dict[str, object]:
    return {
        "contest_id": update.contest_id,
        "seq": update.seq,
        "state": update.state,
        "total": update.total,
        "changes": rows,
    }


@define
class _Published:
    """One update as kept in the history: the sequence it follows, and its top event."""

    after: int
    update: StandingsUpdate
    top_event: bytes


@define(eq=False)
class Channel:
    """One contest's live standings in this process, and its subscribers."""

    live: LiveContest
    history: deque[_Published] = field(factory=lambda: deque(maxlen=HISTORY))
    refreshing: asyncio.Lock = field(factory=asyncio.Lock)  # one refresh at a time
    subscribers: int = 0
    idle_since: float | None = None  # the loop's time the last subscriber left
    changed: asyncio.Event = field(factory=asyncio.Event)

    @property
    def seq(self) -> int:
        return self.live.seq

    @property
    def state(self) -> str:
        return self.live.standings.state

    def publish(self, update: StandingsUpdate, after: int, previous_top: set[str]) -> None:
        """Keep `update` (which follows sequence `after`) and wake every subscriber."""
        moved = update.changes.entry_ids()
        shown = [c for c in update.top if c.entry_id in moved or c.entry_id not in previous_top]
        event = sse("changes", _document(update, _rows([*shown, *update.left_top])), update.seq)
        self.history.append(_Published(after, update, event))
        woken, self.changed = self.changed, asyncio.Event()
        woken.set()

    def after(self, seq: int) -> list[_Published] | None:
        """The updates after `seq`, oldest first; None when `seq` is not one this channel
        can continue from (too old, or never published here)."""
        if seq == self.seq and (not self.history or self.history[-1].update.seq == seq):
            return []
        # From the newest: a subscriber is nearly always one update behind at most. Two
        # updates follow the same sequence only when the first changed the state alone.
        history = self.history
        start = None
        for index in range(len(history) - 1, -1, -1):
            if history[index].after == seq:
                start = index
            elif start is not None:
                break
        return None if start is None else list(history)[start:]


class StandingsHub:
    """Every live standings stream of this process: one poller, one board per contest."""

    def __init__(self, platform: Callable[[], Platform], poll_seconds: float) -> None:
        """`platform`: the app's platform at the time of each call (tests swap it)."""
        self._platform = platform
        self._poll_seconds = poll_seconds
        self._channels: dict[str, Channel] = {}
        self._opening: dict[str, asyncio.Lock] = {}
        self._poller: asyncio.Task[None] | None = None

    async def join(self, contest_id: str) -> Channel:
        """The contest's channel, opened on first use (StandingsNotLive, UnknownContest)."""
        lock = self._opening.setdefault(contest_id, asyncio.Lock())
        async with lock:
            channel = self._channels.get(contest_id)
            if channel is None:
                live = await anyio.to_thread.run_sync(open_live, self._platform(), contest_id)
                channel = self._channels[contest_id] = Channel(live)
            channel.subscribers += 1
            channel.idle_since = None
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(self._poll())
        return channel

    def leave(self, channel: Channel) -> None:
        channel.subscribers -= 1
        if channel.subscribers == 0:
            channel.idle_since = asyncio.get_running_loop().time()

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        while self._channels:
            for contest_id, channel in list(self._channels.items()):
                idle = channel.idle_since
                if idle is not None and loop.time() - idle > IDLE_SECONDS:
                    del self._channels[contest_id]
                    continue
                try:
                    await self.refresh(channel)
                except DomainError as error:  # the store down, say: the streams wait
                    _log.warning(
                        "live standings of %s not refreshed: %s", channel.live.contest_id, error
                    )
            await asyncio.sleep(self._poll_seconds)

    async def refresh(self, channel: Channel) -> StandingsUpdate | None:
        """Bring one channel up to the stored data and publish what moved, if anything."""
        async with channel.refreshing:
            after = channel.seq
            previous_top = {c.entry_id for c in channel.live.standings.current().top}
            update = await anyio.to_thread.run_sync(refresh_live, self._platform(), channel.live)
            if update is not None:
                channel.publish(update, after, previous_top)
            return update


def standings_event(channel: Channel, entry_ids: Sequence[str]) -> tuple[bytes, int]:
    """The standings now, as one `standings` event (the top of the board, or `entry_ids`'),
    and the sequence it shows."""
    standings = channel.live.standings
    current = standings.current()
    rows = [standings.standing(e) for e in entry_ids] if entry_ids else list(current.top)
    document = _document(current, [])
    del document["changes"]
    document["rows"] = _rows(rows)
    return sse("standings", document, current.seq), current.seq


def _for_entries(published: _Published, entry_ids: Sequence[str]) -> bytes:
    update = published.update
    found = (update.changes.get(e) for e in entry_ids)
    rows = _rows(c for c in found if c is not None)
    return sse("changes", _document(update, rows), update.seq)


async def stream(
    hub: StandingsHub,
    channel: Channel,
    entry_ids: Sequence[str],
    last_event_id: int | None,
    keepalive: float = KEEPALIVE_SECONDS,
) -> AsyncIterator[bytes]:
    """The events of one subscriber, from `last_event_id` (None: from now); ends after the
    contest leaves the live states (settled or cancelled), with an `end` event."""
    try:
        seq = last_event_id
        if seq is None or channel.after(seq) is None:
            event, seq = standings_event(channel, entry_ids)
            yield event
        while True:
            pending = channel.after(seq)
            if pending is None:  # fell behind the history: start again from now
                event, seq = standings_event(channel, entry_ids)
                yield event
                pending = []
            for published in pending:
                yield published.top_event if not entry_ids else _for_entries(published, entry_ids)
                seq = published.update.seq
            if channel.state not in _LIVE:
                yield sse("end", {"contest_id": channel.live.contest_id, "state": channel.state})
                return
            changed = channel.changed
            if channel.after(seq):
                continue
            try:
                await asyncio.wait_for(changed.wait(), keepalive)
            except TimeoutError:
                yield b": keepalive\n\n"
    finally:
        hub.leave(channel)
