"""Journal payloads: events to JSON bytes and back, by type name and schema version.

JSON (via msgspec) rather than a binary format so that a journal exported as JSONL is
readable and a payload hashes the same in every store. Decimals travel as strings, exactly.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from ordergate.domain.errors import JournalCorrupted, OrderGateError
from ordergate.domain.events import EVENT_TYPES, Event

_ENCODER: Final = msgspec.json.Encoder()
_TYPES: Final[dict[str, type[Event]]] = {cls.__name__: cls for cls in EVENT_TYPES}
_DECODERS: Final[dict[str, msgspec.json.Decoder[Any]]] = {
    name: msgspec.json.Decoder(cls) for name, cls in _TYPES.items()
}


def encode(event: Event) -> tuple[str, int, bytes]:
    """Return (type name, schema version, payload) for an event."""
    return type(event).__name__, event.VERSION, _ENCODER.encode(event)


def decode(type_name: str, version: int, payload: bytes) -> Event:
    cls = _TYPES.get(type_name)
    if cls is None:
        raise JournalCorrupted(f"unknown event type {type_name!r} in the journal")
    if version != cls.VERSION:
        # No event has changed shape yet; an upcaster per (type, old version) goes here.
        raise JournalCorrupted(f"{type_name} v{version} has no upcaster to v{cls.VERSION}")
    try:
        event: Event = _DECODERS[type_name].decode(payload)
    except (msgspec.DecodeError, OrderGateError) as exc:
        # Not JSON, not the event's shape, or a value its own validation refuses.
        raise JournalCorrupted(f"{type_name} payload does not decode: {exc}") from exc
    return event
