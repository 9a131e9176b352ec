"""Measured cost of a model on a real device: latency, throughput and peak memory.

The thesis compares architectures at equal *measured* cost: latency at batch 1 on the device the
model will run on, next to the analytic flops / params / acts. ``measure_cost`` times a model in
inference mode: a warm-up, then repeated timed forward passes (``torch.cuda.synchronize`` around
each on CUDA), reporting the median and the spread (interquartile range, min, max) at batch 1 and
the throughput (images/s, from the median) at a larger batch. Peak memory is the CUDA allocator's
peak on CUDA; on the CPU it is the process's resident-set high-water mark (Linux ``VmHWM``, reset
before measuring through ``/proc/self/clear_refs`` where allowed, else the high-water mark since
the process started, which is then an upper bound). The device and software versions travel with
every figure: a latency means nothing without them. On the CPU the process CPU time of each pass
is recorded too (``cpu_median_ms``): on a machine shared with other jobs, wall-clock latency
includes the time the process waited for a core, CPU time does not.

Timing obeys a wall-clock budget (``max_seconds``, 10 s by default), so measuring adds a bounded
time to a trial; repeats stop early when the budget runs out (at least ``min_repeats`` always run).
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from archspace.complexity.counts import Complexity
from archspace.errors import UsageError

_PROC_STATUS = Path("/proc/self/status")
_PROC_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass(frozen=True)
class Timing:
    """Forward-pass times (ms) of one batch size: median, spread and every repeat."""

    batch_size: int
    median_ms: float
    iqr_ms: float
    min_ms: float
    max_ms: float
    repeats: int
    warmup: int
    times_ms: tuple[float, ...] = field(repr=False, default=())
    cpu_median_ms: float = float("nan")

    @property
    def throughput(self) -> float:
        """Images per second at this batch size (from the median time)."""
        return 1000.0 * self.batch_size / self.median_ms if self.median_ms > 0 else float("inf")


@dataclass(frozen=True)
class MeasuredCost:
    """What ``measure_cost`` measured, with the analytic counts and the environment beside it.

    latency_ms: median time of one batch-1 forward pass; throughput: images/s at
    ``throughput_batch``; peak_memory_mb: see the module docstring (``memory_source`` says which).
    """

    latency_ms: float
    latency_iqr_ms: float
    throughput: float
    throughput_batch: int
    peak_memory_mb: float
    memory_source: str
    timings: tuple[Timing, ...]
    flops: int | None
    params: int | None
    acts: int | None
    input_shape: tuple[int, ...]
    environment: dict[str, Any]

    def as_cost(self) -> dict[str, float]:
        """The numbers a trial stores in ``Result.cost`` (the cost axes of tables and reports).

        ``latency_cpu_ms`` (CPU only): median process CPU time of a batch-1 pass; on a CPU shared
        with other jobs it is far steadier than wall-clock latency (time spent preempted is not
        counted), and equals it on an idle machine with one thread.
        """
        cost = {"latency_ms": self.latency_ms, "latency_iqr_ms": self.latency_iqr_ms,
                "throughput": self.throughput, "peak_memory_mb": self.peak_memory_mb}
        if self.environment.get("device") == "cpu":
            cost["latency_cpu_ms"] = self.timings[0].cpu_median_ms
        return cost

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["timings"] = [{**asdict(t), "times_ms": list(t.times_ms), "throughput": t.throughput}
                           for t in self.timings]
        data["input_shape"] = list(self.input_shape)
        return data


@dataclass(frozen=True)
class TimingConfig:
    """How to time: batch sizes (the first gives latency, the last throughput), repeats, budget.

    warmup: untimed passes first (caches, allocator, lazy kernels). repeats: timed passes per batch
    size at most; min_repeats: at least, whatever the budget. max_seconds: wall-clock budget of the
    whole measurement (warm-up included), split evenly between the batch sizes. threads: torch
    intra-op threads while timing on the CPU (None: leave the process setting).
    """

    batch_sizes: tuple[int, ...] = (1, 32)
    warmup: int = 3
    repeats: int = 30
    min_repeats: int = 3
    max_seconds: float = 10.0
    threads: int | None = None

    def __post_init__(self) -> None:
        sizes = tuple(self.batch_sizes)
        object.__setattr__(self, "batch_sizes", sizes)
        if not sizes or any(isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in sizes):
            raise UsageError(f"batch_sizes must be integers >= 1, got {list(sizes)}")
        for name, value, low in (("warmup", self.warmup, 0), ("repeats", self.repeats, 1),
                                 ("min_repeats", self.min_repeats, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise UsageError(f"{name} must be an integer >= {low}, got {value!r}")
        if self.min_repeats > self.repeats:
            raise UsageError(f"min_repeats ({self.min_repeats}) must not exceed repeats ({self.repeats})")
        if not (isinstance(self.max_seconds, (int, float)) and self.max_seconds > 0):
            raise UsageError(f"max_seconds must be a positive number, got {self.max_seconds!r}")
        if self.threads is not None and (isinstance(self.threads, bool) or not isinstance(self.threads, int)
                                         or self.threads < 1):
            raise UsageError(f"threads must be an integer >= 1 or None, got {self.threads!r}")


def environment(device: torch.device) -> dict[str, Any]:
    """The device and software a measurement ran on (recorded with every figure)."""
    import archspace

    env: dict[str, Any] = {
        "device": str(device),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "archspace": getattr(archspace, "__version__", "unknown"),
        "platform": platform.platform(),
        "torch_threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        env["device_name"] = torch.cuda.get_device_name(device)
        env["cuda"] = torch.version.cuda
        env["cudnn"] = torch.backends.cudnn.version()
    else:
        env["device_name"] = _cpu_name()
        env["cpu_count"] = _cpu_count()
    return env


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def resolve_measure_device(device: str | torch.device) -> torch.device:
    """``cpu``, ``cuda``/``cuda:N`` (must be available) or ``auto``; anything else is a UsageError."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise UsageError(f"unknown device {device!r}; use cpu, cuda, cuda:N or auto") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"device {device!r} requested but CUDA is not available on this machine")
    if resolved.type not in ("cpu", "cuda"):
        raise UsageError(f"unsupported device {device!r}; use cpu, cuda, cuda:N or auto")
    return resolved


def time_forward(module: nn.Module, input_shape: Sequence[int], batch_size: int, device: torch.device,
                 warmup: int, repeats: int, min_repeats: int, deadline: float) -> Timing:
    """Time ``repeats`` forward passes of a zero batch (stopping at ``deadline``, a perf_counter value)."""
    batch = torch.zeros(batch_size, *input_shape, device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else _no_sync
    with torch.inference_mode():
        for _ in range(warmup):
            module(batch)
        sync(device)
        times: list[float] = []
        cpu_times: list[float] = []
        while len(times) < repeats and (len(times) < min_repeats or time.perf_counter() < deadline):
            start, cpu_start = time.perf_counter(), time.process_time()
            module(batch)
            sync(device)
            times.append(1000.0 * (time.perf_counter() - start))
            cpu_times.append(1000.0 * (time.process_time() - cpu_start))
    values = np.asarray(times)
    q25, median, q75 = np.percentile(values, [25, 50, 75])
    return Timing(batch_size, float(median), float(q75 - q25), float(values.min()), float(values.max()),
                  len(times), warmup, tuple(float(t) for t in times), float(np.median(cpu_times)))


def _no_sync(_device: torch.device) -> None:
    return None


def _reset_cpu_peak() -> bool:
    """Reset the process's VmHWM (Linux); False when the kernel does not let us."""
    try:
        _PROC_CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def _cpu_peak_mb() -> tuple[float, str]:
    try:
        for line in _PROC_STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0, "process VmHWM"
    except (OSError, ValueError, IndexError):
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (peak / 2**20 if sys.platform == "darwin" else peak / 2**10), "process ru_maxrss since start"


def measure_module(module: nn.Module, input_shape: Sequence[int], device: str | torch.device = "cpu",
                   config: TimingConfig | None = None, analytic: Complexity | None = None) -> MeasuredCost:
    """Time ``module`` on zero inputs of ``input_shape`` (C, H, W) on ``device`` (see module docstring).

    The module is moved to ``device``, put in eval mode and restored to its training mode after.
    ``analytic``: the analytic counts to report beside (None: parameters counted from the module).
    """
    config = config or TimingConfig()
    device = resolve_measure_device(device)
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) != 3 or min(input_shape) < 1:
        raise UsageError(f"input_shape must be (channels, height, width) >= 1, got {list(input_shape)}")
    was_training = module.training
    previous_threads = torch.get_num_threads()
    module = module.to(device).eval()
    if config.threads is not None and device.type == "cpu":
        torch.set_num_threads(config.threads)
    try:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
            source = "cuda max_memory_allocated"
        else:
            source = "process VmHWM (reset before timing)" if _reset_cpu_peak() else None
        started = time.perf_counter()
        share = config.max_seconds / len(config.batch_sizes)
        timings = tuple(
            time_forward(module, input_shape, b, device, config.warmup, config.repeats, config.min_repeats,
                         started + share * (i + 1))
            for i, b in enumerate(config.batch_sizes)
        )
        if device.type == "cuda":
            peak = torch.cuda.max_memory_allocated(device) / 2**20
        else:
            peak, measured_source = _cpu_peak_mb()
            source = source or measured_source
        env = environment(device)
    finally:
        module.train(was_training)
        if config.threads is not None and device.type == "cpu":
            torch.set_num_threads(previous_threads)
    params = analytic.params if analytic is not None else sum(p.numel() for p in module.parameters())
    return MeasuredCost(
        latency_ms=timings[0].median_ms, latency_iqr_ms=timings[0].iqr_ms,
        throughput=timings[-1].throughput, throughput_batch=timings[-1].batch_size,
        peak_memory_mb=float(peak), memory_source=source, timings=timings,
        flops=None if analytic is None else int(analytic.flops), params=int(params),
        acts=None if analytic is None else int(analytic.acts), input_shape=input_shape, environment=env,
    )


def measure_cost(model: Any, device: str | torch.device = "cpu", batch_sizes: Sequence[int] = (1, 32),
                 input_shape: Sequence[int] | None = None, space: Any = None, num_classes: int | None = None,
                 warmup: int = 3, repeats: int = 30, min_repeats: int = 3, max_seconds: float = 10.0,
                 threads: int | None = None) -> MeasuredCost:
    """Latency (batch ``batch_sizes[0]``), throughput (batch ``batch_sizes[-1]``) and peak memory.

    model: a ``torch.nn.Module`` or an architecture spec. A spec is built by ``space`` (a Space or
        Family; default: the family of its kind, looked up lazily) with ``num_classes`` and the
        channels of ``input_shape``, and its analytic flops / params / acts are reported beside;
        for a module only its parameter count is known (``archspace.complexity.measure`` counts
        the rest when needed).
    input_shape: (channels, height, width); for a spec the default is its family's default input.
    """
    config = TimingConfig(tuple(batch_sizes), warmup, repeats, min_repeats, max_seconds, threads)
    if isinstance(model, nn.Module):
        if input_shape is None:
            raise UsageError("measuring a module needs input_shape=(channels, height, width)")
        return measure_module(model, input_shape, device, config)
    from archspace.arch import ArchSpec

    if not isinstance(model, ArchSpec):
        raise UsageError(f"measure_cost takes a torch module or an architecture spec, got {type(model).__name__}")
    if space is None:
        from archspace.families import family_for  # lazy: families sit above complexity

        space = family_for(model)
    defaults = _default_input(space)
    channels, height = (defaults["in_channels"], defaults["resolution"]) if input_shape is None \
        else (int(input_shape[0]), int(input_shape[1]))
    classes = num_classes or defaults["num_classes"]
    analytic = space.complexity(model, resolution=height, num_classes=classes, in_channels=channels)
    module = space.build(model, num_classes=classes, in_channels=channels)
    shape = (channels, height, height) if input_shape is None else tuple(input_shape)
    return measure_module(module, shape, device, config, analytic)


def _default_input(space: Any) -> dict[str, int]:
    family = getattr(space, "family", space)
    return dict(getattr(family, "default_input", {"resolution": 224, "num_classes": 1000, "in_channels": 3}))
