"""NAS inside a network space under a FLOPs budget, measured (the error column of supplement Table 1).

The analytic table (``archspace.nss.table``) gives the samples NAS needs until a network meets the
budget flops <= T and that network's deviation Delta from T, for uniform sampling, without
training. This module runs the NAS for real and adds the error of what it finds:

1. random search draws architectures uniformly from the space, one at a time (seeded), and costs
   each one exactly (the family's analytic flops at the dataset's input size); a draw over the
   budget is discarded without training;
2. the first ``trained`` distinct networks within the budget are trained in a Study (strategy
   ``FixedList``, the ``TrainingEvaluator`` with the given short recipe, every trial seeded by the
   study; so a rerun resumes it);
3. the NAS returns the candidate with the lowest validation error; its test error is the error
   column. ``samples_to_satisfy`` is the draw at which the first in-budget network appeared (the
   table's samples column, measured), ``draws`` the draws for all ``trained`` candidates.

The same config with another ``space`` (an Elite Space, the expanded space) is the same search
with the same budget of trained networks. ``summarize_nas`` averages runs over seeds, beside the
exact expectation of the samples and Delta (``budget_stats``).

Python API::

    from archspace.nss.nas import NASConfig, run_nas
    result = run_nas(NASConfig("nss:d2-2w1-4_d1-1w5-8_d2-2w13-16", "949365:1017507", seed=0), "runs/nas.db",
                     "elite-s1-seed0")
    result["best"]["test_error"], result["samples_to_satisfy"]
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from archspace.errors import UsageError
from archspace.nss.distribution import FlopsLookup, InputSpec, flops_below
from archspace.nss.regimes import DEFAULT_TOLERANCE, FlopsRegime, parse_regime
from archspace.spaces.nss import NSSSpace

NAS_SEED_SALT = 1604  # mixed into the draw seed, so NAS draws differ from a population's with the same seed


@dataclass(frozen=True)
class NASConfig:
    """One FLOPs-constrained random search inside an NSS network space, with its training recipe.

    space: ``nss:<space-id>`` (an Elite Space, or the (reduced) expanded space written as an id).
    flops: the regime, a target (``400M``: band [(1 - tolerance) T, T]) or ``LO:HI``; the NAS
    constraint is flops <= its upper end. trained: in-budget candidates trained (the NAS's
    budget). seed: the draws and the study's trial seeds. dataset / epochs / subset / device /
    data_dir / threads: the training recipe and where it runs. max_draws: give up (one line) when
    this many draws have not produced ``trained`` distinct in-budget networks.
    """

    space: str
    flops: str
    trained: int = 3
    seed: int = 0
    dataset: str = "fashion-mnist"
    epochs: int = 4
    subset: int | None = 10_000
    tolerance: float = DEFAULT_TOLERANCE
    device: str = "cpu"
    data_dir: str | None = None
    threads: int = 1
    max_draws: int = 100_000

    def __post_init__(self) -> None:
        for name, minimum in (("trained", 1), ("epochs", 1), ("max_draws", 1), ("threads", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise UsageError(f"NAS setting {name} must be an integer >= {minimum}, got {value!r}")
        if self.subset is not None and (isinstance(self.subset, bool) or not isinstance(self.subset, int)
                                        or self.subset < 1):
            raise UsageError(f"NAS setting subset must be an integer >= 1 or None, got {self.subset!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class NASPlan:
    """A checked config: the space, the regime, the input flops are counted at, and the draws."""

    config: NASConfig
    space: NSSSpace
    regime: FlopsRegime
    inputs: InputSpec
    archs: tuple[Any, ...]
    draw_index: tuple[int, ...]  # 1-based draw at which each candidate appeared
    flops: tuple[int, ...]
    draws: int

    @property
    def budget(self) -> float:
        return self.regime.high


def nss_space_named(name: str) -> NSSSpace:
    """The NSS network space ``name`` (``nss`` or ``nss:<space-id>``); ``UsageError`` for any other space."""
    from archspace.spaces.registry import get_space

    space = get_space(name)
    if not isinstance(space, NSSSpace):
        raise UsageError(f"NAS inside network spaces takes an NSS space (nss or nss:<space-id>), not {name!r}")
    return space


def plan_nas(config: NASConfig) -> NASPlan:
    """Every check, then the seeded draws (no data read, nothing trained)."""
    from archspace.data.inputs import dataset_input

    space = nss_space_named(config.space)
    regime = parse_regime(config.flops, config.tolerance)
    found = dataset_input(config.dataset)
    inputs = InputSpec(found.resolution, found.classes, found.channels)
    below = flops_below(space, [regime.high], inputs)
    within = int(below.counts[0])
    if within == 0:
        raise UsageError(f"no network of space {space.name} meets the budget flops <= {regime.high:.4g} of regime "
                         f"{regime.name}; its flops range is {below.min:.4g}..{below.max:.4g} at "
                         f"{inputs.resolution}x{inputs.resolution}")
    if config.trained > within:
        raise UsageError(f"trained = {config.trained} is more than the {within} networks of space {space.name} "
                         f"within the budget flops <= {regime.high:.4g}")
    archs, index, flops, draws = _draw_candidates(space, regime.high, inputs, config)
    return NASPlan(config, space, regime, inputs, archs, index, flops, draws)


def _draw_candidates(space: NSSSpace, budget: float, inputs: InputSpec, config: NASConfig):  # noqa: ANN202
    lookup = FlopsLookup.build(int(space.bounds()[:, 1, 1].max()), space.family.stem_width, inputs)
    rng = np.random.default_rng([config.seed, NAS_SEED_SALT])
    archs, index, flops, seen = [], [], [], set()
    for draw in range(1, config.max_draws + 1):
        arch = space.sample(rng)
        cost = int(lookup.flops(np.array(arch.depths), np.array(arch.widths)))
        if cost <= budget and arch not in seen:
            seen.add(arch)
            archs.append(arch)
            index.append(draw)
            flops.append(cost)
            if len(archs) == config.trained:
                return tuple(archs), tuple(index), tuple(flops), draw
    raise UsageError(f"{config.max_draws} draws from {space.name} gave {len(archs)} of {config.trained} distinct "
                     f"networks within flops <= {budget:.4g}; raise max_draws or train fewer")


def run_nas(config: NASConfig, storage: Any, name: str, progress: bool = True) -> dict[str, Any]:
    """Run (or resume) the NAS ``config`` as study ``name`` in ``storage``; returns its result."""
    from archspace.configs import check_same_config
    from archspace.evaluators.training import TrainingEvaluator
    from archspace.search.fixed import FixedList
    from archspace.study import Study
    from archspace.train.recipe import Recipe

    plan = plan_nas(config)
    recipe = Recipe(epochs=config.epochs, subset=config.subset)
    evaluator = TrainingEvaluator(config.dataset, recipe=recipe, device=config.device, data_dir=config.data_dir,
                                  space=plan.space.name, threads=config.threads)
    evaluator.load()  # missing or corrupt data is reported before the study is created
    stored = {"nss_nas": config.to_dict()}
    study = Study.create(name, storage, seed=config.seed, config=stored, load_if_exists=True)
    check_same_config(study.config, stored, f"NAS study {name!r}")
    study.optimize(FixedList(list(plan.archs)), evaluator, len(plan.archs), progress=progress)
    return nas_result(plan, study.trials(), name)


def nas_result(plan: NASPlan, trials: Sequence[Any], name: str) -> dict[str, Any]:
    """The NAS outcome from the study's trials (in proposal order: trial k is candidate k)."""
    from archspace.nss.table import budget_stats

    by_number = sorted(trials, key=lambda t: t.number)
    candidates = []
    for arch, draw, flops, trial in zip(plan.archs, plan.draw_index, plan.flops, by_number, strict=False):
        candidates.append({
            "arch": arch.to_dict(), "draw": draw, "flops": flops,
            "delta_percent": 100.0 * (1.0 - flops / plan.budget), "state": trial.state,
            "val_error": trial.metrics.get("val_error"), "test_error": trial.metrics.get("test_error"),
            "train_seconds": trial.cost.get("train_seconds"),
        })
    done = [c for c in candidates if c["state"] == "complete" and c["val_error"] is not None]
    best = min(done, key=lambda c: c["val_error"]) if done else None
    analytic = budget_stats(plan.space, plan.regime, plan.inputs)
    return {
        "name": name, "space": plan.space.name, "size": plan.space.size, "regime": plan.regime.to_dict(),
        "budget": plan.budget, "seed": plan.config.seed, "config": plan.config.to_dict(),
        "inputs": dataclasses.asdict(plan.inputs),
        "samples_to_satisfy": plan.draw_index[0], "draws": plan.draws, "trained": len(plan.archs),
        "analytic": analytic.to_dict(), "candidates": candidates, "first": candidates[0] if candidates else None,
        "best": best,
    }


def summarize_nas(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (regime, space): means over seeds of samples to satisfy, Delta % and test error
    of the network the NAS returns (and of the first in-budget network), beside the exact
    expectation of the samples and Delta of uniform sampling."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["regime"]["name"], r["space"]), []).append(r)
    rows = []
    for (regime, space), runs in groups.items():
        done = [r for r in runs if r["best"] is not None]
        rows.append({
            "regime": regime, "space": space, "seeds": sorted(r["seed"] for r in runs), "runs": len(runs),
            "complete": len(done), "trained_per_run": runs[0]["trained"],
            "samples_to_satisfy": _mean([r["samples_to_satisfy"] for r in runs]),
            "draws_per_candidate": _mean([r["draws"] / r["trained"] for r in runs]),
            "expected_samples": runs[0]["analytic"]["expected_samples"],
            "expected_delta_percent": runs[0]["analytic"]["delta_percent"],
            "delta_percent": _mean([r["best"]["delta_percent"] for r in done]),
            "test_error": _mean([r["best"]["test_error"] for r in done]),
            "test_error_sd": _sd([r["best"]["test_error"] for r in done]),
            "val_error": _mean([r["best"]["val_error"] for r in done]),
            "first_delta_percent": _mean([r["first"]["delta_percent"] for r in runs]),
            "first_test_error": _mean([r["first"]["test_error"] for r in runs if r["first"]["test_error"] is not None]),
        })
    return rows


def _mean(values: Sequence[float]) -> float | None:
    values = [float(v) for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _sd(values: Sequence[float]) -> float | None:
    values = [float(v) for v in values if v is not None]
    return float(np.std(values, ddof=1)) if len(values) > 1 else None


def nan_free(value: Any) -> Any:
    """``value`` with non-finite floats as None (strict JSON)."""
    if isinstance(value, dict):
        return {k: nan_free(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [nan_free(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
