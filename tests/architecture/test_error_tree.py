"""The error tree drawn in `ordergate.domain.errors`'s docstring is the classes' tree."""

from __future__ import annotations

import inspect
import re

from ordergate.domain import errors

# A line of the drawing: indentation and branch marks, then the class name.
LINE = re.compile(r"^(?P<lead>[ │├└─]*)(?P<name>[A-Z]\w+)\b")


def drawn_parents() -> dict[str, str | None]:
    """Each class in the drawing with the class it hangs from (None for the root)."""
    doc = errors.__doc__ or ""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []  # (depth, name) of the open branches
    for line in doc.splitlines():
        match = LINE.match(line.strip("\n")[4:] if line.startswith("    ") else "")
        if match is None or match["name"] not in vars(errors):
            continue
        depth = len(match["lead"])
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match["name"]] = stack[-1][1] if stack else None
        stack.append((depth, match["name"]))
    return parents


def actual_parents() -> dict[str, str | None]:
    classes = {
        name: value
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.OrderGateError)
    }
    return {
        name: None if cls is errors.OrderGateError else cls.__bases__[0].__name__
        for name, cls in classes.items()
    }


def test_error_tree_docstring_draws_every_class_under_its_parent() -> None:
    assert drawn_parents() == actual_parents()


def test_error_tree_reader_sees_the_drawing() -> None:
    drawn = drawn_parents()
    assert drawn["OrderGateError"] is None
    assert drawn["IdempotencyConflict"] == "InvalidRequest"
    assert drawn["JournalFenced"] == "JournalError"
