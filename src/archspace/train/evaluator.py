"""``TrainingEvaluator``: the Evaluator contract (``evaluate(arch, seed) -> Result``) over ``train``.

The evaluator holds only its configuration (dataset name, recipe, device, data directory), so it
pickles cheaply to worker processes or Ray actors; each process loads the dataset once, on first
use, and reuses it for every architecture it trains. The validation split is drawn with
``split_seed`` (fixed across evaluations, so every architecture is judged on the same images);
``seed`` in ``evaluate`` seeds initialization, batch order and augmentation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archspace.arch import ArchSpec
from archspace.data import Dataset, load_dataset
from archspace.evaluation import Result
from archspace.train.device import resolve_device
from archspace.train.recipe import Recipe
from archspace.train.result import TrainResult
from archspace.train.trainer import train


class TrainingEvaluator:
    """Train each architecture under a fixed recipe and report validation top-1 error (%).

    dataset: a name for ``load_dataset`` (e.g. ``fashion-mnist``, ``cifar10``, ``digits``, a .npz
        path) or a ready ``Dataset``. recipe: the training recipe (default: ``Recipe()``).
    device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``. data_dir: where the dataset's files are.
    val_size: validation examples held out (dataset default when None). split_seed: seed of the
        train/validation split. keep_predictions: attach float16 logits and labels to each Result.
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
    ) -> None:
        self.dataset = dataset
        self.recipe = recipe or Recipe()
        self.device = device
        self.data_dir = None if data_dir is None else str(data_dir)
        self.val_size = val_size
        self.split_seed = split_seed
        self.keep_predictions = keep_predictions
        self._loaded: Dataset | None = dataset if isinstance(dataset, Dataset) else None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        # a named dataset is reloaded from its files in the receiving process; a given one travels
        # in its original (CPU) form, never as a device copy
        state["_loaded"] = self.dataset if isinstance(self.dataset, Dataset) else None
        return state

    def load(self) -> Dataset:
        """The dataset (loaded on first call; raises DataError when files are missing or bad)."""
        if self._loaded is None:
            self._loaded = load_dataset(
                str(self.dataset), data_dir=self.data_dir, seed=self.split_seed, val_size=self.val_size
            )
        # moved once, so every evaluation on CUDA reuses the GPU-resident copy
        self._loaded = self._loaded.to(resolve_device(self.device))
        return self._loaded

    def evaluate(self, arch: ArchSpec, seed: int) -> Result:
        """Train ``arch`` from scratch with ``seed``; objective = validation top-1 error in %."""
        outcome = train(arch, self.load(), self.recipe, seed=seed, device=self.device)
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
