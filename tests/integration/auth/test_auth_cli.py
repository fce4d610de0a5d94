"""`ordergate keys create | revoke | list` on a journal's SQLite file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ordergate.auth import Scope, split_key
from ordergate.auth.keys import hash_secret
from ordergate.cli.main import main
from ordergate.store.sqlite import SqliteKeyStore

KEY = re.compile(r"og_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "og.db"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def create(db: Path, scope: str = "admin", label: str = "") -> str:
    result = run("keys", "create", "--scope", scope, "--label", label, "--db", str(db))
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_keys_create_prints_only_the_key_on_stdout(db: Path) -> None:
    result = run("keys", "create", "--scope", "trade", "--label", "bot 7", "--db", str(db))

    assert result.exit_code == 0, result.output
    assert KEY.fullmatch(result.stdout), result.stdout
    assert "shown only this once" in result.stderr


def test_keys_create_stores_key_with_scope_label_and_cli_actor(db: Path) -> None:
    key = create(db, "read", "dashboard")
    parts = split_key(key)
    assert parts is not None

    store = SqliteKeyStore(db)
    stored = store.get(parts[0])
    audit = store.audit()
    store.close()

    assert stored is not None
    assert (stored.scope, stored.label) == (Scope.READ, "dashboard")
    assert stored.secret_hash == hash_secret(parts[1])
    assert audit[0].action == "create"
    assert audit[0].actor.startswith("cli")


def test_keys_create_twice_two_different_keys(db: Path) -> None:
    assert create(db) != create(db)


def test_keys_create_db_defaults_to_ordergate_db_setting(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERGATE_DB", str(db))

    result = run("keys", "create", "--scope", "read")

    assert result.exit_code == 0, result.output
    store = SqliteKeyStore(db)
    assert store.count() == 1
    store.close()


@pytest.mark.parametrize(
    "args",
    [
        ("--scope", "root"),
        ("--db", ":memory:", "--scope", "read"),
        ("--scope", "read", "--label", "two\nlines"),
    ],
)
def test_keys_create_bad_argument_usage_error_nothing_printed(db: Path, args: tuple[str]) -> None:
    result = run("keys", "create", "--db", str(db), *args)

    assert result.exit_code == 2, result.output
    assert result.stdout == ""


def test_keys_list_ids_scopes_labels_revoked_never_secret_or_hash(db: Path) -> None:
    admin = create(db, "admin", "ops")
    read = create(db, "read", "grafana board")
    run("keys", "revoke", admin.split("_")[1], "--db", str(db))

    result = run("keys", "list", "--db", str(db))

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["KEY_ID", "SCOPE", "CREATED", "REVOKED", "LABEL"]
    admin_line, read_line = lines[1:]
    assert admin_line.split()[:2] == [admin.split("_")[1], "admin"]
    assert admin_line.split()[3] != "-"
    assert admin_line.endswith("ops")
    assert read_line.split()[:2] == [read.split("_")[1], "read"]
    assert read_line.split()[3] == "-"
    assert read_line.endswith("grafana board")
    for key in (admin, read):
        secret = key.split("_", 2)[2]
        assert secret not in result.output
        assert hash_secret(secret) not in result.output


def test_keys_list_missing_file_usage_error_file_not_created(db: Path) -> None:
    result = run("keys", "list", "--db", str(db))

    assert result.exit_code == 2
    assert not db.exists()


def test_keys_revoke_prints_revoked_and_audits(db: Path) -> None:
    key_id = create(db, "trade", "bot").split("_")[1]

    result = run("keys", "revoke", key_id, "--db", str(db))

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"revoked {key_id}")
    store = SqliteKeyStore(db)
    assert [a.action for a in store.audit()] == ["create", "revoke"]
    store.close()


def test_keys_revoke_unknown_id_exit_1(db: Path) -> None:
    create(db)

    result = run("keys", "revoke", "0123456789ab", "--db", str(db))

    assert result.exit_code == 1
    assert "no API key 0123456789ab" in result.stderr


def test_keys_revoke_twice_exit_1_already_revoked(db: Path) -> None:
    key_id = create(db).split("_")[1]
    run("keys", "revoke", key_id, "--db", str(db))

    result = run("keys", "revoke", key_id, "--db", str(db))

    assert result.exit_code == 1
    assert "revoked at" in result.stderr
