"""What the API key tests share: a keyless client on a running app, and key helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.integration.api.support import Api

from ordergate.auth import Scope

ORDERGATE = Path(sys.executable).with_name("ordergate")


def new_key(api: Api, scope: Scope, label: str = "test") -> str:
    """A fresh key of `scope`, created through the running application's key store."""
    return api.application.keys.create(scope, label, actor="tests").plaintext


def key_id_of(key: str) -> str:
    return key.split("_")[1]


def headers(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def refusal(response: Any) -> tuple[int, str]:
    """(status, reason_code) of an answer."""
    return response.status_code, response.json()["reason_code"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`ordergate ...` in a subprocess with no ORDERGATE_* variable of the developer."""
    return subprocess.run(
        [str(ORDERGATE), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith(("ORDERGATE_", "OMS_"))},
        check=False,
    )
