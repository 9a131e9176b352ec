"""The worked examples in examples/ keep working, and the README cannot name code that moved.

Each example module is imported from its file (examples/ is not a package), its plug-in goes
through the matching public contract check with small sizes, and its ``main()`` runs end to end.
The README tests import every ``from archspace... import`` line of its Python blocks and resolve
every dotted ``archspace.`` path it mentions, so a renamed module or name fails here first.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from archspace.checks import check_evaluator, check_space, check_strategy
from archspace.errors import InvalidArchitecture, UsageError
from archspace.evaluators.nb201 import NB201Benchmark
from archspace.evaluators.registry import EVALUATORS
from archspace.families.nb201.spec import NB201Cell
from archspace.search.registry import STRATEGIES, make_strategy, strategy_metadata
from archspace.spaces.registry import SPACES, get_space

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ("custom_space", "custom_strategy", "custom_evaluator")
README = (ROOT / "README.md").read_text()


def _load_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` under a private module name (kept in ``sys.modules`` so that
    pickling and a study's stored class paths find its classes, as they would for a package)."""
    module_name = f"archspace_example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "examples" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


@pytest.fixture(scope="module")
def examples() -> Iterator[dict[str, ModuleType]]:
    """The three example modules; afterwards their registrations are undone, so test files that
    run later in the same process see only the built-in plug-ins."""
    loaded = {name: _load_example(name) for name in EXAMPLES}
    yield loaded
    registered = ((SPACES, loaded["custom_space"].SPACE_NAME), (STRATEGIES, loaded["custom_strategy"].STRATEGY_NAME),
                  (EVALUATORS, loaded["custom_evaluator"].EVALUATOR_NAME))
    for registry, name in registered:
        registry.unregister(name)
    for name in EXAMPLES:
        sys.modules.pop(f"archspace_example_{name}", None)


# --- the plug-ins pass their contract checks ----------------------------------------------------

def test_the_example_space_passes_check_space(examples):
    module = examples["custom_space"]
    space = get_space(module.SPACE_NAME, channels=8, cells_per_stage=1)
    assert isinstance(space, module.NB201LiveSpace)
    assert check_space(space, n=8, seed=1) == {"samples": 16, "capabilities": 3}


def test_the_example_space_holds_exactly_the_live_cells(examples):
    space = examples["custom_space"].NB201LiveSpace()
    assert space.summary()["size"] == 15_284 and space.summary()["dead_cells_removed"] == 341
    dead = NB201Cell(("nor_conv_3x3", "nor_conv_3x3", "nor_conv_3x3", "none", "none", "none"))
    with pytest.raises(InvalidArchitecture, match="dead"):
        space.validate(dead)
    live = NB201Cell(("none", "none", "none", "skip_connect", "none", "none"))
    # its distance-1 neighbors: 5 edges x 4 other ops, plus 3 other ops on the only live edge, minus 'none' there
    assert len(space.neighbors(space.validate(live), 1)) == 5 * 4 + 3
    assert len({space.mutate(live, seed) for seed in range(200)}) > 10


def test_the_example_strategy_passes_check_strategy(examples):
    name = examples["custom_strategy"].STRATEGY_NAME
    assert strategy_metadata(name)["needs"] == ("mutate",)
    assert check_strategy(lambda space, seed: make_strategy(name, space, seed), get_space("nb201"), steps=10) == {
        "asks": 10}
    with pytest.raises(UsageError, match="mutate"):
        make_strategy(name, get_space("regnetx"), 0)  # RegNet defines no mutate
    assert make_strategy(name, get_space("nb201"), 0, t0=2.0).config()["t0"] == 2.0


def test_the_example_evaluator_passes_check_evaluator(examples):
    module = examples["custom_evaluator"]
    evaluator = EVALUATORS.get(module.EVALUATOR_NAME)(params_weight=3.0)
    cells = get_space("nb201").sample_batch(np.random.default_rng(5), 2)
    assert check_evaluator(evaluator, cells) == {"evaluations": 2}
    plain = NB201Benchmark().evaluate(cells[0], 0)
    penalized = evaluator.evaluate(cells[0], 0)
    assert penalized.objective == pytest.approx(plain.objective + 3.0 * plain.cost["params"] / 1e6)
    with pytest.raises(UsageError, match="params_weight"):
        module.ParamsPenalizedNB201(params_weight=-1.0)


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_runs_end_to_end(examples, name, capsys):
    examples[name].main()
    out = capsys.readouterr().out
    assert "passed" in out, out  # it ran its contract check
    assert re.search(r"best trial #\d+: objective \d+\.\d\d", out), out


# --- the README names only code that exists ------------------------------------------------------

def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


IMPORT_LINES = sorted({line.split("#", 1)[0].strip() for block in _python_blocks(README) for line in block.splitlines()
                       if line.strip().startswith(("from archspace", "import archspace"))})
DOTTED_PATHS = sorted(set(re.findall(r"\barchspace(?:\.[A-Za-z_]\w*)+", README)))


def test_the_readme_scan_is_not_vacuous():
    assert len(IMPORT_LINES) >= 15 and len(DOTTED_PATHS) >= 20


@pytest.mark.parametrize("line", IMPORT_LINES)
def test_every_readme_import_line_imports(line):
    exec(compile(line, "README.md", "exec"), {})  # noqa: S102 - the README's own import lines


def _resolve(dotted: str) -> Any:
    """The module or attribute a dotted path names (the longest importable module prefix, then
    attributes); ``AttributeError`` / ``ModuleNotFoundError`` when it names nothing."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        prefix = ".".join(parts[:cut])
        try:
            target: Any = importlib.import_module(prefix)
        except ModuleNotFoundError as exc:
            if exc.name is not None and prefix.startswith(exc.name):
                continue  # this prefix is not a module: try a shorter one
            raise
        for attr in parts[cut:]:
            target = getattr(target, attr)
        return target
    raise ModuleNotFoundError(dotted)


@pytest.mark.parametrize("dotted", DOTTED_PATHS)
def test_every_dotted_path_in_the_readme_exists(dotted):
    _resolve(dotted)
