"""One-shot search step time and memory, the arms interleaved in one run (issue 15, "Speed and memory").

For each space, at the benchmark size (``--size bench``: NB201 C=8 N=1 and DARTS 5 cells C=8 on
28x28x1, batch 32 / 16) or the reference size (``--size reference``: NB201 C=16 N=5 and DARTS
C=16 8 cells on 32x32x3, batch 64), every arm below runs once per round, round after round
(``--repeats`` rounds after one warm-up round), so a load change on the shared machine hits
every arm alike; the medians of thread CPU time and of wall time are reported.

- ``every_<op>``: a training step (forward, backward, SGD) of the stand-alone network (affine
  BatchNorm, plain sums) with ``<op>`` on **every edge of the supernet's cell**, same macro and
  batch, channels-last as the trainer runs it: NB201's 6 edges (``NB201Network``), the DARTS
  cell's 14 edges (``EveryEdgeNetwork``: 2 + 3 + 4 + 5 inputs per node, not a genotype's 2). One
  arm per parametric op; ``standalone`` in the ratios is the **slowest of them, as measured in the
  same run** (the issue's "network with the most expensive op on every edge").
  ``standalone_nchw``: the NB201 one in NCHW; ``genotype8`` (DARTS): the earlier reference,
  the genotype with ``sep_conv_5x5`` on its 8 pairs (2 inputs per node).
- ``darts1`` / ``darts2`` / ``gdas``: one search iteration (architecture step + weight step) of
  ``BilevelSearch``; ``*_weight``: its weight step alone (one forward, backward and SGD step of the
  supernet, what a stand-alone step is); ``*_arch``: its architecture step alone (DARTS-1 / GDAS:
  one forward and an alpha-only backward; DARTS-2: the unrolled step, two full passes and two
  alpha-only passes), so an iteration's time can be checked against the sum of its passes.
- ``sampled``: a stand-alone step of the network GDAS samples for its weight step (NB201: the
  ``NB201Network`` of that cell, channels-last; DARTS: the supernet restricted to the sampled op
  of every edge, since 14 edges with one op each are not a genotype); ``sampled_fast_pool``: the
  same with the search networks' faster average pool (``families.supernet.fast_pooling``).
- ``--before``: the same iterations as the code was before issue 15's speed work (every op of an
  edge run and summed plainly, ``nn.AvgPool2d``, NCHW, the architecture step's backward also
  computing the weights' gradients), for the speed-up side by side.

- ``--fixes``: session 4's two layout fixes side by side: ``darts2_strides_lost`` (the unrolled
  weights w' by the plain formula, which gives 1x1 / depthwise convolution weights contiguous
  strides against channels-last activations) and ``pc_darts1_nchw_shuffle`` (PC-DARTS with the
  channel shuffle returning NCHW maps) next to ``darts2`` and ``pc_darts1``.

Memory: bytes of the tensors autograd saves during one supernet forward, per op-mask size.

    nice -n 10 .venv/bin/python benchmarks/bench_oneshot.py [--size bench|reference] [--repeats 5]
        [--parts nb201 darts memory] [--before] [--fixes] [--json FILE] [--profile-only]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

import archspace.families.supernet as supernet_module
from archspace.families.darts.family import DartsFamily
from archspace.families.darts.modules import build_steps, make_op
from archspace.families.darts.spec import DartsGenotype
from archspace.families.darts.supernet import DartsSearchConfig, DartsSearchNetwork
from archspace.families.darts.table import (
    SEARCH_NODES,
    CellPlan,
    edge_inputs,
    macro_plan,
    preprocess_steps,
    stem_steps,
    stride_of,
)
from archspace.families.nb201.modules import NB201Network
from archspace.families.supernet import BoxAvgPool2d, MixedOp, Mixture, fast_pooling
from archspace.oneshot.bilevel import BilevelSearch, SearchData, SearchRecipe
from archspace.oneshot.methods import Darts, Gdas, softmax_mixture
from archspace.oneshot.nb201_net import NB201SearchConfig, NB201SearchNetwork

SIZES = {  # space -> size -> (channels, cells, batch, resolution, in_channels)
    "nb201": {"bench": (8, 1, 32, 28, 1), "reference": (16, 5, 64, 32, 3)},
    "darts": {"bench": (8, 5, 16, 28, 1), "reference": (16, 8, 64, 32, 3)},
}


def _data(batch: int, resolution: int, in_channels: int) -> SearchData:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2 * batch, in_channels, resolution, resolution, generator=g)
    y = torch.randint(0, 10, (2 * batch,), generator=g)
    return SearchData(x[:batch], y[:batch], x[batch:], y[batch:], x[:batch], y[:batch])


def standalone_step(net: nn.Module, x: torch.Tensor, y: torch.Tensor, channels_last: bool) -> Callable[[], None]:
    """A training step of ``net`` (SGD with momentum), in the trainer's memory format or NCHW."""
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()
        opt.step()
    return step


class _FullBackwardDarts(Darts):
    """DARTS as before the speed work: the architecture step's backward fills every gradient."""

    def arch_backward(self, arch, ctx, bilevel):  # noqa: ANN001, ANN201 - the base class's signature
        if self.order == 2:
            return bilevel.unrolled_arch_backward(arch, ctx)
        loss = ctx.val_loss(self.relax(arch, ctx))
        loss.backward()
        return float(loss.detach())


class _StridesLostSearch(BilevelSearch):
    """Second order as before session 4: w' by the plain formula, whose strides are contiguous
    for 1x1 / depthwise / one-input-channel convolution weights (mixed-layout convolutions)."""

    def unrolled_weights(self, params, grads, eta):  # noqa: ANN001, ANN201 - the base class's signature
        rec, out = self.recipe, []
        with torch.no_grad():
            for p, g in zip(params, grads, strict=True):
                g = torch.zeros_like(p) if g is None else g
                buf = self.w_opt.state.get(p, {}).get("momentum_buffer")
                moment = torch.zeros_like(p) if buf is None else rec.w_momentum * buf
                out.append((p - eta * (moment + g + rec.w_wd * p)).requires_grad_(True))
        return out


def _nchw_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


def with_nchw_shuffle(fn: Callable[[], None]) -> Callable[[], None]:
    """``fn`` run with PC-DARTS's channel shuffle as before session 4 (its output NCHW)."""
    def run() -> None:
        keep = supernet_module.channel_shuffle
        supernet_module.channel_shuffle = _nchw_shuffle
        try:
            fn()
        finally:
            supernet_module.channel_shuffle = keep
    return run


def _plain_mix(edge: MixedOp, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    return sum(w * op(x) for w, op in zip(weights, edge.candidates, strict=True))


def as_before(net: nn.Module) -> nn.Module:
    """The search network as before the speed work: plain sum over every op, ``nn.AvgPool2d``."""
    for module in list(net.modules()):
        if isinstance(module, MixedOp):
            module.mix = lambda x, w, e=module: _plain_mix(e, x, w)
        for name, child in module.named_children():
            if isinstance(child, BoxAvgPool2d):
                setattr(module, name, nn.AvgPool2d(child.kernel, child.stride, child.padding, count_include_pad=False))
    return net


class EveryEdgeCell(nn.Module):
    """A stand-alone DARTS cell with one op on every edge of the search cell (node j sums all of
    its j + 2 inputs), affine BatchNorm, output = concat of the nodes (the search cell's shape)."""

    def __init__(self, op: str, plan: CellPlan, nodes: int = SEARCH_NODES) -> None:
        super().__init__()
        self.nodes = nodes
        self.preprocess0 = build_steps(preprocess_steps(plan.c_prev_prev, plan.channels, plan.reduction_prev))
        self.preprocess1 = build_steps(preprocess_steps(plan.c_prev, plan.channels, False))
        self.edges = nn.ModuleList(make_op(op, plan.channels, stride_of(plan.reduction, source))
                                   for _, source in edge_inputs(nodes))

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        offset = 0
        for _ in range(self.nodes):
            total = None
            for i, h in enumerate(states):
                out = self.edges[offset + i](h)
                total = out if total is None else total + out
            offset += len(states)
            states.append(total)
        return torch.cat(states[-self.nodes:], dim=1)


class EveryEdgeNetwork(nn.Module):
    """The DARTS search network's macro (stem, ``layers`` cells, reductions at 1/3 and 2/3, head)
    with ``op`` on every edge: the stand-alone reference of the speed targets."""

    def __init__(self, op: str, channels: int, layers: int, num_classes: int, in_channels: int) -> None:
        super().__init__()
        plans = macro_plan(channels, layers, SEARCH_NODES, SEARCH_NODES)
        self.stem = build_steps(stem_steps(in_channels, channels))
        self.cells = nn.ModuleList(EveryEdgeCell(op, p) for p in plans)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(plans[-1].c_out, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(torch.flatten(self.global_pooling(s1), 1))


class SampledDarts(nn.Module):
    """The DARTS supernet restricted to one sampled op per edge (GDAS's stand-alone twin)."""

    def __init__(self, net: DartsSearchNetwork, index: dict[str, list[int]]) -> None:
        super().__init__()
        self.net, self.index = net, index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = {g: F.one_hot(torch.tensor(i), len(self.net.op_names)).float() for g, i in self.index.items()}
        return self.net(x, Mixture(weights, self.index))


HEAVY_CANDIDATES = {"nb201": ("nor_conv_3x3", "nor_conv_1x1"),
                    "darts": ("sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")}
PROFILED_REFERENCE = {"nb201": "every_nor_conv_3x3", "darts": "every_dil_conv_5x5"}  # the slowest, measured


def space_arms(space: str, size: str, before: bool, fixes: bool = False) -> tuple[dict[str, Callable[[], None]], str]:
    c, cells, batch, res, cin = SIZES[space][size]
    data = _data(batch, res, cin)
    x, y = data.weight_x, data.weight_y
    recipe = SearchRecipe(batch_size=batch)
    if space == "nb201":
        def make_net(**pc):
            return NB201SearchNetwork(NB201SearchConfig(c, cells, num_classes=10, in_channels=cin, **pc))

        def every_edge(op):
            return NB201Network((op,) * 6, c, cells, 10, cin)

        def sampled(names, index):
            return NB201Network(tuple(names[k] for k in index["cell"]), c, cells, 10, cin)
        label = f"NB201 C={c} N={cells} {res}x{res}x{cin} batch {batch}"
    else:
        def make_net(**pc):
            return DartsSearchNetwork(DartsSearchConfig(c, cells, num_classes=10, in_channels=cin, **pc))

        def every_edge(op):
            return EveryEdgeNetwork(op, c, cells, 10, cin)

        def sampled(names, index):
            return SampledDarts(make_net(), index)
        label = f"DARTS {cells} cells C={c} {res}x{res}x{cin} batch {batch}"
    torch.manual_seed(0)
    searches = {"darts1": BilevelSearch(make_net(), Darts(1), recipe, data),
                "darts2": BilevelSearch(make_net(), Darts(2), recipe, data),
                "gdas": BilevelSearch(make_net(), Gdas(), recipe, data)}
    if before:
        searches["darts1_before"] = BilevelSearch(as_before(make_net()), _FullBackwardDarts(1), recipe, data,
                                                  memory_format="contiguous")
        searches["darts2_before"] = BilevelSearch(as_before(make_net()), _FullBackwardDarts(2), recipe, data,
                                                  memory_format="contiguous")
    if fixes:
        searches["darts2_strides_lost"] = _StridesLostSearch(make_net(), Darts(2), recipe, data)
        searches["pc_darts1"] = BilevelSearch(make_net(partial_channels=2, edge_norm=True), Darts(1), recipe, data)
    gdas = searches["gdas"]
    ctx0 = gdas.context(0)
    weight_sample = gdas.method.weight_mixture(gdas.arch.as_dict(), ctx0).index
    arms: dict[str, Callable[[], None]] = {f"every_{op}": standalone_step(every_edge(op), x, y, True)
                                           for op in HEAVY_CANDIDATES[space]}
    if space == "nb201":
        arms["standalone_nchw"] = standalone_step(every_edge("nor_conv_3x3"), x, y, False)
    else:
        pairs = [("sep_conv_5x5", i) for n in range(4) for i in (0, 1)]
        genotype = DartsGenotype(pairs, [2, 3, 4, 5], pairs, [2, 3, 4, 5])
        arms["genotype8"] = standalone_step(DartsFamily(c, cells).build(genotype, 10, cin), x, y, True)
    arms["sampled"] = standalone_step(sampled(gdas.net.op_names, weight_sample), x, y, True)
    arms["sampled_fast_pool"] = standalone_step(fast_pooling(sampled(gdas.net.op_names, weight_sample)), x, y, True)
    for name, search in searches.items():
        arms[name] = lambda s=search: s.train_step(0)
        if name in ("darts1", "darts2", "gdas"):
            arms[f"{name}_weight"] = lambda s=search: s.weight_step(s.context(0))
            arms[f"{name}_arch"] = lambda s=search: s.arch_step(s.context(0))
    if fixes:
        pc_old = BilevelSearch(make_net(partial_channels=2, edge_norm=True), Darts(1), recipe, data)
        arms["pc_darts1_nchw_shuffle"] = with_nchw_shuffle(lambda s=pc_old: s.train_step(0))
    return arms, label


def _minor_faults() -> int:
    """Minor page faults of this thread so far (fresh memory pages the allocator touched)."""
    return resource.getrusage(getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)).ru_minflt


def interleaved(arms: dict[str, Callable[[], None]], repeats: int) -> dict[str, dict[str, float]]:
    """Median thread-CPU and wall seconds (and minor page faults) per arm; one warm-up round,
    then ``repeats`` rounds."""
    cpu: dict[str, list[float]] = {k: [] for k in arms}
    wall: dict[str, list[float]] = {k: [] for k in arms}
    faults: dict[str, list[int]] = {k: [] for k in arms}
    for round_ in range(repeats + 1):
        for name, fn in arms.items():
            f0, c0, w0 = _minor_faults(), time.thread_time(), time.perf_counter()
            fn()
            if round_:
                cpu[name].append(time.thread_time() - c0)
                wall[name].append(time.perf_counter() - w0)
                faults[name].append(_minor_faults() - f0)
            # each timing as it comes (stderr): a run cut short still leaves its rounds in the log
            print(f"    {name} round {round_}: cpu {time.thread_time() - c0:.3f} s wall {time.perf_counter() - w0:.3f} s",
                  file=sys.stderr, flush=True)
        print(f"  round {round_} of {repeats} done ({time.strftime('%H:%M:%S')})", file=sys.stderr, flush=True)
    return {k: {"cpu_s": statistics.median(cpu[k]), "wall_s": statistics.median(wall[k]),
                "minor_faults": statistics.median(faults[k])} for k in arms}


def heaviest(t: dict[str, dict[str, float]]) -> str:
    """The slowest ``every_<op>`` arm of this run (thread CPU): the stand-alone reference."""
    return max((k for k in t if k.startswith("every_")), key=lambda k: t[k]["cpu_s"])


def report(label: str, t: dict[str, dict[str, float]]) -> dict[str, float]:
    """Print the timings and the target ratios (those whose arms ran; see ``--arms``)."""
    ref = heaviest(t)

    def r(a: str, b: str, key: str = "cpu_s") -> float | None:
        return t[a][key] / t[b][key] if a in t and b in t else None

    def cpu(*names: str) -> list[float] | None:
        return [t[n]["cpu_s"] for n in names] if all(n in t for n in names) else None

    ratios = {
        "darts1_vs_standalone": r("darts1", ref),
        "darts1_vs_standalone_wall": r("darts1", ref, "wall_s"),
        "darts1_weight_vs_standalone": r("darts1_weight", ref),
        "darts1_arch_vs_darts1_weight": r("darts1_arch", "darts1_weight"),
        "darts2_vs_darts1": r("darts2", "darts1"),
        "darts2_vs_darts1_wall": r("darts2", "darts1", "wall_s"),
        "darts2_arch_vs_darts1_weight": r("darts2_arch", "darts1_weight"),
        "gdas_vs_sampled": r("gdas", "sampled"),
        "gdas_vs_sampled_wall": r("gdas", "sampled", "wall_s"),
        "gdas_weight_vs_sampled": r("gdas_weight", "sampled"),
        "gdas_arch_vs_sampled": r("gdas_arch", "sampled"),
        "gdas_weight_vs_sampled_fast_pool": r("gdas_weight", "sampled_fast_pool"),
        "standalone_nchw_vs_channels_last": r("standalone_nchw", ref),
        "darts1_vs_genotype8": r("darts1", "genotype8"),
        "darts1_weight_vs_genotype8": r("darts1_weight", "genotype8"),
        "speedup_darts2_strides_kept": r("darts2_strides_lost", "darts2"),
        "speedup_pc_darts1_shuffle_format": r("pc_darts1_nchw_shuffle", "pc_darts1"),
        "darts1_before_vs_standalone": r("darts1_before", ref),
        "darts2_before_vs_darts1_before": r("darts2_before", "darts1_before"),
        "speedup_darts1": r("darts1_before", "darts1"),
        "speedup_darts2": r("darts2_before", "darts2"),
    }
    passes = cpu("darts1_weight", "darts1_arch")
    if passes:  # the passes' arithmetic: DARTS-2 = 3 full passes (F) + 2 alpha-only passes (A)
        f, a = passes
        ratios["darts2_predicted_vs_darts1"] = (3 * f + 2 * a) / (f + a)
    ratios.update({f"{k}_vs_standalone": r(k, ref) for k in t if k.startswith("every_")})
    ratios = {k: v for k, v in ratios.items() if v is not None}
    print(f"\n{label} (median of rounds; CPU = thread CPU time, single torch thread); standalone = {ref}")
    for name, v in t.items():
        print(f"  {name:22s} cpu {v['cpu_s'] * 1e3:9.1f} ms   wall {v['wall_s'] * 1e3:9.1f} ms   "
              f"minor faults {v['minor_faults']:8.0f}")
    for name, v in ratios.items():
        print(f"  {name:36s} {v:.2f}x")
    return ratios


def profile(arms: dict[str, Callable[[], None]], names: tuple[str, ...] = ("darts1",),
            rows: int = 12) -> dict[str, list[dict[str, float]]]:
    """torch.profiler's top operators (self CPU time) of one call of each named arm (after a warm-up)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    out = {}
    for name in names:
        arms[name]()
        with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
            arms[name]()
        events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
        total = sum(e.self_cpu_time_total for e in events) or 1.0
        out[name] = [{"op": e.key, "self_cpu_ms": e.self_cpu_time_total / 1e3, "share": e.self_cpu_time_total / total,
                      "calls": e.count} for e in events[:rows]]
        print(f"  profile of one {name} call: {total / 1e3:.0f} ms self CPU; top ops:")
        for row in out[name]:
            print(f"    {row['op']:40s} {row['self_cpu_ms']:8.1f} ms {100 * row['share']:5.1f}%  x{row['calls']}")
    return out


def saved_bytes(net: nn.Module, x: torch.Tensor) -> int:
    """Bytes of the distinct tensors autograd saves during one forward (what backward needs)."""
    seen: dict[tuple[int, int], int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        seen[(t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())] = t.untyped_storage().nbytes()
        return t

    arch = {k: torch.zeros(s, requires_grad=True) for k, s in net.arch_shapes().items()}
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        F.cross_entropy(net(x, softmax_mixture(arch)), torch.zeros(len(x), dtype=torch.long)).backward()
    return sum(seen.values())


def memory(batch: int) -> list[dict[str, float]]:
    x = torch.randn(batch, 1, 28, 28)
    masks = [("none", "skip_connect"), ("none", "skip_connect", "sep_conv_3x3"),
             ("none", "max_pool_3x3", "skip_connect", "sep_conv_3x3"),
             ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5"),
             tuple(DartsSearchConfig().ops)]
    rows, base = [], None
    for ops in masks:
        net = DartsSearchNetwork(DartsSearchConfig(8, 5, ops=ops, num_classes=10, in_channels=1))
        mb = saved_bytes(net, x) / 2**20
        base = base or mb
        rows.append({"ops": len(ops), "mib": mb, "vs_2_ops": mb / base})
        print(f"DARTS supernet (5 cells, C=8, batch {batch}) with {len(ops)} ops: {mb:.1f} MiB saved for backward "
              f"({mb / base:.2f}x the 2-op mask)", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", choices=("bench", "reference"), default="bench")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--parts", nargs="+", choices=("nb201", "darts", "memory"), default=["nb201", "darts", "memory"])
    parser.add_argument("--before", action="store_true", help="also time the iterations as before the speed work")
    parser.add_argument("--fixes", action="store_true",
                        help="also time DARTS-2 and PC-DARTS as before session 4's layout fixes, side by side")
    parser.add_argument("--memory-batch", type=int, default=4)
    parser.add_argument("--arms", nargs="+", default=None,
                        help="time only these arms (a name ending in * is a prefix; keep at least one every_<op>)")
    parser.add_argument("--json", default=None, help="write every timing and ratio to this file")
    parser.add_argument("--profile-only", action="store_true",
                        help="no timing rounds: torch.profiler's top ops of one reference stand-alone step and one DARTS step")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out: dict[str, object] = {"size": args.size, "repeats": args.repeats}
    for space in ("nb201", "darts"):
        if space in args.parts:
            arms, label = space_arms(space, args.size, args.before, args.fixes)
            if args.arms:
                arms = {k: v for k, v in arms.items() if any(k == a or (a.endswith("*") and k.startswith(a[:-1]))
                                                             for a in args.arms)}
            if args.profile_only:
                print(f"\n{label}")
                out[space] = {"label": label, "profile": profile(arms, (PROFILED_REFERENCE[space], "darts1"))}
                continue
            timings = interleaved(arms, args.repeats)
            out[space] = {"label": label, "timings": timings, "ratios": report(label, timings)}
    if "memory" in args.parts:
        out["memory"] = memory(args.memory_batch)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
