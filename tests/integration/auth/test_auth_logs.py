"""Keys never reach a log: structlog and stdlib logging are captured across accepted
requests, every kind of refusal, and key creation through the CLI."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import structlog
from click.testing import CliRunner
from tests.integration.api.support import make_settings, running
from tests.integration.auth.auth_support import headers, key_id_of

from ordergate.auth import Scope
from ordergate.cli.main import main

ORDER = {"symbol": "EURUSD", "side": "BUY", "qty": "0.10"}


async def test_logs_across_requests_refusals_and_cli_never_contain_a_key(
    market: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # A bucket that does not refill within the test, however slowly a loaded machine
    # answers: the read key's ninth request is over its burst of 5.
    settings = make_settings(
        market, db=str(tmp_path / "og.db"), api_rate_burst=5, api_rate_per_second=0.001
    )
    secrets: list[str] = []
    with structlog.testing.capture_logs() as events:
        async with running(settings, scope=None) as api:
            keys = {s: api.application.keys.create(s, "k", actor="t").plaintext for s in Scope}
            revoked = api.application.keys.create(Scope.ADMIN, "gone", actor="t").plaintext
            api.application.keys.revoke(key_id_of(revoked), actor="t")
            forged = keys[Scope.ADMIN][:-3] + "abc"  # a right id with a wrong secret
            secrets += [*keys.values(), revoked, forged]
            sent: list[tuple[str, str, str | None]] = [
                ("GET", "/v1/orders", keys[Scope.READ]),
                ("POST", "/v1/orders", keys[Scope.TRADE]),
                ("POST", "/v1/admin/close-all", keys[Scope.ADMIN]),
                ("POST", "/v1/orders", keys[Scope.READ]),  # 403
                ("POST", "/v1/admin/close-all", keys[Scope.TRADE]),  # 403
                ("GET", "/v1/orders", revoked),  # 401
                ("GET", "/v1/orders", forged),  # 401
                ("GET", "/v1/orders", "og_" + forged),  # malformed, 401
                ("GET", "/v1/orders", None),  # 401
                *[("GET", "/v1/fills", keys[Scope.READ])] * 8,  # some 429
            ]
            statuses = [
                (
                    await api.http.request(
                        method,
                        path,
                        json=ORDER if (method, path) == ("POST", "/v1/orders") else None,
                        headers=None if key is None else headers(key),
                    )
                ).status_code
                for method, path, key in sent
            ]
        created = CliRunner().invoke(
            main, ["keys", "create", "--scope", "admin", "--db", str(tmp_path / "og.db")]
        )
        secrets.append(created.stdout.strip())

    logged = repr(events) + caplog.text + "".join(repr(r.__dict__) for r in caplog.records)
    assert statuses[:9] == [200, 201, 200, 403, 403, 401, 401, 401, 401]
    assert 429 in statuses[9:]
    assert _codes(events) >= {"API_KEY_SCOPE", "API_KEY_INVALID", "API_KEY_MISSING"}
    for key in secrets:
        assert key.startswith("og_")
        assert key.split("_", 2)[2] not in logged


def _codes(events: list[dict[str, Any]]) -> set[str]:
    return {e["reason_code"] for e in events if e.get("event") == "api request refused"}
