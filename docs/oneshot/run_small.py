"""The small CPU run of docs/oneshot/README.md: one-shot searches on Fashion-MNIST, resumable.

Every (space, method, seed) writes ``runs/<space>-<label>-s<seed>.json`` (skipped when present)
and resumes from ``runs/<same>.pt``. ``--part nb201`` runs the NB201 searches and the random-search
baseline (random cells trained stand-alone on the same data for the same number of weight steps,
as many as fit in the mean DARTS search wall-clock, the best by Fashion-MNIST validation
accuracy); ``--part darts`` the DARTS-space and S3 searches. NA runs use n_nbr = 4 except the
``*-n10`` labels (the default 10; pass them with ``--methods``). Usage:
    nice -n 10 .venv/bin/python docs/oneshot/run_small.py --part nb201 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from archspace.data import load_dataset
from archspace.oneshot.bilevel import SearchRecipe
from archspace.oneshot.search import OneShotConfig, run_search

HERE = Path(__file__).resolve().parent
RUNS = HERE / "runs"
SUBSET, BATCH, VAL, EVAL = 512, 64, 1000, 500
NB201 = dict(epochs=5)
DARTS = dict(epochs=2)
# label -> (method, options, recipe changes)
METHODS = {
    "darts": ("darts", {}, {}),
    "darts2": ("darts2", {}, {}),
    "gdas": ("gdas", {}, {}),
    "darts-es": ("darts", {}, {"es_k": 1}),
    "pc-darts": ("darts", {"partial_channels": 2, "edge_norm": True}, {}),
    "na-darts-add-mean": ("na-darts", {"neighbors": "additive", "aggregate": "mean"}, {}),
    "na-darts-mul-max": ("na-darts", {"neighbors": "multiplicative", "aggregate": "max"}, {}),
    "na-darts-es": ("na-darts", {}, {"es_k": 1}),
    "na-pc-darts": ("na-darts", {"partial_channels": 2, "edge_norm": True}, {}),
    # session 4: the default neighborhood size n_nbr = 10 (the runs above use 4)
    "na-darts-add-mean-n10": ("na-darts", {"neighbors": "additive", "aggregate": "mean", "n_nbr": 10}, {}),
    "na-darts-mul-max-n10": ("na-darts", {"neighbors": "multiplicative", "aggregate": "max", "n_nbr": 10}, {}),
}
# --part darts without --methods: every method of the list on both spaces (session 5; the
# NA versions as on NB201: add/mean and mul/max NA-DARTS, NA-DARTS-ES and NA-PC-DARTS add/mean)
_ALL_DARTS = ("darts", "na-darts-add-mean", "gdas", "darts-es", "pc-darts", "na-darts-mul-max", "darts2",
              "na-darts-es", "na-pc-darts")
DARTS_METHODS = {"darts_s3": _ALL_DARTS, "darts": _ALL_DARTS}


def config_for(space: str, label: str, seed: int) -> OneShotConfig:
    method, options, recipe_changes = METHODS[label]
    options = {"n_nbr": 4, **options}
    base = NB201 if space == "nb201" else DARTS
    recipe = SearchRecipe(batch_size=BATCH, subset=SUBSET, eval_images=EVAL, hessian_batches=1, hessian_iterations=5,
                          **base, **recipe_changes)
    cells = 1 if space == "nb201" else 5
    return OneShotConfig(space=space, method=method, channels=8, cells=cells, seed=seed, val_size=VAL,
                         recipe=recipe, **options)


def run_one(space: str, label: str, seed: int, dataset: object) -> dict:
    out = RUNS / f"{space}-{label}-s{seed}.json"
    if out.is_file():
        return json.loads(out.read_text())
    start = time.perf_counter()
    result = run_search(config_for(space, label, seed), RUNS / f"{space}-{label}-s{seed}.pt", dataset=dataset)
    result["wall_seconds"] = time.perf_counter() - start
    out.write_text(json.dumps(result))
    print(f"{space} {label} seed {seed}: {result['derived'].get('spec')} in {result['seconds']:.0f} s", flush=True)
    return result


def random_search(seed: int, budget_s: float, steps: int, dataset: object) -> dict:
    """Random NB201 cells (C=8, N=1) trained for ``steps`` weight steps each until ``budget_s``."""
    from archspace.spaces.nb201 import NB201Space
    from archspace.train import Recipe, train

    out = RUNS / f"nb201-random-s{seed}.json"
    if out.is_file():
        return json.loads(out.read_text())
    space = NB201Space(channels=8, cells_per_stage=1)
    rng = np.random.default_rng([seed, 2026])
    epochs = max(1, round(steps * BATCH / (SUBSET // 2)))
    recipe = Recipe(epochs=epochs, batch_size=BATCH, lr=0.025, subset=SUBSET // 2, augment=False,
                    eval_each_epoch=False)
    tried, spent = [], 0.0
    while spent < budget_s:
        cell = space.sample(rng)
        start = time.perf_counter()
        res = train(cell, dataset, recipe, seed=seed, space=space, evaluate_test=False)
        spent += time.perf_counter() - start
        tried.append({"cell": cell.to_string(), "val_error": res.val_error, "seconds": spent})
    result = {"seed": seed, "budget_s": budget_s, "tried": tried}
    out.write_text(json.dumps(result))
    print(f"random search seed {seed}: {len(tried)} cells in {spent:.0f} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=("nb201", "darts"), required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=None)
    parser.add_argument("--spaces", nargs="+", choices=("darts_s3", "darts"), default=["darts_s3", "darts"],
                        help="--part darts: which of the two spaces")
    args = parser.parse_args()
    torch.set_num_threads(1)
    RUNS.mkdir(parents=True, exist_ok=True)
    dataset = load_dataset("fashion-mnist", seed=0, val_size=VAL, augment=False)
    if args.part == "nb201":
        for seed in args.seeds:
            results = [run_one("nb201", label, seed, dataset) for label in (args.methods or METHODS)]
            darts = next(r for r in results if r["label"] == "darts")
            steps = darts["total_steps"]
            random_search(seed, darts["seconds"], steps, dataset)
    else:
        for seed in args.seeds:
            for space in args.spaces:
                for label in (args.methods or DARTS_METHODS[space]):
                    run_one(space, label, seed, dataset)


if __name__ == "__main__":
    main()

