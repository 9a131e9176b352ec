"""Library code leaves the process alone: importing archspace and drawing every workflow's figures
must not switch matplotlib's backend, import pyplot, or change Optuna's log level.

Runs in a fresh interpreter (``subprocess``), so nothing the test suite already imported hides a
change, and without ``MPLBACKEND`` so a ``matplotlib.use(...)`` call would show.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

PROBE = textwrap.dedent('''
    import importlib, json, pkgutil, sys
    from pathlib import Path

    import matplotlib
    import numpy as np

    try:
        import optuna
    except ImportError:
        optuna = None

    def state():
        try:
            backend = matplotlib.get_backend(auto_select=False)  # matplotlib >= 3.10
        except TypeError:
            backend = matplotlib.rcParams._get_backend_or_none()
        return {"backend": backend,
                "optuna_verbosity": None if optuna is None else optuna.logging.get_verbosity()}

    before = state()
    out = Path(sys.argv[1])

    # 1. import every module of the package but the CLI (which may configure the process)
    import archspace

    imported, missing = [], []

    def walk(package):
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            if info.name == "archspace.cli":
                continue
            try:
                module = importlib.import_module(info.name)
            except ModuleNotFoundError as exc:  # an optional dependency that is not installed
                if (exc.name or "").startswith("archspace"):
                    raise
                missing.append(info.name)
                continue
            imported.append(info.name)
            if info.ispkg:
                walk(module)

    walk(archspace)

    # 2. the committee workflow's figure, on a small pool of synthetic predictions
    from archspace.committee.inputs import pool_from_arrays
    from archspace.committee.selection import SelectionConfig
    from archspace.experiments.committees import run_committees, write_outputs

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, size=120)
    outputs = {}
    for index in range(3):
        logits = rng.normal(size=(120, 4))
        logits[np.arange(120), labels] += 0.5 + index
        outputs[f"m{index}"] = logits.astype(np.float32)
    heldout, test = pool_from_arrays(outputs, labels, [1.0, 2.0, 4.0]).split(0.5, seed=0)
    report = run_committees(heldout, test, SelectionConfig(max_models=3, target_cost=3.0))
    files = list(write_outputs(report, out / "committee").values())

    # 3. the NAS-Bench-201 search comparison's curves (TPE too, where Optuna is installed)
    from archspace.experiments.nb201_search import BenchConfig, run_comparison, summarize
    from archspace.report.nb201_search import write_report as write_search_report

    algorithms = ("rs", "tpe") if optuna is not None else ("rs",)
    config = BenchConfig(algorithms=algorithms, budget=6, runs=2, seed=0)
    files += write_search_report(summarize(run_comparison(config), config), out / "nb201")

    # 4. the ranking study's report, from real ranking statistics of synthetic accuracies
    from archspace.analysis import ranking
    from archspace.experiments.ranking_study import RankingStudyConfig
    from archspace.families.nb201.table import OPS
    from archspace.report.ranking import write_report as write_ranking_report

    truth = rng.uniform(80.0, 90.0, size=8)
    cell_ops = rng.integers(0, len(OPS), size=(8, 6))
    per_seed = []
    for seed in (0, 1):
        predicted = truth + rng.normal(0.0, 2.0, size=8)
        per_seed.append({"seed": seed, "predicted": predicted.tolist(),
                         **ranking.ranking_summary(predicted, truth, (4,), 20, seed)})
    ns = ranking.usable_ns(8, (5, 4))
    usage = {"n": ns, "ops": list(OPS), "ground_truth": ranking.op_usage(cell_ops, truth, ns).tolist(),
             "supernet_mean_over_seeds": np.mean([ranking.op_usage(cell_ops, s["predicted"], ns)
                                                  for s in per_seed], axis=0).tolist()}
    ranking_report = {
        "title": "ranking", "command_line": "probe", "config": RankingStudyConfig(out_dir=str(out)).to_dict(),
        "ground_truth": {"kind": "train", "ops": list(OPS), "count": 8, "accuracy_range": [80.0, 90.0]},
        "bn_recompute": None, "supernets": {"baseline-seed0": {"steps": 3, "train_seconds": 1.0,
                                                               "final_train_loss": None, "final_train_error": None}},
        "results": {"baseline": {"truth": truth.tolist(), "per_seed": per_seed, "op_usage": usage,
                                 "aggregate": ranking.aggregate_summaries(per_seed)}},
        "created_at": "now"}
    files += write_ranking_report(ranking_report, out / "ranking")

    # 5. the design-space report (archspace.report.figures through report.html)
    import pandas as pd
    from archspace.report.build import ReportConfig
    from archspace.report.html import write_report as write_design_report

    table = pd.DataFrame({"group": ["a"] * 12 + ["b"] * 12, "error": rng.uniform(5, 10, size=24),
                          "flops": rng.uniform(1e6, 1e7, size=24)})
    paths = write_design_report(table, out / "design", ReportConfig(reps=50))
    files += [paths.html, paths.summary]

    print(json.dumps({"before": before, "after": state(), "imported": imported, "missing": missing,
                      "pyplot_imported": "matplotlib.pyplot" in sys.modules,
                      "files": [str(f) for f in files]}))
''')


def test_importing_and_drawing_leaves_matplotlib_and_optuna_alone(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    result = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path)], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["after"] == probe["before"]
    assert not probe["pyplot_imported"]
    assert len(probe["imported"]) > 50 and "archspace.committee.figure" in probe["imported"]
    names = {Path(f).name for f in probe["files"]}
    assert {"committees.png", "curves.png", "curves.svg", "fig_tau_top_n.png", "fig_op_usage.svg",
            "fig_mean_top_n.png", "fig_scatter.svg", "report.html", "summary.json"} <= names
    assert all(Path(f).stat().st_size > 0 for f in probe["files"])
