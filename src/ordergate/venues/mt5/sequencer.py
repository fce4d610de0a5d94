"""`EventSequencer`: the bridge's events in order, each once, whatever the PUB socket did.

PUB/SUB drops frames silently (a slow subscriber, a reconnect), and a frame can arrive
twice or late. Every event carries `(session, seq)`: 1, 2, 3 ... without gaps within an
EA session (docs/mt5-bridge.md, "Recovery"). The sequencer takes frames as they arrive
and hands on only the next one expected:

- a frame at or below the last delivered seq is a repeat: dropped;
- a frame beyond the next expected is held, and the gap is reported (`needs`): the
  caller asks `events_since(last)` and `recover`s with what it returns;
- a heartbeat (or a reply's `last_seq`) past the last delivered reports a gap too;
- a frame of another session is a restart: `restarted` is set; the caller takes a
  snapshot, reconciles, and `reset`s to the new session. Frames of a session left
  behind by a reset (still in the socket's buffer) are dropped.

Pure: no sockets, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Frame = dict[str, Any]


@dataclass(slots=True)
class EventSequencer:
    """The delivery state of one client (see the module)."""

    session: str | None = None
    last: int = 0  # the last seq delivered in `session`
    restarted: bool = False
    _held: dict[int, Frame] = field(default_factory=dict)
    _seen_last: int = 0  # the highest seq the EA is known to have published
    # Sessions left behind: their frames still in a socket's buffer are stale, not news.
    _retired: set[str] = field(default_factory=set)

    @property
    def needs(self) -> int | None:
        """The seq to ask `events_since` from, when events are missing; else None."""
        if self.restarted or self._seen_last <= self.last:
            return None
        return self.last

    def accept(self, frame: Frame) -> list[Frame]:
        """One event frame as it arrived; the frames now deliverable, in order."""
        if not self._same_session(frame["session"]):
            return []
        seq = frame["seq"]
        if frame["type"] == "heartbeat":
            self._seen_last = max(self._seen_last, seq)
            return []
        self._seen_last = max(self._seen_last, seq)
        if seq <= self.last:
            return []
        self._held.setdefault(seq, frame)
        return self._release()

    def observe(self, session: str, last_seq: int) -> None:
        """A reply's `session` and `last_seq`: a gap even if no frame arrived."""
        if self._same_session(session):
            self._seen_last = max(self._seen_last, last_seq)

    def recover(self, events: Iterable[Frame]) -> list[Frame]:
        """What `events_since` returned (with `complete` true): the missing frames."""
        delivered: list[Frame] = []
        for frame in events:
            delivered += self.accept(frame)
        return delivered

    def reset(self, session: str, last_seq: int) -> None:
        """After a snapshot: continue from `session` at `last_seq` (its `hello` says)."""
        if self.session is not None and self.session != session:
            self._retired.add(self.session)
        self.session, self.last, self._seen_last = session, last_seq, last_seq
        self.restarted = False
        self._held.clear()  # the old session's: its events are the snapshot's now

    def _same_session(self, session: str) -> bool:
        if session in self._retired:
            return False
        if self.session is None:
            self.session = session
            return True
        if session != self.session:
            self.restarted = True
            return False
        return True

    def _release(self) -> list[Frame]:
        out: list[Frame] = []
        while (frame := self._held.pop(self.last + 1, None)) is not None:
            out.append(frame)
            self.last += 1
        return out
