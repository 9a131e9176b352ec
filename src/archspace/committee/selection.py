"""Exhaustive cascade selection: every ordered combination of up to n models and its thresholds.

The search walks the tree of ordered prefixes depth first. Each prefix's running sum is computed
once (one add and one argmax over N x C, plus a softmax when it has children) and shared by all
its extensions. At every node, the cascade ending there is scored for *all* threshold settings at
once on sorted confidences (``thresholds.extend``: the prefix's arrays plus one cumulative
histogram), and the best setting is offered to the objective:

- ``target_cost``: the highest held-out accuracy whose average cost is <= the target;
- ``target_accuracy``: the lowest average cost whose held-out accuracy is >= the target;
- neither: the Pareto front (accuracy vs average cost) of all cascades.

``worst_case_cost`` bounds the cost of an example that runs every stage.

Pruning of dominated prefixes: any extension of a prefix P runs P's stages, so its cost is at
least P's cost when P's last stage is reached, and its accuracy at most what P would score if every
example reaching that last stage were answered correctly. Scoring that optimistic bound over P's
threshold grid tells whether any extension *could* beat the best cascade found so far (or, for the
front, escape domination by it); when none can, the whole subtree is skipped. Prefixes whose
cumulative cost exceeds the worst-case bound are skipped with their subtrees too. Pruning never
changes the result (a test compares with brute force), only the time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from archspace.analysis.pareto import nondominated
from archspace.committee.cascade import Cascade, CascadeResult, evaluate_cascade
from archspace.committee.confidence import confidence_of_sum, get_confidence
from archspace.committee.ensemble import Combine, check_combine, member_term
from archspace.committee.inputs import PredictionPool
from archspace.committee.thresholds import (
    SettingsGrid,
    StageGrid,
    bins_of,
    candidate_thresholds,
    cumulative_histogram,
    extend,
    extended_index,
    gain_of,
    single_stage,
)
from archspace.errors import UsageError

MAX_MODELS = 4
# Candidate thresholds per stage, by cascade length: exact for two stages (every distinct held-out
# confidence), quantiles beyond (the grids have (size+1)^(K-1) cells).
DEFAULT_GRID: dict[int, int | None] = {2: None, 3: 256, 4: 48}
_COST_TOLERANCE = 1e-9


@dataclass(frozen=True)
class SelectionConfig:
    """What to optimize and how finely.

    ``grid`` maps a cascade length to the number of candidate thresholds per stage (None: every
    distinct held-out confidence, exact but with N^(K-1) settings). ``allow_repeats`` lets a model
    appear more than once (its weight in the running average grows); the issue's count of 4,672
    ordered combinations of 8 models with n <= 4 includes repeats (8^2 + 8^3 + 8^4).
    """

    max_models: int = MAX_MODELS
    target_cost: float | None = None
    target_accuracy: float | None = None
    worst_case_cost: float | None = None
    confidence: str = "max_prob"
    combine: Combine = "logits"
    grid: dict[int, int | None] = field(default_factory=lambda: dict(DEFAULT_GRID))
    allow_repeats: bool = False
    prune: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.max_models <= MAX_MODELS:
            raise UsageError(f"max_models must be 1..{MAX_MODELS}, got {self.max_models}")
        if self.target_cost is not None and self.target_accuracy is not None:
            raise UsageError("give a target cost or a target accuracy, not both")
        if self.target_cost is not None and not self.target_cost > 0:
            raise UsageError(f"target cost must be positive, got {self.target_cost}")
        if self.target_accuracy is not None and not 0.0 < self.target_accuracy <= 1.0:
            raise UsageError(f"target accuracy is a fraction in (0, 1], got {self.target_accuracy}")
        if self.worst_case_cost is not None and not self.worst_case_cost > 0:
            raise UsageError(f"worst-case cost bound must be positive, got {self.worst_case_cost}")
        for length, size in self.grid.items():
            if size is not None and size < 2:
                raise UsageError(f"grid size for {length}-model cascades must be >= 2 or None, got {size}")
        get_confidence(self.confidence)
        check_combine(self.combine)

    def grid_size(self, length: int) -> int | None:
        return self.grid.get(length, DEFAULT_GRID.get(length))


@dataclass(frozen=True)
class FrontPoint:
    """A cascade on the held-out accuracy / average-cost front."""

    cascade: Cascade
    accuracy: float
    average_cost: float


@dataclass(frozen=True)
class SearchStats:
    cascades_evaluated: int
    cascades_pruned: int
    settings_evaluated: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Selection:
    """The chosen cascade (None when no cascade meets the target), with its held-out result."""

    cascade: Cascade | None
    heldout: CascadeResult | None
    front: tuple[FrontPoint, ...]
    stats: SearchStats


def count_ordered(pool_size: int, max_models: int, allow_repeats: bool = False, min_models: int = 1) -> int:
    """Ordered combinations of min_models..max_models members from a pool."""
    if allow_repeats:
        return sum(pool_size**k for k in range(min_models, max_models + 1))
    return sum(math.perm(pool_size, k) for k in range(min_models, max_models + 1))


# --- objectives ------------------------------------------------------------------------------


class _Objective:
    """Keeps the best cascade(s) seen and says whether an optimistic bound could still beat them."""

    def offer(self, members: tuple[int, ...], outcome: SettingsGrid) -> None:
        raise NotImplementedError

    def could_improve(self, bound: SettingsGrid) -> bool:
        raise NotImplementedError


class _MaxAccuracyUnderCost(_Objective):
    """Highest correct count with total cost <= budget; ties go to the cheaper cascade."""

    def __init__(self, budget: float) -> None:
        self.budget = budget * (1 + _COST_TOLERANCE)
        self.best: tuple[float, float, tuple[int, ...], tuple[float, ...]] | None = None

    def offer(self, members: tuple[int, ...], outcome: SettingsGrid) -> None:
        correct, cost = outcome.correct.ravel(), outcome.total_cost.ravel()
        feasible = cost <= self.budget
        if not feasible.any():
            return
        top = correct[feasible].max()
        candidates = np.flatnonzero(feasible & (correct == top))
        index = int(candidates[np.argmin(cost[candidates])])
        key = (float(top), -float(cost[index]))
        if self.best is None or key > (self.best[0], -self.best[1]):
            self.best = (float(top), float(cost[index]), members, outcome.thresholds_at(index))

    def could_improve(self, bound: SettingsGrid) -> bool:
        feasible = bound.total_cost <= self.budget
        if not feasible.any():
            return False
        return self.best is None or bool(bound.correct[feasible].max() >= self.best[0])


class _MinCostForAccuracy(_Objective):
    """Lowest total cost with correct count >= need; ties go to the more accurate cascade."""

    def __init__(self, need: float) -> None:
        self.need = need
        self.best: tuple[float, float, tuple[int, ...], tuple[float, ...]] | None = None

    def offer(self, members: tuple[int, ...], outcome: SettingsGrid) -> None:
        correct, cost = outcome.correct.ravel(), outcome.total_cost.ravel()
        feasible = correct >= self.need
        if not feasible.any():
            return
        cheapest = cost[feasible].min()
        candidates = np.flatnonzero(feasible & (cost <= cheapest))
        index = int(candidates[np.argmax(correct[candidates])])
        key = (-float(cost[index]), float(correct[index]))
        if self.best is None or key > (-self.best[1], self.best[0]):
            self.best = (float(correct[index]), float(cost[index]), members, outcome.thresholds_at(index))

    def could_improve(self, bound: SettingsGrid) -> bool:
        feasible = bound.correct >= self.need
        if not feasible.any():
            return False
        return self.best is None or bool(bound.total_cost[feasible].min() <= self.best[1] * (1 + _COST_TOLERANCE))


class _ParetoFront(_Objective):
    """Non-dominated (total cost, correct) settings over all cascades seen."""

    def __init__(self) -> None:
        self.cost = np.zeros(0)
        self.correct = np.zeros(0)
        self.entries: list[tuple[tuple[int, ...], tuple[float, ...]]] = []

    def offer(self, members: tuple[int, ...], outcome: SettingsGrid) -> None:
        cost, correct = outcome.total_cost.ravel(), outcome.correct.ravel()
        local = front_indices(cost, correct)
        local = local[~self._dominated(cost[local], correct[local])]
        if local.size == 0:
            return
        all_cost = np.concatenate([self.cost, cost[local]])
        all_correct = np.concatenate([self.correct, correct[local]])
        entries = self.entries + [(members, outcome.thresholds_at(int(i))) for i in local]
        keep = front_indices(all_cost, all_correct)
        self.cost, self.correct = all_cost[keep], all_correct[keep]
        self.entries = [entries[i] for i in keep]

    def could_improve(self, bound: SettingsGrid) -> bool:
        return not bool(self._dominated(bound.total_cost.ravel(), bound.correct.ravel()).all())

    def _dominated(self, cost: np.ndarray, correct: np.ndarray) -> np.ndarray:
        """Whether a front point at most as costly is at least as accurate (self.cost is sorted)."""
        if self.cost.size == 0:
            return np.zeros(cost.shape, dtype=bool)
        position = np.searchsorted(self.cost, cost * (1 + _COST_TOLERANCE), side="right") - 1
        best = np.where(position >= 0, self.correct[np.maximum(position, 0)], -np.inf)
        return best >= correct


def front_indices(cost: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """Indices of points no other point beats (cost <=, correct >=, one strictly), by cost."""
    return nondominated(cost, correct)


# --- the search ------------------------------------------------------------------------------


class _Stage:
    """One node of the prefix tree: its running sum, what its running prediction gets right, and
    (lazily, per grid size) its confidence bins and the settings grid of the cascade ending here."""

    def __init__(self, parent: _Stage | None, member: int, stage_cost: float, total: np.ndarray,
                 labels: np.ndarray, config: SelectionConfig, scratch: np.ndarray) -> None:
        self.parent = parent
        self.member = member
        self.depth = 1 if parent is None else parent.depth + 1
        self.stage_cost = stage_cost
        self.cumulative_cost = stage_cost + (0.0 if parent is None else parent.cumulative_cost)
        self.total = total
        self.correct = total.argmax(axis=1) == labels
        self.config = config
        self.scratch = scratch
        self._confidence: np.ndarray | None = None
        self._grids: dict[int | None, StageGrid] = {}
        self._settings: dict[int | None, SettingsGrid] = {}
        self._children: dict[int | None, tuple[tuple[np.ndarray, tuple[int, ...]], np.ndarray]] = {}

    def members(self) -> tuple[int, ...]:
        return (self.member,) if self.parent is None else (*self.parent.members(), self.member)

    def grid(self, size: int | None) -> StageGrid:
        """Candidate thresholds on this stage's confidences and each example's bin."""
        if size not in self._grids:
            if self._confidence is None:
                self._confidence = confidence_of_sum(self.total, self.depth, self.config.combine,
                                                     self.config.confidence, scratch=self.scratch)
            thresholds = candidate_thresholds(self._confidence, size)
            self._grids[size] = StageGrid(thresholds, bins_of(self._confidence, thresholds))
        return self._grids[size]

    def settings(self, size: int | None) -> SettingsGrid:
        """Correct count and cost of the cascade ending here, for every threshold setting."""
        if size not in self._settings:
            if self.parent is None:
                self._settings[size] = single_stage(self.correct, self.stage_cost)
            else:
                index, reach = self.parent.child_index(size)
                gain = gain_of(self.correct, self.parent.correct)
                self._settings[size] = extend(self.parent.settings(size), self.parent.grid(size), index, reach,
                                              gain, self.stage_cost)
        return self._settings[size]

    def child_index(self, size: int | None) -> tuple[tuple[np.ndarray, tuple[int, ...]], np.ndarray]:
        """Bin index of the children's thresholded stages and how many examples reach a child."""
        if size not in self._children:
            index = extended_index(self.settings(size), self.grid(size))
            self._children[size] = (index, cumulative_histogram(*index))
        return self._children[size]

    def optimistic(self, size: int | None) -> SettingsGrid:
        """This cascade's grid if every example reaching this stage were answered correctly.

        No cascade that starts with these stages can be more accurate at a setting of the
        shared thresholds, nor cheaper: a bound for all of them at once.
        """
        settings = self.settings(size)
        if self.parent is None:
            return SettingsGrid(np.asarray(float(self.correct.size)), settings.total_cost)
        (flat, sizes), _ = self.parent.child_index(size)
        wrong_before = 1.0 - self.parent.correct
        correct = self.parent.settings(size).correct[..., None] + cumulative_histogram(flat, sizes, wrong_before)
        return SettingsGrid(correct, settings.total_cost)


class _Search:
    def __init__(self, pool: PredictionPool, config: SelectionConfig, objective: _Objective,
                 order: Sequence[int], progress: Callable[[int, int], None] | None) -> None:
        self.pool = pool
        self.order = list(order)
        self.config = config
        self.objective = objective
        self.progress = progress
        self.terms = [member_term(pool, m, config.combine) for m in range(pool.num_models)]
        # One running-sum buffer per depth: depth-first order frees a depth's buffer before reuse.
        shape = (config.max_models + 1, *self.terms[0].shape)
        self.buffers = np.empty(shape, dtype=np.float32)
        self.scratch = np.empty(self.terms[0].shape, dtype=np.float32)
        self.evaluated = self.pruned = self.settings = 0

    def run(self) -> None:
        allowed = frozenset(range(1, self.config.max_models + 1))
        for done, member in enumerate(self.order):
            self._visit(None, member, allowed)
            if self.progress is not None:
                self.progress(done + 1, len(self.order))

    def _visit(self, parent: _Stage | None, member: int, allowed: frozenset[int]) -> None:
        depth = 1 if parent is None else parent.depth + 1
        cumulative = (0.0 if parent is None else parent.cumulative_cost) + float(self.pool.costs[member])
        bound = self.config.worst_case_cost
        if bound is not None and cumulative > bound * (1 + _COST_TOLERANCE):
            self.pruned += sum(self._below(depth, length) for length in allowed if length >= depth)
            return
        total = self.terms[member] if parent is None else np.add(parent.total, self.terms[member], out=self.buffers[depth])
        node = _Stage(parent, member, float(self.pool.costs[member]), total, self.pool.labels, self.config, self.scratch)
        if depth in allowed:
            outcome = node.settings(self.config.grid_size(depth))
            self.objective.offer(node.members(), outcome)
            self.evaluated += 1
            self.settings += outcome.correct.size
        deeper = frozenset(length for length in allowed if length > depth)
        if self.config.prune:
            kept = frozenset(
                length for length in deeper
                if self.objective.could_improve(node.optimistic(self.config.grid_size(length)))
            )
            self.pruned += sum(self._below(depth, length) for length in deeper - kept)
            deeper = kept
        if not deeper:
            return
        used = set(node.members())
        for child in self.order:
            if self.config.allow_repeats or child not in used:
                self._visit(node, child, deeper)

    def _below(self, depth: int, length: int) -> int:
        """Cascades of ``length`` members in the subtree of one node at ``depth`` (itself included)."""
        extra = length - depth
        if self.config.allow_repeats:
            return self.pool.num_models**extra
        return math.perm(self.pool.num_models - depth, extra)


def select_cascade(
    pool: PredictionPool,
    config: SelectionConfig,
    progress: Callable[[int, int], None] | None = None,
) -> Selection:
    """Search every ordered combination of up to ``config.max_models`` models and its thresholds.

    ``pool`` is the held-out split the choice is made on; evaluate the returned cascade on a
    separate test split to report it. With no target, ``Selection.front`` holds the held-out
    Pareto front of all cascades (single models and ensembles included, as cascades whose
    thresholds are 0 or 1).
    """
    if config.max_models > pool.num_models and not config.allow_repeats:
        config = SelectionConfig(**{**config.__dict__, "max_models": pool.num_models})
    objective = _objective_for(pool, config)
    search = _Search(pool, config, objective, _visit_order(pool, config), progress)
    start = time.perf_counter()
    search.run()
    stats = SearchStats(search.evaluated, search.pruned, search.settings, time.perf_counter() - start)
    return _selection_from(pool, config, objective, stats)


def _objective_for(pool: PredictionPool, config: SelectionConfig) -> _Objective:
    if config.target_cost is not None:
        return _MaxAccuracyUnderCost(config.target_cost * pool.num_examples)
    if config.target_accuracy is not None:
        return _MinCostForAccuracy(math.ceil(config.target_accuracy * pool.num_examples - 1e-9))
    return _ParetoFront()


def _visit_order(pool: PredictionPool, config: SelectionConfig) -> list[int]:
    """Cheapest models first when minimizing cost, most accurate first otherwise (tighter bounds sooner)."""
    if config.target_accuracy is not None:
        return [int(i) for i in np.argsort(pool.costs, kind="stable")]
    return [int(i) for i in np.argsort(-pool.accuracies(), kind="stable")]


def _selection_from(pool: PredictionPool, config: SelectionConfig, objective: _Objective, stats: SearchStats) -> Selection:
    def cascade_of(members: tuple[int, ...], thresholds: tuple[float, ...]) -> Cascade:
        return Cascade(tuple(pool.names[m] for m in members), thresholds, config.confidence, config.combine)

    if isinstance(objective, _ParetoFront):
        front = tuple(
            FrontPoint(cascade_of(m, t), float(c) / pool.num_examples, float(cost) / pool.num_examples)
            for (m, t), c, cost in zip(objective.entries, objective.correct, objective.cost, strict=True)
        )
        return Selection(None, None, front, stats)
    assert isinstance(objective, (_MaxAccuracyUnderCost, _MinCostForAccuracy))
    if objective.best is None:
        return Selection(None, None, (), stats)
    _, _, members, thresholds = objective.best
    cascade = cascade_of(members, thresholds)
    return Selection(cascade, evaluate_cascade(pool, cascade), (), stats)
