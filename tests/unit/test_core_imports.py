"""The core imports the standard library, attrs and itself: nothing else, whatever it is.

import-linter's contract forbids the packages we know of (SQLAlchemy, Stripe, ...);
this allow-list also catches one nobody thought to forbid.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "src" / "fantasy_core"
ALLOWED = frozenset(sys.stdlib_module_names) | {"attrs", "fantasy_core", "__future__"}


def _imported_roots(source: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_core_imports_only_the_standard_library_attrs_and_itself() -> None:
    modules = sorted(CORE.rglob("*.py"))
    assert len(modules) > 20  # the walk found the core
    outside = {
        str(module.relative_to(CORE)): sorted(_imported_roots(module) - ALLOWED)
        for module in modules
    }
    assert {name: found for name, found in outside.items() if found} == {}


def test_the_allow_list_refuses_a_third_party_package(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import json\nfrom attrs import frozen\nimport numpy\nfrom yaml import x\n")
    assert _imported_roots(module) - ALLOWED == {"numpy", "yaml"}
