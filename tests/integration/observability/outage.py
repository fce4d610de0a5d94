"""A dependency that stops and starts again, confined to one test: a `TcpProxy` in front
of the shared server that stops listening (and drops every link through it), then
listens again on the same port. The shared PostgreSQL and RabbitMQ are never touched."""

from __future__ import annotations

import asyncio

from tests.tcp_proxy import TcpProxy


class Outage(TcpProxy):
    async def stop_listening(self) -> None:
        """The server is gone: links reset, new connections refused."""
        port = self.port
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        self.cut()
        self._stopped_port = port

    async def listen_again(self) -> None:
        """The server is back, at the same address."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self._stopped_port)
