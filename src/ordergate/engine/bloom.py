"""A Bloom filter that grows: "certainly not" or "maybe" for a key, in about two bytes.

The engine keeps one over the idempotency keys of retired orders (`engine.retention`), so
a new key (the common case) is answered from memory and only a key that may be old costs
a store lookup. A false "maybe" costs that lookup and nothing else; there are no false
"not"s. Keys hash with BLAKE2b, not Python's salted `hash`, so the same keys set the same
bits in every process: the filter is part of the fold's state and of its checkpoints.

It grows by layers (a scalable Bloom filter): each new layer holds twice the keys of the
last at the same error rate, so memory follows the number of keys without a size to
guess up front.
"""

from __future__ import annotations

import hashlib
import math
from typing import Final

FIRST_LAYER_KEYS: Final = 1 << 14
ERROR_RATE: Final = 0.001  # per layer: a dozen layers (tens of millions of keys) stay ~1%


class _Layer:
    __slots__ = ("bits", "capacity", "count", "hashes", "size")

    def __init__(self, capacity: int, bits: bytearray | None = None, count: int = 0) -> None:
        self.capacity = capacity
        self.size = math.ceil(-capacity * math.log(ERROR_RATE) / math.log(2) ** 2)
        self.hashes = max(1, round(self.size / capacity * math.log(2)))
        self.bits = bits if bits is not None else bytearray((self.size + 7) // 8)
        self.count = count

    def positions(self, digest: bytes) -> list[int]:
        first = int.from_bytes(digest[:8], "little")
        step = int.from_bytes(digest[8:], "little") | 1
        size = self.size
        return [(first + i * step) % size for i in range(self.hashes)]

    def add(self, digest: bytes) -> None:
        bits = self.bits
        for bit in self.positions(digest):
            bits[bit >> 3] |= 1 << (bit & 7)
        self.count += 1

    def __contains__(self, digest: bytes) -> bool:
        bits = self.bits
        return all(bits[bit >> 3] & (1 << (bit & 7)) for bit in self.positions(digest))


class BloomFilter:
    __slots__ = ("_layers",)

    def __init__(self) -> None:
        self._layers: list[_Layer] = []

    def __len__(self) -> int:
        """Keys added (a key added twice counts twice)."""
        return sum(layer.count for layer in self._layers)

    @property
    def nbytes(self) -> int:
        return sum(len(layer.bits) for layer in self._layers)

    def add(self, key: str) -> None:
        layers = self._layers
        if not layers or layers[-1].count >= layers[-1].capacity:
            capacity = FIRST_LAYER_KEYS << len(layers)
            layers.append(_Layer(capacity))
        layers[-1].add(_digest(key))

    def __contains__(self, key: str) -> bool:
        digest = _digest(key)
        return any(digest in layer for layer in self._layers)

    # --- as data (checkpoints) -------------------------------------------------------------

    def dump(self) -> list[tuple[int, int, bytes]]:
        """(capacity, keys, bits) per layer: what `load` rebuilds the same filter from."""
        return [(layer.capacity, layer.count, bytes(layer.bits)) for layer in self._layers]

    @classmethod
    def load(cls, layers: list[tuple[int, int, bytes]]) -> BloomFilter:
        bloom = cls()
        for capacity, count, bits in layers:
            layer = _Layer(capacity, bytearray(bits), count)
            if len(layer.bits) != (layer.size + 7) // 8:
                raise ValueError(f"a layer of {capacity} keys has {len(bits)} bytes of bits")
            bloom._layers.append(layer)
        return bloom


def _digest(key: str) -> bytes:
    return hashlib.blake2b(key.encode(), digest_size=16).digest()
