"""The structure cannot quietly decay: the floors hold (import-linter's contract in pyproject.toml, imports
inside functions included), no module takes part in an import cycle, and the per-scale recipes stay declarative."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("ecomgpt_core", "ecom_tasks", "ecomgpt_data", "recipes", "ecomgpt")


def test_import_floors_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_ruff_is_clean():
    """ruff with the rules in pyproject.toml ([tool.ruff.lint]), over the whole tree."""
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), "check", "--no-cache", "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_no_import_cycles_between_modules():
    graph = grimp.build_graph(*PACKAGES)
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back:
                cycles.append(" -> ".join((module, *back)))
    assert cycles == []


def test_recipes_are_declarative():
    for recipe in sorted((REPO / "recipes").glob("bloomz_*.py")):
        code = [line for line in recipe.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith(('"""', "    ", ")", "from ", "RECIPE", "if __name__"))]
        assert code == [] or all(line.endswith('"""') for line in code), (recipe.name, code)
        assert len(recipe.read_text(encoding="utf-8").splitlines()) <= 20, recipe.name
