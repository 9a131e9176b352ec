"""``TrainingEvaluator``: the Evaluator contract (``evaluate(arch, seed) -> Result``) over ``train``.

The evaluator holds only its configuration (dataset name, recipe, device, data directory), so it
pickles cheaply to worker processes or Ray actors; each process loads the dataset once, on first
use, and reuses it for every architecture it trains. The validation split is drawn with
``split_seed`` (fixed across evaluations, so every architecture is judged on the same images);
``seed`` in ``evaluate`` seeds initialization, batch order and augmentation.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from archspace.arch import ArchSpec
from archspace.configs import init_config
from archspace.data import Dataset, load_dataset
from archspace.errors import UsageError
from archspace.evaluation import Result
from archspace.evaluators.registry import EVALUATORS
from archspace.numerics import DEFAULT_THREADS, NumericSettings, check_threads
from archspace.spaces.registry import get_space
from archspace.train.device import resolve_device
from archspace.train.recipe import Recipe
from archspace.train.result import TrainResult
from archspace.train.trainer import train


@EVALUATORS.register("train", trains=True)
class TrainingEvaluator:
    """Train each architecture under a fixed recipe and report validation top-1 error (%).

    dataset: a name for ``load_dataset`` (e.g. ``fashion-mnist``, ``cifar10``, ``digits``, a .npz
        path) or a ready ``Dataset``. recipe: the training recipe (default: ``Recipe()``).
    device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``. data_dir: where the dataset's files are.
    val_size: validation examples held out (dataset default when None). split_seed: seed of the
        train/validation split and of ``train_subset``. keep_predictions: attach float16 logits
        and labels to each Result.
    space / space_options: the registered space whose family builds the specs, with its options
        (e.g. ``"nb201", {"channels": 32, "cells_per_stage": 2}``), so a spec is trained as exactly
        the network it was sampled as; default: the family of the spec's kind.
    train_subset: train on this many training images (the same ones for every architecture).
    test_split: ``test`` (default) or ``val``: judge the test metrics on the validation split
        instead, which skips a full test-set pass per model when only validation matters; or
        ``none``: no test metrics at all (population trials that use only the validation error).
    threads / deterministic: torch intra-op threads and deterministic-algorithm mode of every
        evaluation (``archspace.numerics``): the thread count changes CPU rounding, so it is
        fixed (default 1) and stored, and a trial gets the same numbers inline, on local workers,
        on Ray and after a resume.
    """

    def __init__(
        self,
        dataset: str | Dataset = "fashion-mnist",
        recipe: Recipe | None = None,
        device: str = "cpu",
        data_dir: str | Path | None = None,
        val_size: int | None = None,
        split_seed: int = 0,
        keep_predictions: bool = True,
        space: str | None = None,
        space_options: dict[str, Any] | None = None,
        train_subset: int | None = None,
        test_split: str = "test",
        threads: int = DEFAULT_THREADS,
        deterministic: bool = False,
    ) -> None:
        check_threads(threads, "threads")
        if test_split not in ("test", "val", "none"):
            raise UsageError(f"test_split must be 'test', 'val' or 'none', got {test_split!r}")
        if train_subset is not None and (isinstance(train_subset, bool) or not isinstance(train_subset, int)
                                         or train_subset < 1):
            raise UsageError(f"train_subset must be an integer >= 1, got {train_subset!r}")
        self.dataset = dataset
        self.recipe = recipe or Recipe()
        self.device = device
        self.data_dir = None if data_dir is None else str(data_dir)
        self.val_size = val_size
        self.split_seed = split_seed
        self.keep_predictions = keep_predictions
        self.space = space
        self.space_options = dict(space_options or {})
        self.train_subset = train_subset
        self.test_split = test_split
        self.threads = threads
        self.deterministic = bool(deterministic)
        self._builder = self._build_space()  # checks the space name and options now
        self._loaded: Dataset | None = self._shape(dataset) if isinstance(dataset, Dataset) else None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        # a named dataset is reloaded from its files in the receiving process; a given one travels
        # in its original (CPU) form, never as a device copy
        state["_loaded"] = self._shape(self.dataset) if isinstance(self.dataset, Dataset) else None
        state["_builder"] = None  # spaces hold closures; the receiving process rebuilds it
        return state

    def _build_space(self) -> Any:
        return None if self.space is None else get_space(self.space, **self.space_options)

    def to_config(self) -> dict[str, Any]:
        """Every constructor argument (a given ``Dataset`` is recorded by name)."""
        config = init_config(self, exclude=("dataset",))
        config["dataset"] = self.dataset.name if isinstance(self.dataset, Dataset) else self.dataset
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TrainingEvaluator:
        return cls(**{**config, "recipe": Recipe.from_dict(config.get("recipe") or {})})

    def _shape(self, data: Dataset) -> Dataset:
        if self.test_split == "val":
            data = replace(data, test=data.val)
        return data if self.train_subset is None else data.with_train_subset(self.train_subset, self.split_seed)

    def load(self) -> Dataset:
        """The dataset (loaded on first call; raises DataError when files are missing or bad)."""
        if self._loaded is None:
            self._loaded = self._shape(load_dataset(
                str(self.dataset), data_dir=self.data_dir, seed=self.split_seed, val_size=self.val_size
            ))
        # moved once, so every evaluation on CUDA reuses the GPU-resident copy
        self._loaded = self._loaded.to(resolve_device(self.device))
        return self._loaded

    def evaluate(self, arch: ArchSpec, seed: int) -> Result:
        """Train ``arch`` from scratch with ``seed``; objective = validation top-1 error in %."""
        if self._builder is None and self.space is not None:
            self._builder = self._build_space()
        data = self.load()
        # the same settings run_task applies, so a direct call gives the numbers a study stores
        with NumericSettings(self.threads, self.deterministic).applied():
            outcome = train(arch, data, self.recipe, seed=seed, device=self.device, space=self._builder,
                            evaluate_test=self.test_split != "none")
        return result_from_training(outcome, self.keep_predictions, self._describe())

    def _describe(self) -> dict[str, Any]:
        name = self.dataset.name if isinstance(self.dataset, Dataset) else str(self.dataset)
        return {"dataset": name, "recipe": self.recipe.to_dict(), "device": self.device}

    def __repr__(self) -> str:
        name = self.dataset.name if isinstance(self.dataset, Dataset) else self.dataset
        return f"TrainingEvaluator(dataset={name!r}, device={self.device!r}, epochs={self.recipe.epochs})"


def result_from_training(outcome: TrainResult, keep_predictions: bool = True,
                         info: dict[str, Any] | None = None) -> Result:
    """Map a ``TrainResult`` onto the shared ``Result`` (oom -> status ``failed``)."""
    metrics = {
        "val_error": outcome.val_error,
        "test_error": outcome.test_error,
        "train_loss": outcome.train_loss,
        "images_per_s": outcome.images_per_s,
        "epochs": outcome.epochs,
        "steps": float(outcome.steps),
    }
    cost = {"flops": outcome.flops, "params": outcome.params, "acts": outcome.acts,
            "train_seconds": outcome.train_seconds, "wall_seconds": outcome.wall_seconds}
    status = {"complete": "complete", "diverged": "diverged", "oom": "failed"}[outcome.status]
    details = dict(info or {})
    details.update({
        "train_status": outcome.status,
        "message": outcome.message,
        "seed": outcome.seed,
        "peak_memory_mb": outcome.peak_memory_mb,
        "history": [vars(stats) for stats in outcome.history],
    })
    return Result(
        objective=outcome.val_error,
        metrics={k: float(v) for k, v in metrics.items() if v is not None},
        cost={k: float(v) for k, v in cost.items() if v is not None},
        status=status,  # type: ignore[arg-type]
        predictions=outcome.predictions() if keep_predictions else None,
        info=details,
    )
