"""The real robin_stocks 3.4.0, its functions unchanged, pointed at a Robinhood simulator.

robin_stocks keeps its state in module globals: one `requests.Session`
(`globals.SESSION`, which also carries the `Authorization` header after a login), the
login flag that `@login_required` reads (`helper.LOGGED_IN`) and the stream its messages
go to (`helper.OUTPUT`; `login` prints to stdout instead). `robin_stocks_on(sim)`
mounts on that session a transport adapter that rewrites each Robinhood origin to the
simulator and imposes a timeout (robin_stocks' GETs have none, its POSTs 16 s), sends
the messages to a buffer, and on exit puts the globals back as it found them, so one
test's login does not leak into the next.

robin_stocks is synchronous: tests call it through `RobinStocks.call`, in a thread,
while the simulator serves on the test's event loop.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import robin_stocks.robinhood as rh
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from robin_stocks.robinhood import globals as rh_globals
from robin_stocks.robinhood import helper

from ordergate.protocols.robinhood.totp import RobinhoodTotp
from ordergate.simulators.robinhood import RobinhoodSimulator

T = TypeVar("T")
TIMEOUT = 2.0  # seconds: every request robin_stocks sends to the simulator
FORM = "application/x-www-form-urlencoded; charset=utf-8"


class SimulatorRedirect(HTTPAdapter):
    """Sends requests for Robinhood's origins to where the simulator serves them."""

    def __init__(self, origins: Mapping[str, str], timeout: float) -> None:
        super().__init__()
        self._origins = dict(origins)
        self._timeout = timeout

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> Response:
        url = request.url or ""
        for origin, local in self._origins.items():
            if url.startswith(origin):
                request.url = local + url[len(origin) :]
                break
        return super().send(
            request, stream=stream, timeout=self._timeout, verify=verify, cert=cert, proxies=proxies
        )


@dataclass
class RobinStocks:
    """robin_stocks against one simulator: calls in a thread, its messages kept."""

    sim: RobinhoodSimulator
    output: io.StringIO
    tokens_dir: Path

    async def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.to_thread(function, *args, **kwargs)

    async def login(self, *, password: str | None = None, mfa_code: str | None = None) -> Any:
        """`rh.login(..., store_session=False)`, its token files under `tokens_dir`."""
        config = self.sim.config
        return await self.call(
            rh.login,
            config.username,
            password or config.password,
            mfa_code=mfa_code,
            store_session=False,
            pickle_path=str(self.tokens_dir),
        )

    def totp(self) -> str:
        return RobinhoodTotp(self.sim.config.totp_secret).now()

    @property
    def authorised(self) -> bool:
        return helper.LOGGED_IN and "Authorization" in rh_globals.SESSION.headers

    def messages(self) -> str:
        return self.output.getvalue()


def _reset_session() -> None:
    helper.set_login_state(False)
    rh_globals.SESSION.headers.pop("Authorization", None)
    rh_globals.SESSION.headers["Content-Type"] = FORM


@contextmanager
def robin_stocks_on(
    sim: RobinhoodSimulator, tokens_dir: Path, timeout: float = TIMEOUT
) -> Iterator[RobinStocks]:
    """robin_stocks logged out, its session redirected to `sim`, its messages captured."""
    session = rh_globals.SESSION
    adapter = SimulatorRedirect(sim.origins, timeout)
    replaced = {origin: session.adapters.get(origin) for origin in sim.origins}
    previous_output = helper.get_output()
    output = io.StringIO()
    _reset_session()
    for origin in sim.origins:
        session.mount(origin, adapter)
    helper.set_output(output)
    try:
        yield RobinStocks(sim, output, tokens_dir)
    finally:
        helper.set_output(previous_output)
        for origin, earlier in replaced.items():
            session.adapters.pop(origin, None)
            if earlier is not None:
                session.mount(origin, earlier)
        adapter.close()
        _reset_session()
