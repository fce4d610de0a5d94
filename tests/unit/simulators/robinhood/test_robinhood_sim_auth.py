"""Logins, MFA, the verification workflow and bearer tokens, on a fake clock."""

from __future__ import annotations

import pytest
from robinhood_sim_builders import FakeClock

from ordergate.protocols.robinhood.totp import RobinhoodTotp
from ordergate.simulators.ids import IdSource
from ordergate.simulators.robinhood.auth import Authenticator
from ordergate.simulators.robinhood.errors import RobinhoodError
from ordergate.simulators.robinhood.workflow import VerificationWorkflows

SECRET = "JBSWY3DPEHPK3PXP"
GOOD = {"grant_type": "password", "username": "u", "password": "p"}


def authenticator(
    mfa: str = "none",
    clock: FakeClock | None = None,
    workflows: VerificationWorkflows | None = None,
) -> Authenticator:
    return Authenticator(
        username="u",
        password="p",
        mfa=mfa,
        totp_secret=SECRET,
        lifetime_s=60,
        workflows=workflows or VerificationWorkflows(IdSource(0)),
        clock=clock or FakeClock(),
    )


def refusal(call) -> tuple[int, object]:
    with pytest.raises(RobinhoodError) as refused:
        call()
    return refused.value.status, refused.value.body


def test_a_login_issues_a_bearer_token_valid_for_its_lifetime():
    clock = FakeClock()
    auth = authenticator(clock=clock)

    status, body = auth.login(GOOD)

    assert (status, body["token_type"], body["expires_in"], body["scope"]) == (
        200,
        "Bearer",
        60,
        "internal",
    )
    assert auth.check(f"Bearer {body['access_token']}") == body["access_token"]
    clock.ns += 60 * 1_000_000_000
    assert refusal(lambda: auth.check(f"Bearer {body['access_token']}")) == (
        401,
        {"detail": "Invalid token."},
    )


def test_bad_credentials_and_a_lock_are_refused_in_robinhoods_words():
    auth = authenticator()

    assert refusal(lambda: auth.login({**GOOD, "password": "x"})) == (
        400,
        {"detail": "Unable to log in with provided credentials."},
    )
    auth.locked = True
    assert refusal(lambda: auth.login(GOOD))[0] == 400
    assert refusal(lambda: auth.login({"grant_type": "client_credentials"}))[0] == 400


def test_mfa_code_takes_the_current_totp_of_robinhoods_short_secret():
    clock = FakeClock()
    auth = authenticator("code", clock)
    code = RobinhoodTotp(SECRET).at(clock.ns // 1_000_000_000)
    stale = RobinhoodTotp(SECRET).at(clock.ns // 1_000_000_000 - 120)

    assert auth.login(GOOD) == (200, {"mfa_required": True, "mfa_type": "app"})
    assert refusal(lambda: auth.login({**GOOD, "mfa_code": stale})) == (
        400,
        {"detail": "Please enter a valid code."},
    )
    status, body = auth.login({**GOOD, "mfa_code": code})
    assert (status, body["mfa_code"]) == (200, code)


def test_a_workflow_login_gets_no_token_and_its_prompt_stays_issued():
    workflows = VerificationWorkflows(IdSource(0))
    auth = authenticator("workflow", workflows=workflows)

    status, body = auth.login(GOOD)
    machine = workflows.user_machine(
        {"input": {"workflow_id": body["verification_workflow"]["id"]}}
    )
    challenge = workflows.user_view(machine["id"])["context"]["sheriff_challenge"]

    assert status == 403
    assert workflows.prompt_status(challenge["id"]) == {"challenge_status": "issued"}
    assert refusal(lambda: workflows.user_machine({"input": {"workflow_id": "x"}}))[0] == 400
    assert refusal(lambda: workflows.user_view("x"))[0] == 404


def test_expiry_and_revocation_end_access_tokens_and_refresh_tokens_outlive_them():
    auth = authenticator()
    _, first = auth.login(GOOD)
    _, second = auth.login(GOOD)

    auth.revoke(first["access_token"])
    assert refusal(lambda: auth.check(f"Bearer {first['access_token']}"))[0] == 401
    auth.check(f"Bearer {second['access_token']}")
    auth.expire_all()
    assert refusal(lambda: auth.check(f"Bearer {second['access_token']}"))[0] == 401

    status, renewed = auth.login(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert status == 200
    auth.check(f"Bearer {renewed['access_token']}")
    assert refusal(lambda: auth.check(None)) == (
        401,
        {"detail": "Authentication credentials were not provided."},
    )
