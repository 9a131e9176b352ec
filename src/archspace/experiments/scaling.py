"""The scaling study: scale a base model by depth, width, resolution, pre-head resolution and
compound rules to equal cost multipliers, train every variant as one Study, compare the rules.

Python API::

    from archspace.experiments.scaling import ScalingConfig, run_scaling
    outcome = run_scaling(ScalingConfig(base="resnet8_fmnist", multipliers=(2.0, 4.0), seeds=2))
    print(outcome.report_html)

Every check runs before any training: the rules the base's family supports, multipliers below 1
for a rule that cannot shrink, an input resolution below the base's minimum, a cost a rule cannot
change. The variants (and the base) are trained with one recipe, ``seeds`` trials each, in one
Study (resumable: rerunning continues where it stopped; parallel with ``workers`` or Ray), each
trial with its measured latency, throughput and peak memory (``MeasuredCostEvaluator``) unless
``measure=False``. The report gives error vs cost per rule, the best rule at each budget with
bootstrap intervals over seeds, and optionally a cost-aware comparison against another population:
a CSV of models (e.g. timm's; ``compare_flops_unit`` converts its flops column), studies in a
database, or ``population``: ``population_n`` models of a design space sampled inside the flops
range the variants span and trained with the same recipe (and measured the same way), as a
study of its own in the same database (resumable too).
"""

from __future__ import annotations

import dataclasses
import os
import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from archspace.arch import ArchSpec
from archspace.configs import check_same_config
from archspace.errors import UsageError
from archspace.scaling.rules import RuleOptions
from archspace.scaling.solve import ScalingPlan, plan_scaling
from archspace.scaling.variants import (
    RULE_NAMES,
    InputSpec,
    check_cost_kind,
    check_multipliers,
    parse_rules,
)

# The unit of a comparison CSV's flops column: its values are multiplied by this into multiply-adds.
FLOPS_UNITS: dict[str, float] = {"1": 1.0, "K": 1e3, "M": 1e6, "G": 1e9}
# Fields that define the study's variants and training; a resumed study must match them.
DEFINING_FIELDS: tuple[str, ...] = (
    "base", "rules", "cost", "multipliers", "dataset", "epochs", "subset", "val_size", "batch_size", "lr",
    "seed", "compound_exponents", "resolution", "prehead_strategies", "upsample_mode",
)
# Defining fields added after studies were stored: a stored study without one had its default.
ADDED_FIELDS: dict[str, Any] = {"prehead_strategies": ["stride"], "upsample_mode": "nearest"}


@dataclass(frozen=True)
class ScalingConfig:
    """Every knob of a scaling study.

    base: a zoo name, a JSON spec, or the path of a JSON spec file. rules / multipliers / cost: the
    variants (cost ``flops``, ``params`` or ``latency``). dataset / epochs / subset / val_size /
    batch_size / lr / device: the one training recipe (objective = validation error in %).
    seeds: trials per variant. measure: store measured latency / throughput / memory with each
    trial; latency_batch_sizes / latency_seconds / latency_threads: how (see
    ``archspace.complexity.latency``); latency_clock: what latency targets are solved on, ``wall``
    (the latency a user sees) or ``cpu`` (process CPU time, steadier on a shared CPU). resolution: the input resolution the base runs at (default:
    the dataset's; the data are resized to it). compare_csv / compare_db + compare_studies: another
    population to compare against at equal cost; compare_flops_unit: the unit of the CSV's flops
    column (``G`` for timm's ``infer_gmacs``). population / population_n: train ``population_n``
    models of the design space ``population`` in the variants' flops range with the same recipe
    and compare against them. workers / use_ray: parallel training.
    """

    base: str = "resnet8_fmnist"
    rules: tuple[str, ...] = RULE_NAMES
    cost: str = "flops"
    multipliers: tuple[float, ...] = (2.0, 4.0)
    dataset: str = "fashion-mnist"
    data_dir: str | None = None
    resolution: int | None = None
    epochs: int = 1
    subset: int = 4000
    val_size: int = 2000
    batch_size: int = 64
    lr: float = 0.1
    seeds: int = 2
    seed: int = 0
    device: str = "cpu"
    measure: bool = True
    latency_batch_sizes: tuple[int, ...] = (1, 32)
    latency_seconds: float = 10.0
    latency_threads: int | None = 1
    latency_clock: str = "wall"
    compound_exponents: tuple[float, float, float] = (1.2, 1.1, 1.15)
    prehead_strategies: tuple[str, ...] = ("stride", "upsample")
    upsample_mode: str = "nearest"
    workers: int = 0
    use_ray: bool = False
    db: str = "scaling.db"
    study: str = "scaling"
    out: str = "scaling_report"
    reps: int = 2000
    compare_csv: tuple[str, ...] = ()
    compare_db: str | None = None
    compare_studies: tuple[str, ...] = ()
    compare_flops_unit: str = "1"
    population: str | None = None
    population_n: int = 10

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", parse_rules(self.rules))
        object.__setattr__(self, "multipliers", check_multipliers(self.multipliers))
        for name in ("latency_batch_sizes", "compound_exponents", "compare_csv", "compare_studies",
                     "prehead_strategies"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        check_cost_kind(self.cost, self.rules)
        for name, low in (("epochs", 1), ("subset", 1), ("val_size", 1), ("batch_size", 1), ("seeds", 1),
                          ("seed", 0), ("workers", 0), ("reps", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise UsageError(f"scaling field {name} must be an integer >= {low}, got {value!r}")
        if not self.lr > 0:
            raise UsageError(f"scaling field lr must be positive, got {self.lr!r}")
        if self.resolution is not None and (isinstance(self.resolution, bool) or not isinstance(self.resolution, int)
                                            or self.resolution < 1):
            raise UsageError(f"resolution must be an integer >= 1, got {self.resolution!r}")
        if self.latency_clock not in ("wall", "cpu"):
            raise UsageError(f"latency_clock must be 'wall' or 'cpu', got {self.latency_clock!r}")
        if self.compare_studies and not self.compare_db:
            raise UsageError("compare_studies need compare_db (the database holding them)")
        if self.compare_flops_unit not in FLOPS_UNITS:
            raise UsageError(f"compare_flops_unit must be one of {', '.join(FLOPS_UNITS)}, got {self.compare_flops_unit!r}")
        if isinstance(self.population_n, bool) or not isinstance(self.population_n, int) or self.population_n < 2:
            raise UsageError(f"population_n must be an integer >= 2, got {self.population_n!r}")
        if self.population is not None and self.resolution is not None:
            raise UsageError("a comparison population is trained at the dataset's resolution; leave out resolution")
        self.rule_options()  # checks the exponents and the pre-head strategies now

    def rule_options(self) -> RuleOptions:
        return RuleOptions(compound_exponents=self.compound_exponents, prehead_strategies=self.prehead_strategies,
                           upsample_mode=self.upsample_mode)

    @property
    def cost_kind(self) -> str:
        return check_cost_kind(self.cost, self.rules)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for name in ("rules", "multipliers", "latency_batch_sizes", "compound_exponents", "compare_csv",
                     "compare_studies", "prehead_strategies"):
            data[name] = list(data[name])
        return data

    def replace(self, **changes: Any) -> ScalingConfig:
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise UsageError(f"unknown scaling field(s) {sorted(unknown)}")
        return dataclasses.replace(self, **changes)


@dataclass
class ScalingOutcome:
    """What a run produced: the plan, the study, its wall time and the report files."""

    plan: ScalingPlan
    study: str
    seconds: float
    report_html: Path
    summary_json: Path
    summary: dict[str, Any] = field(default_factory=dict)


# --- set-up (all checks, no training) ----------------------------------------------------------

def resolve_base(text: str) -> ArchSpec:
    from archspace.spaces.registry import resolve_arch

    return resolve_arch(text)


def input_of(config: ScalingConfig) -> InputSpec:
    """The input the variants are costed on: the dataset's shape (resolution overridable)."""
    from archspace.data.inputs import dataset_input

    shape = dataset_input(config.dataset)
    return InputSpec(config.resolution or shape.resolution, shape.channels, shape.classes)


def measure_function(config: ScalingConfig) -> Any:
    """``arch -> latency ms`` at batch ``latency_batch_sizes[0]`` (wall or CPU clock), to solve latency targets."""
    from archspace.complexity.latency import measure_cost

    spec = input_of(config)

    def measure(arch: ArchSpec) -> float:
        result = measure_cost(arch, config.device, batch_sizes=config.latency_batch_sizes[:1],
                              input_shape=(spec.in_channels, spec.resolution, spec.resolution),
                              num_classes=spec.num_classes, max_seconds=config.latency_seconds,
                              threads=config.latency_threads)
        return result.latency_ms if config.latency_clock == "wall" else result.timings[0].cpu_median_ms

    return measure


def make_plan(config: ScalingConfig) -> ScalingPlan:
    """The variants of every rule and multiplier (raises UsageError on bad input before any work)."""
    base = resolve_base(config.base)
    measure = measure_function(config) if config.cost_kind == "latency_ms" else None
    plan = plan_scaling(base, config.rules, config.multipliers, input_of(config), config.cost_kind,
                        options=config.rule_options(), measure=measure)
    if config.resolution is not None:
        plan = _at_resolution(plan, config.resolution)
    return plan


def _at_resolution(plan: ScalingPlan, resolution: int) -> ScalingPlan:
    """Wrap every plain spec of the plan in a ResizedInput at the configured base resolution."""
    from archspace.families.resized import ResizedInput

    def wrap(variant: Any) -> Any:
        if isinstance(variant.arch, ResizedInput):
            return variant
        return dataclasses.replace(variant, arch=ResizedInput(variant.arch, resolution))

    return dataclasses.replace(plan, base=wrap(plan.base), variants=[wrap(v) for v in plan.variants])


def make_evaluator(config: ScalingConfig) -> Any:
    """The training evaluator (with measured cost unless ``measure`` is off); data checked now."""
    from archspace.evaluators.measured import MeasuredCostEvaluator
    from archspace.evaluators.training import TrainingEvaluator
    from archspace.train.recipe import Recipe

    recipe = Recipe(epochs=config.epochs, subset=config.subset, batch_size=config.batch_size, lr=config.lr)
    trainer = TrainingEvaluator(config.dataset, recipe=recipe, device=config.device, data_dir=config.data_dir,
                                val_size=config.val_size, split_seed=config.seed, keep_predictions=False,
                                test_split="none")
    trainer.load()  # missing data files fail now, before any training
    if not config.measure:
        return trainer
    return MeasuredCostEvaluator(trainer, device=config.device, batch_sizes=config.latency_batch_sizes,
                                 max_seconds=config.latency_seconds, threads=config.latency_threads)


def study_config(config: ScalingConfig, plan: ScalingPlan) -> dict[str, Any]:
    """What the study stores: the defining fields (checked on resume) and the solved plan itself."""
    data = config.to_dict()
    return {"kind": "scaling", **{k: data[k] for k in DEFINING_FIELDS}, "variants": len(plan.unique_archs()),
            "plan": plan.to_dict()}


def stored_plan(config: ScalingConfig) -> ScalingPlan | None:
    """The plan a resumable study of this name already holds (None when there is none yet)."""
    from archspace.errors import StorageError
    from archspace.study import Study

    if not Path(config.db).is_file():
        return None
    try:
        study = Study.load(config.study, config.db)
    except (StorageError, UsageError):
        return None
    check_resumable(study.config, {k: config.to_dict()[k] for k in DEFINING_FIELDS} | {"kind": "scaling"},
                    config.study)
    stored = study.config.get("plan")
    study.storage.close()
    return None if stored is None else ScalingPlan.from_dict(stored)


def check_resumable(stored: Mapping[str, Any], wanted: Mapping[str, Any], name: str) -> None:
    if stored.get("kind") != "scaling":
        raise UsageError(f"study {name!r} already exists in this database and was not made by scale; "
                         "use another --db or --study")
    check_same_config({k: stored.get(k, ADDED_FIELDS.get(k)) for k in DEFINING_FIELDS},
                      {k: wanted[k] for k in DEFINING_FIELDS}, f"scaling study {name!r} in this database")


def check_comparison(config: ScalingConfig) -> None:
    for path in config.compare_csv:
        if not Path(path).is_file():
            raise UsageError(f"comparison CSV not found: {path}")
    if config.compare_db and not Path(config.compare_db).is_file():
        raise UsageError(f"comparison database not found: {config.compare_db}")
    if config.population:
        from archspace.spaces.registry import get_space

        get_space(config.population)  # an unknown space name fails now, naming the known ones


# --- run ---------------------------------------------------------------------------------------

def run_scaling(config: ScalingConfig, progress: bool = True) -> ScalingOutcome:
    """Plan, train every variant ``seeds`` times as one Study (resumable), write the report."""
    from archspace.search.fixed import FixedList
    from archspace.study import Study, make_executor

    check_comparison(config)
    plan = stored_plan(config) or make_plan(config)
    evaluator = make_evaluator(config)
    population = population_strategy(config, plan) if config.population else None  # empty range: fails now
    archs = plan.unique_archs()
    study = Study.create(config.study, config.db, seed=config.seed, config=study_config(config, plan),
                         load_if_exists=True)
    check_resumable(study.config, study_config(config, plan), config.study)
    started = time.perf_counter()
    executor = make_executor(workers=config.workers or None, use_ray=config.use_ray)
    study.optimize(FixedList(archs, repeats=config.seeds), evaluator, len(archs) * config.seeds,
                   executor=executor, progress=progress)
    if population is not None:
        train_population(config, plan, evaluator, progress, population)
    seconds = time.perf_counter() - started
    return write_scaling_report(config, plan, seconds)


def population_study(config: ScalingConfig) -> str:
    """The name of the comparison population's study (in the scaling study's database)."""
    return f"{config.study}-population-{config.population}"


def population_strategy(config: ScalingConfig, plan: ScalingPlan) -> Any:
    """``population_n`` distinct models of ``population`` inside the variants' flops range (drawn now,
    so an empty range fails before training). AnyNet/RegNet spaces get ``study run``'s small-input stem."""
    from archspace.experiments.population import (
        SMALL_INPUT,
        SMALL_INPUT_STEM,
        SMALL_INPUT_STEM_WIDTH,
    )
    from archspace.search.population import PopulationStrategy
    from archspace.spaces.base import Regime
    from archspace.spaces.registry import get_space

    space = get_space(config.population)
    if space.arch_class.kind == "anynet" and plan.input_spec.resolution < SMALL_INPUT:
        space = get_space(config.population, stem=SMALL_INPUT_STEM, stem_width=SMALL_INPUT_STEM_WIDTH)
    return PopulationStrategy(space, config.population_n, Regime(flops=population_range(plan)), seed=config.seed,
                              complexity_kwargs=plan.input_spec.as_kwargs())


def population_range(plan: ScalingPlan) -> tuple[float, float]:
    """The flops range the base and the variants span."""
    flops = [v.cost["flops"] for v in (plan.base, *plan.variants)]
    return min(flops), max(flops)


def train_population(config: ScalingConfig, plan: ScalingPlan, evaluator: Any, progress: bool = True,
                     strategy: Any = None) -> str:
    """Train the comparison population with the variants' evaluator (same recipe, same measurement)."""
    from archspace.study import Study, make_executor

    strategy = strategy or population_strategy(config, plan)
    name = population_study(config)
    low, high = population_range(plan)
    data = config.to_dict()
    wanted = {"kind": "scaling-population", "space": config.population, "n": config.population_n,
              "flops": [low, high], **{k: data[k] for k in DEFINING_FIELDS if k not in ("rules", "cost", "multipliers")}}
    study = Study.create(name, config.db, seed=config.seed, config=wanted, load_if_exists=True)
    check_same_config(dict(study.config), wanted, f"comparison population {name!r} in this database")
    study.optimize(strategy, evaluator, config.population_n, executor=make_executor(workers=config.workers or None,
                                                                                   use_ray=config.use_ray),
                   progress=progress)
    return name


def write_scaling_report(config: ScalingConfig, plan: ScalingPlan, seconds: float | None = None) -> ScalingOutcome:
    """The report of the stored study: error vs cost per rule, best rule per budget, comparison."""
    from archspace.report.scaling import write_scaling_report as write

    table = load_table(config)
    other = load_comparison(config)
    paths, summary = write(table, plan, Path(config.out), title=f"Scaling {config.base} on {config.dataset}",
                           notes=report_notes(config, plan, seconds), reps=config.reps, seed=config.seed,
                           comparison_table=other)
    return ScalingOutcome(plan, config.study, seconds or 0.0, paths["html"], paths["summary"], summary)


def load_table(config: ScalingConfig) -> Any:
    from archspace.analysis.table import load_studies

    return load_studies([config.study], config.db)


def load_comparison(config: ScalingConfig) -> Any:
    """The other population(s): CSV files joined timm-style (flops converted by ``compare_flops_unit``),
    studies of ``compare_db``, and the trained ``population``, one table; None when there is none."""
    import pandas as pd

    from archspace.analysis.table import load_csv, load_studies

    tables = []
    if config.compare_csv:
        paths = list(config.compare_csv)
        table = load_csv(paths[0]) if len(paths) == 1 else load_csv(paths, join_on="model", key_before=".")
        if "flops" in table.columns:
            table["flops"] = table["flops"] * FLOPS_UNITS[config.compare_flops_unit]
        tables.append(table)
    if config.compare_db:
        tables.append(load_studies(list(config.compare_studies), config.compare_db))
    if config.population:
        table = load_studies([population_study(config)], config.db)
        table["group"] = config.population
        tables.append(table)
    if not tables:
        return None
    return tables[0] if len(tables) == 1 else pd.concat(tables, ignore_index=True)


def report_notes(config: ScalingConfig, plan: ScalingPlan, seconds: float | None) -> dict[str, str]:
    import torch

    return {
        "command": scale_command(config),
        "base": f"{config.base}: {plan.base.cost['flops'] / 1e6:.3g} M flops, {plan.base.cost['params'] / 1e3:.3g} k "
                f"params at {plan.input_spec.resolution}x{plan.input_spec.resolution}",
        "recipe": (f"{config.epochs} epoch(s) on {config.subset} training images, batch {config.batch_size}, "
                   f"lr {config.lr:g} (cosine); objective = error % on {config.val_size} held-out images; "
                   f"{config.seeds} seed(s) per variant"),
        "cost": ("flops = multiply-adds of conv and linear layers; params include BatchNorm affine weights; "
                 f"variants solved for {plan.cost_kind} multipliers {', '.join(f'{m:g}' for m in plan.multipliers)}"),
        "latency": (f"measured at batch {config.latency_batch_sizes[0]} on {config.device} "
                    f"({config.latency_threads or 'all'} thread(s)), median of timed runs within "
                    f"{config.latency_seconds:g} s per model; on a shared machine it is noisy (spread reported)"
                    if config.measure else "not measured"),
        "machine": (f"{platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}, "
                    f"Python {platform.python_version()}"),
        "wall time": f"{seconds:.0f} s" if seconds is not None else "(report only)",
    }


def scale_command(config: ScalingConfig) -> str:
    """The ``archspace scale`` line that reproduces ``config``."""
    default = ScalingConfig()
    parts = ["archspace scale", config.base]
    flags = {"rules": "--rules", "cost": "--cost", "multipliers": "--multipliers", "dataset": "--dataset",
             "epochs": "--epochs", "subset": "--subset", "val_size": "--val-size", "batch_size": "--batch-size",
             "lr": "--lr", "seeds": "--seeds", "seed": "--seed", "device": "--device", "resolution": "--resolution",
             "latency_seconds": "--latency-seconds", "latency_threads": "--latency-threads",
             "latency_clock": "--latency-clock", "prehead_strategies": "--prehead", "upsample_mode": "--upsample-mode",
             "workers": "--workers", "db": "--db", "study": "--study", "out": "--out", "reps": "--reps"}
    for name, flag in flags.items():
        value, base = getattr(config, name), getattr(default, name)
        if value == base and name not in ("rules", "multipliers", "dataset", "db", "out"):
            continue
        if isinstance(value, tuple):
            value = ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
        parts.append(f"{flag} {value}")
    if not config.measure:
        parts.append("--no-measure")
    for path in config.compare_csv:
        parts.append(f"--compare-csv {path}")
    if config.compare_flops_unit != default.compare_flops_unit:
        parts.append(f"--compare-flops-unit {config.compare_flops_unit}")
    if config.compare_db:
        parts.append(f"--compare-db {config.compare_db}")
    for name in config.compare_studies:
        parts.append(f"--compare-study {name}")
    if config.population:
        parts.append(f"--population {config.population}:{config.population_n}")
    return " ".join(parts)
