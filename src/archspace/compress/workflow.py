"""The compression workflow: search strategies side by side at equal budget, as Studies, then
the final stage (thesis 2.3.3), and the per-method table of Tables 2.1/2.2.

``run_compression(config)`` builds one ``CompressionEvaluator`` (so every method sees the same
teacher, data split, distillation and reward), then, per method and seed, a Study named
``<method>-s<seed>`` in ``config.db`` that runs ``config.n_trials`` evaluations (a second call
resumes it). ``finetune_top`` retrains the top-k candidates of a study: the candidate's
distillation is replayed with its trial seed (bit-identical on CPU: the search weights), then
fine-tuned with cross-entropy; the best by validation accuracy is the method's result, with its
test accuracy. A method whose options hold ``save_kernels`` writes its last learned kernels there;
``transfer`` in another method's options reuses such a file (kernel transfer).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archspace.compress.distill import DistillConfig
from archspace.compress.reward import INVALID_REWARD as INVALID_F
from archspace.compress.reward import compression, reward
from archspace.compress.setup import CompressionSetup
from archspace.errors import UsageError


@dataclass(frozen=True)
class Method:
    """A row of the comparison: ``label``, registry ``strategy`` name and its ``options``."""

    label: str
    strategy: str
    options: dict[str, Any] = field(default_factory=dict)


def bo_options(n_kernels: int = 8, n_init: int = 8, n_candidates: int = 1000, objective: str = "posterior") -> dict[str, Any]:
    return {"n_kernels": n_kernels, "n_init": n_init, "n_candidates": n_candidates, "objective": objective}


def method_presets(n_kernels: int = 8, n_init: int = 8, n_candidates: int = 1000) -> dict[str, Method]:
    """The named methods of the comparison and its ablations (thesis Tables 2.1-2.6)."""
    bo = bo_options(n_kernels, n_init, n_candidates)
    return {
        "random": Method("random", "rs"),
        "tpe": Method("tpe", "tpe-ops"),
        "bo-learned": Method("bo-learned", "bo-learned", bo),
        "bo-k1": Method("bo-k1", "bo-learned", {**bo, "n_kernels": 1, "subset_fraction": 1.0}),
        "bo-marginal": Method("bo-marginal", "bo-learned", bo_options(n_kernels, n_init, n_candidates,
                                                                      objective="marginal")),
        "bo-euclidean": Method("bo-euclidean", "bo-learned", bo_options(n_kernels, n_init, n_candidates,
                                                                        objective="euclidean")),
        "bo-evolution": Method("bo-evolution", "bo-learned", {**bo, "optimizer": "evolution"}),
    }


def parse_methods(names: list[str], n_kernels: int = 8, n_init: int = 8, n_candidates: int = 1000,
                  transfer: str | None = None, save_kernels: str | None = None) -> tuple[Method, ...]:
    """Methods by preset name; ``bo-transfer`` needs ``transfer`` (a kernel file of another
    setting); ``save_kernels`` is attached to the ``bo-learned`` method."""
    presets = method_presets(n_kernels, n_init, n_candidates)
    methods = []
    for name in names:
        if name == "bo-transfer":
            if transfer is None:
                raise UsageError("method bo-transfer needs --transfer FILE (kernels saved by another setting's run)")
            methods.append(Method("bo-transfer", "bo-learned", {**presets["bo-learned"].options, "transfer": transfer}))
            continue
        if name not in presets:
            raise UsageError(f"unknown method {name!r}; known: {[*presets, 'bo-transfer']}")
        method = presets[name]
        if name == "bo-learned" and save_kernels:
            method = Method(method.label, method.strategy, {**method.options, "save_kernels": save_kernels})
        methods.append(method)
    return tuple(methods)


DEFAULT_METHODS = tuple(method_presets()[name] for name in ("random", "tpe", "bo-learned"))


@dataclass
class CompressionConfig:
    setup: CompressionSetup = field(default_factory=CompressionSetup)
    training: DistillConfig = field(default_factory=lambda: DistillConfig(epochs=1))
    space_options: dict[str, Any] = field(default_factory=dict)
    methods: tuple[Method, ...] = DEFAULT_METHODS
    seeds: tuple[int, ...] = (0, 1, 2)
    n_trials: int = 40
    top_k: int = 4
    finetune: DistillConfig = field(default_factory=lambda: DistillConfig(epochs=3, loss="ce", lr=0.02))
    db: str = "runs/compress.db"

    def __post_init__(self) -> None:
        if isinstance(self.n_trials, bool) or not isinstance(self.n_trials, int) or self.n_trials < 1:
            raise UsageError(f"n_trials must be an integer >= 1, got {self.n_trials!r}")
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 1:
            raise UsageError(f"top_k must be an integer >= 1, got {self.top_k!r}")
        if not self.seeds:
            raise UsageError("give at least one seed")
        labels = [m.label for m in self.methods]
        if len(set(labels)) != len(labels) or not labels:
            raise UsageError(f"method labels must be distinct and non-empty, got {labels}")


def make_evaluator(config: CompressionConfig) -> Any:
    from archspace.evaluators.compress import CompressionEvaluator

    return CompressionEvaluator(config.setup, config.training, config.space_options)


def check_methods(config: CompressionConfig, space: Any) -> None:
    """Every method's strategy builds on the space (bad names and options fail before any training)."""
    from archspace.search.registry import make_strategy

    for method in config.methods:
        options = {k: v for k, v in method.options.items() if k != "save_kernels"}
        if "transfer" in options and not Path(options["transfer"]).is_file():
            continue  # written by an earlier method of this run
        make_strategy(method.strategy, space, 0, **options)


def run_method(config: CompressionConfig, evaluator: Any, method: Method, seed: int,
               progress: bool = False, executor: Any = None) -> dict[str, Any]:
    """Run (or resume) one method's Study; returns its name and search wall time.

    A study that already holds ``n_trials`` finished trials is not resumed (a resume replays the
    strategy, which for BO retrains every step's kernels), only checked against the method's
    strategy; unless the method saves its kernels, which needs the replayed strategy."""
    from archspace.search.registry import make_strategy
    from archspace.study import Study
    from archspace.study.study import check_same_strategy, strategy_spec

    options = {k: v for k, v in method.options.items() if k != "save_kernels"}
    study = Study.create(f"{method.label}-s{seed}", config.db, seed=seed, load_if_exists=True)
    strategy = make_strategy(method.strategy, evaluator.space(), seed, **options)
    if study.summary().finished >= config.n_trials and not method.options.get("save_kernels"):
        stored = study.stored_strategy()
        if stored is not None:
            check_same_strategy(stored, strategy_spec(strategy), study.name)
        return {"study": study.name, "seconds": 0.0}
    start = time.perf_counter()
    study.optimize(strategy, evaluator, config.n_trials, executor=executor, progress=progress)
    seconds = time.perf_counter() - start
    if method.options.get("save_kernels") and getattr(strategy, "last_models", None):
        Path(method.options["save_kernels"]).parent.mkdir(parents=True, exist_ok=True)
        strategy.save_kernels(method.options["save_kernels"])
    return {"study": study.name, "seconds": seconds}


def finetune_top(study: Any, evaluator: Any, k: int, finetune: DistillConfig) -> list[dict[str, Any]]:
    """The top-``k`` candidates of ``study`` by reward, fine-tuned from their search weights."""
    import torch

    from archspace.arch import arch_from_json
    from archspace.compress.distill import accuracy, train_student
    from archspace.families.teacher.modules import inherit_weights

    frame = study.trials_dataframe()
    frame = frame[(frame["state"] == "complete") & (frame.get("valid", 0) == 1)]
    frame = frame.sort_values(["reward", "number"], ascending=[False, True]).drop_duplicates("arch_hash").head(k)
    state = evaluator.resources()
    data, space, teacher = state["data"], state["space"], state["teacher"]
    rows = []
    for _, trial in frame.iterrows():
        arch = arch_from_json(trial["arch_json"])
        seed = int(trial["seed"])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            student = space.family.build(arch, num_classes=data.num_classes, in_channels=data.in_channels)
            if evaluator.inherit:
                inherit_weights(student, arch, teacher.module, space.teacher_graph)
            train_student(student, data, teacher.train_logits, evaluator.training, seed, keep_state=True)
            run = train_student(student, data, None, finetune, seed, keep_state=True)
        params = int(trial["params"])
        rows.append({"trial": int(trial["number"]), "search_reward": float(trial["reward"]),
                     "val_accuracy": run.accuracy, "test_accuracy": accuracy(student, data.test),
                     "params": params, "ratio": teacher.params / params,
                     "compression": float(compression(params, teacher.params)),
                     "reward": reward(run.accuracy, params, teacher.accuracy, teacher.params),
                     "finetune_seconds": run.seconds, "arch_json": trial["arch_json"]})
    return rows


def run_compression(config: CompressionConfig, progress: bool = False,
                    executor: Callable[[], Any] | None = None) -> dict[str, Any]:
    """Every method x seed as a Study, the final stage of each, and the summary table.

    ``executor``: a factory of the executor each Study evaluates on (``archspace.study``
    executors: inline by default, local processes, Ray); each worker loads the cached teacher once."""
    evaluator = make_evaluator(config)
    space = evaluator.space()  # data, teacher graph and space options checked: nothing trained yet
    check_methods(config, space)
    teacher = evaluator.resources()["teacher"]  # trained (or loaded) once, before any search
    runs = []
    for method in config.methods:
        for seed in config.seeds:
            info = run_method(config, evaluator, method, seed, progress, executor() if executor else None)
            runs.append({"method": method.label, "seed": seed, **info})
    return summarize(config, evaluator, runs, teacher)


def pick_best(top: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The returned model of a run: the fine-tuned candidate with the highest f(x) (ties: fewer params)."""
    return max(top, key=lambda r: (r["reward"], -r["params"])) if top else None


def method_table(labels: list[str], finals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per method: mean and std over its seeds of the returned models (Tables 2.1/2.2 layout)."""

    def stat(values: list[float]) -> dict[str, float]:
        return {"mean": float(np.mean(values)), "std": float(np.std(values))}

    table = []
    for label in labels:
        rows = [f for f in finals if f["method"] == label and f["best"]]
        if not rows:
            continue
        table.append({"method": label, "seeds": len(rows),
                      "test_accuracy": stat([r["best"]["test_accuracy"] for r in rows]),
                      "val_accuracy": stat([r["best"]["val_accuracy"] for r in rows]),
                      "params": stat([r["best"]["params"] for r in rows]),
                      "compression": stat([r["best"]["compression"] for r in rows]),
                      "ratio": stat([r["best"]["ratio"] for r in rows]),
                      "reward": stat([r["best"]["reward"] for r in rows]),
                      "search_reward": stat([r["best_search_reward"] for r in rows]),
                      "search_seconds": stat([r["search_seconds"] for r in rows])})
    return table


def summarize(config: CompressionConfig, evaluator: Any, runs: list[dict[str, Any]], teacher: Any) -> dict[str, Any]:
    """Final stage per run, then per method the mean and std over seeds (Tables 2.1/2.2 layout)."""
    from archspace.study import Study

    finals = []
    curves = {}
    for run in runs:
        study = Study.load(run["study"], config.db)
        top = finetune_top(study, evaluator, config.top_k, config.finetune)
        frame = study.trials_dataframe().sort_values("number")
        curves[run["study"]] = {"method": run["method"], "reward": frame["reward"].astype(float).tolist(),
                                "finished_at": (frame["finished_at"] - frame["started_at"].min()).tolist()}
        finals.append({**run, "best": pick_best(top), "top": top,
                       "best_search_reward": float(frame["reward"].max()),
                       "search_seconds": float(frame["duration_s"].sum())})
    table = method_table([m.label for m in config.methods], finals)
    from archspace.compress.distill import accuracy

    test = accuracy(teacher.module, evaluator.resources()["data"].test)
    return {"teacher": {"accuracy": teacher.accuracy, "test_accuracy": test, "params": teacher.params,
                        "train_seconds": teacher.seconds},
            "table": table, "runs": finals, "curves": curves}


def study_curve(study: Any) -> dict[str, Any]:
    """f(x) of a study's finished trials in trial order, and when each finished (seconds since
    its first start): the points of the f(x)-over-time figure."""
    frame = study.trials_dataframe()
    if "state" in frame:
        frame = frame[frame["state"].isin(("complete", "diverged", "failed"))]
    if frame.empty or "reward" not in frame:
        return {"reward": [], "finished_at": []}  # nothing finished yet (only asked or running trials)
    frame = frame.sort_values("number")
    return {"reward": frame["reward"].astype(float).tolist(),
            "finished_at": (frame["finished_at"] - frame["started_at"].min()).tolist()}


def search_summary(dbs: list[str], n_init: int = 8) -> dict[str, Any]:
    """The in-search comparison straight from the Studies of one or more ``compress run``
    databases, without training (partial runs included): per study ``<method>-s<seed>`` its
    curve; per method, over its studies, the evaluations done, the best f(x), the best among
    the first ``n_init`` evaluations and the mean f(x) after them (what a strategy's own
    proposals earned: BO and random search share their first ``n_init`` candidates)."""
    from archspace.study import Study

    if isinstance(n_init, bool) or not isinstance(n_init, int) or n_init < 1:
        raise UsageError(f"n_init must be an integer >= 1, got {n_init!r}")
    curves: dict[str, Any] = {}
    for db in dbs:
        if not Path(db).is_file():
            raise UsageError(f"database {db} does not exist")
        for item in Study.list(db):
            label, sep, seed = item.name.rpartition("-s")
            if not sep or not seed.isdigit():
                continue
            curve = study_curve(Study.load(item.name, db))
            if not curve["reward"]:
                continue  # created, nothing finished (e.g. a run stopped as it began this study)
            if item.name in curves:
                raise UsageError(f"study {item.name!r} is in more than one database")
            curves[item.name] = {"method": label, "seed": int(seed), "db": db, **curve}

    def stat(values: list[float]) -> dict[str, float]:
        return {"mean": float(np.mean(values)), "std": float(np.std(values))}

    table = []
    for label in dict.fromkeys(c["method"] for c in curves.values()):
        rows = [np.nan_to_num(np.asarray(c["reward"], float), nan=INVALID_F) for c in curves.values()
                if c["method"] == label and c["reward"]]
        if not rows:
            continue
        after = [r[n_init:].mean() for r in rows if len(r) > n_init]
        table.append({"method": label, "studies": len(rows), "evaluations": [len(r) for r in rows],
                      "best": stat([r.max() for r in rows]), "best_first": stat([r[:n_init].max() for r in rows]),
                      "mean_after": stat(after) if after else None,
                      "invalid": int(sum((r == INVALID_F).sum() for r in rows))})
    return {"n_init": n_init, "search_table": table, "curves": curves}


def merge_summaries(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary from several runs of the same setup (e.g. methods or seeds split across
    processes with their own ``--db``): their runs and curves side by side, the table recomputed.
    The teachers must agree (same params and accuracies: the same cached teacher); a study
    (method and seed) may appear in one summary only."""
    if not summaries:
        raise UsageError("give at least one summary")
    first = summaries[0]["teacher"]
    runs: list[dict[str, Any]] = []
    curves: dict[str, Any] = {}
    for index, summary in enumerate(summaries):
        teacher = summary["teacher"]
        if any(teacher.get(k) != first.get(k) for k in ("params", "accuracy", "test_accuracy")):
            raise UsageError(f"summary {index + 1} has another teacher ({teacher.get('params')} params, "
                             f"{teacher.get('accuracy')}% val) than summary 1 ({first.get('params')} params, "
                             f"{first.get('accuracy')}% val): only runs of one setup can be merged")
        for run in summary["runs"]:
            if run["study"] in curves or any(r["study"] == run["study"] for r in runs):
                raise UsageError(f"study {run['study']!r} appears in more than one summary")
            runs.append(run)
        curves.update(summary.get("curves", {}))
    return reselect({**summaries[0], "runs": runs, "curves": curves})


def reselect(summary: dict[str, Any]) -> dict[str, Any]:
    """A saved summary with each run's returned model and the table recomputed from its stored
    fine-tuned top-k (no training): what ``archspace compress table`` writes."""
    runs = [{**run, "best": pick_best(run["top"])} for run in summary["runs"]]
    labels = list(dict.fromkeys(run["method"] for run in runs))
    return {**summary, "runs": runs, "table": method_table(labels, runs)}
