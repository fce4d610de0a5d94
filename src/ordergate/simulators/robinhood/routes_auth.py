"""The routes a client calls before it has a token: the login and the verification
workflow that may stand in its way (see `auth` and `workflow`)."""

from __future__ import annotations

from ordergate.simulators.robinhood.auth import Authenticator
from ordergate.simulators.robinhood.rest import Answer, Call, Route
from ordergate.simulators.robinhood.workflow import VerificationWorkflows


class AuthRoutes:
    def __init__(self, auth: Authenticator, workflows: VerificationWorkflows) -> None:
        self._auth = auth
        self._workflows = workflows

    def routes(self) -> list[Route]:
        inquiry = "/pathfinder/inquiries/{machine_id}/user_view/"
        return [
            Route("POST", "/oauth2/token/", self._login, public=True),
            Route("POST", "/pathfinder/user_machine/", self._user_machine, public=True),
            Route("GET", inquiry, self._user_view, public=True),
            Route("POST", inquiry, self._continue_view, public=True),
            Route("GET", "/push/{challenge_id}/get_prompts_status/", self._prompt, public=True),
        ]

    def _login(self, call: Call) -> Answer:
        status, body = self._auth.login(call.body)
        return Answer(body, status)

    def _user_machine(self, call: Call) -> Answer:
        return Answer(self._workflows.user_machine(call.body))

    def _user_view(self, call: Call) -> Answer:
        return Answer(self._workflows.user_view(call.match["machine_id"]))

    def _continue_view(self, call: Call) -> Answer:
        return Answer(self._workflows.continue_view(call.match["machine_id"]))

    def _prompt(self, call: Call) -> Answer:
        return Answer(self._workflows.prompt_status(call.match["challenge_id"]))
