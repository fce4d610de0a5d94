"""Hold what the venue sends to a size and to JSON, before ccxt reads it.

ccxt lets an unreadable payload through, and that loses or invents facts:

- REST (`ccxt.async_support.base.exchange.Exchange.fetch`): a body that does not parse
  is swallowed (`parse_json` returns None) and, on a 2xx status, the raw text is handed
  to the exchange's method, which reads it as an empty answer. A create "succeeds" with
  no order id; the open orders come back as none. Nothing bounds the body's size.
- websocket (`ccxt.async_support.base.ws.client.Client`): a frame that looks like JSON
  is parsed inside a done-callback of the receive task. A parse error escapes to the
  event loop's exception handler, and the receive loop is never scheduled again: the
  stream goes silent until the keepalive notices. A frame that does not look like JSON
  reaches the exchange as a string, which Bybit's handler ignores: an update is lost
  without a word. (aiohttp refuses a message over ccxt's fixed `max_msg_size`, 10 MiB,
  and ccxt treats that as a dropped connection.)

`strict_exchange` builds the adapter's exchanges from a subclass that refuses these:

- A REST answer over the limit (whatever its status), or an empty or non-JSON answer
  with a 2xx status, raises `UnreadablePayload` before ccxt parses it. So does JSON
  that does not parse, such as a truncated body. `errors.classify` makes that ambiguous
  for an order request (it may have been carried out) and retryable for a read. An error
  status whose body is not JSON, such as a proxy's 502 page, keeps ccxt's mapping by
  status.
- A websocket frame is refused if it is over the limit, does not parse, or ccxt's
  handler raises on it. For a dialect whose stream is all JSON (`Dialect.json_stream`),
  any frame that is not JSON is refused too. A refused frame is not handed to the
  exchange, the receive loop carries on, and `PayloadGuard.on_unreadable` hears a typed
  error. The stream supervisor then marks the account in doubt (see
  `stream.StreamSupervisor.unreadable`).

The limit counts bytes of UTF-8 text, after aiohttp has read the whole body or message
(it offers no bound of its own on a client response).

The same subclass holds what leaves: given `may_send` (a cluster node's partition lease),
every REST request asks it in `fetch`, after ordergate's budget and ccxt's throttle have
let the request through and just before aiohttp sends it. Asked any earlier (when the
engine hands the request over), a process frozen while it waits on those (SIGSTOP, a
stalled VM) would send it on waking, long after another node took the partition over.
When `may_send` says no, the request is not sent and `JournalFenced` is raised: nothing
happened, and this node may send nothing more.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import structlog
from ccxt.async_support.base.ws.client import (  # type: ignore[import-untyped]
    Client,
    json_parser,
)
from ccxt.async_support.base.ws.functions import (  # type: ignore[import-untyped]
    is_json_encoded_object,
)

from ordergate.domain.errors import AmbiguousVenueError, JournalFenced, VenueError
from ordergate.venues.ccxt.errors import PAYLOAD_UNREADABLE, UnreadablePayload

log = structlog.get_logger("ordergate.venues.ccxt")

_SHOWN: Final = 120  # characters of a refused payload quoted in the error


def _log_only(error: VenueError) -> None:
    log.warning("venue stream message unreadable", reason=error.code, detail=error.message)


@dataclass(frozen=True, slots=True)
class PayloadGuard:
    """What an exchange's payloads are held to, and who hears of a refused frame.

    `json_stream`: every frame of the exchange's stream is JSON (a venue whose stream
    sends plain-text keepalives, like OKX's "pong", says False, and such frames reach
    ccxt as they always have).
    """

    max_bytes: int
    json_stream: bool = False
    on_unreadable: Callable[[VenueError], None] = _log_only

    def check_answer(self, status: int, body: str, what: str) -> None:
        """Raise `UnreadablePayload` for a REST answer no reading can trust."""
        size = utf8_size(body)
        if size > self.max_bytes:
            raise UnreadablePayload(
                f"{what}: a {size}-byte answer, over the limit of {self.max_bytes}"
            )
        if 200 <= status < 300 and not body.lstrip().startswith(("{", "[")):
            shown = "an empty body" if not body.strip() else repr(body[:_SHOWN])
            raise UnreadablePayload(
                f"{what}: HTTP {status} with an answer that is not JSON: {shown}"
            )

    def refuse_frame(self, detail: str) -> None:
        """Report a websocket frame that was not handed to the exchange."""
        error = AmbiguousVenueError(
            f"an unreadable message on the venue's stream: {detail}", code=PAYLOAD_UNREADABLE
        )
        try:
            self.on_unreadable(error)
        except Exception:  # the receive loop must go on whatever the listener does
            log.exception("venue stream unreadable message not reported")


def utf8_size(text: str | bytes) -> int:
    """Bytes of `text` in UTF-8 (counted without encoding it when it is ASCII)."""
    if isinstance(text, bytes) or text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def parse_answer(body: str) -> Any:
    """Parse a REST answer as ccxt does, but raise `UnreadablePayload` where ccxt would
    swallow the error and pass the text on."""
    try:
        return json_parser.loads(body)
    except (ValueError, RecursionError) as exc:  # orjson's and json's decode errors
        raise UnreadablePayload(f"an answer that is not JSON ({exc}): {body[:_SHOWN]!r}") from exc


class StrictClient(Client):  # type: ignore[misc]
    """ccxt's websocket client, refusing the frames `PayloadGuard` describes.

    ccxt builds its clients itself (`Exchange.client`), from its own class; the strict
    exchange re-classes each one it builds to this subclass, which changes one method.
    """

    payload_guard: PayloadGuard

    def handle_text_or_binary_message(self, data: str | bytes) -> None:
        guard = self.payload_guard
        size = utf8_size(data)
        if size > guard.max_bytes:
            guard.refuse_frame(f"a {size}-byte message, over the limit of {guard.max_bytes}")
            return
        if self.decompressBinary and isinstance(data, bytes):
            try:
                data = data.decode()
            except UnicodeDecodeError as exc:
                guard.refuse_frame(f"a binary message that is not UTF-8 text ({exc})")
                return
        decoded: Any = data
        if is_json_encoded_object(data):
            try:
                decoded = json_parser.loads(data)
            except (ValueError, RecursionError) as exc:
                guard.refuse_frame(f"a message that is not JSON ({exc}): {data[:_SHOWN]!r}")
                return
        elif guard.json_stream:
            guard.refuse_frame(f"a message that is not JSON: {data[:_SHOWN]!r}")
            return
        try:
            self.on_message_callback(self, decoded)
        except Exception as exc:
            guard.refuse_frame(f"a message ccxt could not handle ({type(exc).__name__}: {exc})")


def strict_exchange(
    exchange_class: Any,
    settings: dict[str, Any],
    guard: PayloadGuard,
    may_send: Callable[[], bool] | None = None,
) -> Any:
    """An exchange of `exchange_class` (REST or websocket) whose payloads `guard` holds
    and whose REST requests `may_send` (None: always) lets out."""
    exchange = _strict_class(exchange_class)(settings)
    exchange.payload_guard = guard
    exchange.may_send = may_send
    return exchange


@functools.cache
def _strict_class(exchange_class: Any) -> Any:
    """A subclass of a ccxt exchange class with four hooks of ccxt's overridden: the REST
    request as it leaves, the REST body before it is parsed, the parser itself, and the
    websocket client."""

    async def fetch(
        self: Any,
        url: str,
        method: str = "GET",
        headers: Any = None,
        body: Any = None,
    ) -> Any:
        # ccxt's fetch awaits nothing before it hands the request to aiohttp: past here,
        # only aiohttp's own connecting stands between this check and the send.
        if self.may_send is not None and not self.may_send():
            raise JournalFenced(
                f"{method} {url.partition('?')[0]} withheld: "
                "this node may no longer act for the partition"
            )
        return await exchange_class.fetch(self, url, method, headers, body)

    def on_rest_response(
        self: Any,
        code: int,
        reason: str,
        url: str,
        method: str,
        response_headers: Any,
        response_body: str,
        request_headers: Any,
        request_body: Any,
    ) -> Any:
        self.payload_guard.check_answer(code, response_body, f"{method} {url}")
        return exchange_class.on_rest_response(
            self,
            code,
            reason,
            url,
            method,
            response_headers,
            response_body,
            request_headers,
            request_body,
        )

    def client(self: Any, url: str) -> Any:
        built = exchange_class.client(self, url)
        if not isinstance(built, StrictClient):
            built.__class__ = StrictClient
            built.payload_guard = self.payload_guard
        return built

    return type(
        f"Strict{exchange_class.__name__}",
        (exchange_class,),
        {
            "__module__": __name__,
            "may_send": None,
            "fetch": fetch,
            "on_rest_response": on_rest_response,
            "on_json_response": staticmethod(parse_answer),
            "client": client,
        },
    )
