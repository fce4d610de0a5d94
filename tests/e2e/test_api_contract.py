"""schemathesis, every check, over every operation of the OpenAPI document, against
`ordergate serve`, with an admin key and with a read key: the document tells the truth
(issue 18).

Every phase runs (the document's examples, the coverage phase's boundary and negative
values, fuzzing, stateful sequences) with every check: no server error; every status,
header, content type and body as the document declares them; what the document calls
valid is accepted and what it calls invalid refused; `Allow` on a 405; the key enforced.
One exception, in `schemathesis.toml` beside this file: the arm confirmation repeats two
other fields, which JSON Schema cannot compare.

The seed is fixed so a failure reproduces (`st replay` or the seed in the output);
`ORDERGATE_FUZZ_SEED` picks another, `ORDERGATE_FUZZ_EXAMPLES` a longer run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.e2e import serve_support
from tests.e2e.serve_support import Server

pytestmark = pytest.mark.slow

ST = Path(sys.executable).parent / "st"
CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = os.environ.get("ORDERGATE_FUZZ_EXAMPLES", "25")  # per operation and phase
SEED = os.environ.get("ORDERGATE_FUZZ_SEED", "18")
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # The keyless requests of the auth check are all one client's: lift its failed-attempt
    # limit so the run is judged on answers, not on 429s.
    server = Server(tmp_path_factory.mktemp("contract"), api_auth_failure_burst="1000000")
    server.start()
    yield server
    server.stop()


def read_key(server: Server) -> str:
    """A key of scope `read`, made as an operator makes one (`ordergate keys create`)."""
    database = str(server.workdir / "og.db")
    created = subprocess.run(
        [str(serve_support.BIN), "keys", "create", "--scope", "read", "--db", database],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


@pytest.mark.parametrize(
    ("scope", "examples"),
    [
        ("admin", EXAMPLES),
        # Every route needing `trade` or `admin` answers 403 to this key: declared, and in
        # the error shape, on each of them.
        ("read", "10"),
    ],
)
def test_api_contract_every_operation_passes_every_schemathesis_check(
    server: Server, tmp_path: Path, scope: str, examples: str
) -> None:
    key = server.key if scope == "admin" else read_key(server)
    document = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    operations = sum(method in METHODS for item in document["paths"].values() for method in item)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEMATHESIS_")}
    command = [str(ST), "--config-file", str(CONFIG), "run", f"{server.url}/openapi.json"]
    command += ["--checks", "all", "--header", f"X-API-Key: {key}"]
    command += ["--max-examples", examples, "--seed", SEED, "--workers", "1"]
    command += ["--request-timeout", "10", "--no-color"]

    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False
    )

    output = result.stdout + result.stderr
    print(output[-3000:])
    assert result.returncode == 0, output[-30000:]
    assert f"Selected: {operations}/{operations}" in output, output[-3000:]
    assert re.search(rf"Tested: {operations}\b", output), output[-3000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", output)
    assert generated is not None, output[-3000:]
    assert generated[1] == generated[2], output[-3000:]
    assert int(generated[1]) >= 20 * operations
    assert operations >= 30
