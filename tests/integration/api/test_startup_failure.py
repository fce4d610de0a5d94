"""A start-up ordergate refuses reaches uvicorn as one line; a bug keeps its traceback."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest
from tests.integration.api.support import make_settings

from ordergate.api import app as app_module
from ordergate.api.app import create_app
from ordergate.auth.memory import MemoryKeyStore
from ordergate.domain.errors import BusUnavailable


async def lifespan_startup(app: Any, raised: type[BaseException]) -> dict[str, Any]:
    """Run the ASGI lifespan start-up as a server does; the message the app answers with
    (the app raises `raised` after it, as Starlette does)."""
    sent: list[dict[str, Any]] = []
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    with pytest.raises(raised):
        await app(scope, inbox.get, send)
    return sent[-1]


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_an_unreachable_broker_is_reported_in_one_line(market: Path) -> None:
    url = f"amqp://guest:secret@127.0.0.1:{unused_port()}/"
    app = create_app(make_settings(market, amqp_url=url), MemoryKeyStore())

    failed = await lifespan_startup(app, BusUnavailable)

    assert failed["type"] == "lifespan.startup.failed"
    assert failed["message"].startswith("cannot start (BUS_UNAVAILABLE): cannot connect to")
    assert "Traceback" not in failed["message"]
    assert "secret" not in failed["message"]  # the password never shows


async def test_a_bug_at_start_up_keeps_its_traceback(
    market: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(app_module, "build", broken)
    app = create_app(make_settings(market), MemoryKeyStore())

    failed = await lifespan_startup(app, ZeroDivisionError)

    assert failed["type"] == "lifespan.startup.failed"
    assert "Traceback" in failed["message"]
    assert "ZeroDivisionError: a bug" in failed["message"]
