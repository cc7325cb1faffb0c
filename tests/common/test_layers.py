"""The floors of generator/ (CONTRIBUTING.md, "The house"): each floor imports only the floors below it,
the yardsticks import nothing of the project, and no modules import each other in a circle.
Read from the same import closure the cache keys on (build/cache.py), lazy imports included."""
from __future__ import annotations

import pytest

from generator.build import cache

PACKAGE = cache.PACKAGE_DIR
# floor -> the floors it may import (besides itself and the package's own __init__)
ALLOWED = {
    "common": set(),
    "yardsticks": set(),
    "engine": {"common"},
    "figures": {"engine", "common", "yardsticks"},  # fast_arbitrary scores with the bench's yardstick
    "build": {"figures", "engine", "common"},
    "cli": {"build", "figures", "engine", "common"},
    "bench": {"cli", "build", "figures", "engine", "common", "yardsticks"},  # it times what users run
}


def _modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def floor(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else None


def test_every_module_lives_on_a_floor():
    loose = [m for m in _modules() if floor(m) is None and m not in ("generator", "generator.__main__")]
    assert not loose, f"modules outside the floors' folders: {loose}"


@pytest.mark.parametrize("module", [m for m in _modules() if floor(m)])
def test_module_imports_only_lower_floors(module):
    own = floor(module)
    reached = {floor(m) for m in cache.module_closure(module)} - {None, own}
    assert reached <= ALLOWED[own], f"{module} ({own}) reaches {sorted(reached - ALLOWED[own])}"


def test_closure_sees_an_upward_import(tmp_path):
    """The check above can fail: an engine module importing the build is caught."""
    pkg = tmp_path / "generator"
    for folder in ("engine", "build"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "engine" / "transfer.py").write_text("def run():\n    from ..build.cache import Store\n")
    (pkg / "build" / "cache.py").write_text("Store = object\n")
    reached = {floor(m) for m in cache.module_closure("generator.engine.transfer", pkg)}
    assert "build" in reached


def import_circle(graph: dict) -> list[str] | None:
    """One circle of `graph` ({module: modules it imports}) as a path, or None."""
    state: dict[str, int] = {}

    def visit(node, trail):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return trail[trail.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt, trail + [nxt])):
                return found
        state[node] = 2
        return None

    for module in graph:
        if module not in state and (found := visit(module, [module])):
            return found
    return None


def test_import_circle_is_found():
    assert import_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert import_circle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_modules_import_each_other():
    """No import circle, direct or through other modules (a package's __init__ aside)."""
    graph = {m: {n for n in cache._imports(m, PACKAGE) if n != m and not m.startswith(n + ".")}
             for m in _modules()}
    circle = import_circle(graph)
    assert circle is None, "import circle: " + " -> ".join(circle)


TESTS = PACKAGE.parent / "tests"
TEST_FLOORS = {"common", "engine", "figures", "build", "cli", "site", "browser"}


def test_tests_follow_the_floors_and_never_import_conftest():
    """Every test file sits in its floor's folder, and shared code comes from helpers.py (or
    browserkit.py, pagesenv.py), never from conftest.py, which pytest imports by itself."""
    import ast

    misplaced = [p.relative_to(TESTS).as_posix() for p in TESTS.rglob("test_*.py") if p.parent.name not in TEST_FLOORS]
    assert not misplaced, f"test files outside tests/<floor>/: {misplaced}"
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if "conftest" in names:
                offenders.append(f"{path.relative_to(TESTS)}:{node.lineno}")
    assert not offenders, f"imports from conftest: {offenders}"
