"""The package map of docs/architecture.md, enforced: which room may import which (every import, lazy ones too)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# room -> the rooms it may import. Lower layers never import higher ones; the map has no cycle (checked below).
MAY_IMPORT: dict[str, set[str]] = {
    "config": set(),
    "demo": set(),
    "routing": {"config"},
    "render": {"config", "routing"},
    "runtime": {"config", "render", "routing"},
    "clouds": {"config", "render"},
    "moat": {"config", "render"},
    "ops": {"config", "render"},
    "parity": {"demo"},
    "rehearse": {"config", "render", "clouds", "moat"},
    "cdk": {"config", "render"},
    "cli": {"config", "demo", "routing", "render", "runtime", "clouds", "moat", "ops", "parity", "rehearse", "cdk"},
}


def room_of(path: Path) -> str:
    rel = path.relative_to(REPO).parts
    if rel[0] == "cdk":
        return "cdk"
    return rel[1].removesuffix(".py")


def imported_rooms(path: Path) -> set[str]:
    rooms: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "gatekit" and len(parts) > 1:
                rooms.add(parts[1])
            elif parts[0] == "cdk":
                rooms.add("cdk")
    return rooms


def sources() -> list[Path]:
    files = sorted((REPO / "gatekit").rglob("*.py")) + sorted((REPO / "cdk").rglob("*.py"))
    return [f for f in files if f.parent != REPO / "gatekit"]  # gatekit/__init__.py is the package itself


def test_every_room_is_on_the_map() -> None:
    rooms = {room_of(f) for f in sources()}
    assert rooms == set(MAY_IMPORT), f"rooms not on the map (docs/architecture.md): {rooms ^ set(MAY_IMPORT)}"


def test_no_room_imports_above_its_layer() -> None:
    violations = []
    for path in sources():
        room = room_of(path)
        for other in sorted(imported_rooms(path) - {room}):
            if other not in MAY_IMPORT[room]:
                violations.append(f"{path.relative_to(REPO)}: {room} imports {other}")
    assert violations == []


def test_the_map_has_no_cycle() -> None:
    seen: dict[str, int] = {}

    def visit(room: str, stack: tuple[str, ...]) -> None:
        assert room not in stack, f"cycle: {' -> '.join((*stack, room))}"
        if seen.get(room):
            return
        for other in MAY_IMPORT[room]:
            visit(other, (*stack, room))
        seen[room] = 1

    for room in MAY_IMPORT:
        visit(room, ())


def test_architecture_doc_shows_this_map() -> None:
    """The table in docs/architecture.md is this map: the same rows, no others."""
    doc = (REPO / "docs" / "architecture.md").read_text()
    section = doc.split("## The package map", 1)[1].split("\n## ", 1)[0]
    rows = {line for line in section.splitlines() if line.startswith("| `")}
    expected = {
        f"| `{room}` | {', '.join(f'`{r}`' for r in sorted(allowed)) or '—'} |" for room, allowed in MAY_IMPORT.items()
    }
    assert rows == expected, f"docs/architecture.md package map differs: {sorted(rows ^ expected)}"
