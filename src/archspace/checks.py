"""Contract checks for plug-ins, in the spirit of scikit-learn's ``check_estimator``.

Run them on a new family, space, strategy or evaluator before anything else; the test suite runs
them over every registered plug-in. Each raises ``ContractError`` naming the broken promise, and
returns a small dict of what it checked (counts), so a passing check can be reported.

- ``check_family(family, archs)``: for each spec, the analytic cost equals what torch's flop
  counter measures on the built module, and the layer sequence lists exactly the conv / linear /
  pooling modules the forward pass runs, in order, with their shapes.
- ``check_space(space)``: seeded sampling is reproducible and valid, specs round-trip through
  JSON, ``validate`` rejects foreign objects with ``InvalidArchitecture``, cost is non-negative
  and batched cost equals single cost, declared capabilities (neighbors, mutate, encode) work and
  undeclared ones raise ``UsageError``, ``options()`` rebuilds the same space; with ``build=True``
  also ``check_family`` on a few samples with the space's own family.
- ``check_strategy(make, space)``: ask/tell is deterministic per seed, the configuration derives
  from the constructor, a Study resumes it by replaying its log, and constructing it on a space
  that lacks a needed capability raises a ``UsageError`` naming the capability.
- ``check_evaluator(evaluator, archs)``: results are well-formed and deterministic per seed, the
  evaluator pickles, its stored description rebuilds an equal evaluator, and results round-trip
  through a study's storage unchanged.
"""

from __future__ import annotations

import json
import math
import pickle
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from archspace.arch import ArchSpec, arch_from_json
from archspace.errors import ArchspaceError, InvalidArchitecture, UsageError
from archspace.evaluation import Result
from archspace.families.base import Family
from archspace.families.layers import MODULE_LAYER_TYPES, module_signature
from archspace.search.base import SearchExhausted, Strategy
from archspace.spaces.base import CAPABILITIES, Space

StrategyFactory = Callable[[Space, int], Strategy]


class ContractError(AssertionError):
    """A plug-in breaks the contract named in the message."""


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ContractError(message)


# --- families -----------------------------------------------------------------------------------

def module_layers(module: Any, input_shape: Sequence[int]) -> list[tuple]:
    """Signatures of the conv / linear / pooling modules one forward pass runs, in call order."""
    import torch
    from torch import nn

    seen: list[tuple] = []

    def hook(layer: nn.Module, _inputs: Any, _output: Any) -> None:
        if isinstance(layer, (nn.Conv2d, nn.Conv3d)):  # 3-D kernels are isotropic: listed as `conv`
            seen.append(("conv", layer.kernel_size[0], layer.stride[0], layer.padding[0], layer.groups,
                         layer.in_channels, layer.out_channels))
        elif isinstance(layer, nn.Linear):
            seen.append(("linear", layer.in_features, layer.out_features))
        else:
            kind = "max_pool" if isinstance(layer, (nn.MaxPool2d, nn.MaxPool3d)) else "avg_pool"
            seen.append((kind, _first(layer.kernel_size), _first(layer.stride), _first(layer.padding)))

    types = (nn.Conv2d, nn.Conv3d, nn.Linear, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool2d, nn.AvgPool3d)
    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, types)]
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            module(torch.zeros(1, *input_shape))
    finally:
        for handle in handles:
            handle.remove()
        module.train(was_training)
    return seen


def _first(value: Any) -> int:
    return int(value[0] if isinstance(value, (tuple, list)) else value)


def check_family(family: Family, archs: Sequence[ArchSpec], resolution: int | None = None,
                 num_classes: int = 10, in_channels: int = 3) -> dict[str, int]:
    """Analytic cost and layer sequence of every spec agree with its built module."""
    from archspace.complexity.measure import measure_complexity

    _require(bool(family.kind), f"{type(family).__name__} has no kind")
    spec = family.input_spec(resolution, num_classes, in_channels)
    shape = family.input_shape(spec["resolution"], spec["in_channels"])
    for arch in archs:
        family.validate(arch)
        module = family.build(arch, num_classes=num_classes, in_channels=in_channels)
        analytic = family.complexity(arch, **spec)
        measured = measure_complexity(module, shape)
        _require(analytic == measured, f"{family.kind}: analytic cost {analytic} != measured {measured} "
                                       f"for {arch.to_json()}")
        _require(min(analytic.flops, analytic.params, analytic.acts) >= 0, f"{family.kind}: negative cost")
        listed = [module_signature(layer) for layer in family.layer_sequence(arch, num_classes, in_channels)
                  if layer.type in MODULE_LAYER_TYPES]
        ran = module_layers(module, shape)
        _require(listed == ran, f"{family.kind}: layer sequence disagrees with the module at position "
                                f"{_first_difference(listed, ran)} for {arch.to_json()}")
        for index, layer in enumerate(family.layer_sequence(arch, num_classes, in_channels)):
            _require(all(0 <= i < index for i in layer.inputs),
                     f"{family.kind}: layer {index} reads a layer that does not precede it")
    return {"specs": len(archs)}


def _first_difference(a: list, b: list) -> str:
    for index, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"{index}: listed {x}, ran {y}"
    return f"{min(len(a), len(b))}: {len(a)} layers listed, {len(b)} ran"


# --- spaces -------------------------------------------------------------------------------------

class _Foreign(ArchSpec):
    """A spec of no family: what every ``validate`` must refuse."""

    kind = "contract-check-foreign"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind}


def check_space(space: Space, n: int = 20, seed: int = 0, build: bool = False,
                input_spec: dict[str, int] | None = None) -> dict[str, int]:
    """The Space contract (see the module docstring); ``build`` also measures built modules."""
    input_spec = dict(input_spec or {})
    first = [space.sample(np.random.default_rng([seed, i])) for i in range(n)]
    again = [space.sample(np.random.default_rng([seed, i])) for i in range(n)]
    _require(first == again, f"{space.name}: sample() with the same seed gave different specs")
    batch = space.sample_batch(np.random.default_rng(seed), n)
    _require(len(batch) == n, f"{space.name}: sample_batch(n={n}) returned {len(batch)} specs")
    for arch in [*first, *batch]:
        _require(space.validate(arch) == arch, f"{space.name}: validate() changed a sampled spec")
        _require(space.satisfies(arch), f"{space.name}: a sampled spec breaks the space's constraints")
        back = arch_from_json(arch.to_json())
        _require(back == arch and back.spec_hash() == arch.spec_hash(),
                 f"{space.name}: a spec does not round-trip through JSON: {arch.to_json()}")
    _check_rejects(space)
    _check_cost(space, first, input_spec)
    _check_capabilities(space, first[: min(n, 5)], seed)
    _check_options(space, first)
    if build:
        check_family(space.family, first[:3], **input_spec)
    return {"samples": len(first) + len(batch), "capabilities": len(space.capabilities)}


def _check_rejects(space: Space) -> None:
    try:
        space.validate(_Foreign())  # type: ignore[arg-type]
    except InvalidArchitecture:
        return
    except Exception as exc:  # noqa: BLE001 - the wrong exception type is the finding
        raise ContractError(f"{space.name}: validate() of a foreign spec raised {type(exc).__name__}, "
                            "not InvalidArchitecture") from exc
    raise ContractError(f"{space.name}: validate() accepted a spec of another kind")


def _check_cost(space: Space, archs: list[ArchSpec], input_spec: dict[str, int]) -> None:
    single = [space.complexity(a, **input_spec) for a in archs]
    for cx in single:
        _require(all(isinstance(v, int) and v >= 0 for v in (cx.flops, cx.params, cx.acts)),
                 f"{space.name}: complexity must be non-negative integers, got {cx}")
    _require(space.complexity_many(archs, **input_spec) == single,
             f"{space.name}: complexity_many disagrees with complexity")


def _check_capabilities(space: Space, archs: list[ArchSpec], seed: int) -> None:
    unknown = set(space.capabilities) - set(CAPABILITIES)
    _require(not unknown, f"{space.name}: unknown capabilities declared: {sorted(unknown)}")
    for capability in CAPABILITIES:
        if capability not in space.capabilities:
            _expect_usage_error(lambda c=capability: _call_capability(space, c, archs[0], seed),
                                f"{space.name}: undeclared {capability} must raise UsageError")
    if "neighbors" in space.capabilities:
        for arch in archs:
            for neighbor in space.neighbors(arch, 1):
                _require(neighbor != arch, f"{space.name}: a spec is its own neighbor")
                space.validate(neighbor)
    if "mutate" in space.capabilities:
        for arch in archs:
            child = space.mutate(arch, np.random.default_rng(seed))
            _require(child == space.mutate(arch, np.random.default_rng(seed)),
                     f"{space.name}: mutate() with the same seed gave different children")
            space.validate(child)
    if "encode" in space.capabilities:
        codes = [np.asarray(space.encode(a), dtype=float) for a in archs]
        _require(len({c.shape for c in codes}) == 1 and codes[0].ndim == 1,
                 f"{space.name}: encode() must give 1-d vectors of one length")
        _require(all(np.isfinite(c).all() for c in codes), f"{space.name}: encode() gave non-finite values")


def _call_capability(space: Space, capability: str, arch: ArchSpec, seed: int) -> Any:
    if capability == "mutate":
        return space.mutate(arch, seed)
    if capability == "neighbors":
        return space.neighbors(arch, 1)
    return space.encode(arch)


def _expect_usage_error(call: Callable[[], Any], message: str) -> None:
    try:
        call()
    except UsageError:
        return
    except Exception as exc:  # noqa: BLE001
        raise ContractError(f"{message}, got {type(exc).__name__}: {exc}") from exc
    raise ContractError(message + ", but it returned normally")


def _check_options(space: Space, archs: list[ArchSpec]) -> None:
    from archspace.spaces.registry import SPACES, get_space

    options = space.options()
    json.dumps(options)  # JSON values, so a study can store them
    if space.name not in SPACES:
        return
    rebuilt = get_space(space.name, **options)
    _require(rebuilt.options() == options, f"{space.name}: get_space(name, **options()) has other options")
    _require([rebuilt.complexity(a) for a in archs] == [space.complexity(a) for a in archs],
             f"{space.name}: the space rebuilt from options() costs specs differently")


# --- strategies ---------------------------------------------------------------------------------

class _SyntheticObjective:
    """A deterministic, training-free evaluator for strategy checks: objective from the spec hash."""

    def evaluate(self, arch: ArchSpec, seed: int = 0) -> Result:
        value = int(arch.spec_hash()[:8], 16) / 0xFFFFFFFF * 100.0
        return Result(objective=value, metrics={"value": value})


def _drive(strategy: Strategy, evaluator: Any, steps: int) -> list[str]:
    asked: list[str] = []
    for step in range(steps):
        try:
            arch = strategy.ask()
        except SearchExhausted:
            break
        asked.append(arch.spec_hash())
        strategy.tell(arch, evaluator.evaluate(arch, step))
    return asked


def check_strategy(make: StrategyFactory, space: Space, steps: int = 15, seed: int = 0,
                   replay: bool = True) -> dict[str, int]:
    """The Strategy contract (see the module docstring) for ``make(space, seed)``."""
    evaluator = _SyntheticObjective()
    first = _drive(make(space, seed), evaluator, steps)
    _require(bool(first), "the strategy proposed nothing")
    _require(first == _drive(make(space, seed), evaluator, steps),
             "the same seed and the same results gave different proposals")
    strategy = make(space, seed)
    config = strategy.config()
    json.dumps(config)
    _check_needs(make, space, type(strategy))
    if replay:
        _check_replay(make, space, seed, min(steps, len(first)))
    return {"asks": len(first)}


def _check_needs(make: StrategyFactory, space: Space, cls: type[Strategy]) -> None:
    for capability in cls.needs:
        stripped = _WithoutCapability(space, capability)
        _expect_usage_error(lambda s=stripped: make(s, 0),
                            f"constructing {cls.__name__} on a space without {capability} must raise UsageError")
        try:
            make(stripped, 0)
        except UsageError as exc:
            _require(capability in str(exc), f"the UsageError must name the missing capability {capability!r}")


class _WithoutCapability(Space):
    """``space`` with one capability taken away (everything else delegated)."""

    def __init__(self, space: Space, capability: str) -> None:
        super().__init__(space.constraints)
        self._inner = space
        self.name = space.name
        self.arch_class = space.arch_class
        self.family = space.family
        self.capabilities = frozenset(space.capabilities) - {capability}

    def sample(self, rng: Any = None) -> Any:
        return self._inner.sample(rng)

    def validate(self, arch: Any) -> Any:
        return self._inner.validate(arch)

    def neighbors(self, arch: Any, distance: int = 1) -> list:
        return self._inner.neighbors(arch, distance) if "neighbors" in self.capabilities else super().neighbors(arch)

    def mutate(self, arch: Any, rng: Any = None) -> Any:
        return self._inner.mutate(arch, rng) if "mutate" in self.capabilities else super().mutate(arch)

    def encode(self, arch: Any) -> np.ndarray:
        return self._inner.encode(arch) if "encode" in self.capabilities else super().encode(arch)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _check_replay(make: StrategyFactory, space: Space, seed: int, steps: int) -> None:
    """Run ``steps`` trials in a study, stop half-way, resume with a fresh strategy: no refusal."""
    from archspace.study import Study

    half = max(1, steps // 2)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "check.db"
        study = Study.create("contract", path, seed=seed)
        study.optimize(make(space, seed), _SyntheticObjective(), half)
        study.storage.close()
        resumed = Study.load("contract", path)
        try:
            summary = resumed.optimize(make(space, seed), _SyntheticObjective(), steps)
        except ArchspaceError as exc:
            raise ContractError(f"a study could not resume the strategy by replaying its log: {exc}") from exc
        finally:
            resumed.storage.close()
        _require(summary.finished >= half, "the resumed study lost finished trials")


# --- evaluators ---------------------------------------------------------------------------------

def check_evaluator(evaluator: Any, archs: Sequence[ArchSpec], seed: int = 0,
                    deterministic: bool = True) -> dict[str, int]:
    """The Evaluator contract (see the module docstring) on ``archs``."""
    from archspace.study.evaluator_spec import describe_evaluator, rebuild_evaluator

    _require(callable(getattr(evaluator, "evaluate", None)), f"{type(evaluator).__name__} has no evaluate()")
    results = [evaluator.evaluate(arch, seed) for arch in archs]
    for result in results:
        _check_result(result)
    copy = pickle.loads(pickle.dumps(evaluator))
    rebuilt = rebuild_evaluator(json.loads(json.dumps(describe_evaluator(evaluator))))
    if deterministic:
        for other, label in ((evaluator, "a second call"), (copy, "a pickled copy"), (rebuilt, "the rebuilt copy")):
            again = [other.evaluate(arch, seed) for arch in archs]
            _require([r.objective for r in again] == [r.objective for r in results],
                     f"{label} of {type(evaluator).__name__} gave other objectives for the same seed")
    _check_storage_round_trip(evaluator, archs, results, seed, deterministic)
    return {"evaluations": len(results)}


def _check_result(result: Any) -> None:
    _require(isinstance(result, Result), f"evaluate() returned {type(result).__name__}, not Result")
    _require(result.status in ("complete", "diverged", "failed"), f"unknown status {result.status!r}")
    if result.status == "complete":
        _require(result.objective is not None and math.isfinite(result.objective),
                 "a complete result needs a finite objective")
    for group in (result.metrics, result.cost):
        for name, value in group.items():
            _require(isinstance(name, str) and isinstance(value, (int, float)),
                     f"metric/cost {name!r} must map a name to a number, got {value!r}")
    json.dumps(result.info, default=str)


def _check_storage_round_trip(evaluator: Any, archs: Sequence[ArchSpec], results: list[Result], seed: int,
                              deterministic: bool) -> None:
    from archspace.search.fixed import FixedList
    from archspace.study import Study

    with tempfile.TemporaryDirectory() as folder:
        study = Study.create("contract", Path(folder) / "check.db", seed=seed)
        study.optimize(FixedList(list(archs)), evaluator, len(archs))
        trials = study.trials()
        _require(len(trials) == len(archs), "the study did not record one trial per spec")
        for trial, arch, direct in zip(trials, archs, results, strict=True):
            _require(trial.arch == arch, "a stored trial's spec differs from the evaluated one")
            if trial.state == "complete" and deterministic:
                stored = study.trial(trial.number)
                fresh = evaluator.evaluate(arch, trial.seed)
                _require(stored.objective == fresh.objective, "a stored objective differs from the evaluation's")
                _require(set(stored.metrics) == set(fresh.metrics), "stored metric names differ from the evaluation's")
            _require(direct.status == "complete" or trial.state != "complete", "a failed evaluation was stored complete")
        study.storage.close()


__all__ = ["ContractError", "check_evaluator", "check_family", "check_space", "check_strategy", "module_layers"]
