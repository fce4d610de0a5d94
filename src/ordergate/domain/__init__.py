"""Pure, synchronous domain core: no I/O, no clock, no asyncio."""
