"""`RobinhoodClient`: robin_stocks on one thread, its silent failures made typed.

robin_stocks keeps session-wide state (one global `requests.Session`, its headers, the
login flag; a JSON post flips the session's Content-Type for everyone), so every call
runs on the one worker thread here, one at a time. After each call the `Transport`
says what really happened, and the answer becomes ordergate's:

- 401: the token expired. Log in again (a new MFA code from the TOTP secret) and send
  the call once more: nothing was done with an expired token.
- 429: `RetryableVenueError` (nothing happened).
- 5xx, a timeout or no connection: for a call that changes something (`changes=True`)
  `AmbiguousVenueError` (it may have happened: ask before deciding), else retryable.
- 400 to 403 on a post: robin_stocks hands the JSON body back as if it were an answer;
  `refusal` is set on the `Answer` for the caller to read. A read refused is retryable,
  but for a 404 (`refusal` set: the thing is not there).

Login problems stop the client for good (`stopped`), with a reason code a person can
act on: a device verification that needs a person, credentials refused, an account
locked, an MFA code missing. It never retries a login in a loop and never waits for
input.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import robin_stocks.robinhood as rh
from robin_stocks.robinhood import globals as rh_globals
from robin_stocks.robinhood import helper as rh_helper

from ordergate.domain.errors import (
    AmbiguousVenueError,
    RejectedByVenue,
    RetryableVenueError,
)
from ordergate.domain.reasons import ReasonCode
from ordergate.protocols.robinhood.totp import totp_for
from ordergate.venues.robinhood.config import RobinhoodConfig
from ordergate.venues.robinhood.transport import Exchange, Transport

T = TypeVar("T")


_TRANSIENT: Final = frozenset({429, 500, 502, 503, 504})
_FORM: Final = "application/x-www-form-urlencoded; charset=utf-8"


class Throttled(RetryableVenueError):
    """Robinhood answered 429: nothing happened; ask again later."""


class VenueStopped(RejectedByVenue):
    """The venue cannot trade until a person acts (see `RobinhoodClient.stopped`)."""


@dataclass(frozen=True, slots=True)
class _Failed:
    """robin_stocks raised instead of answering."""

    error: Exception


@dataclass(frozen=True, slots=True)
class Answer:
    """What a call returned, and, for a post Robinhood refused (400 to 403), its body."""

    value: Any
    refusal: dict[str, Any] | None = None
    status: int | None = None


class RobinhoodClient:
    """One robin_stocks session on one thread (see the module)."""

    def __init__(self, config: RobinhoodConfig) -> None:
        self._config = config
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="robinhood")
        self._transport = Transport(config.base_url, config.timeout)
        # robin_stocks prints its errors and pages; the transport says what happened.
        self._output = open(os.devnull, "w")  # noqa: SIM115 - closed by `close`
        self._tokens = tempfile.TemporaryDirectory(prefix="ordergate-robinhood-")
        self.stopped: str | None = None  # "<REASON_CODE>: what a person must do"
        self.logins = 0  # each a new token: a call made with an older one logs in no more
        self._login_turn = asyncio.Lock()

    async def start(self) -> None:
        """Mount the transport on robin_stocks' session and log in."""
        await self._run(self._mount)
        await self.login()

    async def close(self) -> None:
        """Stop the worker once its call in flight is done: robin_stocks' session is the
        process's, and a call finishing later would act in the next client's name."""
        worker = self._worker
        await asyncio.to_thread(worker.shutdown, wait=True, cancel_futures=True)
        self._tokens.cleanup()
        self._output.close()

    async def login(self) -> None:
        """Log in (raises `VenueStopped` when a person must act first)."""
        if self.stopped is not None:
            raise VenueStopped(self.stopped, code=ReasonCode.VENUE_HALTED)
        exchange = await self._run(self._login)
        verification = self._transport.verification_requested
        transient = exchange is None or exchange.status is None or exchange.status in _TRANSIENT
        if transient and not verification:
            # No answer, throttled or a server error: nothing a person must do.
            detail = "no answer" if exchange is None else exchange.error or exchange.status
            raise RetryableVenueError(f"robinhood login: {detail}")
        reason = _login_failure(exchange, verification)
        if reason is not None:
            self.stopped = reason
            raise VenueStopped(reason, code=ReasonCode.VENUE_HALTED)
        self.logins += 1

    async def call(
        self, what: str, function: Callable[..., T], *args: Any, changes: bool = False
    ) -> Answer:
        """Call a robin_stocks function on the worker thread; its answer, or raise."""
        if self.stopped is not None:
            raise VenueStopped(self.stopped, code=ReasonCode.VENUE_HALTED)
        token = self.logins
        value, exchange = await self._run(self._exchange, function, *args)
        if exchange is not None and exchange.status == 401:
            await self._renew(token)
            value, exchange = await self._run(self._exchange, function, *args)
        return _answer(what, value, exchange, changes)

    async def _renew(self, token: int) -> None:
        """Log in again, unless another call already has since `token` was current
        (calls queue on the worker: several can meet the same expired token)."""
        async with self._login_turn:
            if self.logins == token:
                await self.login()

    # --- on the worker thread ------------------------------------------------------------

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, function, *args)

    def _mount(self) -> None:
        rh_helper.set_output(self._output)
        rh_globals.SESSION.mount("https://", self._transport)

    def _exchange(self, function: Callable[..., Any], *args: Any) -> tuple[Any, Exchange | None]:
        self._begin()
        try:
            value = function(*args)
        except Exception as exc:  # robin_stocks trips over its own None (a failed read)
            value = _Failed(exc)
        return value, self._transport.last

    def _begin(self) -> None:
        """Before each call: forget the last exchange, and put back the form Content-Type
        that a JSON post of robin_stocks leaves on the global session if it failed
        between flipping the header and flipping it back."""
        self._transport.begin()
        rh_helper.update_session("Content-Type", _FORM)

    def _login(self) -> Exchange | None:
        config = self._config
        self._begin()
        rh.authentication.login(
            username=config.username,
            password=config.password,
            mfa_code=self._mfa_code(),
            store_session=False,
            pickle_path=self._tokens.name,
        )
        return self._transport.last  # the token request, or the refused verification

    def _mfa_code(self) -> str | None:
        config = self._config
        if config.totp_secret is not None:
            return str(totp_for(config.totp_secret).now())
        return config.mfa_code


def _login_failure(exchange: Exchange | None, verification: bool) -> str | None:
    """Why a login failed, as `<REASON_CODE>: what to do` (None: it worked)."""
    if verification:
        return (
            "ROBINHOOD_VERIFICATION_REQUIRED: Robinhood asked for a device verification "
            "that needs a person (approve the login in the app, or set "
            "ORDERGATE_ROBINHOOD_TOTP_SECRET for app-based MFA); order flow is stopped"
        )
    assert exchange is not None  # no answer is transient, raised before
    assert exchange.status is not None
    body = exchange.body if isinstance(exchange.body, dict) else {}
    if exchange.status == 200 and "access_token" in body:
        return None
    detail = str(body.get("detail") or body.get("error_description") or body or "")
    if body.get("mfa_required"):
        return (
            "ROBINHOOD_MFA_REQUIRED: the account needs an MFA code; set "
            "ORDERGATE_ROBINHOOD_TOTP_SECRET (or ORDERGATE_ROBINHOOD_MFA_CODE)"
        )
    if "lock" in detail.lower():
        return f"ROBINHOOD_ACCOUNT_LOCKED: {detail}; order flow is stopped"
    return (
        f"ROBINHOOD_LOGIN_REFUSED: {exchange.status} {detail}; check "
        "ORDERGATE_ROBINHOOD_USERNAME and _PASSWORD"
    )


def _answer(what: str, value: Any, exchange: Exchange | None, changes: bool) -> Answer:
    if exchange is None:
        if isinstance(value, _Failed):
            raise RetryableVenueError(f"{what}: robin_stocks failed: {value.error!r}")
        return Answer(value)  # nothing was sent (robin_stocks answered from memory)
    status = exchange.status
    if status is None:
        detail = f"{what}: {exchange.error}"
        if changes:
            raise AmbiguousVenueError(f"{detail} (it may have been carried out)")
        raise RetryableVenueError(detail)
    if status == 401:
        raise RetryableVenueError(f"{what}: the token was refused after a new login")
    if status == 429:
        raise Throttled(f"{what}: rate limited by Robinhood (429)")
    if status >= 500:
        detail = f"{what}: Robinhood answered {status}"
        if changes:
            raise AmbiguousVenueError(f"{detail} (it may have been carried out)")
        raise RetryableVenueError(detail)
    if status >= 400:
        body = exchange.body if isinstance(exchange.body, dict) else {"detail": exchange.body}
        if not changes and status != 404:
            # A read refused: nothing can be concluded from it (not even "not there").
            raise RetryableVenueError(f"{what}: Robinhood answered {status}: {body}")
        return Answer(None if isinstance(value, _Failed) else value, body, status)
    if isinstance(value, _Failed):
        detail = f"{what}: robin_stocks failed on Robinhood's answer: {value.error!r}"
        if changes:
            raise AmbiguousVenueError(detail)
        raise RetryableVenueError(detail)
    return Answer(value, None, status)


def refusal_text(refusal: dict[str, Any]) -> str:
    """A refusal body (`{"detail": ...}` or `{"field": ["why"]}`) as one line."""
    parts = []
    for key, value in refusal.items():
        text = "; ".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(text if key in ("detail", "non_field_errors") else f"{key}: {text}")
    return "; ".join(parts)
