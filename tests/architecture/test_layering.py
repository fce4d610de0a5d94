"""The layering contract: which room of the package may import which.

docs/decisions/0015-rooms-and-import-rules.md says why; this test is what holds it.
Every `import` and `from ... import` of every module counts, including those inside
functions and under `TYPE_CHECKING`.

    domain                      pure: imports nothing of ours but itself
    engine                      the single writer: domain
    auth                        API keys (no I/O): domain
    matching                    a deterministic exchange: domain, the engine's surface
    protocols                   wire protocols ordergate defines (the MT5 bridge): domain
    config                      settings: domain, engine
    store, venues, bus,         adapters: domain, the engine's surface, and what each
    simulators                  builds on (store: auth's port; venues, simulators: matching
                                and protocols); never each other
    app                         the composition root: anything but the entrypoints
    api, cli, oms               entrypoints: domain, engine, auth, config, app; no adapter
    unified                     seed 004's interface (an entrypoint like oms): domain, engine,
                                config, app, oms; cli builds its runner on it
    client                      the REST client: domain, engine (views and results it reads
                                back into); never app, so it loads no adapter and no server
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import ordergate

PACKAGE = Path(ordergate.__file__).parent

ADAPTERS = frozenset({"store", "venues", "bus", "simulators"})
ENTRYPOINTS = frozenset({"api", "cli", "oms", "unified", "client"})

# What an adapter (or the matching core) may use of the engine: the ports it implements,
# the messages and records it speaks, the read models and their queries, the journal's
# codec, chain and replay, ids and retry policy. Never the writer, the state or decisions.
ENGINE_SURFACE = frozenset(
    {
        "engine.ports",
        "engine.venue_reports",
        "engine.records",
        "engine.codec",
        "engine.chain",
        "engine.checkpoint",
        "engine.jsonl",
        "engine.replay",
        "engine.views",
        "engine.queries",
        "engine.ids",
        "engine.retry",
    }
)

ALLOWED: dict[str, frozenset[str]] = {
    "domain": frozenset({"domain"}),
    "engine": frozenset({"domain", "engine"}),
    "auth": frozenset({"domain", "auth"}),
    "matching": frozenset({"domain", "engine", "matching"}),
    "protocols": frozenset({"domain", "protocols"}),
    "config": frozenset({"domain", "engine", "config"}),
    "store": frozenset({"domain", "engine", "auth", "store"}),
    "venues": frozenset({"domain", "engine", "matching", "protocols", "venues"}),
    "simulators": frozenset({"domain", "engine", "matching", "protocols", "simulators"}),
    "bus": frozenset({"domain", "engine", "bus"}),
    "app": frozenset(
        {"domain", "engine", "auth", "matching", "protocols", "config", "app"} | ADAPTERS
    ),
    "api": frozenset({"domain", "engine", "auth", "config", "app", "api"}),
    "cli": frozenset(
        {"domain", "engine", "auth", "config", "app", "api", "client", "unified", "cli"}
    ),
    "oms": frozenset({"domain", "engine", "config", "app", "oms"}),
    "unified": frozenset({"domain", "engine", "config", "app", "oms", "unified"}),
    "client": frozenset({"domain", "engine", "client"}),
    # The public API (ordergate/__init__.py) re-exports from these.
    "": frozenset({"domain", "engine", "config", "oms", "unified", "client"}),
}
SURFACE_ONLY = ADAPTERS | {"matching"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every module of ours that `path` imports."""
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    return imports_in(path.read_text(), package, str(path))


def imports_in(source: str, package: str, filename: str = "<source>") -> Iterator[tuple[int, str]]:
    """(line, module) for every module of ours that `source`, a module of `package`, imports:
    at the top, inside functions, under `TYPE_CHECKING`, relative or absolute."""
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from package import module` imports the module; `from module import name`,
            # the module.
            names = [
                f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            if name == "ordergate" or name.startswith("ordergate."):
                yield node.lineno, name


def _is_module(name: str) -> bool:
    path = PACKAGE.parent / name.replace(".", "/")
    return path.is_dir() or path.with_suffix(".py").is_file()


def room_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def violations(importer: str, modules: list[tuple[int, str]]) -> list[str]:
    """What `importer` may not import, as `importer:line imports module (why)`."""
    room = room_of(importer)
    found = []
    for line, module in modules:
        target = room_of(module)
        if target not in ALLOWED[room]:
            found.append(
                f"{importer}:{line} imports {module} "
                f"(room {room or 'ordergate'} may not use {target or 'ordergate'})"
            )
        elif room in SURFACE_ONLY and target == "engine":
            within = ".".join(module.split(".")[1:3])
            if within not in ENGINE_SURFACE:
                found.append(f"{importer}:{line} imports {module} (outside the engine's surface)")
    return found


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_layering_every_import_is_allowed() -> None:
    found = [v for path in sources() for v in violations(module_name(path), list(imported(path)))]
    assert not found, "imports across the layers:\n" + "\n".join(found)


def test_layering_every_room_is_known() -> None:
    rooms = {room_of(module_name(path)) for path in sources()}
    assert rooms <= set(ALLOWED), f"rooms with no rule: {sorted(rooms - set(ALLOWED))}"


def test_layering_package_top_holds_rooms_not_modules() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert not loose, f"modules at the top of the package: {loose}"


def test_layering_rooms_import_each_other_without_cycles() -> None:
    edges: dict[str, set[str]] = {}
    for path in sources():
        room = room_of(module_name(path))
        edges.setdefault(room, set()).update(
            target for _, m in imported(path) if (target := room_of(m)) != room
        )
    visiting: list[str] = []
    done: set[str] = set()

    def visit(room: str) -> None:
        assert room not in visiting, f"rooms import each other in a circle: {[*visiting, room]}"
        if room in done:
            return
        visiting.append(room)
        for target in sorted(edges.get(room, ())):
            visit(target)
        visiting.pop()
        done.add(room)

    for room in sorted(edges):
        visit(room)


def test_layering_checker_catches_sideways_and_upward_imports() -> None:
    """The contract would pass vacuously if the checker saw nothing: show it sees."""
    assert violations("ordergate.store.sqlite.store", [(1, "ordergate.venues.paper")])
    assert violations("ordergate.domain.orders", [(1, "ordergate.engine.state")])
    assert violations("ordergate.bus.envelope", [(1, "ordergate.engine.state")])
    assert violations("ordergate.api.routers.orders", [(1, "ordergate.store.memory")])
    assert violations("ordergate.cli.journal", [(1, "ordergate.store.sqlite")])
    assert not violations("ordergate.bus.envelope", [(1, "ordergate.engine.replay")])
    assert violations("ordergate.venues.ccxt.venue", [(1, "ordergate.engine.amendments")])
    assert not violations("ordergate.app.bootstrap", [(1, "ordergate.store.memory")])
    assert violations("ordergate.client.calls", [(1, "ordergate.app.bootstrap")])


def test_layering_checker_sees_imports_wherever_they_stand() -> None:
    source = """
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from ordergate.store.memory import MemoryStore
def later():
    import ordergate.venues.paper.venue
    from ...bus import envelope
"""
    assert sorted(module for _, module in imports_in(source, "ordergate.api.routers")) == [
        "ordergate.bus.envelope",
        "ordergate.store.memory",
        "ordergate.venues.paper.venue",
    ]
