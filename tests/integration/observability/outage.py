"""A dependency that stops and starts again, confined to one test: a `TcpProxy` in front
of the shared server that stops listening (and drops every link through it), then
listens again on the same port. The shared PostgreSQL and RabbitMQ are never touched."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

from tests.integration.api.support import Api
from tests.tcp_proxy import TcpProxy


async def readiness(api: Api) -> tuple[int, dict[str, Any]]:
    """`/ready`'s status and body."""
    response = await api.http.get("/ready")
    body: dict[str, Any] = response.json()
    return response.status_code, body


async def not_ready(api: Api) -> dict[str, Any] | None:
    """`/ready`'s body while it answers 503, else None: a condition to wait on."""
    status, body = await readiness(api)
    return body if status == 503 else None


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


class ThreadedOutage:
    """An `Outage` on an event loop of its own thread: it keeps forwarding while the test's
    loop is blocked (the PostgreSQL key store answers `create` synchronously)."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._proxy: Outage | None = None

    @property
    def port(self) -> int:
        assert self._proxy is not None
        return self._proxy.port

    async def _run(self, coroutine: Coroutine[Any, Any, None]) -> None:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self._loop))

    async def __aenter__(self) -> ThreadedOutage:
        self._thread.start()
        self._proxy = Outage(*self._target)
        await self._run(self._proxy.start())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._proxy is not None
        await self._run(self._proxy.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        await asyncio.to_thread(self._thread.join)
        self._loop.close()

    async def stop_listening(self) -> None:
        assert self._proxy is not None
        await self._run(self._proxy.stop_listening())

    async def listen_again(self) -> None:
        assert self._proxy is not None
        await self._run(self._proxy.listen_again())
