"""A TCP proxy for tests that break links on purpose: cut them, hold or silence them.

- `cut()` aborts every link through the proxy, both sides, as a reset would; new
  connections still pass.
- `hold_replies()` stops passing what the server says (confirmations, answers) while the
  client still talks to it.
- `silence()` stops passing anything either way, and new connections wait: a dead link or
  a network partition, with nothing closed for either side to notice.
- `drop_server_side()`, while silent: the server gives its peers up (as its TCP
  keepalives would, their probes unanswered across a partition) and closes its ends,
  releasing what their sessions held; the clients are not told.
- `restore()` lets everything through again, the bytes held back included, as TCP would
  retransmit them; a link whose server side was dropped is reset for its client then.
- `reply_delay` delays everything the server says by that many seconds.

Two counts let a test wait on what the link did rather than on time: `accepted`, the
connections taken so far (a client that reconnected has noticed its link went), and
`holding`, the chunks read from one side and held back now (once a reply is held, everything
the server said before it has been passed on, and nothing after it will be).
"""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    """Forward connections on 127.0.0.1:`port` (chosen on `start`) to `host`:`target_port`."""

    def __init__(self, host: str, target_port: int, *, reply_delay: float = 0.0) -> None:
        self._upstream = (host, target_port)
        self._reply_delay = reply_delay
        self._to_server = asyncio.Event()
        self._to_client = asyncio.Event()
        self._to_server.set()
        self._to_client.set()
        self._server: asyncio.Server | None = None
        self._links: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = []
        self._pumps: set[asyncio.Task[None]] = set()
        self._accepted = 0
        self._holding = 0
        self._server_gone: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()

    @property
    def accepted(self) -> int:
        """How many connections the proxy has taken so far."""
        return self._accepted

    @property
    def holding(self) -> int:
        """How many chunks of bytes the proxy holds back now (`hold_replies`, `silence`)."""
        return self._holding

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the proxy is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for pump in self._pumps:
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def __aenter__(self) -> TcpProxy:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def cut(self) -> None:
        links, self._links = self._links, []
        for client, upstream in links:
            client.transport.abort()
            upstream.transport.abort()
        self.restore()  # what was held went down with its link

    def hold_replies(self) -> None:
        self._to_client.clear()

    def silence(self) -> None:
        self._to_client.clear()
        self._to_server.clear()

    def drop_server_side(self) -> None:
        for link in self._links:
            self._server_gone.add(link)
            link[1].transport.abort()

    def restore(self) -> None:
        for link in self._server_gone:
            if link in self._links:
                self._links.remove(link)
            link[0].transport.abort()  # the healed network carries the server's reset
        self._server_gone.clear()
        self._to_client.set()
        self._to_server.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._accepted += 1
        await self._to_server.wait()  # a silent link lets no new connection through
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.transport.abort()
            return
        link = (writer, up_writer)
        self._links.append(link)
        for pump in (
            self._pump(reader, up_writer, self._to_server, 0.0, link),
            self._pump(up_reader, writer, self._to_client, self._reply_delay, link),
        ):
            task = asyncio.create_task(pump)
            self._pumps.add(task)
            task.add_done_callback(self._pumps.discard)

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        flowing: asyncio.Event,
        delay: float,
        link: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await source.read(65536):
                if delay:
                    await asyncio.sleep(delay)
                if not flowing.is_set():
                    self._holding += 1
                    try:
                        await flowing.wait()
                    finally:
                        self._holding -= 1
                if link not in self._links:
                    return  # cut while this was held: it never arrives
                sink.write(data)
                await sink.drain()
        if link in self._server_gone and sink is link[0]:
            return  # the server gave the link up; across the partition its client hears nothing
        sink.transport.abort()
