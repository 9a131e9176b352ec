"""Peer adapters: each peer at its library's defaults, through its own API, exactly as its own
loop would run it; every constructor argument recorded; a missing package is one clear line."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from archspace.bench.nb201 import NB201Table
from archspace.errors import UsageError
from archspace.evaluation import Result
from archspace.families.nb201.index import benchmark_index_of
from archspace.families.nb201.spec import NB201Cell
from archspace.search.registry import STRATEGIES, make_strategy, strategy_metadata
from archspace.spaces.nb201 import NB201Space

PEERS = ("tpe", "optuna-gp", "optuna-gp-deterministic", "hyperopt-tpe", "smac-bb", "smac-hpo")
VALID = NB201Table.load().column("cifar10_valid_200")


def _objective(ops: tuple[str, ...]) -> float:
    return float(100.0 - VALID[benchmark_index_of(NB201Cell(ops))])


def _drive(name: str, space: NB201Space, steps: int, seed: int = 3, **options) -> list[tuple[str, ...]]:
    strategy = make_strategy(name, space, seed, **options)
    proposals = []
    for _ in range(steps):
        arch = strategy.ask()
        strategy.tell(arch, Result(objective=_objective(arch.ops)))
        proposals.append(arch.ops)
    return proposals


def test_every_peer_is_registered_as_a_peer_with_its_extra() -> None:
    for name in PEERS:
        entry = STRATEGIES.entry(name)
        assert entry.get("peer") is True and entry.get("extra") == "peers"
        assert strategy_metadata(name)["requires"]
    assert not STRATEGIES.entry("iso-bo").get("peer", False)


def test_tpe_is_optunas_own_default_loop() -> None:
    """The adapter proposes exactly what ``study.optimize`` with ``TPESampler(seed=s)`` evaluates."""
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = NB201Space()
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=3))
    study.optimize(lambda t: _objective(tuple(t.suggest_categorical(f"edge_{i}", space.ops) for i in range(6))),
                   n_trials=30)
    raw = [tuple(t.params[f"edge_{i}"] for i in range(6)) for t in study.trials]
    assert _drive("tpe", space, 30) == raw


def test_hyperopt_tpe_is_hyperopts_own_fmin_loop() -> None:
    """Past the 20 startup jobs too: the same proposals as ``fmin(..., rstate=default_rng(s))``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hyperopt = pytest.importorskip("hyperopt")
    space = NB201Space(ops=("none", "skip_connect", "nor_conv_3x3", "avg_pool_3x3"))
    trials = hyperopt.Trials()
    choices = {f"edge_{i}": hyperopt.hp.choice(f"edge_{i}", list(space.ops)) for i in range(6)}
    hyperopt.fmin(lambda p: _objective(tuple(p[f"edge_{i}"] for i in range(6))), choices,
                  algo=hyperopt.tpe.suggest, max_evals=26, trials=trials, rstate=np.random.default_rng(3),
                  show_progressbar=False)
    raw = [tuple(space.ops[t["misc"]["vals"][f"edge_{i}"][0]] for i in range(6)) for t in trials.trials]
    assert _drive("hyperopt-tpe", space, 26) == raw


def test_configs_record_every_peer_argument_at_the_library_default() -> None:
    pytest.importorskip("optuna")
    space = NB201Space()
    tpe = make_strategy("tpe", space, 5).config()
    arguments = tpe["peer"]["arguments"]
    assert tpe["peer"]["class"] == "optuna.samplers.TPESampler" and tpe["peer"]["version"]
    assert arguments["seed"] == 5 and arguments["multivariate"] is None  # Optuna's default, not False
    assert arguments["n_startup_trials"] == 10 and arguments["n_ei_candidates"] == 24
    assert set(arguments) >= {"consider_prior", "prior_weight", "gamma", "weights", "group", "constant_liar"}
    gp = make_strategy("optuna-gp-deterministic", space, 5).config()["peer"]["arguments"]
    assert gp["deterministic_objective"] is True and gp["n_startup_trials"] == 10
    assert make_strategy("optuna-gp", space, 5).config()["peer"]["arguments"]["deterministic_objective"] is False
    json.dumps(tpe)


def test_hyperopt_and_smac_configs_and_smac_proposals() -> None:
    pytest.importorskip("smac")
    space = NB201Space(ops=("skip_connect", "nor_conv_1x1", "nor_conv_3x3"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hyper = make_strategy("hyperopt-tpe", space, 1).config()["peer"]
    assert hyper["arguments"]["n_startup_jobs"] == 20 and hyper["arguments"]["gamma"] == 0.25
    strategy = make_strategy("smac-hpo", space, 1, n_trials=40)
    smac = strategy.config()
    assert smac["n_trials"] == 40 and smac["peer"]["class"] == "smac.HyperparameterOptimizationFacade"
    scenario = smac["peer"]["scenario"]
    assert scenario["n_trials"] == 40 and scenario["seed"] == 1 and scenario["deterministic"] is False
    json.dumps(smac)
    for _ in range(3):  # proposals through SMAC's ask/tell are cells of the masked space
        arch = strategy.ask()
        assert all(op in space.ops for op in arch.ops)
        strategy.tell(arch, Result(objective=_objective(arch.ops)))
    assert len(strategy.history) == 3


def test_peers_refuse_a_space_without_edge_ops() -> None:
    from archspace.spaces.registry import get_space

    with pytest.raises(UsageError, match="needs a cell space with per-edge ops"):
        make_strategy("tpe", get_space("regnetx"), 0)


def test_a_missing_peer_package_is_one_line_naming_the_extra(tmp_path) -> None:
    """hyperopt hidden from the import system: the CLI prints one line naming archspace[peers]."""
    script = textwrap.dedent("""
        import importlib.abc, sys
        class Hide(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "hyperopt" or name.startswith("hyperopt."):
                    raise ModuleNotFoundError(name)
                return None
        sys.meta_path.insert(0, Hide())
        from archspace.search.peers.base import require_package
        from archspace.errors import UsageError
        try:
            require_package("hyperopt", "hyperopt-tpe")
        except UsageError as exc:
            print("API:", exc)
        from archspace.registry import Registry
        from archspace.search.registry import STRATEGIES
        from archspace.search.random_search import RandomSearch
        STRATEGIES.register("needs-nothing-installed", requires=("no_such_package_here",), extra="peers")(
            type("Needy", (RandomSearch,), {"name": "needs-nothing-installed"}))
        from archspace.cli import main
        sys.exit(main(["bench", "nb201", "--algorithms", "rs,needs-nothing-installed", "--runs", "1"]))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "API: search algorithm 'hyperopt-tpe' needs hyperopt: pip install 'archspace[peers]'" in result.stdout
    assert result.stderr.count("\n") == 1
    assert "needs no_such_package_here: pip install 'archspace[peers]'" in result.stderr
