"""Robinhood's device verification workflow, up to the point where a person must act.

Since late 2024 a login from an unknown device may answer, instead of a token,
`{"verification_workflow": {"id", "workflow_status": "workflow_status_internal_pending"}}`
(robin_stocks issue #515). robin_stocks 3.4.0 then walks the "sheriff" flow: POST
`pathfinder/user_machine/` (JSON: `device_id`, `flow: "suv"`, `input.workflow_id`) for
a machine id; GET `pathfinder/inquiries/{machine}/user_view/` for the challenge; for a
`prompt` challenge, GET `push/{challenge}/get_prompts_status/` until the person approves
in the app; then POST `user_view` until `type_context.result` is
`workflow_status_approved`. Here the challenge is a `prompt` that nobody approves: it
stays `issued`, the workflow stays pending, and a client must stop and say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ordergate.simulators.ids import IdSource
from ordergate.simulators.robinhood import errors
from ordergate.simulators.robinhood.errors import detail, field_error
from ordergate.simulators.robinhood.wire import JsonObject

PENDING: Final = "workflow_status_internal_pending"


class VerificationWorkflows:
    """Workflows opened by logins, and the machines and challenges asked for them."""

    def __init__(self, ids: IdSource) -> None:
        self._ids = ids
        self._workflows: set[str] = set()
        self._machines: dict[str, tuple[str, str]] = {}  # machine -> (workflow, challenge)

    def open(self) -> JsonObject:
        """A login's answer: a new workflow, pending."""
        workflow_id = self._ids.next("workflow")
        self._workflows.add(workflow_id)
        return {"verification_workflow": {"id": workflow_id, "workflow_status": PENDING}}

    def user_machine(self, body: Mapping[str, object]) -> JsonObject:
        """POST `pathfinder/user_machine/`: a machine for a known workflow."""
        given = body.get("input")
        workflow_id = given.get("workflow_id") if isinstance(given, dict) else None
        if not isinstance(workflow_id, str) or workflow_id not in self._workflows:
            raise field_error("input", "Unknown workflow.")
        machine_id = self._ids.next("machine")
        self._machines[machine_id] = (workflow_id, self._ids.next("challenge"))
        return {"id": machine_id}

    def user_view(self, machine_id: str) -> JsonObject:
        """GET `pathfinder/inquiries/{machine}/user_view/`: the prompt, still issued."""
        _, challenge_id = self._machine(machine_id)
        return {
            "context": {
                "sheriff_challenge": {
                    "id": challenge_id,
                    "type": "prompt",
                    "status": "issued",
                    "remaining_attempts": 1,
                }
            },
            "type_context": {"result": PENDING},
        }

    def continue_view(self, machine_id: str) -> JsonObject:
        """POST `pathfinder/inquiries/{machine}/user_view/`: still pending."""
        workflow_id, _ = self._machine(machine_id)
        return {
            "type_context": {"result": PENDING},
            "verification_workflow": {"id": workflow_id, "workflow_status": PENDING},
        }

    def prompt_status(self, challenge_id: str) -> JsonObject:
        """GET `push/{challenge}/get_prompts_status/`: nobody has approved it."""
        if all(challenge != challenge_id for _, challenge in self._machines.values()):
            raise detail(404, errors.NOT_FOUND)
        return {"challenge_status": "issued"}

    def _machine(self, machine_id: str) -> tuple[str, str]:
        found = self._machines.get(machine_id)
        if found is None:
            raise detail(404, errors.NOT_FOUND)
        return found
