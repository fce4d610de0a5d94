"""The reason codes the OpenAPI document enumerates are every code the package answers with.

The source is read, not imported: every `code="…"` given where an error is raised, every
class-level `code = "…"`, and module constants passed as `code=`. A code that can reach an
HTTP answer and is missing from `REASON_CODES` fails here, so the enum cannot drift.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ordergate
from ordergate.api.reason_codes import REASON_CODES
from ordergate.api.schemas import ErrorOut
from ordergate.domain.reasons import ReasonCode

PACKAGE = Path(ordergate.__file__).parent

# Where a code never reaches an HTTP answer: the RabbitMQ side (signals are refused onto a
# dead-letter queue, not answered), the simulators (servers of their own), the command
# line, a signal's own validation (the bus path only), and the market data a venue loads
# at start-up.
NOT_ANSWERED_OVER_HTTP = (
    PACKAGE / "bus",
    PACKAGE / "simulators",
    PACKAGE / "cli",
    PACKAGE / "client",  # the REST client's own codes: raised in the caller, never answered
    PACKAGE / "domain" / "signal_model.py",
    PACKAGE / "matching" / "marketdata.py",
)

# Codes computed where they are raised, each reviewed: all forward a code that is in the
# registry already (a class's, or a `ReasonCode`).
FORWARDED = {
    "code",  # a constructor's parameter, passed on (errors, ccxt's classification)
    "denial.code",  # a risk check's `ReasonCode`
    "gate.code",  # a gate's `ReasonCode`
    "refusal.code",  # the matching core's refusal: a `ReasonCode`
    "exc.code",  # a log line's field, not an answer
}


def _answerable(path: Path) -> bool:
    return not any(path == place or place in path.parents for place in NOT_ANSWERED_OVER_HTTP)


def _string_constants(tree: ast.Module) -> dict[str, str]:
    constants: dict[str, str] = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        value = getattr(node, "value", None)
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            constants |= {t.id: value.value for t in targets if isinstance(t, ast.Name)}
    return constants


def _code_expressions(tree: ast.Module) -> list[ast.expr]:
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "code":
            found.append(node.value)
        elif isinstance(node, ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, ast.Assign | ast.AnnAssign) and statement.value:
                    targets = (
                        statement.targets
                        if isinstance(statement, ast.Assign)
                        else [statement.target]
                    )
                    if any(isinstance(t, ast.Name) and t.id == "code" for t in targets):
                        found.append(statement.value)
    return found


def codes_in_source() -> tuple[set[str], set[str]]:
    """(the literal codes, the computed ones as source text) of every answerable module."""
    literal: set[str] = set()
    computed: set[str] = set()
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in PACKAGE.rglob("*.py")}
    # A constant imported from another module: resolved by its name, when only one module
    # of the package defines it.
    everywhere: dict[str, set[str]] = {}
    for tree in trees.values():
        for name, value in _string_constants(tree).items():
            everywhere.setdefault(name, set()).add(value)
    for path, tree in sorted(trees.items()):
        if not _answerable(path):
            continue
        constants = {n: next(iter(v)) for n, v in everywhere.items() if len(v) == 1}
        constants |= _string_constants(tree)
        for expression in _code_expressions(tree):
            if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
                literal.add(expression.value)
            elif isinstance(expression, ast.Name) and expression.id in constants:
                literal.add(constants[expression.id])
            elif isinstance(expression, ast.Attribute) and ast.unparse(expression.value) == (
                "ReasonCode"
            ):
                literal.add(ReasonCode[expression.attr].value)
            else:
                computed.add(ast.unparse(expression))
    return literal, computed


def test_reason_codes_every_code_raised_in_the_package_is_registered() -> None:
    literal, _ = codes_in_source()

    assert literal - set(REASON_CODES) == set()
    assert {"BAD_CURSOR", "API_KEY_MISSING", "ORDER_NOT_FOUND", "TRACE_ID_INVALID"} <= literal


def test_reason_codes_computed_codes_are_only_the_reviewed_forwards() -> None:
    _, computed = codes_in_source()

    assert computed == FORWARDED


def test_reason_codes_hold_every_reason_code_and_framework_code() -> None:
    codes = set(REASON_CODES)

    assert {code.value for code in ReasonCode} <= codes
    assert {"VALIDATION_ERROR", "ROUTE_NOT_FOUND", "METHOD_NOT_ALLOWED", "HTTP_ERROR"} <= codes
    assert list(REASON_CODES) == sorted(codes)


def test_error_schema_reason_code_enumerates_the_registry() -> None:
    schema = ErrorOut.model_json_schema()

    assert schema["properties"]["reason_code"]["enum"] == list(REASON_CODES)
