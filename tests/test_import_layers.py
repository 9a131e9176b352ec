"""The package's layers, enforced (an import-linter equivalent over the source tree's AST).

Rules (ARCHITECTURE.md): families and spaces import without torch (only a family's ``modules``
and ``supernet`` build torch modules); ``search`` imports neither ``study``, ``train`` nor a
family's torch modules; ``study`` imports no family and no space; families know no space, spaces
no search, study, training or workflow; nothing outside ``archspace.cli`` imports the CLI.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "archspace"
TORCH_MODULES = ("modules", "supernet")  # the torch half of a family folder


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _violations(source_prefix: str, forbidden: tuple[str, ...], top_level_only: bool = False,
                allow: tuple[str, ...] = ()) -> list[str]:
    out = []
    for name, path in MODULES.items():
        if not (name == source_prefix or name.startswith(source_prefix + ".")) or name in allow:
            continue
        for target in _imports(path, top_level_only):
            if any(target == f or target.startswith(f + ".") for f in forbidden):
                out.append(f"{name} imports {target}")
    return sorted(set(out))


def _is_torch_half(name: str) -> bool:
    return name.startswith("archspace.families.") and name.rsplit(".", 1)[-1] in TORCH_MODULES


def test_families_and_spaces_import_torch_only_in_their_builders():
    allowed = tuple(n for n in MODULES if _is_torch_half(n))
    assert _violations("archspace.families", ("torch",), top_level_only=True, allow=allowed) == []
    assert _violations("archspace.spaces", ("torch",), top_level_only=True) == []


def test_families_and_spaces_really_import_without_torch():
    modules = [n for n in MODULES if n.startswith(("archspace.families", "archspace.spaces")) and not _is_torch_half(n)]
    code = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
            "from archspace.spaces.registry import get_space\n"
            "for name in ('anynetx_a', 'regnetx', 'nb201'): s = get_space(name); s.complexity(s.sample(0))\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.parametrize(("source", "forbidden"), [
    ("archspace.search", ("archspace.study", "archspace.train", "archspace.evaluators", "archspace.experiments")),
    ("archspace.study", ("archspace.spaces", "archspace.families", "archspace.experiments")),
    ("archspace.families", ("archspace.spaces", "archspace.search", "archspace.study", "archspace.train",
                            "archspace.evaluators", "archspace.experiments")),
    ("archspace.spaces", ("archspace.search", "archspace.study", "archspace.train", "archspace.evaluators",
                          "archspace.experiments")),
    ("archspace.analysis", ("archspace.train", "archspace.experiments", "archspace.evaluators")),
])
def test_layer_rules(source, forbidden):
    assert _violations(source, forbidden) == []


def test_search_never_imports_a_family_builder():
    builders = tuple(n for n in MODULES if _is_torch_half(n))
    assert _violations("archspace.search", builders) == []


def test_nothing_outside_the_cli_imports_it():
    # archspace.__main__ is `python -m archspace`, the command line's second entry point
    outside = [n for n in MODULES if not n.startswith("archspace.cli") and n != "archspace.__main__"]
    found = [v for n in outside for v in _violations(n, ("archspace.cli",)) if v.startswith(n + " ")]
    assert found == []


def test_the_rules_see_imports_inside_functions():
    """The scanner is not vacuous: a function-level import is an import."""
    sample = PACKAGE.parent.parent / "tests" / "test_import_layers.py"
    assert "subprocess" in _imports(sample) and "ast" in _imports(sample, top_level_only=True)
