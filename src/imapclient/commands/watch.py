"""Watching a folder: turning IDLE updates into events with UIDs, and catching up after a
reconnection. The state and the operations are shared by the blocking and the asyncio
watchers (:mod:`imapclient.watch`); those only loop and wait.

The watcher keeps the folder's UIDs in sequence-number order, so that the sequence
numbers IDLE reports (``(3, b'EXPUNGE')``, ``(5, b'FETCH', ...)``) become UIDs; new
messages (``EXISTS``) are looked up by UID. After a reconnection, the UIDs now in the
folder are compared with the ones known, and with CONDSTORE the flag changes since the
last known mod-sequence are fetched, so nothing that happened while disconnected is lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from .base import Context, Op, capabilities
from .folders import select_folder
from .messages import fetch, search
from .server import enable

__all__ = ["WatchEvent", "WatchState"]


class WatchEvent(NamedTuple):
    """A change in the watched folder.

    ``kind`` is ``"new"`` (a message arrived), ``"flags"`` (its flags changed),
    ``"expunged"`` (it was removed) or ``"reset"`` (UIDVALIDITY changed: every UID known
    so far is void and ``uid`` is None). ``flags`` is set for ``"new"`` and ``"flags"``.
    """

    kind: str
    uid: int | None
    flags: tuple[bytes, ...] | None = None


class WatchState:
    """What the watcher knows about the folder."""

    def __init__(self, folder: str | bytes) -> None:
        self.folder = folder
        self.uidvalidity: int | None = None
        self.uids: list[int] = []  # in sequence-number order
        self.modseq: int | None = None  # highest mod-sequence seen (CONDSTORE)
        self.condstore = False

    # -- operations (driven by a front end) -------------------------------------------

    def open(self, ctx: Context) -> Op[list[WatchEvent]]:
        """Select the folder (after a connection or reconnection) and return the events
        that happened since the state was last known (none the first time)."""
        caps = yield from capabilities(ctx)
        if b"CONDSTORE" in caps and b"CONDSTORE" not in ctx._session.enabled:
            yield from enable(ctx, "CONDSTORE")
        self.condstore = b"CONDSTORE" in ctx._session.enabled
        info = yield from select_folder(ctx, self.folder, readonly=True)
        uids = list((yield from search(ctx, "ALL")))
        first_time = self.uidvalidity is None
        events: list[WatchEvent] = []
        if not first_time and info.get(b"UIDVALIDITY") != self.uidvalidity:
            events.append(WatchEvent("reset", None))
        elif not first_time:
            events = yield from self._catch_up(ctx, uids)
        self.uidvalidity = info.get(b"UIDVALIDITY")
        self.uids = uids
        modseq = info.get(b"HIGHESTMODSEQ")
        if isinstance(modseq, int):
            self.modseq = modseq
        return events

    def _catch_up(self, ctx: Context, uids: list[int]) -> Op[list[WatchEvent]]:
        known = set(self.uids)
        now = set(uids)
        events = [WatchEvent("expunged", uid) for uid in self.uids if uid not in now]
        arrived = [uid for uid in uids if uid not in known]
        if arrived:
            flags = yield from fetch(ctx, arrived, ["FLAGS"])
            events += [
                WatchEvent("new", uid, flags[uid][b"FLAGS"]) for uid in arrived if uid in flags
            ]
        if self.condstore and self.modseq is not None and known & now:
            changed = yield from fetch(ctx, "1:*", ["FLAGS"], [f"CHANGEDSINCE {self.modseq}"])
            events += [
                WatchEvent("flags", uid, data[b"FLAGS"])
                for uid, data in sorted(changed.items())
                if uid in known and b"FLAGS" in data
            ]
        return events

    def fetch_new(self, ctx: Context) -> Op[list[WatchEvent]]:
        """After EXISTS: look up the messages that arrived (outside IDLE)."""
        first = (self.uids[-1] + 1) if self.uids else 1
        # "n:*" also matches the last message when n is past it: keep only the new ones.
        results = yield from fetch(ctx, f"{first}:*", ["FLAGS"])
        events = []
        for uid in sorted(results):
            if uid >= first:
                self.uids.append(uid)
                events.append(WatchEvent("new", uid, results[uid][b"FLAGS"]))
                self._note_modseq(results[uid])
        return events

    # -- what arrives while idling ----------------------------------------------------

    def on_updates(self, updates: Iterable[tuple[Any, ...]]) -> tuple[list[WatchEvent], bool]:
        """Turn IDLE updates into events; the flag says new messages must be fetched."""
        events: list[WatchEvent] = []
        new_mail = False
        for update in updates:
            if len(update) < 2 or not isinstance(update[0], int):
                if update[:1] == (b"VANISHED",):
                    events += self._vanished(update[1])
                continue
            number, kind = update[0], update[1]
            if kind == b"EXPUNGE" and 0 < number <= len(self.uids):
                events.append(WatchEvent("expunged", self.uids.pop(number - 1)))
            elif kind == b"EXISTS" and number > len(self.uids):
                new_mail = True
            elif kind == b"FETCH" and len(update) > 2:
                items = dict(zip(update[2][::2], update[2][1::2], strict=False))
                self._note_modseq(items)
                uid = items.get(b"UID")
                if uid is None and 0 < number <= len(self.uids):
                    uid = self.uids[number - 1]
                if b"FLAGS" in items and uid is not None:
                    events.append(WatchEvent("flags", uid, items[b"FLAGS"]))
        return events, new_mail

    def _vanished(self, vanished: Any) -> list[WatchEvent]:
        gone = set(getattr(vanished, "uids", ()))
        events = [WatchEvent("expunged", uid) for uid in self.uids if uid in gone]
        self.uids = [uid for uid in self.uids if uid not in gone]
        return events

    def _note_modseq(self, items: dict[bytes, Any]) -> None:
        modseq = items.get(b"MODSEQ")
        if isinstance(modseq, int) and (self.modseq is None or modseq > self.modseq):
            self.modseq = modseq
