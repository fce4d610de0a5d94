"""`Transport`: what robin_stocks' one `requests.Session` sends through, and what it saw.

robin_stocks talks to Robinhood through a module-global `requests.Session` and hides
what happened: `request_get` answers None on any HTTP error, `request_post` answers the
JSON body on 400 to 403 and None on a timeout, 5xx or 429, and its hosts are hard-coded.
Mounted on that session for `https://`, this adapter

- sends to `base_url` instead of Robinhood's hosts when one is given (the simulator),
  `phoenix.robinhood.com` and `nummus.robinhood.com` under `/phoenix` and `/nummus`;
- puts a timeout on every request (`request_get` has none; `request_post` has 16 s);
- refuses to start Robinhood's device verification workflow (the `pathfinder` and
  `challenge` endpoints): robin_stocks would poll it for two minutes and then ask for a
  code on standard input. The refusal reaches robin_stocks as a failed request, and the
  venue reads `verification_requested` to stop with a clear reason instead;
- records the last exchange (`last`): its status and body, or the error, so the venue
  can tell a 401 from a 429 from a 5xx from a timeout after robin_stocks has answered
  None.

Only the venue's one worker thread uses the session, so `last` needs no lock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

ROBINHOOD_HOSTS: Final = {
    "api.robinhood.com": "",
    "phoenix.robinhood.com": "/phoenix",
    "nummus.robinhood.com": "/nummus",
}
# Robinhood's device verification: a person must approve the login in the app or by a
# code, which an unattended OMS cannot do.
_VERIFICATION_PATHS: Final = ("/pathfinder/", "/challenge/", "/push/")


class VerificationRefused(requests.exceptions.RequestException):
    """The login asked for a device verification that needs a person; not started."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and what came of it: a status and body, or an error."""

    method: str
    url: str
    status: int | None
    body: Any = None  # the decoded JSON body, if it had one
    error: str | None = None  # the transport error, if there was no answer
    timed_out: bool = False


class Transport(HTTPAdapter):
    """The session's adapter for `https://` (see the module)."""

    def __init__(self, base_url: str | None, timeout: float) -> None:
        super().__init__()
        self._base = None if base_url is None else urlsplit(base_url.rstrip("/"))
        self._timeout = timeout
        self.last: Exchange | None = None
        self.verification_requested = False

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        method, url = request.method or "GET", request.url or ""
        if any(part in urlsplit(url).path for part in _VERIFICATION_PATHS):
            self.verification_requested = True
            self.last = Exchange(method, url, None, error="device verification refused")
            raise VerificationRefused(f"{method} {url}: device verification needs a person")
        request.url = self._rewrite(url)
        kwargs["timeout"] = self._timeout
        try:
            response = super().send(request, **kwargs)
        except requests.exceptions.Timeout as exc:
            self.last = Exchange(method, url, None, error=str(exc), timed_out=True)
            raise
        except requests.exceptions.RequestException as exc:
            self.last = Exchange(method, url, None, error=str(exc))
            raise
        self.last = Exchange(method, url, response.status_code, _json_of(response))
        return response

    def begin(self) -> None:
        """Forget the last exchange: what comes next is one call's."""
        self.last = None

    def _rewrite(self, url: str) -> str:
        if self._base is None:
            return url
        parts = urlsplit(url)
        prefix = ROBINHOOD_HOSTS.get(parts.hostname or "")
        if prefix is None:
            return url
        base = self._base
        return urlunsplit(
            (base.scheme, base.netloc, base.path + prefix + parts.path, parts.query, "")
        )


def _json_of(response: requests.Response) -> Any:
    try:
        return json.loads(response.content) if response.content else None
    except ValueError:
        return None
