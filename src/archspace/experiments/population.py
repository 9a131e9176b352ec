"""Population studies: n distinct models of one space inside a complexity regime, all evaluated.

This is the workflow behind ``archspace study run``: sample ``n`` distinct models from a design
space within a flops / params / acts regime (``archspace.search.population``), evaluate each one
(train it, look it up in NAS-Bench-201, or only cost it), and keep every trial in one resumable
Study. Python API::

    from archspace.experiments.population import PopulationStudyConfig, run_population_study
    config = PopulationStudyConfig("pop", space="nb201", n=40, evaluator="nb201", dataset="cifar10",
                                   params=(0.5e6, 1e6))
    summary = run_population_study(config, "studies.db")

Policies (all applied before anything is stored or run):

- Resume: a field left ``None`` takes the stored study's value when the study exists, else its
  default (``DEFAULTS``); a field given must equal the stored one, except ``n``, which may grow
  the population (never shrink it). Where the work runs (the executor) is not part of the study.
- Small inputs: AnyNet/RegNet models on inputs below ``SMALL_INPUT`` pixels get the stride-1
  ``res_stem_cifar`` stem of width 16 unless a stem is given (the paper's stride-2 stem would
  shrink the feature map below 1x1 after four stride-2 stages); other stems default to width 32.
  The stem chosen is stored with the study.
- Input sizes: ``nb201`` costs cells at the benchmark dataset's size, ``complexity`` at the named
  dataset's (``archspace.data.inputs``), ``train`` at the size of the data it loads (missing or
  corrupt data is reported now, before any trial starts); ``resolution`` overrides all three.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archspace.configs import check_same_config, to_plain
from archspace.errors import InvalidArchitecture, UsageError
from archspace.evaluation import Evaluator
from archspace.parsing import parse_range
from archspace.search.population import PopulationStrategy
from archspace.spaces.base import Regime, Space
from archspace.study.executors import Executor
from archspace.study.progress import ProgressReporter
from archspace.study.storage import Storage, open_storage, path_from_url
from archspace.study.study import Study, StudySummary
from archspace.study.study_store import StudyStore

EVALUATOR_KINDS: tuple[str, ...] = ("train", "nb201", "complexity")
BOUNDS: tuple[str, ...] = ("flops", "params", "acts")
# Settings that define a population study: stored with it, and a resume must match them.
STUDY_FIELDS: tuple[str, ...] = ("space", "flops", "params", "acts", "dataset", "evaluator", "epochs", "subset",
                                 "seed", "resolution", "device", "data_dir", "stem", "stem_width", "threads")
DEFAULTS: dict[str, Any] = {"dataset": "fashion-mnist", "evaluator": "train", "seed": 0, "device": "cpu",
                            "threads": 1}
SMALL_INPUT = 64  # below this input size AnyNet/RegNet models get the stride-1 CIFAR stem by default
SMALL_INPUT_STEM, SMALL_INPUT_STEM_WIDTH, STEM_WIDTH = "res_stem_cifar", 16, 32


@dataclass(frozen=True)
class PopulationStudyConfig:
    """A population study; ``None`` = the stored study's value on resume, else the default.

    name: the study's name. space: a registered space (e.g. ``regnetx``, ``nb201``). n: models
    (trials). flops / params / acts: the regime, ``(low, high)`` or ``"LO:HI"`` (``"360M:400M"``).
    dataset: default ``fashion-mnist`` (``cifar10`` for the ``nb201`` evaluator). evaluator:
    ``train`` (default), ``nb201`` (table lookup) or ``complexity`` (analytic cost only).
    epochs / subset: the training recipe (epochs; training images per model). seed: sampling and
    per-trial seeds (default 0). resolution: input size the regime is measured at (default: the
    dataset's). device: ``cpu`` (default), ``cuda`` or ``auto``. data_dir: the dataset's folder.
    stem / stem_width: the AnyNet/RegNet stem (default: see the small-input policy above).
    threads: torch threads of every training (default 1; part of the study because the thread
    count changes CPU rounding, see ``archspace.numerics``).
    """

    name: str
    space: str | None = None
    n: int | None = None
    flops: tuple[float, float] | None = None
    params: tuple[float, float] | None = None
    acts: tuple[float, float] | None = None
    dataset: str | None = None
    evaluator: str | None = None
    epochs: int | None = None
    subset: int | None = None
    seed: int | None = None
    resolution: int | None = None
    device: str | None = None
    data_dir: str | None = None
    stem: str | None = None
    stem_width: int | None = None
    threads: int | None = None

    def __post_init__(self) -> None:
        for bound in BOUNDS:
            object.__setattr__(self, bound, _bounds(getattr(self, bound), bound))
        if self.data_dir is not None:  # one spelling per folder, so a resume compares folders, not text
            object.__setattr__(self, "data_dir", str(Path(self.data_dir).expanduser().resolve()))
        if self.evaluator is not None and self.evaluator not in EVALUATOR_KINDS:
            raise UsageError(f"evaluator must be one of {', '.join(EVALUATOR_KINDS)}, got {self.evaluator!r}")

    def given(self) -> dict[str, Any]:
        """The settings that were given (not None), ``n`` included, ``name`` not."""
        return {k: getattr(self, k) for k in (*STUDY_FIELDS, "n") if getattr(self, k) is not None}

    def to_stored(self) -> dict[str, Any]:
        """The JSON config a study stores (ranges as ``[low, high]`` lists)."""
        return {k: to_plain(getattr(self, k)) for k in (*STUDY_FIELDS, "n")}

    def replace(self, **changes: Any) -> PopulationStudyConfig:
        return dataclasses.replace(self, **changes)


@dataclass
class PopulationPlan:
    """A resolved config with the strategy and evaluator built from it (every check passed)."""

    config: PopulationStudyConfig
    strategy: PopulationStrategy
    evaluator: Evaluator


def run_population_study(config: PopulationStudyConfig, storage: Storage | str,
                         executor: Executor | None = None,
                         progress: bool | ProgressReporter = False) -> StudySummary:
    """Create or resume population study ``config.name`` in ``storage`` and run it to ``n`` trials.

    Every check (resume policy, space, regime, data) happens before the study, or the database
    file, is created. ``storage`` is a path, a ``sqlite:///`` URL or an open ``Storage``.
    """
    store = _open_existing(storage)
    try:
        stored = None if store is None else stored_config(store, config.name)
        plan = plan_population_study(resolve_config(config, stored))
        store = store or open_storage(storage)
        resolved = plan.config
        study = Study.create(config.name, store, seed=resolved.seed, config=resolved.to_stored(),
                             load_if_exists=True)
        if stored is not None and stored.get("n") != resolved.n:
            study.update_config(resolved.to_stored())
        return study.optimize(plan.strategy, plan.evaluator, resolved.n, executor=executor, progress=progress)
    finally:
        if store is not None and store is not storage:
            store.close()


def stored_config(storage: Storage, name: str) -> dict[str, Any] | None:
    """The config stored with study ``name``, or None when there is no such study."""
    row = StudyStore(storage).find(name)
    return None if row is None else row.config


# --- the resume policy -----------------------------------------------------------------------
def resolve_config(config: PopulationStudyConfig, stored: Mapping[str, Any] | None) -> PopulationStudyConfig:
    """The settings given, completed from the stored study (resume) or the defaults (new)."""
    given = config.given()
    if stored is None:
        merged = config.replace(**{k: v for k, v in DEFAULTS.items() if k not in given})
        if merged.space is None:
            raise UsageError("space is required for a new population study (e.g. regnetx)")
        if merged.n is None:
            raise UsageError("n (the number of models) is required for a new population study")
        return merged
    if "space" not in stored or "n" not in stored:
        raise UsageError(f"study {config.name!r} was not created as a population study (`archspace study run`); "
                         "resume it from Python with Study.load(...).optimize(...)")
    if stored.get("data_dir"):  # stored by an older version as typed: compare it as a folder
        stored = {**stored, "data_dir": str(Path(stored["data_dir"]).expanduser().resolve())}
    settings = [k for k in STUDY_FIELDS if k in given]
    check_same_config({k: stored.get(k) for k in settings}, {k: given[k] for k in settings}, f"study {config.name!r}")
    n = given.get("n", stored["n"])
    if n < stored["n"]:
        raise UsageError(f"study {config.name!r} has n = {stored['n']}; n may grow it, not shrink it")
    return PopulationStudyConfig(config.name, **{**{k: stored.get(k) for k in STUDY_FIELDS}, "n": n})


# --- building the study's pieces -------------------------------------------------------------
def plan_population_study(config: PopulationStudyConfig) -> PopulationPlan:
    """Strategy and evaluator of a resolved config; the stem chosen is written into the plan's config."""
    if config.space is None or config.n is None:
        raise UsageError("plan_population_study needs a resolved config (see resolve_config)")
    if config.n < 1:
        raise UsageError(f"n must be >= 1, got {config.n}")
    if config.evaluator == "nb201" and config.space != "nb201":
        raise UsageError(f"evaluator 'nb201' looks cells up in NAS-Bench-201: it needs space 'nb201', "
                         f"not {config.space!r}")
    config = with_stem(config, _known_resolution(config))
    space = study_space(config)
    size = space_size(space)
    if size is not None and config.n > size:
        raise UsageError(f"n = {config.n:,} is more than space {config.space!r} holds ({size:,} distinct models)")
    evaluator, inputs = make_evaluator(config, space)
    regime = Regime(**{b: getattr(config, b) for b in BOUNDS if getattr(config, b) is not None})
    try:
        strategy = PopulationStrategy(space, config.n, regime, seed=config.seed, complexity_kwargs=inputs)
    except InvalidArchitecture as exc:
        raise UsageError(f"models of space {config.space!r} do not fit {config.dataset}'s "
                         f"{inputs['resolution']}x{inputs['resolution']} inputs ({exc.field}: {exc.detail})") from None
    return PopulationPlan(config, strategy, evaluator)


def space_size(space: Space) -> int | None:
    """How many distinct models the space holds, when it says (``size()`` or its allowed cells)."""
    if callable(getattr(space, "size", None)):
        return int(space.size())  # type: ignore[attr-defined]
    cells = getattr(space, "allowed_indices", None)  # NAS-Bench-201: the cells of its allowed ops
    if cells is not None:
        return len(cells() if callable(cells) else cells)
    return None


def with_stem(config: PopulationStudyConfig, resolution: int | None) -> PopulationStudyConfig:
    """The small-input stem policy: fill ``stem`` / ``stem_width`` of an AnyNet/RegNet study.

    ``resolution`` None means the input size is only known once the data is loaded (a dataset
    outside ``archspace.data.inputs``); it is then read to decide.
    """
    from archspace.families.anynet.table import STEM_TYPES
    from archspace.spaces.registry import get_space

    if get_space(config.space).arch_class.kind != "anynet":
        if config.stem or config.stem_width:
            raise UsageError(f"stem applies to AnyNet/RegNet spaces, not {config.space!r}")
        return config
    stem = config.stem
    if not stem:
        size = resolution if resolution is not None else _training_data(config).resolution
        stem = SMALL_INPUT_STEM if size < SMALL_INPUT else "simple_stem_in"
    if stem not in STEM_TYPES:
        raise UsageError(f"stem must be one of {', '.join(STEM_TYPES)}, got {stem!r}")
    width = config.stem_width or (SMALL_INPUT_STEM_WIDTH if stem == SMALL_INPUT_STEM else STEM_WIDTH)
    if width < 1:
        raise UsageError(f"stem_width must be >= 1, got {width}")
    return config.replace(stem=stem, stem_width=width)


def study_space(config: PopulationStudyConfig) -> Space:
    """The study's space, with the stem the config holds (AnyNet/RegNet spaces)."""
    from archspace.spaces.registry import get_space

    options = {} if config.stem is None else {"stem": config.stem, "stem_width": config.stem_width}
    return get_space(config.space, **options)


def make_evaluator(config: PopulationStudyConfig, space: Space) -> tuple[Evaluator, dict[str, int]]:
    """(evaluator, input spec at which the regime costs models) for a resolved config."""
    if config.evaluator == "nb201":
        from archspace.bench.nb201 import NUM_CLASSES, RESOLUTION
        from archspace.evaluators.nb201 import NB201Benchmark

        key = _nb201_dataset(config)
        inputs = {"resolution": config.resolution or RESOLUTION[key], "num_classes": NUM_CLASSES[key]}
        return NB201Benchmark(metric=f"{key}_valid_200", seed_mode="sample", space=space), inputs
    if config.evaluator == "complexity":
        from archspace.data.inputs import dataset_input
        from archspace.evaluators.complexity import ComplexityEvaluator

        resolution, channels, classes = dataset_input(config.dataset)
        resolution = config.resolution or resolution
        evaluator = ComplexityEvaluator(config.space, resolution, classes, channels,
                                        space_options=space.options())
        return evaluator, {"resolution": resolution, "num_classes": classes, "in_channels": channels}
    from archspace.data.inputs import input_spec

    evaluator = _training_evaluator(config, space)
    data = evaluator.load()  # missing or corrupt data is reported now, before any trial starts
    return evaluator, input_spec(data, config.resolution)


def _training_evaluator(config: PopulationStudyConfig, space: Space | None) -> Any:
    from archspace.evaluators.training import TrainingEvaluator
    from archspace.train.recipe import Recipe

    recipe = Recipe(**{k: getattr(config, k) for k in ("epochs", "subset") if getattr(config, k) is not None})
    return TrainingEvaluator(config.dataset, recipe=recipe, device=config.device, data_dir=config.data_dir,
                             space=None if space is None else config.space,
                             space_options=None if space is None else space.options(),
                             threads=config.threads or 1)


def _training_data(config: PopulationStudyConfig) -> Any:
    """The training data of a dataset whose input size is not in the table (read to learn it)."""
    return _training_evaluator(config, None).load()


def _known_resolution(config: PopulationStudyConfig) -> int | None:
    """The input size the regime is measured at, when it is known without reading any data."""
    from archspace.bench.nb201 import RESOLUTION
    from archspace.data.inputs import dataset_input, known_input

    if config.resolution:
        return config.resolution
    if config.evaluator == "nb201":
        return RESOLUTION[_nb201_dataset(config)]
    if config.evaluator == "complexity":
        return dataset_input(config.dataset).resolution
    found = known_input(config.dataset)
    return None if found is None else found.resolution


def _nb201_dataset(config: PopulationStudyConfig) -> str:
    """The NAS-Bench-201 dataset key (the default dataset, fashion-mnist, means cifar10 here)."""
    from archspace.bench.nb201 import canonical_dataset

    return canonical_dataset("cifar10" if config.dataset == "fashion-mnist" else config.dataset)


def _open_existing(storage: Storage | str) -> Storage | None:
    """The storage when it exists (opened if given as a path), else None: nothing is created."""
    if isinstance(storage, Storage):
        return storage
    return Storage.open(storage) if path_from_url(storage).exists() else None


def _bounds(value: Any, name: str) -> tuple[float, float] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return parse_range(value, name)
    values = tuple(float(v) for v in value)
    if len(values) != 2:
        raise UsageError(f"{name} must be a range (low, high), got {value!r}")
    return values[0], values[1]
