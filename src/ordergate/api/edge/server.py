"""Serve the API on two listeners in one process: the API port and the admin port.

The kill switch must answer while the order routes are flooded. The admin listener
(`ORDERGATE_ADMIN_HOST`:`ORDERGATE_ADMIN_PORT`, default 127.0.0.1 and the API port + 1)
serves only the health probes and the admin routes, with its own cap of connections
and requests in flight, so connections and requests piling up on the API port cannot
take its place (docs/decisions/0016-admin-listener.md says why a second listener rather
than a reserved share of one). Both listeners share the event loop, the app and its
lifespan: the engine starts once, before either accepts a connection, and stops after
both have drained.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from ordergate.api.edge.guard import ADMIN_LISTENER, API_LISTENER
from ordergate.api.edge.protocol import GuardedH11Protocol, Listener
from ordergate.api.live import STREAMS_CLOSING_STATE_KEY
from ordergate.config.settings import Settings


def server_config(app: Any, settings: Settings, log_level: str) -> uvicorn.Config:
    """uvicorn's settings for the API listener, with ordergate's edge limits."""
    api = Listener(API_LISTENER, settings.api_max_connections, settings.api_header_timeout_seconds)
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=GuardedH11Protocol.for_listener(api),
        ws="none",  # the API has no websocket route
        log_level=log_level,
        access_log=False,  # off: no request line, header or key ever reaches a log
        timeout_keep_alive=settings.api_keepalive_seconds,
        h11_max_incomplete_event_size=settings.api_max_header_bytes,
        backlog=min(settings.api_max_connections, 4096),
    )


class ApiServer(uvicorn.Server):
    """uvicorn's server, which also opens the admin listener once the app has started."""

    def __init__(self, config: uvicorn.Config, settings: Settings) -> None:
        super().__init__(config)
        self.admin = Listener(
            ADMIN_LISTENER, settings.admin_max_connections, settings.api_header_timeout_seconds
        )
        self.admin_address = (settings.admin_host, settings.admin_listener_port)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        # Set at shutdown: an endless event stream ends, or the server would wait for it.
        self.streams_closing = asyncio.Event()
        self.lifespan.state[STREAMS_CLOSING_STATE_KEY] = self.streams_closing
        await super().startup(sockets)
        if self.should_exit or not self.started:
            return
        protocol = GuardedH11Protocol.for_listener(self.admin)
        config, state = self.config, self.server_state
        host, port = self.admin_address
        try:
            admin = await asyncio.get_running_loop().create_server(
                lambda: protocol(config=config, server_state=state, app_state=self.lifespan.state),
                host=host,
                port=port,
                backlog=self.admin.max_connections,
            )
        except OSError as exc:
            uvicorn.server.logger.error(
                "cannot open the admin listener on %s:%d: %s", host, port, exc
            )
            for server in self.servers:
                server.close()
            await self.lifespan.shutdown()
            sys.exit(STARTUP_FAILURE)
        self.servers.append(admin)
        uvicorn.server.logger.info(
            "admin listener (health, kill switch) on http://%s:%d", host, port
        )

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.streams_closing.set()
        await super().shutdown(sockets)


def serve(app: Any, settings: Settings, log_level: str) -> None:
    """Run the API and admin listeners until SIGINT or SIGTERM."""
    config = server_config(app, settings, log_level)
    ApiServer(config, settings).run()
