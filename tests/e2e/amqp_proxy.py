"""A TCP proxy in front of RabbitMQ that can hold back what its clients send.

`hold()` makes the proxy keep reading every client's frames but buffer them instead of
forwarding them, while the broker's frames keep flowing to the client: the client goes
on receiving deliveries, and its acknowledgements never reach the broker. `drop()` then
aborts every connection and discards what was held, so the broker sees a connection
that died before it acknowledged anything more.

The client's byte stream is cut into AMQP 0-9-1 frames (type, channel, size, payload,
frame end), so a hold starts on a frame boundary and the proxy can count the
`basic.ack` frames it forwarded and held: a test waits on those counts instead of on
the clock. Heartbeat frames pass even while holding, or the broker would close a held
connection by itself after two missed heartbeats and return its messages on its own
schedule.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from yarl import URL

PROTOCOL_HEADER_SIZE: Final = 8  # b"AMQP\x00\x00\x09\x01"
FRAME_HEADER: Final = struct.Struct("!BHI")  # type, channel, payload size
FRAME_END: Final = 0xCE
METHOD_FRAME: Final = 1
HEARTBEAT_FRAME: Final = 8
BASIC_ACK: Final = struct.pack("!HH", 60, 80)  # class basic, method ack


@dataclass(eq=False)  # hashed by identity: links live in a set
class _Link:
    """One client connection and its connection to the broker."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    held: list[bytes] = field(default_factory=list)

    def abort(self) -> None:
        self.client.transport.abort()
        self.upstream.transport.abort()


class HoldingAmqpProxy:
    """Forward AMQP connections to the broker at `url`; hold client frames on request."""

    def __init__(self, url: str) -> None:
        target = URL(url)
        self._target = target
        self._host = target.host or "127.0.0.1"
        self._port = target.port or 5672
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._holding = False
        self.acks_forwarded = 0
        self.acks_held = 0
        # Called on each basic.ack as it arrives from a client, before the next frame is
        # read: what a test looks at there, the client had done before it acked.
        self.on_ack: Callable[[], None] | None = None

    @property
    def url(self) -> str:
        """The broker URL with the proxy's address: give it to the client."""
        if self._server is None:
            raise RuntimeError("the proxy is not started")
        port = self._server.sockets[0].getsockname()[1]
        return str(self._target.with_host("127.0.0.1").with_port(port))

    @property
    def connections(self) -> int:
        return len(self._links)

    def hold(self) -> None:
        """From the next frame on, buffer what clients send instead of forwarding it."""
        self._holding = True

    def drop(self) -> None:
        """Abort every connection without forwarding what was held; stop holding."""
        for link in list(self._links):
            link.held.clear()
            link.abort()
        self._links.clear()
        self._holding = False

    async def __aenter__(self) -> HoldingAmqpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._tasks:
            await asyncio.wait(set(self._tasks))

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self._host, self._port)
        except OSError:
            writer.transport.abort()
            return
        link = _Link(writer, up_writer)
        self._links.add(link)
        for pump in (self._client_to_broker(reader, link), self._broker_to_client(up_reader, link)):
            task = asyncio.get_running_loop().create_task(pump)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _client_to_broker(self, reader: asyncio.StreamReader, link: _Link) -> None:
        try:
            link.upstream.write(await reader.readexactly(PROTOCOL_HEADER_SIZE))
            while True:
                header = await reader.readexactly(FRAME_HEADER.size)
                kind, _channel, size = FRAME_HEADER.unpack(header)
                rest = await reader.readexactly(size + 1)
                if rest[-1] != FRAME_END:
                    return  # not AMQP 0-9-1 framing: give up on the connection
                is_ack = kind == METHOD_FRAME and rest[:4] == BASIC_ACK
                if is_ack and self.on_ack is not None:
                    self.on_ack()
                if self._holding and kind != HEARTBEAT_FRAME:
                    link.held.append(header + rest)
                    self.acks_held += int(is_ack)
                    continue
                link.upstream.write(header + rest)
                await link.upstream.drain()
                self.acks_forwarded += int(is_ack)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            # The client went away (or the broker did): end both sides, held bytes unsent.
            link.abort()
            self._links.discard(link)

    async def _broker_to_client(self, reader: asyncio.StreamReader, link: _Link) -> None:
        try:
            while data := await reader.read(65536):
                link.client.write(data)
                await link.client.drain()
        except OSError:
            pass
        finally:
            link.abort()
            self._links.discard(link)
