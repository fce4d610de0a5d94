"""`ordergate keys`: create, revoke and list API keys (stored hashed beside the journal)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console
from rich.markup import escape

from ordergate.app.key_stores import open_key_store
from ordergate.auth.keys import ApiKey, Scope
from ordergate.auth.ports import KeyStore
from ordergate.auth.provision import local_actor
from ordergate.config.settings import Settings, is_postgres_url
from ordergate.domain.errors import Conflict, InvalidRequest, JournalError, NotFound, OrderGateError

console = Console(stderr=True)


@click.group()
def keys() -> None:
    """Create, revoke and list API keys (stored hashed beside the journal)."""


_DB_OPTION = click.option(
    "--db",
    default=None,
    help="SQLite journal file, or PostgreSQL URL (postgresql://...), holding the keys "
    "(ORDERGATE_DB)",
)


def _key_store(db: str | None, *, create: bool) -> KeyStore:
    path = Settings().db if db is None else db
    if path == ":memory:":
        raise click.BadParameter(
            "an in-memory journal keeps no keys; name a file", param_hint="--db"
        )
    if not create and not is_postgres_url(path) and not Path(path).exists():
        raise click.BadParameter(f"{path} does not exist", param_hint="--db")
    try:
        return open_key_store(path)
    except JournalError as exc:
        _key_command_failed(exc)


def _key_command_failed(exc: OrderGateError) -> NoReturn:
    console.print(f"[red]{escape(exc.message)}[/]")
    sys.exit(1)


@keys.command("create")
@click.option(
    "--scope",
    type=click.Choice([s.value for s in Scope]),
    required=True,
    help="read, trade (includes read) or admin (includes trade)",
)
@click.option("--label", default="", help="what the key is for, shown by `keys list`")
@_DB_OPTION
def keys_create(scope: str, label: str, db: str | None) -> None:
    """Create a key and print it (alone on stdout); it is shown this once only."""
    store = _key_store(db, create=True)
    try:
        issued = store.create(Scope(scope), label, actor=local_actor("cli"))
    except InvalidRequest as exc:
        raise click.BadParameter(exc.message, param_hint="--label") from exc
    except JournalError as exc:
        _key_command_failed(exc)
    finally:
        store.close()
    click.echo(issued.plaintext)
    console.print(
        f"created {issued.key.scope.value} key {issued.key.key_id}; "
        "it is shown only this once, keep it"
    )


@keys.command("revoke")
@click.argument("key_id")
@_DB_OPTION
def keys_revoke(key_id: str, db: str | None) -> None:
    """Revoke a key by its id (`keys list`); the server refuses it within a second."""
    store = _key_store(db, create=False)
    try:
        key = store.revoke(key_id, actor=local_actor("cli"))
    except (NotFound, Conflict, JournalError) as exc:
        _key_command_failed(exc)
    finally:
        store.close()
    click.echo(f"revoked {key.key_id} ({key.scope.value}, {key.label or 'no label'})")


@keys.command("list")
@_DB_OPTION
def keys_list(db: str | None) -> None:
    """List keys: id, scope, created, revoked, label. Never a secret or a hash."""
    store = _key_store(db, create=False)
    try:
        listed = store.keys()
    except JournalError as exc:
        _key_command_failed(exc)
    finally:
        store.close()
    click.echo(f"{'KEY_ID':<12}  {'SCOPE':<5}  {'CREATED':<20}  {'REVOKED':<20}  LABEL")
    for key in listed:
        click.echo(_key_line(key))


def _key_line(key: ApiKey) -> str:
    revoked = "-" if key.revoked_at is None else _utc(key.revoked_at)
    return (
        f"{key.key_id:<12}  {key.scope.value:<5}  {_utc(key.created_at):<20}  "
        f"{revoked:<20}  {key.label}"
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
