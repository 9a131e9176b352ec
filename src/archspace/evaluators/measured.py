"""``MeasuredCostEvaluator``: any evaluator, plus the model's measured latency, throughput and memory.

Wrapping an evaluator stores measured cost with every trial: the wrapped evaluator's ``Result``
comes back unchanged (same objective, so the wrapper is as deterministic as what it wraps) with
``latency_ms``, ``latency_iqr_ms``, ``throughput`` and ``peak_memory_mb`` added to its ``cost``
(next to the analytic ``flops`` / ``params`` / ``acts``), and the device, software versions and
per-batch timings in ``info["measured_cost"]``. Every table, EDF, Pareto front and equal-cost
comparison can then use ``latency_ms`` or ``throughput`` as its cost axis.

The model is built fresh from the spec (latency does not depend on trained weights) and timed by
``archspace.complexity.latency.measure_module`` under a wall-clock budget (``max_seconds``, 10 s
by default), so measuring adds a bounded time to each trial.
"""

from __future__ import annotations

from typing import Any

from archspace.arch import ArchSpec
from archspace.errors import ArchspaceError, UsageError
from archspace.evaluation import Result
from archspace.evaluators.registry import EVALUATORS


@EVALUATORS.register("measured", trains=False)
class MeasuredCostEvaluator:
    """``inner``'s result plus measured cost (see the module docstring).

    inner: the evaluator to wrap (default: none, only cost is measured and the objective is the
        latency in ms). device: where to time (``cpu``, ``cuda``, ``cuda:N``, ``auto``).
    batch_sizes: the first gives latency, the last throughput. warmup / repeats / max_seconds /
        threads: see ``archspace.complexity.latency.TimingConfig``.
    space / space_options: the registered space whose family builds the specs (default: the
        family of the spec's kind). resolution / in_channels / num_classes: the input; default: the
        inner evaluator's dataset (by name) or input fields, else the family's default input.
    """

    def __init__(self, inner: Any = None, device: str = "cpu", batch_sizes: tuple[int, ...] | list[int] = (1, 32),
                 warmup: int = 3, repeats: int = 30, max_seconds: float = 10.0, threads: int | None = None,
                 space: str | None = None, space_options: dict[str, Any] | None = None,
                 resolution: int | None = None, in_channels: int | None = None,
                 num_classes: int | None = None) -> None:
        from archspace.complexity.latency import TimingConfig

        if inner is not None and not callable(getattr(inner, "evaluate", None)):
            raise UsageError(f"inner must be an evaluator (with evaluate(arch, seed)), got {type(inner).__name__}")
        self.inner = inner
        self.device = str(device)
        self.batch_sizes = tuple(batch_sizes)
        self.warmup = warmup
        self.repeats = repeats
        self.max_seconds = max_seconds
        self.threads = threads
        self.space = space
        self.space_options = dict(space_options or {})
        self.resolution = resolution
        self.in_channels = in_channels
        self.num_classes = num_classes
        TimingConfig(self.batch_sizes, warmup, repeats, min(3, repeats), max_seconds, threads)  # checks now
        if self.device not in ("cpu", "auto") and not self.device.startswith("cuda"):
            raise UsageError(f"unknown device {device!r}; use cpu, cuda, cuda:N or auto")
        self._builder: Any = None

    # --- storage ---------------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_builder": None}  # spaces hold closures: rebuilt where used

    def to_config(self) -> dict[str, Any]:
        """Every constructor argument; the inner evaluator as its own stored description."""
        from archspace.study.evaluator_spec import describe_evaluator

        return {
            "inner": None if self.inner is None else describe_evaluator(self.inner),
            "device": self.device, "batch_sizes": list(self.batch_sizes), "warmup": self.warmup,
            "repeats": self.repeats, "max_seconds": self.max_seconds, "threads": self.threads,
            "space": self.space, "space_options": dict(self.space_options), "resolution": self.resolution,
            "in_channels": self.in_channels, "num_classes": self.num_classes,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MeasuredCostEvaluator:
        from archspace.study.evaluator_spec import rebuild_evaluator

        inner = config.get("inner")
        return cls(**{**config, "inner": None if inner is None else rebuild_evaluator(inner)})

    # --- evaluation ------------------------------------------------------------------------------
    def builder(self, arch: ArchSpec) -> Any:
        """The Space or Family that builds and costs ``arch``."""
        if self.space is not None:
            if self._builder is None:
                from archspace.spaces.registry import get_space

                self._builder = get_space(self.space, **self.space_options)
            return self._builder
        from archspace.families import family_for

        return family_for(arch)

    def input_spec(self, arch: ArchSpec) -> dict[str, int]:
        """resolution, in_channels, num_classes of the input the model is timed on."""
        family = getattr(self.builder(arch), "family", self.builder(arch))
        spec = dict(family.default_input)
        dataset = getattr(self.inner, "dataset", None)
        if dataset is not None:
            from archspace.data.inputs import known_input

            known = known_input(dataset if isinstance(dataset, str) else getattr(dataset, "name", ""))
            if known is not None:
                spec.update(resolution=known.resolution, in_channels=known.channels, num_classes=known.classes)
        for key in ("resolution", "in_channels", "num_classes"):
            for source in (self, self.inner):
                value = getattr(source, key, None) if source is not None else None
                if isinstance(value, int) and not isinstance(value, bool):
                    spec[key] = value
                    break
        return spec

    def measure(self, arch: ArchSpec) -> Any:
        """The ``MeasuredCost`` of ``arch`` (built fresh; the global torch RNG is left untouched)."""
        import torch

        from archspace.complexity.latency import TimingConfig, measure_module

        builder = self.builder(arch)
        spec = self.input_spec(arch)
        analytic = builder.complexity(arch, resolution=spec["resolution"], num_classes=spec["num_classes"],
                                      in_channels=spec["in_channels"])
        with torch.random.fork_rng(devices=[]):
            module = builder.build(arch, num_classes=spec["num_classes"], in_channels=spec["in_channels"])
        config = TimingConfig(self.batch_sizes, self.warmup, self.repeats, min(3, self.repeats), self.max_seconds,
                              self.threads)
        shape = (spec["in_channels"], spec["resolution"], spec["resolution"])
        return measure_module(module, shape, self.device, config, analytic)

    def evaluate(self, arch: ArchSpec, seed: int) -> Result:
        """The inner result (or latency as the objective) with measured cost added."""
        result = self.inner.evaluate(arch, seed) if self.inner is not None else None
        try:
            measured = self.measure(arch)
        except ArchspaceError as exc:
            if result is None:
                return Result(objective=None, status="failed", info={"message": str(exc)})
            result.info["measure_error"] = str(exc)
            return result
        if result is None:
            result = Result(objective=measured.latency_ms)
        result.cost.update(measured.as_cost())
        for key in ("flops", "params", "acts"):
            value = getattr(measured, key)
            if value is not None:
                result.cost.setdefault(key, float(value))
        result.info["measured_cost"] = {
            "environment": measured.environment, "memory_source": measured.memory_source,
            "input_shape": list(measured.input_shape), "throughput_batch": measured.throughput_batch,
            "timings": [{"batch_size": t.batch_size, "median_ms": t.median_ms, "iqr_ms": t.iqr_ms,
                         "min_ms": t.min_ms, "max_ms": t.max_ms, "repeats": t.repeats, "cpu_median_ms": t.cpu_median_ms}
                        for t in measured.timings],
        }
        return result

    def __repr__(self) -> str:
        return f"MeasuredCostEvaluator(inner={self.inner!r}, device={self.device!r}, max_seconds={self.max_seconds})"
