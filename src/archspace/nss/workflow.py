"""``search_elite_space``: the ``archspace nss search`` workflow (settings checked, search run and
resumed, Elite Space described and stored).

Every setting is checked before any data is read: the regime must be reachable by the (reduced)
expanded space at the dataset's input size (else the error names the regime and the reachable
range), temperatures must be positive, the partition must fit the space. The run lives in one
directory: ``checkpoint.pt`` (resumed when present, same settings required) and ``result.json``
(settings, the Elite Space with its ranges, size and exact FLOPs distribution, the per-epoch
history and the final distribution's top spaces).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from archspace.errors import UsageError
from archspace.nss.distribution import InputSpec
from archspace.nss.partition import Partition
from archspace.nss.regimes import DEFAULT_TOLERANCE, check_reachable, parse_regime

PRESETS: tuple[str, ...] = ("reference",)
# The settings that scale a search down from the reference preset; ``preset="reference"`` refuses them.
SCALING_FIELDS: tuple[str, ...] = ("epochs", "warmup_epochs", "batch_size", "steps_per_epoch", "train_subset", "lr",
                                   "arch_lr", "flops_weight", "tau_start", "tau_end")
# The reference size of the expanded space and its partition (d <= 16, w <= 512, 4 x 8 bins per stage).
REFERENCE_SPACE: dict[str, int] = {"max_depth": 16, "max_width": 512, "depth_bins": 4, "width_bins": 8}


@dataclass(frozen=True)
class NSSRunSettings:
    """What ``archspace nss search`` takes; ``None`` = the reference preset's value."""

    flops: str
    dataset: str = "fashion-mnist"
    data_dir: str | None = None
    val_size: int = 5000
    tolerance: float = DEFAULT_TOLERANCE
    max_depth: int = 16
    max_width: int = 512
    depth_bins: int = 4
    width_bins: int = 8
    epochs: int | None = None
    warmup_epochs: int | None = None
    batch_size: int | None = None
    steps_per_epoch: int | None = None
    train_subset: int | None = None
    lr: float | None = None
    arch_lr: float | None = None
    flops_weight: float | None = None
    tau_start: float | None = None
    tau_end: float | None = None
    hard: bool = False
    seed: int = 0
    device: str = "cpu"
    preset: str | None = None


def check_preset(settings: NSSRunSettings) -> None:
    """``preset="reference"`` is the supplement's search at full size: nothing may scale it down.

    It fixes 50 epochs with 15 of warm-up, batch 64, the DARTS-style optimizers, tau 5 -> 0.001,
    soft Gumbel-softmax, and the full expanded space d <= 16, w <= 512 with the default partition;
    a setting that changes any of them is refused, naming it (drop it, or drop the preset).
    """
    if settings.preset is None:
        return
    if settings.preset not in PRESETS:
        raise UsageError(f"unknown NSS search preset {settings.preset!r}; known: {', '.join(PRESETS)}")
    changed = [name for name in SCALING_FIELDS if getattr(settings, name) is not None]
    changed += [name for name, value in REFERENCE_SPACE.items() if getattr(settings, name) != value]
    changed += ["hard"] if settings.hard else []
    if changed:
        flags = ", ".join("--" + name.replace("_", "-") for name in changed)
        raise UsageError(f"--preset reference is the full-size search and fixes {flags}: drop "
                         f"{'it' if len(changed) == 1 else 'them'}, or drop --preset to scale the search down")


def plan(settings: NSSRunSettings) -> tuple[Any, InputSpec]:
    """The search config and the input spec, every check passed (no data read)."""
    from archspace.data.inputs import dataset_input
    from archspace.nss.search import NSSSearchConfig

    check_preset(settings)
    partition = Partition.uniform(settings.max_depth, settings.max_width, settings.depth_bins, settings.width_bins)
    regime = parse_regime(settings.flops, settings.tolerance)
    found = dataset_input(settings.dataset)
    inputs = InputSpec(found.resolution, found.classes, found.channels)
    check_reachable(partition.expanded(), regime, inputs)
    overrides = {k: getattr(settings, k) for k in ("epochs", "warmup_epochs", "batch_size", "steps_per_epoch",
                                                   "train_subset", "lr", "arch_lr", "flops_weight", "tau_start",
                                                   "tau_end") if getattr(settings, k) is not None}
    config = NSSSearchConfig.reference(regime, partition)
    if "epochs" in overrides and "warmup_epochs" not in overrides:
        overrides["warmup_epochs"] = int(overrides["epochs"]) // 4  # the 25% warm-up
    if "lr" in overrides:
        overrides["lr_min"] = min(config.lr_min, overrides["lr"])
    return replace(config, hard=settings.hard, **overrides), inputs


def describe_plan(settings: NSSRunSettings) -> dict[str, Any]:
    """What a search with ``settings`` would do (``archspace nss search --dry-run``): the resolved
    config, the input, the number of spaces, and the largest network, whose weights are the super
    network's (its flops and parameters, exact). Nothing is trained and no data is read."""
    from archspace.families.nss.cost import nss_complexity
    from archspace.families.nss.spec import NSSArch

    config, inputs = plan(settings)
    expanded = config.partition.expanded()
    top = expanded.bounds()[:, :, 1]
    largest = NSSArch(tuple(int(d) for d in top[:, 0]), tuple(int(w) for w in top[:, 1]))
    cost = nss_complexity(largest, expanded.family.stem_width, inputs.resolution, inputs.num_classes,
                          inputs.in_channels)
    return {
        "preset": settings.preset, "dataset": settings.dataset, "val_size": settings.val_size,
        "seed": settings.seed, "device": settings.device, "config": config.to_dict(),
        "inputs": {"resolution": inputs.resolution, "num_classes": inputs.num_classes,
                   "in_channels": inputs.in_channels},
        "expanded_space": {"space": expanded.space_id, "size": expanded.size},
        "spaces": config.partition.num_spaces, "search_epochs": config.search_epochs,
        "largest_network": {"arch": largest.to_dict(), "flops": int(cost.flops), "params": int(cost.params)},
    }


def search_elite_space(settings: NSSRunSettings, out: str | Path, progress: bool = True) -> dict[str, Any]:
    """Run (or resume) the search in directory ``out``; returns and writes ``result.json``."""
    from archspace.data import load_dataset
    from archspace.nss.elite import describe_elite
    from archspace.nss.search import run_search
    from archspace.progress import ProgressBar

    config, inputs = plan(settings)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    data = load_dataset(settings.dataset, settings.data_dir, seed=settings.seed, val_size=settings.val_size,
                        augment=False)
    out.mkdir(parents=True, exist_ok=True)
    with ProgressBar(f"NSS {config.regime.name}", enabled=progress) as bar:
        def report(step: int, total: int, loss: float) -> None:
            bar.update(completed=step, total=total, status=f"loss {loss:.3f}")

        run = run_search(config, data, settings.seed, settings.device, out / "checkpoint.pt", report)
    elite = describe_elite(config.partition, run.elite_index, float(run.probabilities[run.elite_index]),
                           config.regime, inputs)
    probs = run.probabilities
    top = np.argsort(-probs, kind="stable")[:10]
    result = {
        "settings": settings.__dict__, "config": config.to_dict(), "seed": run.seed,
        "steps": run.steps, "total_steps": run.total_steps, "search_seconds": run.seconds,
        "resumed_from_step": run.resumed_from_step, "elite": elite.to_dict(),
        "top_spaces": [{"index": int(i), "space": config.partition.space(int(i)).name, "probability": float(probs[i])}
                       for i in top],
        "history": [_plain(h.__dict__) for h in run.history],
    }
    (out / "result.json").write_text(json.dumps(_plain(result), indent=2, allow_nan=False) + "\n")
    return result


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
