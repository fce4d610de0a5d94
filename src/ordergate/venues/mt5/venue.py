"""`Mt5Venue`: ordergate's `Venue` port over one MT5 account, through the bridge EA.

Requests go to the EA as bridge commands (`BridgeClient`: Lazy Pirate resends, safe
because every command is idempotent by the client order id). The EA sends with the
synchronous `OrderSend`, so a submit's reply is the trade server's decision: the receipt
is the acceptance (`accepted=True`), and a refusal is raised at once. Events come
through the client's sequencer (each once, in order, gaps filled with `events_since`)
and are translated (`translate`): fills from deals (the deal ticket is the trade id),
cancels, expiries and late rejections. A new EA session (a restart) is announced as
`VenueReconnected`, after which the engine reconciles from `get_positions`,
`get_open_orders` and `get_deals`; fills are de-duplicated by trade id.

**What MT5 cannot do, refused before sending.** MT5 cannot change an order's volume (a
replace that changes the quantity is refused: cancel and place anew); a pending order
has no IOC or FOK (those are a market order's filling).

**Hedging as netting.** The engine keeps one position per symbol. On a hedging account
`get_positions` gives the sum of the symbol's positions, and a market order closes
positions on the other side first (`hedging`: oldest first, or newest), each an MT5
order of its own whose fills are the ordergate order's. Pending orders are sent as they
are, and open positions of their own when they fill. Reduce-only has no MT5 field: the
engine's pre-trade check against its own position is what holds it.

**Orders ordergate did not send.** A person's order in the terminal and the server's
own stop-loss, take-profit and stop-out closes reach the engine as fills of an order it
does not know (`mt5-<ticket>`): it marks the account in doubt, and reconciliation
adopts them from `get_deals`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any, Final

import msgspec
import structlog

from ordergate.domain.errors import (
    AmbiguousVenueError,
    RejectedByVenue,
    RetryableVenueError,
    VenueError,
)
from ordergate.domain.instruments import Instrument
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import ZERO, LiquiditySide, OrderType, Side
from ordergate.engine.venue_reports import (
    Quote,
    SubmitReceipt,
    VenueBalance,
    VenueEvent,
    VenueFill,
    VenueOrderCanceled,
    VenueOrderReplaced,
    VenueOrderReport,
    VenueOrderRequest,
    VenuePosition,
    VenueReconnected,
)
from ordergate.protocols.mt5 import VERSION
from ordergate.venues.mt5 import hedging, translate
from ordergate.venues.mt5.client import BridgeClient, Frame, Restarted
from ordergate.venues.mt5.config import Mt5Config
from ordergate.venues.mt5.hedging import Part
from ordergate.venues.mt5.translate import ServerTime, decimal_text, part_id
from ordergate.venues.single_account import check_account, check_may_send

log = structlog.get_logger("ordergate.venues.mt5")

# Orders remembered in process: which rest as makers (a deal does not say), and the plan
# of a hedging account's market order (a resend sends the same parts). Bounded: a venue
# trades for months.
_REMEMBERED: Final = 65_536
_RECOVERY_PAUSE_SECONDS: Final = 0.5


class Mt5Venue:
    """One MT5 account through the bridge EA, as an ordergate `Venue` (see the module)."""

    def __init__(
        self,
        config: Mt5Config,
        *,
        may_send: Callable[[], bool] | None = None,
    ) -> None:
        """`may_send`: asked again as each state-changing command leaves (a cluster
        node's lease); once it says no, nothing more is sent (None: always send)."""
        self._config = config
        self._may_send = may_send
        self._client: BridgeClient | None = None
        self._events: asyncio.Queue[VenueEvent] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None
        self._clock_watch: asyncio.Task[None] | None = None
        self._specs: dict[str, Frame] = {}
        self._instruments: list[Instrument] = []
        self._clock = ServerTime(0)
        self._currency = ""
        self._hedging = False
        self._makers: OrderedDict[str, None] = OrderedDict()
        self._plans: OrderedDict[str, list[Part]] = OrderedDict()
        self._restarts = 0
        self._connected_at = time.monotonic()

    # --- identity ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def live(self) -> bool:
        return self._config.live

    @property
    def acceptance_window(self) -> float:
        """The EA sends synchronously and answers after the trade server has: once every
        attempt's timeout has passed, a request not carried out will not be."""
        return self._config.timeout * self._config.attempts

    @property
    def instruments(self) -> list[Instrument]:
        """The traded symbols as ordergate instruments (known once connected)."""
        return list(self._instruments)

    @property
    def hedging(self) -> bool:
        return self._hedging

    @property
    def server_offset_s(self) -> int:
        """The trade server's clock minus UTC, in seconds, as the EA last said."""
        return self._clock.offset_s

    def connection_problem(self) -> str | None:
        client = self._client
        if client is None:
            return "not connected"
        heard = client.last_heard
        silent = time.monotonic() - (heard if heard is not None else self._connected_at)
        if silent > self._config.heartbeat_timeout:
            return f"no frame from the EA for {silent:.1f} s (its heartbeat is every second)"
        return None

    # --- lifecycle ---------------------------------------------------------------------------

    async def connect(self) -> None:
        """Say hello, read the account and the symbols, and start taking events."""
        if self._client is not None:
            return
        config = self._config
        client = BridgeClient(
            config.rep_url,
            config.pub_url,
            timeout=config.timeout,
            attempts=config.attempts,
            client_name=f"ordergate-{config.account}"[:64],
        )
        try:
            hello = await client.connect()
            account = hello["account"]
            wanted = list(config.symbols) or None
            specs = (await client.call("get_symbols", **({"symbols": wanted} if wanted else {})))[
                "symbols"
            ]
        except BaseException:
            client.close()
            raise
        self._clock = ServerTime(hello["gmt_offset_s"])
        self._currency = account["currency"]
        self._hedging = account["margin_mode"] == "hedging"
        self._specs = {spec["symbol"]: spec for spec in specs}
        self._instruments = [translate.instrument_of(s, account["leverage"]) for s in specs]
        self._client = client
        self._connected_at = time.monotonic()
        self._pump = asyncio.create_task(self._take_events(client), name=f"{self.name}-events")
        self._clock_watch = asyncio.create_task(
            self._watch_clock(client), name=f"{self.name}-clock"
        )

    async def disconnect(self) -> None:
        pump, self._pump = self._pump, None
        watch, self._clock_watch = self._clock_watch, None
        for task in (pump, watch):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        client, self._client = self._client, None
        if client is not None:
            client.close()

    # --- requests ----------------------------------------------------------------------------

    async def submit_order(self, request: VenueOrderRequest) -> SubmitReceipt:
        client = self._connected()
        self._check_account(request.account)
        args = self._submit_args(request)
        if self._hedging and request.type is OrderType.MARKET:
            return await self._submit_in_parts(client, request, args)
        self._check_may_send()
        result = await client.call("submit_order", **args)
        if request.type is not OrderType.MARKET:
            self._remember(self._makers, request.client_order_id, None)
        return SubmitReceipt(str(result["ticket"]), accepted=True)

    async def cancel_order(self, account: str, symbol: str, client_order_id: str) -> None:
        client = self._connected()
        self._check_account(account)
        self._check_may_send()
        await client.call("cancel_order", **_named(client_order_id))

    async def replace_order(
        self,
        account: str,
        symbol: str,
        client_order_id: str,
        qty: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None:
        """Change a pending order's prices (`modify_order`); the reply is the replace."""
        client = self._connected()
        self._check_account(account)
        current = await client.call("get_order", **_named(client_order_id))
        order = current["order"]
        if Decimal(order["volume_initial"]) != qty:
            raise RejectedByVenue(
                f"order {client_order_id}: MT5 cannot change an order's volume "
                f"({order['volume_initial']} to {qty}); cancel it and place a new one",
                code=ReasonCode.ORDER_NOT_REPLACEABLE,
            )
        spec = self._spec(order["symbol"])
        args: Frame = _named(client_order_id)
        if price is not None:
            args["price"] = decimal_text(price, Decimal(spec["point"]))
        if stop_price is not None:
            args["stop_price"] = decimal_text(stop_price, Decimal(spec["point"]))
        self._check_may_send()
        result = await client.call("modify_order", **args)
        modified = result["order"]
        new_price, new_stop = modified.get("price"), modified.get("stop_price")
        self._events.put_nowait(
            VenueOrderReplaced(
                client_order_id,
                Decimal(modified["volume_initial"]),
                None if new_price is None else Decimal(new_price),
                None if new_stop is None else Decimal(new_stop),
                None,
                time.time_ns(),  # the modify's own time: MT5's order keeps only its setup
            )
        )

    # --- queries -----------------------------------------------------------------------------

    async def get_order(
        self, account: str, symbol: str, client_order_id: str
    ) -> VenueOrderReport | None:
        client = self._connected()
        self._check_account(account)
        parts: list[Frame] = []
        while True:
            name = part_id(client_order_id, len(parts) + 1)
            try:
                found = await client.call("get_order", **_named(name))
            except RejectedByVenue as exc:
                if exc.code != ReasonCode.VENUE_ORDER_NOT_FOUND:
                    raise
                break
            parts.append(found["order"])
            if not self._hedging or translate.ticket_named(client_order_id) is not None:
                break
        if not parts:
            return None
        reports = [translate.report_of(p, self._config.account, self._clock) for p in parts]
        report = reports[0] if len(reports) == 1 else hedging.combined(reports)
        if report.filled_qty > ZERO:
            # An MT5 order does not keep its average fill price: its deals do.
            average = await self._average_price(client, parts)
            report = msgspec.structs.replace(report, avg_fill_price=average)
        return report

    async def _average_price(self, client: BridgeClient, orders: list[Frame]) -> Decimal | None:
        tickets = {o["ticket"] for o in orders}
        since = min(o["time_setup"] for o in orders)
        deals = (await client.call("get_deals", since=since, symbol=orders[0]["symbol"]))["deals"]
        mine = [d for d in deals if d["order"] in tickets]
        volume = sum((Decimal(d["volume"]) for d in mine), ZERO)
        if volume == ZERO:
            return None
        return sum((Decimal(d["volume"]) * Decimal(d["price"]) for d in mine), ZERO) / volume

    async def get_open_orders(
        self, account: str, symbol: str | None = None
    ) -> list[VenueOrderReport]:
        client = self._connected()
        self._check_account(account)
        args = {} if symbol is None else {"symbol": symbol}
        orders = (await client.call("get_open_orders", **args))["orders"]
        return [translate.report_of(o, account, self._clock) for o in orders]

    async def get_positions(self, account: str) -> list[VenuePosition]:
        client = self._connected()
        self._check_account(account)
        positions = (await client.call("get_positions"))["positions"]
        return translate.net_positions(positions, account)

    async def get_balances(self, account: str) -> list[VenueBalance]:
        client = self._connected()
        self._check_account(account)
        held = (await client.call("get_account"))["account"]
        return [VenueBalance(account, held["currency"], Decimal(held["balance"]))]

    async def get_fills(self, account: str, since_ts: int = 0) -> list[VenueFill]:
        client = self._connected()
        self._check_account(account)
        since = max(self._clock.ms_since(since_ts), 0)
        deals = (await client.call("get_deals", since=since))["deals"]
        return [self._fill_of(d) for d in deals]

    async def fetch_quotes(self) -> list[Quote]:
        """The traded symbols' best prices now (`get_quotes`)."""
        client = self._connected()
        quotes = (await client.call("get_quotes", symbols=sorted(self._specs)))["quotes"]
        return [translate.quote_of(q, self._clock) for q in quotes]

    async def events(self) -> AsyncIterator[VenueEvent]:
        while True:
            yield await self._events.get()

    # --- hedging: a market order in parts ---------------------------------------------------

    async def _submit_in_parts(
        self, client: BridgeClient, request: VenueOrderRequest, args: Frame
    ) -> SubmitReceipt:
        coid = request.client_order_id
        plan = self._plans.get(coid)
        if plan is None:
            plan = await self._plan(client, request, args)
            self._remember(self._plans, coid, plan)
        receipt: SubmitReceipt | None = None
        for number, (command, part) in enumerate(plan, start=1):
            self._check_may_send()
            try:
                result = await client.call(command, **part)
            except AmbiguousVenueError:
                raise  # this part may have gone: the engine asks, and `get_order` sums them
            except VenueError as exc:
                if receipt is None:
                    raise  # nothing was sent: the order is refused (or may be sent again)
                # Some parts went: the order stands, the rest of it is canceled.
                log.warning("mt5 part refused; the rest canceled", order=coid, error=str(exc))
                done = sum((Decimal(p["volume"]) for _, p in plan[: number - 1]), ZERO)
                self._events.put_nowait(
                    VenueOrderCanceled(
                        coid, ReasonCode.VENUE_REJECTED, str(exc), None, time.time_ns(), done
                    )
                )
                break
            if receipt is None:
                receipt = SubmitReceipt(str(result["ticket"]), accepted=True)
        assert receipt is not None
        return receipt

    async def _plan(
        self, client: BridgeClient, request: VenueOrderRequest, args: Frame
    ) -> list[Part]:
        held = (await client.call("get_positions", symbol=request.symbol))["positions"]
        step = Decimal(self._spec(request.symbol)["volume_step"])
        return hedging.plan(request, args, held, step, self._config.close_order, self._config.magic)

    # --- events ------------------------------------------------------------------------------

    async def _take_events(self, client: BridgeClient) -> None:
        """Translate the EA's events onto the queue, for as long as the venue is connected.

        A failed recovery (the EA did not answer `events_since`) is tried again on the
        next frame or heartbeat, which reports the gap still open."""
        while True:
            try:
                async for item in client.events():
                    if isinstance(item, Restarted):
                        await self._restarted(client, item)
                        continue
                    try:
                        event = self._event_of(item)
                    except Exception:  # a frame the EA should not have sent
                        log.exception("mt5 event unreadable; reconciling", seq=item.get("seq"))
                        self._doubt("an event frame could not be read")
                        continue
                    if event is not None:
                        self._events.put_nowait(event)
            except VenueError as exc:
                log.warning("mt5 event recovery failed; trying again", error=str(exc))
                await asyncio.sleep(_RECOVERY_PAUSE_SECONDS)
            except Exception:  # the pump must outlive a defect: what it missed is reconciled
                log.exception("mt5 event stream failed; reconciling")
                self._doubt("the event stream failed")
                await asyncio.sleep(_RECOVERY_PAUSE_SECONDS)

    def _doubt(self, detail: str) -> None:
        """Events may be lost: the engine reconciles every account."""
        self._events.put_nowait(VenueReconnected(f"{self.name}: {detail}", time.time_ns()))

    async def _watch_clock(self, client: BridgeClient) -> None:
        """Follow the broker's daylight-saving changes: its server time moves by an hour
        twice a year without an EA restart. Every `clock_check_interval` seconds the EA is asked
        its offset from UTC again (`hello` answers it; the event stream is untouched)."""
        while True:
            await asyncio.sleep(self._config.clock_check_interval)
            try:
                hello = await client.call("hello", client=self.name, versions=[VERSION])
                offset = hello["gmt_offset_s"]
            except VenueError as exc:
                log.warning("mt5 clock check failed", error=str(exc))
                continue
            if offset != self._clock.offset_s:
                log.warning("mt5 server clock moved", was=self._clock.offset_s, now=offset)
                self._clock = ServerTime(offset)

    async def _restarted(self, client: BridgeClient, restart: Restarted) -> None:
        """A new EA session: its earlier events are gone, so the engine reconciles."""
        hello = await client.resume()
        self._clock = ServerTime(hello["gmt_offset_s"])
        self._restarts += 1
        detail = f"{self.name}: the EA started a new session ({restart.session})"
        self._events.put_nowait(VenueReconnected(detail, self._clock.ns(hello["server_time"])))

    def _event_of(self, frame: Frame) -> VenueEvent | None:
        liquidity = LiquiditySide.TAKER
        if frame["type"] == "fill":
            liquidity = self._liquidity_of(frame["deal"])
        return translate.event_of(
            frame, self._config.account, self._currency, self._clock, liquidity
        )

    def _fill_of(self, deal: Frame) -> VenueFill:
        return translate.fill_of(
            deal, self._config.account, self._currency, self._clock, self._liquidity_of(deal)
        )

    def _liquidity_of(self, deal: Frame) -> LiquiditySide:
        coid = deal.get("client_order_id")
        return LiquiditySide.MAKER if coid in self._makers else LiquiditySide.TAKER

    # --- inside ------------------------------------------------------------------------------

    def _submit_args(self, request: VenueOrderRequest) -> Frame:
        spec = self._spec(request.symbol)
        point, step = Decimal(spec["point"]), Decimal(spec["volume_step"])
        args: Frame = {
            "client_order_id": request.client_order_id,
            "symbol": request.symbol,
            "side": "buy" if request.side is Side.BUY else "sell",
            "type": translate.TYPE_NAMES[request.type],
            "volume": decimal_text(request.qty, step),
            "magic": self._config.magic,
        }
        if request.type is OrderType.MARKET:
            if request.time_in_force.value in ("IOC", "FOK"):
                args["filling"] = request.time_in_force.value
            return args
        time_in_force = translate.time_in_force_name(request.time_in_force)
        if time_in_force is None:
            raise RejectedByVenue(
                f"{self.name}: a pending order is GTC or DAY; {request.time_in_force} is a "
                "market order's filling",
                code=ReasonCode.UNSUPPORTED_ORDER_TYPE,
            )
        args["time_in_force"] = time_in_force
        if request.price is not None:
            args["price"] = decimal_text(request.price, point)
        if request.stop_price is not None:
            args["stop_price"] = decimal_text(request.stop_price, point)
        return args

    def _spec(self, symbol: str) -> Frame:
        spec = self._specs.get(symbol)
        if spec is None:
            raise RejectedByVenue(
                f"{self.name} does not trade {symbol}", code=ReasonCode.SYMBOL_NOT_ALLOWED
            )
        return spec

    def _connected(self) -> BridgeClient:
        if self._client is None:
            raise RetryableVenueError(f"{self.name} is not connected")
        return self._client

    def _check_account(self, account: str) -> None:
        check_account(self.name, self._config.account, account)

    def _check_may_send(self) -> None:
        check_may_send(self.name, self._may_send)

    @staticmethod
    def _remember(memory: OrderedDict[str, Any], key: str, value: Any) -> None:
        memory[key] = value
        if len(memory) > _REMEMBERED:
            memory.popitem(last=False)


def _named(client_order_id: str) -> Frame:
    """How a command names an order: by ticket for one ordergate did not send."""
    ticket = translate.ticket_named(client_order_id)
    return {"client_order_id": client_order_id} if ticket is None else {"ticket": ticket}
