"""The teacher-derived compression space (thesis 2.3.2): candidates reachable from one teacher
by layer removal, layer shrinkage and added skip connections.

A candidate is drawn by drawing operations with priors (``TeacherStructure`` in
``archspace.families.teacher.operations`` says what may change): each removable layer is removed
with probability ``remove_prob``; each width group is shrunk with probability ``shrink_prob``,
to a ratio uniform in [``min_ratio``, 1) on a ``ratio_step`` grid; each skip pair is added with
probability ``skip_prob``. The identity (the teacher itself) is redrawn. Capabilities: ``mutate``
(change one operation), ``encode`` (the operations as one vector). ``operation_parameters()`` and
``from_operations`` expose the raw per-layer hyperparameters to samplers such as TPE, which may
propose invalid candidates (the reward gives them -1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from archspace.errors import InvalidArchitecture, UsageError
from archspace.families.teacher.family import TeacherFamily
from archspace.families.teacher.graph import walk_graph
from archspace.families.teacher.operations import Operations, TeacherStructure
from archspace.families.teacher.spec import TeacherGraph
from archspace.spaces.base import Space, as_generator
from archspace.spaces.registry import SPACES

MAX_REDRAWS = 100


def _probability(value: Any, name: str, upper_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1 or (upper_open and value == 1):
        allowed = "[0, 1)" if upper_open else "[0, 1]"
        extra = " (1 would remove every layer)" if upper_open else ""
        raise UsageError(f"{name} must be a probability in {allowed}{extra}, got {value!r}")
    return float(value)


@SPACES.register("teacher", description="candidates compressed from a teacher: removal, shrinkage, skips",
                 family="teacher")
class TeacherSpace(Space[TeacherGraph]):
    """Compressed candidates of one teacher (a name, a graph dict or a layer list)."""

    name = "teacher"
    arch_class = TeacherGraph
    capabilities = frozenset({"mutate", "encode"})

    def __init__(self, teacher: str | dict | list = "resnet20", resolution: int = 32, in_channels: int = 3,
                 remove_prob: float = 0.2, shrink_prob: float = 0.5, min_ratio: float = 0.25,
                 ratio_step: float = 0.0625, skip_prob: float = 0.05, max_skip_span: int = 6) -> None:
        super().__init__()
        from archspace.compress.teachers import resolve_teacher

        self.remove_prob = _probability(remove_prob, "remove_prob", upper_open=True)
        self.shrink_prob = _probability(shrink_prob, "shrink_prob")
        self.skip_prob = _probability(skip_prob, "skip_prob")
        for name, value in (("min_ratio", min_ratio), ("ratio_step", ratio_step)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
                raise UsageError(f"{name} must be in (0, 1], got {value!r}")
        for name, value in (("in_channels", in_channels), ("max_skip_span", max_skip_span)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{name} must be an integer >= 1, got {value!r}")
        self.min_ratio, self.ratio_step = float(min_ratio), float(ratio_step)
        self.teacher = teacher.to_dict() if isinstance(teacher, TeacherGraph) else teacher
        self.resolution, self.in_channels, self.max_skip_span = resolution, in_channels, max_skip_span
        self.family = TeacherFamily(resolution=resolution, in_channels=in_channels)
        self.teacher_graph = resolve_teacher(teacher)
        walk_graph(self.teacher_graph, resolution, 10, in_channels)  # the teacher must itself be valid
        self.structure = TeacherStructure(self.teacher_graph, resolution, in_channels, max_skip_span)
        steps = int(np.floor((1.0 - self.min_ratio) / self.ratio_step + 1e-9))
        self.ratio_grid = tuple(float(1.0 - k * self.ratio_step) for k in range(1, steps + 1)) or (1.0,)
        self._ops: dict[TeacherGraph, Operations] = {}

    def options(self) -> dict[str, Any]:
        return {"teacher": self.teacher, "resolution": self.resolution, "in_channels": self.in_channels,
                "remove_prob": self.remove_prob, "shrink_prob": self.shrink_prob, "min_ratio": self.min_ratio,
                "ratio_step": self.ratio_step, "skip_prob": self.skip_prob, "max_skip_span": self.max_skip_span}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_ops"] = {}
        return state

    # --- sampling ---------------------------------------------------------------------------------
    def sample_operations(self, rng: np.random.Generator) -> Operations:
        """Operations drawn with the space's priors (may be the identity)."""
        s = self.structure
        removed = rng.random(len(s.removable)) < self.remove_prob
        if len(removed) and removed.all():
            removed[rng.integers(len(removed))] = False
        shrink = rng.random(len(s.groups)) < self.shrink_prob
        picks = rng.integers(len(self.ratio_grid), size=len(s.groups))
        ratios = tuple(self.ratio_grid[p] if flag else 1.0 for flag, p in zip(shrink, picks, strict=True))
        skips = rng.random(len(s.skip_pairs)) < self.skip_prob
        return Operations(tuple(bool(x) for x in removed), ratios, tuple(bool(x) for x in skips))

    def from_operations(self, ops: Operations) -> TeacherGraph:
        """The candidate of ``ops`` (checked for lengths and ranges, not for shapes)."""
        return self.structure.apply(self.structure.check(ops))

    def candidate_of(self, ops: Operations) -> TeacherGraph:
        """The candidate of ``ops`` as it is, unchecked: what a sampler of raw parameters proposes
        (``validate`` may reject it, e.g. for removing every removable layer)."""
        return self.structure.apply(ops)

    def sample(self, rng: int | np.random.Generator | None = None) -> TeacherGraph:
        gen = as_generator(rng)
        for _ in range(MAX_REDRAWS):
            ops = self.sample_operations(gen)
            graph = self.structure.apply(ops)
            if graph == self.teacher_graph or not self.is_valid(graph):
                continue
            return graph
        raise UsageError(f"no valid candidate other than the teacher in {MAX_REDRAWS} draws; raise "
                         "remove_prob, shrink_prob or skip_prob")

    def is_valid(self, graph: TeacherGraph) -> bool:
        try:
            walk_graph(graph, self.resolution, 10, self.in_channels)
        except InvalidArchitecture:
            return False
        return True

    def validate(self, arch: Any) -> TeacherGraph:
        if not isinstance(arch, TeacherGraph):
            raise InvalidArchitecture("kind", f"expected a teacher graph, got {type(arch).__name__}")
        walk_graph(arch, self.resolution, 10, self.in_channels)
        for index, layer in enumerate(arch.layers):
            if not 0 <= layer.origin < len(self.teacher_graph.layers):
                raise InvalidArchitecture(f"layers[{index}].origin",
                                          f"must name a layer of the teacher (0..{len(self.teacher_graph) - 1}), got {layer.origin}")
        origins = {layer.origin for layer in arch.layers}
        removable = self.structure.removable
        if removable and not origins.intersection(removable):
            raise InvalidArchitecture("layers", "removes every removable layer of the teacher: nothing of its "
                                                "body is left")
        return arch

    # --- capabilities -------------------------------------------------------------------------------
    def operations_of(self, arch: TeacherGraph) -> Operations:
        """The operations read back from the spec alone (``TeacherStructure.operations_of``; never
        from how it was drawn, so a rebuilt space mutates and encodes it the same way)."""
        ops = self._ops.get(arch)
        if ops is None:
            ops = self._ops[arch] = self.structure.operations_of(arch, self.ratio_step)
        return ops

    def encode(self, arch: TeacherGraph) -> np.ndarray:
        """[removed flags | shrink ratios | skip flags] of the candidate's operations."""
        ops = self.operations_of(self.validate(arch))
        return np.concatenate([np.asarray(ops.removed, float), np.asarray(ops.ratios, float),
                               np.asarray(ops.skips, float)])

    def mutate(self, arch: TeacherGraph, rng: int | np.random.Generator | None = None) -> TeacherGraph:
        """A valid candidate differing in one operation (a removal, a ratio or a skip)."""
        gen = as_generator(rng)
        ops = self.operations_of(self.validate(arch))
        sizes = np.array([len(ops.removed), len(ops.ratios), len(ops.skips)], dtype=float)
        for _ in range(MAX_REDRAWS):
            part = int(gen.choice(3, p=sizes / sizes.sum()))
            removed, ratios, skips = list(ops.removed), list(ops.ratios), list(ops.skips)
            if part == 0:
                k = int(gen.integers(len(removed)))
                removed[k] = not removed[k]
                if all(removed):
                    continue
            elif part == 1:
                k = int(gen.integers(len(ratios)))
                ratios[k] = float(gen.choice((1.0, *self.ratio_grid)))
            else:
                k = int(gen.integers(len(skips)))
                skips[k] = not skips[k]
            new_ops = Operations(tuple(removed), tuple(ratios), tuple(skips))
            graph = self.structure.apply(new_ops)
            if graph != arch and graph != self.teacher_graph and self.is_valid(graph):
                return graph
        raise UsageError(f"no valid one-operation change of this candidate in {MAX_REDRAWS} draws")

    def operation_parameters(self) -> list[dict[str, Any]]:
        """The raw per-layer hyperparameters: ``remove_<layer>`` and ``skip_<i>_<j>`` (booleans),
        ``shrink_<first layer of the group>`` (a ratio in [min_ratio, 1])."""
        s = self.structure
        return ([{"name": f"remove_{i}", "type": "bool"} for i in s.removable]
                + [{"name": f"shrink_{m[0]}", "type": "float", "low": self.min_ratio, "high": 1.0} for m in s.groups]
                + [{"name": f"skip_{i}_{j}", "type": "bool"} for i, j in s.skip_pairs])

    def operations_from_parameters(self, params: dict[str, Any]) -> Operations:
        s = self.structure
        return Operations(tuple(bool(params[f"remove_{i}"]) for i in s.removable),
                          tuple(float(params[f"shrink_{m[0]}"]) for m in s.groups),
                          tuple(bool(params[f"skip_{i}_{j}"]) for i, j in s.skip_pairs))

    def parameters_of(self, arch: TeacherGraph) -> dict[str, Any]:
        ops = self.operations_of(arch)
        s = self.structure
        return {**{f"remove_{i}": f for i, f in zip(s.removable, ops.removed, strict=True)},
                **{f"shrink_{m[0]}": r for m, r in zip(s.groups, ops.ratios, strict=True)},
                **{f"skip_{i}_{j}": f for (i, j), f in zip(s.skip_pairs, ops.skips, strict=True)}}

    def summary(self) -> dict[str, Any]:
        s = self.structure
        return {"name": self.name, "teacher_layers": len(self.teacher_graph), "removable": len(s.removable),
                "width_groups": len(s.groups), "skip_pairs": len(s.skip_pairs),
                "dimension": len(s.removable) + len(s.groups) + len(s.skip_pairs)}

    def feature_sequence(self, arch: TeacherGraph, **options: Any) -> list:
        """Teacher-aligned layer rows (one per teacher layer) for the learned kernel."""
        options.setdefault("teacher_length", len(self.teacher_graph))
        options.setdefault("in_channels", self.in_channels)
        return self.family.feature_sequence(self.validate(arch), **options)
