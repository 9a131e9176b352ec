"""Stand-alone training of the derived cells of run_small.py in a Study (resumable).

The seed-0 derived cells of every finished NB201 search (C=8, N=1 networks) and of the DARTS / S3
searches (5 cells, C=8) are trained on 2,000 Fashion-MNIST images for 3 epochs, one trial each,
in ``runs/derived.db`` (studies ``nb201-derived`` and ``darts-derived``); prints the test errors.

    nice -n 10 .venv/bin/python docs/oneshot/train_derived.py
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from archspace.arch import arch_from_dict
from archspace.evaluators.training import TrainingEvaluator
from archspace.oneshot.handoff import train_derived
from archspace.train import Recipe

RUNS = Path(__file__).resolve().parent / "runs"


def main() -> None:
    torch.set_num_threads(1)
    recipe = Recipe(epochs=3, batch_size=64, lr=0.05, subset=2000, augment=False)
    for space, options, prefix in (("nb201", {"channels": 8, "cells_per_stage": 1}, "nb201-"),
                                   ("darts", {"channels": 8, "layers": 5}, "darts")):
        runs = {p.stem: json.loads(p.read_text()) for p in sorted(RUNS.glob(f"{prefix}*-s0.json"))
                if "random" not in p.name}
        specs = {name: arch_from_dict(r["derived"]["spec"]) for name, r in runs.items()}
        evaluator = TrainingEvaluator("fashion-mnist", recipe, val_size=1000, keep_predictions=False, space=space,
                                      space_options=options)
        study = train_derived(list(specs.values()), RUNS / "derived.db", f"{space}-derived", evaluator)
        by_hash = {t.arch_hash: t for t in study.trials()}
        for name, spec in specs.items():
            t = by_hash.get(spec.spec_hash())
            metrics = {} if t is None else t.metrics
            print(f"{name}: objective {None if t is None else t.objective} {metrics}", flush=True)


if __name__ == "__main__":
    main()
