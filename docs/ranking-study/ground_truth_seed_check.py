"""Ground-truth noise floor of a ranking study: retrain its stand-alone cells with a second seed.

Usage: ``python docs/ranking-study/ground_truth_seed_check.py <study out dir>``. Reads the study's
``ground-truth`` trials and stored evaluator, trains every cell again with seed 100000 + trial
index, and writes ``ground_truth_seed_check.json`` (both accuracies and their correlations).
"""

import json
import sys
from pathlib import Path

import torch

from archspace.analysis.ranking import correlations
from archspace.study import Study


def main(out: Path) -> None:
    torch.set_num_threads(1)
    study = Study.load("ground-truth", out / "study.db")
    evaluator = study.evaluator()
    trials = study.trials(("complete",))
    first, second = [], []
    for i, trial in enumerate(trials):
        result = evaluator.evaluate(trial.arch, seed=100_000 + i)
        first.append(100 - trial.objective)
        second.append(100 - result.objective)
        print(i, trial.arch.to_string(), first[-1], second[-1], flush=True)
    report = {"cells": [t.arch.to_string() for t in trials], "seed_a_accuracy": first, "seed_b_accuracy": second,
              "seed_b": "100000 + trial index", "correlation_between_seeds": correlations(second, first)}
    (out / "ground_truth_seed_check.json").write_text(json.dumps(report, indent=1))
    print(report["correlation_between_seeds"])


if __name__ == "__main__":
    main(Path(sys.argv[1]))
