"""Logins (`POST oauth2/token/`) and the bearer tokens every other request must carry.

A login posts a form: `grant_type=password` with `username`, `password` (and
`mfa_code`), or `grant_type=refresh_token` with `refresh_token`. What it answers:

- the token: 200 `{"access_token", "expires_in", "token_type": "Bearer", "scope",
  "refresh_token", "mfa_code", "backup_code"}`;
- a wrong username or password: 400 `{"detail": "Unable to log in with provided
  credentials."}` (Robinhood's words); a locked account: 400 `{"detail": ...}`;
- MFA by code (`mfa="code"`): without `mfa_code`, 200 `{"mfa_required": true,
  "mfa_type": "app"}`; with a code that is not the TOTP of the secret now (or one
  30-second step either side), 400 `{"detail": "Please enter a valid code."}`;
- MFA by workflow (`mfa="workflow"`): 403 with a `verification_workflow` (`workflow`).

A token is valid for `token_lifetime_s`, until `expire_all`, or until a fault revokes
it; then requests answer 401 `{"detail": "Invalid token."}` and a new login (or a
refresh: refresh tokens outlive their access tokens) is needed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Final

from ordergate.protocols.robinhood.totp import totp_for
from ordergate.simulators.robinhood import errors
from ordergate.simulators.robinhood.errors import RobinhoodError, detail
from ordergate.simulators.robinhood.wire import JsonObject
from ordergate.simulators.robinhood.workflow import VerificationWorkflows

_NS_PER_SECOND: Final = 1_000_000_000
_BEARER: Final = "Bearer "
_WWW_AUTHENTICATE: Final = {"WWW-Authenticate": 'Bearer realm="api"'}


class Authenticator:
    """The account's credentials, its lock, and the tokens it issued."""

    def __init__(
        self,
        *,
        username: str,
        password: str,
        mfa: str,
        totp_secret: str,
        lifetime_s: int,
        workflows: VerificationWorkflows,
        clock: Callable[[], int],
    ) -> None:
        self._username = username
        self._password = password
        self._mfa = mfa
        self._totp = totp_for(totp_secret)
        self._lifetime_s = lifetime_s
        self._workflows = workflows
        self._clock = clock
        self._access: dict[str, int] = {}  # token -> when it expires (ns)
        self._refresh: set[str] = set()
        self.locked = False

    def login(self, form: Mapping[str, object]) -> tuple[int, JsonObject]:
        """(status, body) of a `POST oauth2/token/`; refusals raise `RobinhoodError`."""
        if self.locked:
            raise detail(400, errors.ACCOUNT_LOCKED)
        grant = form.get("grant_type")
        if grant == "refresh_token":
            refresh = form.get("refresh_token")
            if not isinstance(refresh, str) or refresh not in self._refresh:
                raise RobinhoodError(400, {"error": "invalid_grant"})
            self._refresh.discard(refresh)
            return 200, self._issue(None)
        if grant != "password":
            raise RobinhoodError(400, {"error": "unsupported_grant_type"})
        if form.get("username") != self._username or form.get("password") != self._password:
            raise detail(400, errors.BAD_CREDENTIALS)
        if self._mfa == "workflow":
            return 403, self._workflows.open()
        code = form.get("mfa_code")
        if self._mfa == "code":
            if not code:
                return 200, {"mfa_required": True, "mfa_type": "app"}
            now_s = self._clock() // _NS_PER_SECOND
            if not self._totp.verify(str(code), for_time=now_s, valid_window=1):
                raise detail(400, errors.BAD_MFA_CODE)
        return 200, self._issue(str(code) if code else None)

    def check(self, authorization: str | None) -> str:
        """The valid token an `Authorization` header carries, or a 401."""
        if authorization is None or not authorization.startswith(_BEARER):
            raise detail(401, errors.NO_CREDENTIALS, _WWW_AUTHENTICATE)
        token = authorization.removeprefix(_BEARER).strip()
        expires = self._access.get(token)
        if expires is None or self._clock() >= expires:
            raise detail(401, errors.INVALID_TOKEN, _WWW_AUTHENTICATE)
        return token

    def revoke(self, token: str) -> None:
        self._access.pop(token, None)

    def expire_all(self) -> None:
        """Every access token issued so far is invalid from now on."""
        self._access.clear()

    def _issue(self, mfa_code: str | None) -> JsonObject:
        access, refresh = secrets.token_hex(20), secrets.token_hex(20)
        self._access[access] = self._clock() + self._lifetime_s * _NS_PER_SECOND
        self._refresh.add(refresh)
        return {
            "access_token": access,
            "expires_in": self._lifetime_s,
            "token_type": "Bearer",
            "scope": "internal",
            "refresh_token": refresh,
            "mfa_code": mfa_code,
            "backup_code": None,
        }
