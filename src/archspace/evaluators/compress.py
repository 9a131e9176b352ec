"""``CompressionEvaluator``: a candidate of the teacher space, distilled briefly, scored by the
compression reward f(x) of eq. 2.2 (thesis ch. 2). ``objective = -f`` (a search minimizes it).

Per evaluation: the space validates the candidate (an invalid one, e.g. a TPE proposal whose sum
mixes shapes, is a complete result with f = -1 and no training); the student is built, inherits
the teacher's weights where shapes allow (``inherit``), and is trained by
``archspace.compress.distill.train_student`` against the cached teacher's logits; A(x) is its
best-epoch accuracy on the held-out validation split. The evaluator holds only configuration;
data, space and teacher are loaded on first use in each process.
"""

from __future__ import annotations

import time
from typing import Any

from archspace.arch import ArchSpec
from archspace.compress.distill import DistillConfig
from archspace.compress.reward import INVALID_REWARD, compression, reward
from archspace.compress.setup import CompressionSetup
from archspace.errors import InvalidArchitecture, UsageError
from archspace.evaluation import Result
from archspace.evaluators.registry import EVALUATORS


@EVALUATORS.register("compress", trains=True, kinds=("teacher",))
class CompressionEvaluator:
    """setup: teacher, data, teacher training (``CompressionSetup`` or its dict). training: each
    candidate's distillation (``DistillConfig`` or dict; ``loss`` kl / mse). space_options: the
    teacher space's priors (``TeacherSpace`` options besides teacher, resolution, in_channels).
    inherit: start from the teacher's weights where shapes allow."""

    def __init__(self, setup: CompressionSetup | dict | None = None, training: DistillConfig | dict | None = None,
                 space_options: dict[str, Any] | None = None, inherit: bool = True) -> None:
        self.setup = CompressionSetup(**setup) if isinstance(setup, dict) else (setup or CompressionSetup())
        self.training = DistillConfig(**training) if isinstance(training, dict) else (training or DistillConfig())
        if self.training.loss == "ce":
            raise UsageError("candidates are distilled: training.loss must be 'kl' or 'mse' ('ce' is for fine-tuning)")
        self.space_options = dict(space_options or {})
        for key in ("teacher", "resolution", "in_channels"):
            if key in self.space_options:
                raise UsageError(f"space_options must not set {key!r}: the setup's teacher and data fix it")
        self.inherit = bool(inherit)
        self._state: dict[str, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_state": None}

    def to_config(self) -> dict[str, Any]:
        return {"setup": self.setup.to_dict(), "training": self.training.to_dict(),
                "space_options": self.space_options, "inherit": self.inherit}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CompressionEvaluator:
        return cls(**config)

    def _prepare(self) -> dict[str, Any]:
        if self._state is None:
            from archspace.spaces.teacher import TeacherSpace

            data = self.setup.load_data()
            space = TeacherSpace(self.setup.teacher, resolution=data.resolution, in_channels=data.in_channels,
                                 **self.space_options)
            self._state = {"data": data, "space": space}
        return self._state

    def resources(self) -> dict[str, Any]:
        """Data, space and trained teacher (loaded and cached in this process on first use)."""
        state = self._prepare()
        if "teacher" not in state:
            from archspace.compress.teacher_cache import load_or_train_teacher

            state["teacher"] = load_or_train_teacher(self.setup, state["space"], state["data"])
        return state

    def space(self) -> Any:
        """The teacher space candidates are drawn from (what strategies search); loads the data
        and checks the teacher and the space options, but trains nothing."""
        return self._prepare()["space"]

    def evaluate(self, arch: ArchSpec, seed: int) -> Result:
        import torch

        from archspace.compress.distill import train_student
        from archspace.families.teacher.modules import inherit_weights

        state = self.resources()
        data, space, teacher = state["data"], state["space"], state["teacher"]
        try:
            space.validate(arch)
        except InvalidArchitecture as exc:
            return Result(objective=-INVALID_REWARD, metrics={"reward": INVALID_REWARD, "valid": 0.0},
                          info={"invalid": str(exc)})
        start = time.perf_counter()
        cx = space.complexity(arch, resolution=data.resolution, num_classes=data.num_classes,
                              in_channels=data.in_channels)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            student = space.family.build(arch, num_classes=data.num_classes, in_channels=data.in_channels)
            copied = inherit_weights(student, arch, teacher.module, space.teacher_graph) if self.inherit else 0
            run = train_student(student, data, teacher.train_logits, self.training, seed)
        if run.status != "complete":
            return Result(objective=None, status="diverged", metrics={"valid": 1.0},
                          cost={"params": float(cx.params), "flops": float(cx.flops)})
        f = reward(run.accuracy, cx.params, teacher.accuracy, teacher.params)
        c = float(compression(cx.params, teacher.params))
        return Result(
            objective=-f,
            metrics={"reward": f, "accuracy": run.accuracy, "val_error": 100.0 - run.accuracy,
                     "teacher_accuracy": teacher.accuracy, "compression": c,
                     "ratio": teacher.params / cx.params, "best_epoch": float(run.best_epoch), "valid": 1.0,
                     "inherited_tensors": float(copied)},
            cost={"params": float(cx.params), "flops": float(cx.flops), "train_seconds": run.seconds,
                  "wall_seconds": time.perf_counter() - start},
            info={"history": run.history, "teacher_params": teacher.params},
        )

    def __repr__(self) -> str:
        return (f"CompressionEvaluator(teacher={self.setup.teacher!r}, dataset={self.setup.dataset!r}, "
                f"loss={self.training.loss!r}, epochs={self.training.epochs})")
