"""Scopes and the key format: what a key looks like, what is stored of it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from ordergate.auth import Scope, split_key
from ordergate.auth.keys import hash_secret, issue_key

T0 = datetime(2024, 1, 2, tzinfo=UTC)
SECRET = "a" * 43


@pytest.mark.parametrize(
    ("scope", "needed", "allowed"),
    [
        (Scope.READ, Scope.READ, True),
        (Scope.READ, Scope.TRADE, False),
        (Scope.READ, Scope.ADMIN, False),
        (Scope.TRADE, Scope.READ, True),
        (Scope.TRADE, Scope.TRADE, True),
        (Scope.TRADE, Scope.ADMIN, False),
        (Scope.ADMIN, Scope.READ, True),
        (Scope.ADMIN, Scope.TRADE, True),
        (Scope.ADMIN, Scope.ADMIN, True),
    ],
)
def test_scope_covers_hierarchy_admin_over_trade_over_read(
    scope: Scope, needed: Scope, allowed: bool
) -> None:
    assert scope.covers(needed) is allowed


def test_issue_key_plaintext_splits_into_id_and_secret_hash_stored() -> None:
    issued = issue_key("0123456789ab", Scope.TRADE, "bot", T0)

    parts = split_key(issued.plaintext)

    assert parts is not None
    key_id, secret = parts
    assert issued.plaintext == f"og_{key_id}_{secret}"
    assert key_id == issued.key.key_id == "0123456789ab"
    assert issued.key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert issued.key.scope is Scope.TRADE
    assert issued.key.created_at == T0
    assert not issued.key.revoked


def test_issue_key_twice_different_secrets() -> None:
    first = issue_key("0123456789ab", Scope.READ, "", T0)
    second = issue_key("0123456789ab", Scope.READ, "", T0)

    assert first.plaintext != second.plaintext
    assert first.key.secret_hash != second.key.secret_hash


def test_issue_key_repr_shows_neither_secret_nor_hash() -> None:
    issued = issue_key("0123456789ab", Scope.ADMIN, "ops", T0)
    parts = split_key(issued.plaintext)
    assert parts is not None

    shown = repr(issued) + str(issued) + repr(issued.key)

    assert parts[1] not in shown
    assert issued.key.secret_hash not in shown
    assert "0123456789ab" in shown


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "og_",
        "og_0123456789ab",
        "og_0123456789ab_",
        f"og_0123456789AB_{SECRET}",
        f"og_0123456789a_{SECRET}",
        f"og_0123456789ab_{SECRET[:-1]}",
        f"og_0123456789ab_{SECRET}a",
        f"OG_0123456789ab_{SECRET}",
        f" og_0123456789ab_{SECRET}",
        f"og_0123456789ab_{SECRET[:-1]}=",
        f"og_0123456789ab_{SECRET[:-1]}\n",
    ],
)
def test_split_key_malformed_none(presented: str) -> None:
    assert split_key(presented) is None


def test_split_key_secret_with_underscores_and_dashes_kept_whole() -> None:
    secret = "_-" + "b" * 41

    assert split_key(f"og_0123456789ab_{secret}") == ("0123456789ab", secret)


def test_hash_secret_sha256_hex() -> None:
    assert hash_secret("abc") == hashlib.sha256(b"abc").hexdigest()
