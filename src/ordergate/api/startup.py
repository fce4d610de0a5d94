"""A start-up ordergate refuses is reported in one line, not as a traceback.

When the app cannot start because something it needs is not there (a database, a broker,
a venue that cannot be reached, a journal that does not verify), the lifespan records the
`OrderGateError` and this middleware puts its message, not Starlette's traceback, in the
`lifespan.startup.failed` message that uvicorn logs before it exits. Any other exception
is a bug and keeps its traceback.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ordergate.domain.errors import OrderGateError


class StartupFailureMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_plainly(message: Message) -> None:
            refused = getattr(scope["app"].state, "startup_refused", None)
            if message["type"] == "lifespan.startup.failed" and isinstance(refused, OrderGateError):
                message = {
                    **message,
                    "message": f"cannot start ({refused.code}): {refused.message}",
                }
            await send(message)

        await self.app(scope, receive, send_plainly)
