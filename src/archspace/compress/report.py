"""The compression run's outputs: the per-method table (thesis Tables 2.1/2.2 layout) as
Markdown, and f(x) of the evaluated candidates over search time (thesis Figure 2.4), a matplotlib
``Figure`` built without pyplot."""

from __future__ import annotations

from typing import Any

import numpy as np


def _pm(stat: dict[str, float], scale: float = 1.0, digits: int = 2) -> str:
    return f"{stat['mean'] * scale:.{digits}f} ± {stat['std'] * scale:.{digits}f}"


def markdown_table(summary: dict[str, Any]) -> str:
    """Teacher row, then one row per method: mean ± std over seeds of the final returned model.
    Ratio is the compression C(x) = 1 - params/params(teacher) and Times = params(teacher)/params,
    as in the thesis's Tables 2.1/2.2 (and ESNAC's Table 1)."""
    teacher = summary["teacher"]
    lines = ["| Method | Seeds | Test acc. (%) | Val. acc. (%) | #Params | Ratio C(x) | Times | f(x) (final) "
             "| best f(x) in search | Search time (s) |", "|---|---|---|---|---|---|---|---|---|---|"]
    test = teacher.get("test_accuracy")
    lines.append(f"| teacher | - | {test:.2f} | {teacher['accuracy']:.2f} | {teacher['params']:,} | - | 1.00 | - | - | "
                 f"{teacher['train_seconds']:.0f} (training) |" if test is not None else
                 f"| teacher | - | - | {teacher['accuracy']:.2f} | {teacher['params']:,} | - | 1.00 | - | - | - |")
    for row in summary["table"]:
        params = row["params"]
        ratio = _pm(row["compression"], digits=3) if "compression" in row else "-"
        lines.append(f"| {row['method']} | {row['seeds']} | {_pm(row['test_accuracy'])} | {_pm(row['val_accuracy'])} | "
                     f"{params['mean']:,.0f} ± {params['std']:,.0f} | {ratio} | {_pm(row['ratio'])} "
                     f"| {_pm(row['reward'], digits=3)} | {_pm(row['search_reward'], digits=3)} "
                     f"| {_pm(row['search_seconds'], digits=0)} |")
    return "\n".join(lines) + "\n"


def search_markdown(search: dict[str, Any]) -> str:
    """The in-search table of ``workflow.search_summary``: per method, mean ± std over studies."""
    k = search["n_init"]
    lines = [f"| Method | Studies | Evaluations | best f(x) | best f(x) of the first {k} | mean f(x) after the first {k} "
             "| f = -1 (invalid or diverged) |", "|---|---|---|---|---|---|---|"]
    for row in search["search_table"]:
        evaluations = sorted(set(row["evaluations"]))
        after = _pm(row["mean_after"], digits=3) if row["mean_after"] else "-"
        lines.append(f"| {row['method']} | {row['studies']} | {'/'.join(map(str, evaluations))} | "
                     f"{_pm(row['best'], digits=3)} | {_pm(row['best_first'], digits=3)} | {after} | {row['invalid']} |")
    return "\n".join(lines) + "\n"


def reward_over_time_figure(summary: dict[str, Any]) -> Any:
    """f(x) of every evaluated candidate (points) and each study's running best (lines), against
    seconds since the study started (left) and against the evaluation number (right: on a shared
    machine wall time is noisy); invalid candidates (f = -1) sit at the bottom."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4.2), dpi=110)
    by_time, by_number = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
    methods = list(dict.fromkeys(curve["method"] for curve in summary["curves"].values()))
    colors = {m: f"C{i}" for i, m in enumerate(methods)}
    labelled = set()
    for curve in summary["curves"].values():
        f = np.nan_to_num(np.asarray(curve["reward"], dtype=float), nan=-1.0)
        method = curve["method"]
        t = np.asarray(curve["finished_at"], dtype=float)
        order = np.argsort(t)
        number = np.arange(1, len(f) + 1)
        for axes, x, ys in ((by_time, t[order], f[order]), (by_number, number, f)):
            axes.scatter(x, ys, s=8, alpha=0.35, color=colors[method])
            axes.plot(x, np.maximum.accumulate(ys), color=colors[method], linewidth=1.4,
                      label=None if (method, id(axes)) in labelled else method)
            labelled.add((method, id(axes)))
    by_time.set_xlabel("seconds since the study started")
    by_number.set_xlabel("evaluation number")
    for axes in (by_time, by_number):
        axes.set_ylabel("f(x) (eq. 2.2)")
        axes.grid(alpha=0.3)
    by_number.legend(loc="lower right", fontsize=8)
    figure.suptitle("Reward of evaluated candidates (points) and running best per study (lines)")
    figure.tight_layout()
    return figure
