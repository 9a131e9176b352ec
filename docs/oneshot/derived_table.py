"""Markdown tables of the derived cells trained stand-alone (``archspace oneshot train-derived``).

Reads the studies of ``runs/derived.db`` (``nb201-derived-all``: seed-0 NB201 searches,
``nb201-derived-s12``: seeds 1 and 2, ``nb201-derived-n10``: NA-DARTS with n_nbr = 10,
``darts-derived`` / ``darts-derived-s12``: the S3 searches of seed 0 / seeds 1-2,
``darts8-derived-s0`` / ``darts8-derived-s12``: the 8-op DARTS-space searches; session 5:
``darts-derived-s5``: the S3 cells of DARTS-2, DARTS-ES, PC-DARTS and the NA variants,
``darts8-derived-s5-s0`` / ``darts8-derived-s5-s12``: the same on the 8-op space,
``darts-derived-n10`` / ``darts8-derived-n10``: NA-DARTS with n_nbr = 10 on S3 / the 8-op space), matches each trial's
architecture to the search runs (``runs/*.json``) that derived it and, for NB201 cells, to the
NAS-Bench-201 CIFAR-10 test accuracy recorded in ``results.json``; prints one row per distinct
cell and the Spearman correlation between the Fashion-MNIST stand-alone test error and the
CIFAR-10 accuracy over the NB201 cells; then, per (space, method), the mean stand-alone test error
over the seeds' derived cells (a cell trained in several studies counts with the mean of its
trials).

    .venv/bin/python docs/oneshot/derived_table.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from archspace.study import Study

HERE = Path(__file__).resolve().parent
RUNS = HERE / "runs"
STUDIES = ("nb201-derived-all", "nb201-derived-s12", "nb201-derived-n10", "darts-derived", "darts-derived-s12",
           "darts8-derived-s0", "darts8-derived-s12", "darts-derived-s5", "darts8-derived-s5-s0",
           "darts8-derived-s5-s12", "darts-derived-n10",
           "darts8-derived-n10")


def _method_key(stem: str) -> str:
    """``nb201-na-darts-add-mean-s0`` -> the results.json key ``na-darts[add/mean]``."""
    name = stem.split("-", 1)[1].rsplit("-s", 1)[0]
    for plain, key in (("na-darts-add-mean", "na-darts[add/mean]"), ("na-darts-mul-max", "na-darts[mul/max]"),
                       ("na-darts-add-mean-n10", "na-darts[add/mean,n10]"), ("na-darts-mul-max-n10", "na-darts[mul/max,n10]"),
                       ("na-darts-es", "na-darts-es[add/mean]"), ("na-pc-darts", "na-pc-darts[add/mean]")):
        if name == plain:
            return key
    return name


def _sources() -> dict[str, list[tuple[str, int]]]:
    """Derived spec JSON -> [(method key, seed)] of the searches that derived it."""
    found: dict[str, list[tuple[str, int]]] = {}
    for path in sorted(RUNS.glob("*.json")):
        result = json.loads(path.read_text())
        if not isinstance(result, dict) or not isinstance(result.get("derived"), dict) or "config" not in result:
            continue
        key = json.dumps(result["derived"]["spec"], sort_keys=True)
        space = result["config"]["space"]
        method = _method_key(path.stem) if space == "nb201" else f"{space}:{_method_key(path.stem)}"
        found.setdefault(key, []).append((method, int(result["config"]["seed"])))
    return found


def main() -> None:
    sources = _sources()
    nb201 = json.loads((HERE / "results.json").read_text())["nb201"]
    pairs: dict[str, tuple[float, float]] = {}  # distinct NB201 cell -> (FMNIST test error, CIFAR-10 acc)
    tests: dict[str, list[float]] = {}  # distinct cell -> its trials' FMNIST test errors
    for name in STUDIES:
        try:
            study = Study.load(name, str(RUNS / "derived.db"))
        except Exception as exc:  # noqa: BLE001 - a study not run yet is reported, not fatal
            print(f"\n{name}: not available ({exc})")
            continue
        print(f"\n**{name}** ({study.counts()['complete']} trials complete)\n")
        print("| derived by (method, seed) | cell | FMNIST val error % | FMNIST test error % | NB201 CIFAR-10 test % | params | train s |")
        print("|---|---|---|---|---|---|---|")
        for t in sorted(study.trials(), key=lambda t: (t.objective is None, t.objective or 0.0)):
            spec = t.arch
            by = sources.get(json.dumps(spec.to_dict(), sort_keys=True), [])
            cifar = None
            if spec.kind == "nb201" and by:
                method, seed = by[0]
                row = nb201[method]
                cifar = row["accuracies"][row.get("seeds", [0, 1, 2]).index(seed)][0]
            text = spec.to_string() if hasattr(spec, "to_string") else str(spec.to_dict())
            if spec.kind == "darts":
                text = "normal " + " ".join(f"{op}~{i}" for op, i in spec.normal) + "; reduce " + " ".join(
                    f"{op}~{i}" for op, i in spec.reduce)
            test = t.metrics.get("test_error")
            if test is not None:
                tests.setdefault(json.dumps(spec.to_dict(), sort_keys=True), []).append(test)
            if cifar is not None and test is not None:
                pairs[json.dumps(spec.to_dict(), sort_keys=True)] = (test, cifar)
            val = "-" if t.objective is None else f"{t.objective:.2f}"
            text = text.replace("|", "\\|")  # a pipe inside a Markdown table cell
            print(f"| {', '.join(f'{m} s{s}' for m, s in by) or '?'} | `{text}` | {val} | "
                  f"{'-' if test is None else f'{test:.2f}'} | {'-' if cifar is None else f'{cifar:.2f}'} | "
                  f"{int(t.cost.get('params', 0)):,} | {t.duration_s or 0:.0f} |")
    if len(pairs) >= 3:
        rho, p = spearmanr([a for a, _ in pairs.values()], [b for _, b in pairs.values()])
        print(f"\nSpearman rho (FMNIST stand-alone test error vs NB201 CIFAR-10 test accuracy), {len(pairs)} "
              f"NB201 cells: {rho:.2f} (p = {p:.3f}); negative = a lower FMNIST error goes with a higher CIFAR-10 accuracy")
    per_method(sources, tests)


def per_method(sources: dict[str, list[tuple[str, int]]], tests: dict[str, list[float]]) -> None:
    """Mean ± sd over seeds of the FMNIST stand-alone test error of each method's derived cells."""
    rows: dict[str, dict[int, float]] = {}
    for key, by in sources.items():
        if key in tests:
            for method, seed in by:
                rows.setdefault(method if ":" in method else f"nb201:{method}", {})[seed] = float(np.mean(tests[key]))
    print("\n| space | method | seeds trained | FMNIST test error % (mean ± sd over seeds) | per seed (0 / 1 / 2) |")
    print("|---|---|---|---|---|")
    for method, by_seed in sorted(rows.items()):
        space, name = method.split(":", 1)
        values = [by_seed[k] for k in sorted(by_seed)]
        spread = f"{np.mean(values):.2f} ± {np.std(values):.2f}" if len(values) > 1 else f"{values[0]:.2f}"
        seeds = " / ".join(f"{by_seed[k]:.2f}" if k in by_seed else "-" for k in range(3))
        print(f"| {space} | {name} | {len(values)} | {spread} | {seeds} |")


if __name__ == "__main__":
    main()
