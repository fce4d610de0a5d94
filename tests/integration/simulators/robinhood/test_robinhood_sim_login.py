"""robin_stocks' `login` against the simulator, as it behaves against Robinhood.

With `store_session=False`, robin_stocks 3.4.0 authorises its session on a good login
and then, not storing the token, falls through to print "Login failed" and return None:
a caller must judge the login by the session (`Authorization` set, `LOGGED_IN`), not by
the return value. A refused login also returns None, and leaves the session unauthorised.
The verification workflow cannot go through `login` at all (it polls a prompt that only a
person can approve, forever), so the flow is driven step by step with robin_stocks'
request helpers.
"""

from __future__ import annotations

import pytest
import robin_stocks.robinhood as rh
from robin_stocks.robinhood import helper
from tests.integration.simulators.robinhood.robinhood_sim_support import RobinStocks

from ordergate.simulators.robinhood import RobinhoodSimConfig, RobinhoodSimulator

LOGIN_URL = "https://api.robinhood.com/oauth2/token/"


async def test_good_login_returns_none_and_prints_failed_yet_authorises(
    rs: RobinStocks, capsys: pytest.CaptureFixture[str]
):
    returned = await rs.login()

    assert returned is None
    assert "Login failed" in capsys.readouterr().out
    assert rs.authorised
    assert await rs.call(rh.load_account_profile, info="account_number") == "5RS71234"
    login = next(seen for seen in rs.sim.requests if seen.path == "/oauth2/token/")
    assert login.method == "POST"
    assert {"username", "password", "grant_type", "device_token", "scope"} <= set(login.params)


async def test_login_makes_its_token_directory_even_when_it_stores_nothing(rs: RobinStocks):
    token_dir = rs.tokens_dir / "tokens"

    await rs.call(
        rh.login,
        rs.sim.config.username,
        rs.sim.config.password,
        store_session=False,
        pickle_path=str(token_dir),
    )

    assert token_dir.is_dir()
    assert list(token_dir.iterdir()) == []


async def test_wrong_password_returns_none_and_leaves_the_session_unauthorised(
    rs: RobinStocks,
):
    assert await rs.login(password="wrong") is None
    assert not rs.authorised
    with pytest.raises(Exception, match="can only be called when logged in"):
        await rs.call(rh.load_account_profile)
    body = await rs.call(
        helper.request_post,
        LOGIN_URL,
        {"grant_type": "password", "username": rs.sim.config.username, "password": "wrong"},
    )
    assert body == {"detail": "Unable to log in with provided credentials."}


async def test_locked_account_refuses_logins_with_a_detail(rs: RobinStocks):
    rs.sim.lock_account()

    assert await rs.login() is None
    assert not rs.authorised
    body = await rs.call(
        helper.request_post,
        LOGIN_URL,
        {
            "grant_type": "password",
            "username": rs.sim.config.username,
            "password": rs.sim.config.password,
        },
    )
    assert set(body) == {"detail"}
    assert "locked" in body["detail"]


class TestMfaCode:
    @pytest.fixture
    def config(self) -> RobinhoodSimConfig:
        return RobinhoodSimConfig(mfa="code")

    async def test_the_current_totp_authorises(self, rs: RobinStocks):
        code = rs.totp()

        assert await rs.login(mfa_code=code) is None
        assert rs.authorised
        login = next(seen for seen in rs.sim.requests if seen.path == "/oauth2/token/")
        assert login.params["mfa_code"] == code

    async def test_no_code_asks_for_one_and_authorises_nothing(self, rs: RobinStocks):
        assert await rs.login() is None
        assert not rs.authorised
        body = await rs.call(
            helper.request_post,
            LOGIN_URL,
            {
                "grant_type": "password",
                "username": rs.sim.config.username,
                "password": rs.sim.config.password,
            },
        )
        assert body == {"mfa_required": True, "mfa_type": "app"}

    async def test_a_wrong_code_is_refused(self, rs: RobinStocks):
        wrong = f"{(int(rs.totp()) + 500_000) % 1_000_000:06d}"

        assert await rs.login(mfa_code=wrong) is None
        assert not rs.authorised


class TestVerificationWorkflow:
    @pytest.fixture
    def config(self) -> RobinhoodSimConfig:
        return RobinhoodSimConfig(mfa="workflow")

    async def test_login_answers_a_workflow_whose_prompt_nobody_approves(self, rs: RobinStocks):
        form = {
            "grant_type": "password",
            "username": rs.sim.config.username,
            "password": rs.sim.config.password,
        }
        answer = await rs.call(helper.request_post, LOGIN_URL, form)
        workflow = answer["verification_workflow"]
        assert workflow["workflow_status"] == "workflow_status_internal_pending"

        machine = await rs.call(
            helper.request_post,
            "https://api.robinhood.com/pathfinder/user_machine/",
            {"device_id": "d", "flow": "suv", "input": {"workflow_id": workflow["id"]}},
            json=True,
        )
        inquiry = f"https://api.robinhood.com/pathfinder/inquiries/{machine['id']}/user_view/"
        view = await rs.call(helper.request_get, inquiry)
        challenge = view["context"]["sheriff_challenge"]
        prompt = await rs.call(
            helper.request_get,
            f"https://api.robinhood.com/push/{challenge['id']}/get_prompts_status/",
        )
        status = await rs.call(
            helper.request_post,
            inquiry,
            {"sequence": 0, "user_input": {"status": "continue"}},
            json=True,
        )

        assert (challenge["type"], challenge["status"]) == ("prompt", "issued")
        assert prompt == {"challenge_status": "issued"}
        assert status["type_context"]["result"] == "workflow_status_internal_pending"
        assert not rs.authorised
        # robin_stocks sent the JSON bodies as JSON and put its form Content-Type back.
        assert rs.sim.requests[1].params["input"] == {"workflow_id": workflow["id"]}


async def test_expired_tokens_read_as_none_until_a_new_login(
    logged_in: RobinStocks, sim: RobinhoodSimulator
):
    sim.expire_tokens()

    assert await logged_in.call(rh.load_account_profile) is None
    assert "401 Client Error" in logged_in.messages()
    await logged_in.login()
    assert (await logged_in.call(rh.load_account_profile))["account_number"] == "5RS71234"
