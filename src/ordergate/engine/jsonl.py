"""The journal as JSON lines: history that can leave the database and still be verified.

A file is a header line, one line per journal record in seq order (a partition's records
together), and a footer naming the head each partition's records end at::

    {"ordergate_journal": 1, "partitions": [0]}
    {"partition": 0, "seq": 1, "ts": ..., "time": "...", "stream": "journal",
     "type": "JournalOpened", "version": 1, "prev_hash": "00…", "hash": "9f…",
     "payload_bytes": 123, "event": {...}}
    ...
    {"heads": [{"partition": 0, "seq": 412, "hash": "…"}], "records": 412}

`event` is the record's payload exactly as the journal stores it (msgspec's compact JSON),
written last on its line, and `payload_bytes` says how long it is, so a verifier takes the
very bytes the hash covers from the end of the line rather than re-encoding the parsed
value. `JsonlVerifier` needs nothing but the lines: every record's hash is recomputed over
its envelope and payload and must equal `hash`; `prev_hash` must be the previous record's
`hash` and `seq` the next one (the first record of a partition may start after seq 1: a
window; its `prev_hash` is then taken on trust and reported); every payload must decode to
its event type; the footer must name the last record of each partition and count them all;
and every line must be byte for byte the canonical form of what it holds (so no byte of
the file, not even one the hash does not cover, such as `time`, can change unnoticed).
Any problem names its line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from ordergate.domain.errors import JournalCorrupted
from ordergate.engine.chain import GENESIS, check_link
from ordergate.engine.codec import decode
from ordergate.engine.records import JournalRecord

FORMAT_VERSION: Final = 1
_EVENT_KEY: Final = b',"event":'


def header_line(partitions: Iterable[int]) -> bytes:
    return _line({"ordergate_journal": FORMAT_VERSION, "partitions": sorted(partitions)})


def record_line(record: JournalRecord) -> bytes:
    envelope = {
        "partition": record.partition,
        "seq": record.seq,
        "ts": record.ts,
        "time": datetime.fromtimestamp(record.ts / 1e9, UTC).isoformat(),
        "stream": record.stream,
        "type": record.type,
        "version": record.version,
        "prev_hash": record.prev_hash.hex(),
        "hash": record.hash.hex(),
        "payload_bytes": len(record.payload),
    }
    head = json.dumps(envelope, separators=(",", ":")).encode()
    return head[:-1] + _EVENT_KEY + record.payload + b"}\n"


@dataclass(frozen=True, slots=True)
class Head:
    partition: int
    seq: int
    hash: bytes


def footer_line(heads: Iterable[Head], records: int) -> bytes:
    return _line(
        {
            "heads": [
                {"partition": h.partition, "seq": h.seq, "hash": h.hash.hex()}
                for h in sorted(heads, key=lambda h: h.partition)
            ],
            "records": records,
        }
    )


def _line(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode() + b"\n"


@dataclass(slots=True)
class JsonlReport:
    """What a file holds, and every problem found (each naming its line)."""

    records: int = 0
    heads: dict[int, Head] = field(default_factory=dict)
    starts: dict[int, int] = field(default_factory=dict)  # partition -> first seq in the file
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class JsonlVerifier:
    """Feed it a file's lines in order (`line`), then `finish`; read `report`.

    It stops checking records at the first broken one (every later hash depends on it),
    but still reads to the end to find the footer.
    """

    def __init__(self) -> None:
        self.report = JsonlReport()
        self._number = 0
        self._header: dict[str, Any] | None = None
        self._footer: dict[str, Any] | None = None
        self._footer_raw = b""
        self._broken = False

    def line(self, raw: bytes) -> JournalRecord | None:
        """Check the next line; return the record it holds when that record checks (None
        for the header, the footer, and any line with a problem or after one)."""
        self._number += 1
        where = f"line {self._number}"
        if not raw.strip():
            self._problem(f"{where}: empty")
            return None
        if self._footer is not None:
            self._problem(f"{where}: a line after the footer")
            return None
        if self._number == 1:
            self._header = self._object(raw, where)
            if self._header is not None and not self._canonical_header(raw):
                self._problem(f"{where}: not an ordergate journal export (version 1) header")
            return None
        if raw.startswith(b'{"heads":'):
            self._footer = self._object(raw, where)
            self._footer_raw = raw.rstrip(b"\n") + b"\n"
            return None
        if self._broken:
            return None
        try:
            return self._record(raw, where)
        except JournalCorrupted as exc:
            self._broken = True
            self._problem(f"{where}: {exc.message}")
            return None

    def finish(self) -> JsonlReport:
        if self._header is None and not self.report.problems:
            self._problem("the file is empty")
        elif self._footer is None:
            self._problem(f"no footer: the file ends at line {self._number} (truncated?)")
        elif not self._broken:
            self._check_footer(self._footer)
        return self.report

    def _record(self, raw: bytes, where: str) -> JournalRecord:
        try:
            envelope = json.loads(raw)
        except ValueError:
            raise JournalCorrupted("not JSON") from None
        if not isinstance(envelope, dict):
            raise JournalCorrupted("not a JSON object")
        try:
            length = int(envelope["payload_bytes"])
            body = raw.rstrip(b"\n")
            payload = body[len(body) - 1 - length : len(body) - 1]
            record = JournalRecord(
                partition=int(envelope["partition"]),
                seq=int(envelope["seq"]),
                ts=int(envelope["ts"]),
                stream=str(envelope["stream"]),
                type=str(envelope["type"]),
                version=int(envelope["version"]),
                payload=payload,
                prev_hash=bytes.fromhex(envelope["prev_hash"]),
                hash=bytes.fromhex(envelope["hash"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise JournalCorrupted(f"a record without its envelope ({exc})") from None
        if not (body.endswith(b"}") and body[: len(body) - 1 - length].endswith(_EVENT_KEY)):
            raise JournalCorrupted("the event is not where payload_bytes says")
        self._link(record)
        decode(record.type, record.version, record.payload)  # JournalCorrupted if not
        if record_line(record) != body + b"\n":
            raise JournalCorrupted("the line is not the canonical form of its record")
        if self._header is not None and record.partition not in self._header["partitions"]:
            raise JournalCorrupted(f"partition {record.partition} is not in the header")
        self.report.records += 1
        return record

    def _link(self, record: JournalRecord) -> None:
        previous = self.report.heads.get(record.partition)
        if previous is None:  # the file's first record of the partition
            self.report.starts[record.partition] = record.seq
            # From seq 1 the chain starts at genesis; a window's first link is trusted.
            prev_hash = GENESIS if record.seq == 1 else record.prev_hash
            digest = check_link(record, prev_hash, record.seq)
        else:
            digest = check_link(record, previous.hash, previous.seq + 1)
        self.report.heads[record.partition] = Head(record.partition, record.seq, digest)

    def _canonical_header(self, raw: bytes) -> bool:
        header = self._header or {}
        partitions = header.get("partitions")
        if not isinstance(partitions, list) or not all(isinstance(p, int) for p in partitions):
            return False
        return header_line(partitions) == raw.rstrip(b"\n") + b"\n"

    def _check_footer(self, footer: dict[str, Any]) -> None:
        where = f"line {self._number} (footer)"
        try:
            claimed = {
                int(h["partition"]): Head(
                    int(h["partition"]), int(h["seq"]), bytes.fromhex(h["hash"])
                )
                for h in footer["heads"]
            }
            count = int(footer["records"])
        except (KeyError, TypeError, ValueError) as exc:
            self._problem(f"{where}: malformed ({exc})")
            return
        if footer_line(claimed.values(), count) != self._footer_raw:
            self._problem(f"{where}: not the canonical form of its heads and count")
        if claimed != self.report.heads:
            self._problem(
                f"{where}: claims heads {_shown(claimed)}, the records end at "
                f"{_shown(self.report.heads)}"
            )
        if count != self.report.records:
            self._problem(f"{where}: claims {count} records, the file holds {self.report.records}")

    def _object(self, raw: bytes, where: str) -> dict[str, Any] | None:
        try:
            value = json.loads(raw)
        except ValueError:
            self._problem(f"{where}: not JSON")
            return None
        if not isinstance(value, dict):
            self._problem(f"{where}: not a JSON object")
            return None
        return value

    def _problem(self, problem: str) -> None:
        self.report.problems.append(problem)


def _shown(heads: dict[int, Head]) -> str:
    return (
        ", ".join(f"p{h.partition} seq {h.seq} {h.hash.hex()[:16]}…" for h in heads.values())
        or "none"
    )
