"""Imports point down only: floor (core) → capabilities → dialogue (bot) → channels → app/CLI wiring (govbot)."""
from __future__ import annotations

import ast

from core.settings import ROOT

# A package may import from its own layer or any layer below; never above, never a sibling capability
# that sits on the same rank unless listed as below it.
LAYERS = {
    "core": 0,
    "retrieval": 1,
    "knowledge_base": 2,
    "handoff": 3,
    "insight": 3,
    "bot": 4,
    "connectors": 5,
    "govbot": 6,
}


def _imports(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & LAYERS.keys()


def test_imports_point_down_only():
    upward = []
    for package, rank in LAYERS.items():
        for path in (ROOT / package).rglob("*.py"):
            for target in _imports(path):
                if target != package and LAYERS[target] >= rank:
                    upward.append(f"{path.relative_to(ROOT)} imports {target} (layer {LAYERS[target]} ≥ {rank})")
    assert not upward, "imports against the layering:\n" + "\n".join(sorted(upward))


def test_the_layer_test_sees_a_violation(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("from govbot.services import Services\n")
    assert _imports(bad) == {"govbot"}
