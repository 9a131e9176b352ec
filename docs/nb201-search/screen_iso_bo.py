"""Screen iso-bo variants on the validation signal only, never on a test column.

    .venv/bin/python docs/nb201-search/screen_iso_bo.py RUNS PROTOCOL/DATASET/BUDGET[,...] OPTIONS_JSON...

For each cell and each variant (a JSON object of ``iso-bo`` constructor options, ``{}`` = the
defaults) it runs ``RUNS`` searches with base seed 1 (the grid in this folder uses seed 0, so the
screen and the reported grid share no run) and prints the mean-over-seeds ``<dataset>_valid_200``
of the selected cell with its 95% interval, the share of runs that selected the best cell by that
column, and CPU seconds per run. Keys starting with ``_`` patch a constant of
``archspace.search.hamming_gp`` for that variant (``_prior_scale``, ``_prior_w``: the log-normal
prior on the ARD weights; ``_floor``: the lower bound of a weight), to screen what is not an option.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

import archspace.search.hamming_gp as hamming_gp
from archspace.bench.nb201 import NB201Table
from archspace.experiments.nb201_search import BenchConfig, protocol_metric, run_search

DEFAULTS = {name: getattr(hamming_gp, name) for name in ("PRIOR_SCALE", "PRIOR_LOG_WEIGHT", "LOG_WEIGHT_BOUNDS")}


def patch(constants: dict[str, float]) -> None:
    """Set the module constants a variant names (the others back to their defaults)."""
    for name, value in DEFAULTS.items():
        setattr(hamming_gp, name, value)
    if "prior_w" in constants:
        hamming_gp.PRIOR_LOG_WEIGHT = float(np.log(constants["prior_w"]))
    if "prior_scale" in constants:
        hamming_gp.PRIOR_SCALE = float(constants["prior_scale"])
    if "floor" in constants:
        hamming_gp.LOG_WEIGHT_BOUNDS = (float(np.log(constants["floor"])), DEFAULTS["LOG_WEIGHT_BOUNDS"][1])


def screen(table: NB201Table, runs: int, cell: str, options: dict) -> str:
    protocol, dataset, budget = cell.split("/")
    metric, mode = protocol_metric(protocol, dataset)
    criterion = table.column(protocol_metric("mean", dataset)[0])
    shown, options = json.dumps(options), dict(options)
    patch({key[1:]: options.pop(key) for key in list(options) if key.startswith("_")})
    config = BenchConfig(algorithms=("iso-bo",), budget=int(budget), runs=runs, search_metric=metric,
                         seed_mode=mode, seed=1, options={"iso-bo": options}).checked()
    start = time.process_time()
    values = criterion[np.array([run_search("iso-bo", run, config).final for run in range(runs)])]
    half = 1.96 * values.std(ddof=1) / np.sqrt(runs)
    hit = np.mean(np.isclose(values, criterion.max()))
    return (f"{cell} {shown}: valid {values.mean():.3f} ± {half:.3f}, hit {hit:.2f}, "
            f"{(time.process_time() - start) / runs:.2f} s CPU per run")


def main(argv: list[str]) -> None:
    table = NB201Table.load()
    runs, cells, variants = int(argv[0]), argv[1].split(","), [json.loads(v) for v in argv[2:]]
    for cell in cells:
        for options in variants:
            print(screen(table, runs, cell, options), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
