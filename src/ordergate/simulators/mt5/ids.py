"""The EA's map of client order ids, persisted before anything is sent.

docs/mt5-bridge.md, "Idempotency": before `OrderSend` the EA appends
`{client_order_id, token, state: "sending"}` to its id file and flushes it; after the
trade server answers it appends the outcome (a ticket, or the refusal). Read back on
start, the map answers a repeated client order id with what happened to the first,
even across a restart. `token` (`og:` + base32 of 70 bits of the id's SHA-256) goes in
the order's comment, so a "sending" entry can be found among the orders if the answer
was lost.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

SENDING: Final = "sending"
DONE: Final = "done"
REFUSED: Final = "refused"
FORGOTTEN: Final = "forgotten"  # not sent after all (the server was busy): may be sent again


def token_of(client_order_id: str) -> str:
    """`og:` and 14 base32 characters (70 bits) of the id's SHA-256: fits MT5's comment."""
    digest = hashlib.sha256(client_order_id.encode()).digest()
    return "og:" + base64.b32encode(digest[:10]).decode()[:14]


@dataclass(slots=True)
class IdEntry:
    """What the EA knows of one client order id."""

    client_order_id: str
    token: str
    state: str
    ticket: int | None = None
    reply: dict[str, Any] | None = None  # the first answer (result, or error), to repeat


class IdMap:
    """Client order id → entry, written to `path` (one JSON object per line) as it changes."""

    def __init__(self, path: Path | None) -> None:
        """`path` None keeps the map in memory only (an EA whose file system is lost)."""
        self._path = path
        self._entries: dict[str, IdEntry] = {}
        self._by_ticket: dict[int, str] = {}
        self._by_token: dict[str, str] = {}
        if path is not None and path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    self._apply(json.loads(line))

    def get(self, client_order_id: str) -> IdEntry | None:
        return self._entries.get(client_order_id)

    def id_of(self, ticket: int, comment: str = "") -> str | None:
        """The client order id of an order the EA placed: by its ticket, or else by the
        token in its comment (an order whose answer was lost has no ticket on file)."""
        return self._by_ticket.get(ticket) or self._by_token.get(comment)

    def sending(self, client_order_id: str) -> IdEntry:
        """Record, durably, that this id is about to be sent; return its entry."""
        record = {"client_order_id": client_order_id, "token": token_of(client_order_id)}
        self._write({**record, "state": SENDING})
        return self._entries[client_order_id]

    def outcome(
        self, client_order_id: str, state: str, ticket: int | None, reply: dict[str, Any]
    ) -> None:
        """Record how the send ended: `DONE` with the order's ticket, or `REFUSED`."""
        entry = self._entries[client_order_id]
        self._write(
            {
                "client_order_id": client_order_id,
                "token": entry.token,
                "state": state,
                "ticket": ticket,
                "reply": reply,
            }
        )

    def forget(self, client_order_id: str) -> None:
        """Record that the id was not sent after all, so a repeat may send it."""
        entry = self._entries[client_order_id]
        self._write({"client_order_id": client_order_id, "token": entry.token, "state": FORGOTTEN})

    def _write(self, record: dict[str, Any]) -> None:
        if self._path is not None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with self._path.open("a", encoding="utf-8") as stream:
                stream.write(json.dumps(record, separators=(",", ":")) + "\n")
                stream.flush()
        self._apply(record)

    def _apply(self, record: dict[str, Any]) -> None:
        if record["state"] == FORGOTTEN:
            forgotten = self._entries.pop(record["client_order_id"], None)
            if forgotten is not None:
                self._by_token.pop(forgotten.token, None)
            return
        entry = IdEntry(
            record["client_order_id"],
            record["token"],
            record["state"],
            record.get("ticket"),
            record.get("reply"),
        )
        self._entries[entry.client_order_id] = entry
        self._by_token[entry.token] = entry.client_order_id
        if entry.ticket is not None:
            self._by_ticket[entry.ticket] = entry.client_order_id
