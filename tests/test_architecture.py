"""The dependency direction between the apps (docs/architecture.md), checked over every
import in the tree: module level, inside functions and under TYPE_CHECKING alike.

- The domain apps are layers: an app imports only the apps below it.
- `sitefinder` is the project: its wiring (urls, settings, wsgi, asgi) may import any app;
  its shared modules (db, mail, tiles, spreadsheet, …) import none.
- `benchmarks` is developer tooling: it may import any app; no app imports it.

A new top-level package must be placed here. Known exceptions are listed with the reason
and the step that removes them; an exception that no longer exists fails too, so the list
only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first: each may import those before it, never those after it.
LAYERS = ("geodata", "accounts", "properties", "search", "proposals", "ops")
TOOLING = ("benchmarks",)
PROJECT = "sitefinder"
PROJECT_WIRING = ("sitefinder.urls", "sitefinder.settings", "sitefinder.wsgi", "sitefinder.asgi")
NOT_PYTHON_PACKAGES = {"tests", "scripts", "node_modules", "static", "templates", "locale"}

# (importing file, imported package): why it is still there.
KNOWN_EXCEPTIONS = {
    ("properties/services/demo.py", "proposals"): (
        "demo sites delete the demo inquiries first; the demo generators leave the domain "
        "apps for devtools (issue 15 item 5)"
    ),
    ("proposals/management/commands/readme_screenshots.py", "benchmarks"): "devtools (item 5)",
    ("properties/management/commands/benchmark.py", "benchmarks"): "devtools (item 5)",
    ("properties/management/commands/benchmark_upload.py", "benchmarks"): "devtools (item 5)",
    ("proposals/management/commands/benchmark_matching.py", "benchmarks"): "devtools (item 5)",
    ("sitefinder/tiles.py", "geodata"): "the tile cache is keyed on geodata's DataVersion",
    ("sitefinder/tiles.py", "ops"): "the tile cache counts hits in ops.metrics, outages in ops",
    ("sitefinder/fastpath.py", "ops"): "the cached-tile fast path (first middleware) writes the "
    "same request log line and metrics as the full path, through ops",
}


def top_level_packages(root: Path) -> list[str]:
    return sorted(
        path.parent.name
        for path in root.glob("*/__init__.py")
        if path.parent.name not in NOT_PYTHON_PACKAGES and not path.parent.name.startswith(".")
    )


def imported_modules(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a file; relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def may_import(importer: str, imported: str) -> bool:
    """May module `importer` import top-level package `imported`?"""
    own = importer.split(".")[0]
    if imported == own:
        return True
    if own in TOOLING:
        return True
    if own == PROJECT:
        return importer.startswith(PROJECT_WIRING)
    if imported == PROJECT:
        return True  # the project's shared modules serve every app
    if imported in TOOLING:
        return False
    return LAYERS.index(imported) < LAYERS.index(own)


def violations(root: Path) -> dict[tuple[str, str], list[str]]:
    """(file, imported package) -> the offending lines, for every forbidden import."""
    packages = top_level_packages(root)
    unplaced = set(packages) - set(LAYERS) - set(TOOLING) - {PROJECT}
    if unplaced:
        raise AssertionError(
            f"place the new packages {sorted(unplaced)} in tests/test_architecture.py"
        )
    found: dict[tuple[str, str], list[str]] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root)
            if "migrations" in relative.parts:
                continue  # a migration names the app it depends on, as Django requires
            module = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
            for line, name in imported_modules(path, module):
                imported = name.split(".")[0]
                if imported in packages and not may_import(module, imported):
                    found.setdefault((relative.as_posix(), imported), []).append(
                        f"{relative}:{line} imports {name}"
                    )
    return found


def test_no_app_imports_an_app_above_it():
    found = violations(ROOT)
    new = {key: lines for key, lines in found.items() if key not in KNOWN_EXCEPTIONS}
    assert not new, (
        "imports against the dependency direction (docs/architecture.md):\n"
        + "\n".join(line for lines in new.values() for line in lines)
    )


def test_every_known_exception_still_exists():
    gone = set(KNOWN_EXCEPTIONS) - set(violations(ROOT))
    assert not gone, f"remove these from KNOWN_EXCEPTIONS, they are fixed: {sorted(gone)}"


def test_no_two_apps_import_each_other():
    """The measure of issue 15: app pairs importing each other both ways (4 before)."""
    edges = set()
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts or (relative.as_posix(), "proposals") in (
                KNOWN_EXCEPTIONS
            ):
                continue
            module = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
            for _, name in imported_modules(path, module):
                imported = name.split(".")[0]
                if imported in LAYERS and imported != package:
                    edges.add((package, imported))
    assert not {(a, b) for a, b in edges if (b, a) in edges}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """An empty tree with every package placed."""
    for package in (*LAYERS, *TOOLING, PROJECT):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    return tmp_path


@pytest.mark.parametrize(
    ("planted_in", "source", "offending"),
    [
        ("geodata/planted.py", "from properties.models import Site\n", "properties"),
        ("accounts/planted.py", "def f():\n    from search import models\n", "search"),
        ("properties/sub/planted.py", "from ...proposals import models\n", "proposals"),
        ("search/planted.py", "import benchmarks.runner\n", "benchmarks"),
        ("sitefinder/planted.py", "from accounts.models import User\n", "accounts"),
    ],
)
def test_the_check_fails_on_a_planted_import(tree, planted_in, source, offending):
    target = tree / planted_in
    target.parent.mkdir(exist_ok=True)
    (target.parent / "__init__.py").write_text("")
    target.write_text(source)
    assert list(violations(tree)) == [(planted_in, offending)]


def test_allowed_imports_pass(tree):
    (tree / "proposals" / "ok.py").write_text(
        "from properties.models import Site\nfrom search.models import EmptySearch\n"
        "from accounts.models import User\nfrom sitefinder.mail import templated_email\n"
    )
    (tree / "sitefinder" / "urls.py").write_text("from proposals import views\n")
    (tree / "benchmarks" / "ok.py").write_text("from proposals import models\n")
    assert violations(tree) == {}
