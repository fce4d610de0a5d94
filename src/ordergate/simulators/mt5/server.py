"""`Mt5Simulator`: the EA simulator as a server, on the sockets the real EA binds.

It binds a ROUTER socket where the EA binds REP (a REQ client cannot tell them apart,
and a ROUTER can leave a request unanswered, which is one of the faults) and a PUB
socket, and runs the `ExpertAdvisor` on one asyncio loop: one request at a time, as
the EA's single thread serves them. A heartbeat goes out every `heartbeat_ms`.

Tests and demos move the market with `set_quote` and set faults per test:
- `lose_replies(n, command)`: carry out the next n requests (of one command, if given)
  and send no reply (the reply lost); `garble_replies(n)`: send them cut short;
- `silence(n)`: neither carry out nor answer the next n requests (an EA that hangs);
- `drop_events(n)`, `duplicate_events(n)`, `swap_events(n)`, `garble_events(n)`: the
  next n event frames are not sent, sent twice, sent after the one that follows, or cut
  short (not JSON);
- `inject_retcode(code)`: the next order sent answers that retcode (`TIMEOUT` carries
  it out first);
- `restart()`: the EA starts again: a new session, the ring emptied, the id map read
  back from its file; the trade server (the broker) keeps its orders and positions.

`fired` lists each fault as it acted, so that a test can tell it did.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import zmq
import zmq.asyncio

from ordergate.matching.feed import ReplayFeed
from ordergate.matching.pacing import paced
from ordergate.simulators.mt5.expert import Event, ExpertAdvisor, id_file, session_name
from ordergate.simulators.mt5.ids import IdMap
from ordergate.simulators.mt5.model import Account, SymbolSpec, Tick
from ordergate.simulators.mt5.trade_server import TradeServer

DEFAULT_REP_PORT: Final = 8866
DEFAULT_PUB_PORT: Final = 8867


def forex(symbol: str, base: str, quote: str) -> SymbolSpec:
    """A retail forex symbol: 5 digits, 100,000 units a lot, 0.01 to 50 lots."""
    return SymbolSpec(
        symbol,
        digits=5,
        contract_size=Decimal(100_000),
        volume_min=Decimal("0.01"),
        volume_step=Decimal("0.01"),
        volume_max=Decimal(50),
        currency_base=base,
        currency_profit=quote,
        stops_level=10,
        freeze_level=5,
    )


@dataclass(frozen=True)
class Mt5SimConfig:
    """An account at a simulated broker, and the EA's settings."""

    margin_mode: str = "netting"
    symbols: Sequence[SymbolSpec] = field(
        default_factory=lambda: (forex("EURUSD", "EUR", "USD"), forex("GBPUSD", "GBP", "USD"))
    )
    login: int = 51234567
    currency: str = "USD"
    leverage: int = 100
    balance: Decimal = Decimal(10_000)
    commission_per_lot: Decimal = Decimal("3.5")
    liquidity: dict[str, Decimal] = field(default_factory=dict)
    # What a resting order can fill on one tick, per symbol (unset: `liquidity`).
    resting_liquidity: dict[str, Decimal] = field(default_factory=dict)
    stop_out_level: Decimal = Decimal(50)  # margin level, %, below which positions close
    gmt_offset_s: int = 7200
    ring: int = 4096
    heartbeat_ms: int = 1000
    id_dir: Path | None = None  # None: a temporary directory for this simulator


@dataclass
class _Faults:
    lose_replies: int = 0
    lose_command: str | None = None  # lose only the replies to this command
    silence: int = 0
    drop_events: int = 0
    duplicate_events: int = 0
    garble_events: int = 0
    garble_replies: int = 0
    swap_events: int = 0
    held: list[Event] = field(default_factory=list)


class Mt5Simulator:
    """The EA simulator (see the module)."""

    def __init__(self, config: Mt5SimConfig | None = None) -> None:
        self.config = config or Mt5SimConfig()
        account = Account(
            login=self.config.login,
            currency=self.config.currency,
            margin_mode=self.config.margin_mode,
            leverage=self.config.leverage,
            balance=self.config.balance,
        )
        self.trade_server = TradeServer(
            self.config.symbols,
            account,
            commission_per_lot=self.config.commission_per_lot,
            liquidity=self.config.liquidity,
            resting_liquidity=self.config.resting_liquidity,
            stop_out_level=self.config.stop_out_level,
        )
        self._temp = None if self.config.id_dir else tempfile.TemporaryDirectory()
        directory = self.config.id_dir or Path(self._temp.name if self._temp else ".")
        self._id_path = id_file(directory, self.config.login)
        self._starts = 0
        self._gmt_offset_s = self.config.gmt_offset_s
        self.fired: list[str] = []  # each fault as it acted, in order
        self.ea = self._new_ea()
        self._faults = _Faults()
        self._context = zmq.asyncio.Context()
        self._router: zmq.asyncio.Socket | None = None
        self._pub: zmq.asyncio.Socket | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.rep_url = ""
        self.pub_url = ""
        self.requests: list[dict[str, Any]] = []  # every request read, in order

    # --- life --------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", rep_port: int = 0, pub_port: int = 0) -> None:
        """Bind both sockets (port 0: any free port) and serve."""
        self._router = self._context.socket(zmq.ROUTER)
        self._pub = self._context.socket(zmq.PUB)
        for sock in (self._router, self._pub):
            sock.setsockopt(zmq.LINGER, 0)
        self.rep_url = _bind(self._router, host, rep_port)
        self.pub_url = _bind(self._pub, host, pub_port)
        self._tasks = [
            asyncio.create_task(self._serve(), name="mt5-sim-rep"),
            asyncio.create_task(self._beat(), name="mt5-sim-heartbeat"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for sock in (self._router, self._pub):
            if sock is not None:
                sock.close(linger=0)
        self._context.term()
        if self._temp is not None:
            self._temp.cleanup()

    def restart(self) -> None:
        """The EA starts again (see the module): a new session, the id map from file."""
        self.fired.append("restart")
        self.ea = self._new_ea()
        self._faults.held.clear()

    # --- the market and faults -------------------------------------------------------------

    def set_quote(
        self, symbol: str, bid: Decimal, ask: Decimal, time_ms: int | None = None
    ) -> None:
        """A tick at the trade server; what it triggers is published."""
        now = self.trade_server.now if time_ms is None else time_ms
        self._send_events(self.ea.tick(Tick(symbol, bid, ask, max(now, self.trade_server.now))))

    def lose_replies(self, count: int = 1, command: str | None = None) -> None:
        """Carry out the next `count` requests (of `command`, if given) and lose their
        replies."""
        self._faults.lose_replies += count
        self._faults.lose_command = command

    def silence(self, count: int = 1) -> None:
        self._faults.silence += count

    def drop_events(self, count: int = 1) -> None:
        self._faults.drop_events += count

    def duplicate_events(self, count: int = 1) -> None:
        self._faults.duplicate_events += count

    def garble_replies(self, count: int = 1) -> None:
        self._faults.garble_replies += count

    def garble_events(self, count: int = 1) -> None:
        self._faults.garble_events += count

    def swap_events(self, count: int = 1) -> None:
        self._faults.swap_events += count

    def inject_retcode(self, retcode: int) -> None:
        self.ea.inject_retcode(retcode)

    def shift_clock(self, gmt_offset_s: int) -> None:
        """The broker's server time moves to another offset from UTC (daylight saving),
        as `hello` says from now on, across EA restarts too."""
        self._gmt_offset_s = gmt_offset_s
        self.ea.gmt_offset_s = gmt_offset_s

    async def replay(
        self, feed: ReplayFeed, bars_per_second: float, *, wall_clock: bool = False
    ) -> None:
        """Tick the market through `feed` (the paper venue's bars: each bar's path of
        points, on the symbol's digits) at `bars_per_second` steps a second.

        `wall_clock`: the trade server's time is now, in the broker's zone (what a live
        client sees: fresh quotes, deals of today), with the bars' prices; otherwise the
        bars' own times."""
        await paced(lambda: self._replay_step(feed, wall_clock), bars_per_second)

    def server_now_ms(self) -> int:
        """The wall clock as the trade server keeps it: UTC plus the broker's offset."""
        return time.time_ns() // 1_000_000 + self.config.gmt_offset_s * 1000

    def _replay_step(self, feed: ReplayFeed, wall_clock: bool) -> bool:
        step = feed.next_step()
        if step is None:
            return False
        at = self.server_now_ms() if wall_clock else step.ts // 1_000_000
        for update in step.updates:
            spec = self.trade_server.symbols.get(update.symbol)
            if spec is None:
                continue
            for point in update.points:
                bid, ask = (spec.on_digits(p) for p in (point.bid, point.ask))
                self.set_quote(update.symbol, bid, ask, at)
        return True

    # --- inside ------------------------------------------------------------------------------

    def _new_ea(self) -> ExpertAdvisor:
        self._starts += 1
        return ExpertAdvisor(
            self.trade_server,
            session=session_name(self.config.login, self.trade_server.now, self._starts),
            ids=IdMap(self._id_path),
            gmt_offset_s=self._gmt_offset_s,
            ring=self.config.ring,
            fired=self.fired,
        )

    async def _serve(self) -> None:
        router = self._router
        assert router is not None
        while True:
            identity, *_, payload = await router.recv_multipart()
            if self._faults.silence:
                self._faults.silence -= 1
                self.fired.append("silence")
                continue
            try:
                request = json.loads(payload)
            except (json.JSONDecodeError, UnicodeDecodeError):
                request = {}
            if not isinstance(request, dict):
                request = {}
            self.requests.append(request)
            reply, events = self.ea.handle(request)
            self._send_events(events)
            faults = self._faults
            lost = faults.lose_command in (None, request.get("cmd"))
            if faults.lose_replies and lost:
                faults.lose_replies -= 1
                self.fired.append("lose_reply")
                continue
            payload = _encode(reply)
            if faults.garble_replies:
                faults.garble_replies -= 1
                self.fired.append("garble_reply")
                payload = payload[: len(payload) // 2]  # cut short: not JSON
            await router.send_multipart([identity, b"", payload])

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat_ms / 1000)
            self._send_events([self.ea.heartbeat()])

    def _send_events(self, events: Sequence[Event]) -> None:
        pub = self._pub
        if pub is None:
            return
        faults = self._faults
        for event in events:
            if faults.drop_events:
                faults.drop_events -= 1
                self.fired.append("drop_event")
                continue
            if faults.swap_events and not faults.held:
                faults.swap_events -= 1
                faults.held.append(event)
                self.fired.append("swap_events")
                continue
            frames = [event, *faults.held]
            faults.held.clear()
            copies = 1
            if faults.duplicate_events:
                faults.duplicate_events -= 1
                self.fired.append("duplicate_event")
                copies = 2
            for topic, frame in frames:
                payload = _encode(frame)
                if faults.garble_events:
                    faults.garble_events -= 1
                    self.fired.append("garble_event")
                    payload = payload[: len(payload) // 2]  # cut short: not JSON
                for _ in range(copies):
                    pub.send_multipart([topic.encode(), payload])


def _bind(sock: zmq.asyncio.Socket, host: str, port: int) -> str:
    if port == 0:
        port = sock.bind_to_random_port(f"tcp://{host}")
    else:
        sock.bind(f"tcp://{host}:{port}")
    return f"tcp://{host}:{port}"


def _encode(frame: dict[str, Any]) -> bytes:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
