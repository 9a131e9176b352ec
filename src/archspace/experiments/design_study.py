"""The design-space study: the method of *Designing Network Design Spaces* at CPU scale.

Sample ``n`` models from each design space (AnyNetX_A, B, C, D, E, then RegNetX) inside one
low-flop regime, train each with the same short recipe on Fashion-MNIST, keep every trial in one
SQLite database (one study per space), and write a report that compares the spaces' error EDFs,
the bootstrap trends of depth, b, g, w_last and e_fit, and the design-space summary table.

Python API::

    from archspace.experiments.design_study import DesignStudyConfig, run_design_study
    outcome = run_design_study(DesignStudyConfig(n=8, epochs=2))
    print(outcome.report_html)

Everything is resumable: rerunning with the same configuration continues each study where it
stopped (a larger ``n`` grows every population), then rewrites the report. The paper's spaces
use a stride-2 ImageNet stem; on 28 x 28 images the study swaps in a stride-1 CIFAR-style stem
(``stem`` / ``stem_width``) so four stride-2 stages still fit the input.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from archspace.configs import check_same_config
from archspace.errors import UsageError
from archspace.parsing import parse_list, parse_range
from archspace.spaces.base import Regime, Space

DEFAULT_SPACES: tuple[str, ...] = ("anynetx_a", "anynetx_b", "anynetx_c", "anynetx_d", "anynetx_e", "regnetx")
# Config fields that define a study's population and training; a resumed study must match them.
DEFINING_FIELDS: tuple[str, ...] = (
    "flops", "epochs", "subset", "val_size", "batch_size", "lr", "dataset", "stem", "stem_width", "seed",
)
STATISTICS: tuple[str, ...] = ("depth", "b", "g", "e_fit", "w_last", "flops")


@dataclass(frozen=True)
class DesignStudyConfig:
    """Every knob of a design study (YAML fields have the same names).

    n: models per design space. flops: the regime as (low, high) multiply-adds per image.
    spaces: registered design-space names, compared in this order. epochs / subset / val_size /
    batch_size / lr: the short training recipe (subset = training images drawn per model;
    val_size = held-out validation images; the objective is validation error in %).
    workers: local worker processes (0 = train in this process). db: the study database.
    out: report folder. prefix: prepended to each space name to form its study name.
    stem / stem_width: the stem every sampled model gets (see the module docstring).
    reps: bootstrap repetitions of the report.
    """

    n: int = 32
    flops: tuple[float, float] = (1e6, 4e6)
    spaces: tuple[str, ...] = DEFAULT_SPACES
    epochs: int = 1
    subset: int = 6000
    val_size: int = 2000
    batch_size: int = 64
    lr: float = 0.1
    dataset: str = "fashion-mnist"
    data_dir: str | None = None
    workers: int = 2
    db: str = "design_study.db"
    out: str = "design_study_report"
    prefix: str = ""
    stem: str = "res_stem_cifar"
    stem_width: int = 16
    seed: int = 0
    device: str = "cpu"
    reps: int = 10_000

    def __post_init__(self) -> None:
        object.__setattr__(self, "flops", tuple(float(v) for v in self.flops))
        object.__setattr__(self, "spaces", tuple(self.spaces))
        self.validate()

    def validate(self) -> None:
        """Raise ``UsageError`` naming the first field outside its allowed range."""
        _check(isinstance(self.n, int) and self.n >= 2, "n", self.n, "an integer >= 2 (an EDF needs a population)")
        low, high = self.flops if len(self.flops) == 2 else (-1.0, -2.0)
        _check(0 < low <= high, "flops", self.flops, "a range LO:HI with 0 < LO <= HI")
        _check(len(self.spaces) >= 1 and len(set(self.spaces)) == len(self.spaces), "spaces", self.spaces,
               "one or more distinct space names")
        _check(isinstance(self.epochs, int) and self.epochs >= 1, "epochs", self.epochs, "an integer >= 1")
        _check(isinstance(self.subset, int) and self.subset >= 1, "subset", self.subset, "an integer >= 1")
        _check(isinstance(self.val_size, int) and self.val_size >= 1, "val_size", self.val_size, "an integer >= 1")
        _check(isinstance(self.batch_size, int) and self.batch_size >= 1, "batch_size", self.batch_size, "an integer >= 1")
        _check(self.lr > 0, "lr", self.lr, "a positive number")
        _check(isinstance(self.workers, int) and self.workers >= 0, "workers", self.workers, "an integer >= 0")
        _check(isinstance(self.stem_width, int) and self.stem_width >= 1, "stem_width", self.stem_width, "an integer >= 1")
        _check(isinstance(self.seed, int) and self.seed >= 0, "seed", self.seed, "an integer >= 0")
        _check(isinstance(self.reps, int) and self.reps >= 1, "reps", self.reps, "an integer >= 1")

    def replace(self, **changes: Any) -> DesignStudyConfig:
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise UsageError(f"unknown design-study field(s) {sorted(unknown)}; known: {field_names()}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["flops"] = list(self.flops)
        data["spaces"] = list(self.spaces)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DesignStudyConfig:
        """Build from a mapping (YAML); ``flops`` may be ``"1M:4M"`` or ``[1e6, 4e6]``."""
        if not isinstance(data, Mapping):
            raise UsageError(f"a design-study config must be a mapping of field: value, got {type(data).__name__}")
        unknown = sorted(set(data) - set(field_names()))
        if unknown:
            raise UsageError(f"unknown design-study field(s) {unknown}; known: {field_names()}")
        values = dict(data)
        if isinstance(values.get("flops"), str):
            values["flops"] = parse_flops(values["flops"])
        if isinstance(values.get("spaces"), str):
            values["spaces"] = parse_spaces(values["spaces"])
        try:
            return cls(**values)
        except TypeError as exc:
            raise UsageError(f"design-study config: {exc}") from None

    @classmethod
    def load(cls, path: str | Path) -> DesignStudyConfig:
        path = Path(path)
        if not path.is_file():
            raise UsageError(f"design-study config file not found: {path}")
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise UsageError(f"{path} is not valid YAML: {exc}") from None
        return cls.from_dict(data or {})

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def study_name(self, space: str) -> str:
        return f"{self.prefix}{space}"


@dataclass
class DesignStudyOutcome:
    """What a run produced: study names, per-space wall time, and the report files."""

    studies: dict[str, str]
    seconds: dict[str, float]
    report_html: Path
    summary_json: Path
    summary_table: list[dict[str, Any]] = field(default_factory=list)


def run_design_study(config: DesignStudyConfig, progress: bool = True) -> DesignStudyOutcome:
    """Sample, train and store every space's population, then write the comparison report."""
    from archspace.search.population import PopulationStrategy
    from archspace.study import Study, make_executor

    evaluator, inputs = make_evaluator(config)  # missing data is reported before any work
    spaces = {name: small_input_space(name, config) for name in config.spaces}
    regime = Regime(flops=config.flops)
    # Draw every population first: an empty regime fails now, not after hours of training.
    strategies = {name: PopulationStrategy(space, config.n, regime, seed=config.seed, complexity_kwargs=inputs)
                  for name, space in spaces.items()}
    studies: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for name, strategy in strategies.items():
        study_name = config.study_name(name)
        study = Study.create(study_name, config.db, seed=config.seed, config=study_config(config, name),
                             load_if_exists=True)
        check_resumable(study.config, study_config(config, name), study_name)
        started, finished_before = time.perf_counter(), study.summary().finished
        executor = make_executor(workers=config.workers or None)
        study.optimize(strategy, evaluator, config.n, executor=executor, progress=progress)
        seconds[name] = _recorded_wall_seconds(study, time.perf_counter() - started, finished_before)
        studies[name] = study_name
    return write_design_report(config, studies, seconds, spaces)


def _recorded_wall_seconds(study: Any, elapsed: float, finished_before: int) -> float:
    """The study's wall time over every run that trained something (kept in its config), so a
    rerun of a finished study reports the time its trials took, not the seconds of the rerun."""
    recorded = float(study.config.get("wall_seconds") or 0.0)
    if study.summary().finished > finished_before:
        recorded += elapsed
        study.update_config({**study.config, "wall_seconds": recorded})
    return recorded or elapsed


def write_design_report(config: DesignStudyConfig, studies: Mapping[str, str], seconds: Mapping[str, float],
                        spaces: Mapping[str, Space]) -> DesignStudyOutcome:
    """The comparison report of the stored studies (groups named by space)."""
    from archspace.analysis.table import load_studies
    from archspace.report.build import ReportConfig
    from archspace.report.html import write_report

    table = load_studies(list(studies.values()), config.db)
    table["group"] = table["group"].map({v: k for k, v in studies.items()})
    report_config = ReportConfig(
        title=f"Design-space study: {', '.join(studies)} on {config.dataset}",
        statistics=[s for s in STATISTICS],
        reps=config.reps,
        seed=config.seed,
        space_summaries={name: space.summary() for name, space in spaces.items()},
        notes=report_notes(config, seconds),
    )
    paths = write_report(table, config.out, report_config)
    import json

    summary = json.loads(paths.summary.read_text())
    return DesignStudyOutcome(dict(studies), dict(seconds), paths.html, paths.summary, summary["design_space_summary"])


# --- pieces ----------------------------------------------------------------------------------


def small_input_space(name: str, config: DesignStudyConfig) -> Space:
    """The design space ``name`` with the configured stem, so its models fit small images."""
    from archspace.spaces.registry import get_space

    kind = get_space(name).arch_class.kind
    if kind == "nss":  # nss:<space-id>: the expanded space's own stride-1 stem (3x3, w0 = 16) fits small images
        return get_space(name)
    if kind != "anynet":
        raise UsageError(f"design-study compares AnyNet/RegNet design spaces and NSS network spaces; "
                         f"{name!r} is not one")
    return get_space(name, stem=config.stem, stem_width=config.stem_width)


def make_evaluator(config: DesignStudyConfig) -> tuple[Any, dict[str, int]]:
    """The training evaluator (dataset loaded now, so missing files fail fast) and its input spec."""
    from archspace.data.inputs import input_spec
    from archspace.evaluators.training import TrainingEvaluator
    from archspace.train.recipe import Recipe

    recipe = Recipe(epochs=config.epochs, subset=config.subset, batch_size=config.batch_size, lr=config.lr)
    evaluator = TrainingEvaluator(config.dataset, recipe=recipe, device=config.device, data_dir=config.data_dir,
                                  val_size=config.val_size, split_seed=config.seed, keep_predictions=False,
                                  test_split="none")  # the study judges validation error only
    return evaluator, input_spec(evaluator.load())


def study_config(config: DesignStudyConfig, space: str) -> dict[str, Any]:
    """What each study stores: its space and the fields that define it (checked on resume)."""
    data = config.to_dict()
    return {"space": space, "n": config.n, "kind": "design-study", **{k: data[k] for k in DEFINING_FIELDS}}


def check_resumable(stored: Mapping[str, Any], wanted: Mapping[str, Any], study_name: str) -> None:
    """Refuse to continue a study created elsewhere or with a different population or recipe
    (``n`` may differ: a larger n grows the population)."""
    if stored.get("kind") != "design-study":
        raise UsageError(f"study {study_name!r} already exists in this database and was not made by "
                         "design-study; use another --db or a --prefix")
    keys = ("space", *DEFINING_FIELDS)
    check_same_config({k: stored.get(k) for k in keys}, {k: wanted[k] for k in keys},
                      f"design study {study_name!r} in this database (another --db or a --prefix makes new ones)")


def report_notes(config: DesignStudyConfig, seconds: Mapping[str, float]) -> dict[str, str]:
    """Command line, machine and timing facts printed at the top of the report."""
    import torch

    low, high = config.flops
    return {
        "command": design_study_command(config),
        "regime": f"{low / 1e6:g}M to {high / 1e6:g}M multiply-adds per {config.dataset} image",
        "recipe": (f"{config.epochs} epochs on {config.subset} training images, batch {config.batch_size}, "
                   f"lr {config.lr:g} (cosine); objective = error % on {config.val_size} held-out images"),
        "machine": (f"{platform.machine()}, {os.cpu_count()} CPU cores, {config.workers} workers, "
                    f"torch {torch.__version__}, Python {platform.python_version()}"),
        "wall time": ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items()) or "(studies already complete)",
        "stem": f"{config.stem} (width {config.stem_width}) on every model, for {config.dataset}'s small images",
    }


def design_study_command(config: DesignStudyConfig) -> str:
    """The ``archspace design-study`` line that reproduces ``config``."""
    default = DesignStudyConfig()
    parts = ["archspace design-study"]
    for item in fields(config):
        value, base = getattr(config, item.name), getattr(default, item.name)
        if value == base:
            continue
        flag = "--" + item.name.replace("_", "-")
        if item.name == "flops":
            parts.append(f"{flag} {value[0] / 1e6:g}M:{value[1] / 1e6:g}M")
        elif item.name == "spaces":
            parts.append(f"{flag} {','.join(value)}")
        else:
            parts.append(f"{flag} {value}")
    return " ".join(parts)


def parse_flops(text: str) -> tuple[float, float]:
    """``"1M:4M"`` -> ``(1e6, 4e6)``."""
    return parse_range(text, "flops")


def parse_spaces(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"anynetx_a,regnetx"`` (or a list) -> the space names, in order."""
    return parse_list(text, "design space (e.g. anynetx_a,regnetx)")


def field_names() -> list[str]:
    return [f.name for f in fields(DesignStudyConfig)]


def _check(ok: bool, name: str, value: Any, allowed: str) -> None:
    if not ok:
        raise UsageError(f"design-study {name} must be {allowed}, got {value!r}")
