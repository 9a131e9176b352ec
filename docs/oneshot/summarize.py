"""Tables and figures of docs/oneshot/README.md from the runs of run_small.py (read-only on runs/).

    nice -n 10 .venv/bin/python docs/oneshot/summarize.py [--landscape]

Writes results.json, param_free.png and (with --landscape) landscape.png next to this file, and
prints the markdown tables.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from archspace.bench.nb201 import NB201Table
from archspace.families.darts.table import PARAMETER_FREE_OPS
from archspace.families.nb201.spec import NB201Cell
from archspace.spaces.nb201 import NB201Space

HERE = Path(__file__).resolve().parent
RUNS = HERE / "runs"
METRICS = ("cifar10_test_200", "cifar100_test_200", "imagenet16_test_200")


def lookup(table: NB201Table, space: NB201Space, ops: list[str]) -> list[float]:
    index = space.index_of(NB201Cell(tuple(ops)))
    return [float(table.column(m)[index]) for m in METRICS]


def method_key(run: dict) -> str:
    """``darts``, ``na-darts[add/mean]``, ``na-darts[mul/max,n10]`` (n_nbr shown when not 4)."""
    cfg = run["config"]
    if cfg["method"] != "na-darts":
        return run["label"]
    size = "" if cfg["n_nbr"] == 4 else f",n{cfg['n_nbr']}"
    return f"{run['label']}[{cfg['neighbors'][:3]}/{cfg['aggregate']}{size}]"


def fmt(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{np.mean(values):.2f} ± {np.std(values):.2f}" if len(values) > 1 else f"{values[0]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--landscape", action="store_true")
    args = parser.parse_args()
    table, space = NB201Table.load(), NB201Space()
    runs = [json.loads(p.read_text()) for p in sorted(RUNS.glob("*.json")) if "-random-" not in p.name and not p.name.startswith("landscape-")]
    by = defaultdict(list)
    for r in runs:
        by[(r["config"]["space"], method_key(r))].append(r)
    summary: dict = {"nb201": {}, "darts": {}, "random": []}
    print("| method | seeds | CIFAR-10 test | CIFAR-100 test | ImageNet16-120 test | param-free share | supernet val acc % | search s |")
    print("|---|---|---|---|---|---|---|---|")
    for (sp, label), rs in sorted(by.items()):
        if sp != "nb201":
            continue
        accs = np.array([lookup(table, space, r["derived"]["spec"]["ops"]) for r in rs])
        share = [r["derived"]["parameter_free_share"] for r in rs]
        val = [r["history"][-1]["val_accuracy"] for r in rs]
        secs = [r["seconds"] for r in rs]
        summary["nb201"][label] = {"seeds": [r["config"]["seed"] for r in rs],
                                   "cells": [r["derived"]["text"] for r in rs], "accuracies": accs.tolist(),
                                   "parameter_free_share": share, "supernet_val_accuracy": val, "seconds": secs,
                                   "selected_epoch": [r["selected_epoch"] for r in rs],
                                   "share_per_epoch": [[h["derived"]["parameter_free_share"] for h in r["history"]]
                                                       for r in rs]}
        print(f"| {label} | {len(rs)} | " + " | ".join(fmt(list(accs[:, k])) for k in range(3))
              + f" | {fmt(share)} | {fmt(val)} | {np.mean(secs):.0f} |")
    for p in sorted(RUNS.glob("nb201-random-s*.json")):
        r = json.loads(p.read_text())
        best = min(r["tried"], key=lambda t: t["val_error"])
        all_acc = np.array([lookup(table, space, NB201Cell.from_string(t["cell"]).ops) for t in r["tried"]])
        summary["random"].append({"seed": r["seed"], "cells": len(r["tried"]), "budget_s": r["budget_s"],
                                  "best_cell": best["cell"],
                                  "best": lookup(table, space, NB201Cell.from_string(best["cell"]).ops),
                                  "mean_of_tried": all_acc.mean(axis=0).tolist()})
    if summary["random"]:
        best = np.array([r["best"] for r in summary["random"]])
        mean = np.array([r["mean_of_tried"] for r in summary["random"]])
        n = [r["cells"] for r in summary["random"]]
        print(f"| random search (best of {min(n)}-{max(n)} cells by Fashion-MNIST val) | {len(n)} | "
              + " | ".join(fmt(list(best[:, k])) for k in range(3)) + " | - | - | same as darts |")
        print(f"| (mean of the random cells tried) | {len(n)} | " + " | ".join(fmt(list(mean[:, k])) for k in range(3))
              + " | - | - | - |")
    print()
    print("| space | method | seeds | param-free share (normal + reduce) | normal cell only | supernet val acc % | search s |")
    print("|---|---|---|---|---|---|---|")
    for (sp, label), rs in sorted(by.items()):
        if sp == "nb201":
            continue
        share = [r["derived"]["parameter_free_share"] for r in rs]
        normal = [np.mean([op in PARAMETER_FREE_OPS for op, _ in r["derived"]["spec"]["normal"]]) for r in rs]
        print(f"| {sp} | {label} | {len(rs)} | {fmt(share)} | {fmt(normal)} | "
              f"{fmt([r['history'][-1]['val_accuracy'] for r in rs])} | {np.mean([r['seconds'] for r in rs]):.0f} |")
    print()
    print("| space | method | seed | derived genotype | param-free share | supernet val acc % | search s |")
    print("|---|---|---|---|---|---|---|")
    for (sp, label), rs in sorted(by.items()):
        if sp == "nb201":
            continue
        for r in rs:
            summary["darts"].setdefault(f"{sp}/{label}", []).append(
                {"genotype": r["derived"]["text"], "parameter_free_share": r["derived"]["parameter_free_share"],
                 "seconds": r["seconds"], "share_per_epoch": [h["derived"]["parameter_free_share"] for h in r["history"]]})
            print(f"| {sp} | {label} | {r['config']['seed']} | `{r['derived']['text']}` | "
                  f"{r['derived']['parameter_free_share']:.2f} | {r['history'][-1]['val_accuracy']:.1f} | {r['seconds']:.0f} |")
    share_figure(summary)
    if args.landscape:
        summary["landscape"] = landscape()
    (HERE / "results.json").write_text(json.dumps(summary, indent=1))


def share_figure(summary: dict) -> None:
    """Share of parameter-free ops in the derived cell per epoch, mean over the seeds that ran
    every epoch of the method's first seed: NB201, S3 and the 8-op DARTS space side by side."""
    from matplotlib.figure import Figure

    panels = [("NB201 (C=8, N=1), 6 ops", dict(summary["nb201"]))]
    for space, title in (("darts_s3", "S3 (5 cells, C=8), normal + reduce"),
                         ("darts", "DARTS space, 8 ops (5 cells, C=8)")):
        rows = {key.split("/", 1)[1]: {"share_per_epoch": [r["share_per_epoch"] for r in runs]}
                for key, runs in summary["darts"].items() if key.startswith(f"{space}/")}
        panels.append((title, rows))
    labels = sorted({label for _, rows in panels for label in rows})
    colors = {label: f"C{i % 10}" if i < 10 else "black" for i, label in enumerate(labels)}
    fig = Figure(figsize=(15, 4.5))
    for k, (title, rows) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), k + 1)
        for label, row in sorted(rows.items()):
            curves = [c for c in row["share_per_epoch"] if len(c) == len(row["share_per_epoch"][0])]
            mean = np.array(curves).mean(axis=0)
            ax.plot(np.arange(len(mean)), mean, marker="os^vD<>ph*x"[labels.index(label) % 11],
                    linestyle="--" if label.startswith("na-") else "-", color=colors[label], alpha=0.85,
                    label=f"{label} ({len(curves)})")
        ax.set_xlabel("epoch")
        ax.set_xticks(np.arange(max(len(r["share_per_epoch"][0]) for r in rows.values())))
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=6)
        if k == 0:
            ax.set_ylabel("share of parameter-free ops (mean over seeds)")
    fig.suptitle("Fashion-MNIST, derived cell per epoch (in brackets: seeds averaged)", fontsize=10)
    fig.savefig(HERE / "param_free.png", dpi=120, bbox_inches="tight")


LANDSCAPE_RUNS = (("nb201-darts-s0", "DARTS"), ("nb201-na-darts-add-mean-s0", "NA-DARTS (additive, mean)"))


def landscape_of(name: str, label: str) -> dict:
    """The landscape of one finished run (cached in runs/landscape-<name>.json)."""
    import torch

    from archspace.data import load_dataset
    from archspace.oneshot.bilevel import BilevelSearch, SearchData, SearchRecipe
    from archspace.oneshot.landscape import loss_landscape
    from archspace.oneshot.search import OneShotConfig, build_network, make_method

    cache = RUNS / f"landscape-{name}.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    torch.set_num_threads(1)
    dataset = load_dataset("fashion-mnist", seed=0, val_size=1000, augment=False)
    cfg = json.loads((RUNS / f"{name}.json").read_text())["config"]
    recipe_fields = cfg.pop("recipe")
    recipe = SearchRecipe(**{**recipe_fields, "a_betas": tuple(recipe_fields["a_betas"])})
    config = OneShotConfig(**{**cfg, "ops": None if cfg["ops"] is None else tuple(cfg["ops"]), "recipe": recipe})
    with torch.random.fork_rng():
        torch.manual_seed(config.seed)
        net, derive, _ = build_network(config, dataset.num_classes, dataset.in_channels)
    data = SearchData.from_dataset(dataset, config.seed, recipe.subset, recipe.eval_images)
    search = BilevelSearch(net, make_method(config), recipe, data, config.seed, derive=derive,
                           checkpoint=RUNS / f"{name}.pt", identity=config.to_dict())
    search.restore()
    out = loss_landscape(search, points=5, batches=1, iterations=5, label=label).to_dict()
    cache.write_text(json.dumps(out))
    return out


def landscape() -> dict:
    from archspace.oneshot.landscape import Landscape, landscape_figure

    panels = {label: landscape_of(name, label) for name, label in LANDSCAPE_RUNS}
    figure = landscape_figure([Landscape(np.array(p["coords"]), np.array(p["loss"]), p["eigenvalues"], p["label"])
                               for p in panels.values()],
                              "NB201 (C=8, N=1), Fashion-MNIST, seed 0: validation loss around the final alpha")
    figure.savefig(HERE / "landscape.png", dpi=120, bbox_inches="tight")
    return panels


if __name__ == "__main__":
    main()
