"""One-shot search step time and memory, measured side by side in one run (issue 15,
"Speed and memory").

1. NB201 space (C=8, N=1, 28x28x1, batch 32): a first-order DARTS step (arch step + weight step)
   next to a stand-alone training step of the network with the most expensive op
   (``nor_conv_3x3``) on every edge; second order next to first order; a GDAS step next to a
   stand-alone step of the network of the cell it sampled.
2. DARTS space (5 cells, C=8, 28x28x1, batch 16): the same three ratios (stand-alone: the
   genotype with ``sep_conv_5x5`` on all 8 pairs of both cells).
3. Memory: bytes of the tensors autograd saves for the backward pass of one supernet forward
   (the activations a mixed op holds), per op count of the DARTS supernet's mask.

    nice -n 10 .venv/bin/python benchmarks/bench_oneshot.py [--repeats 5] [--parts nb201 darts memory]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from archspace.families.darts.family import DartsFamily
from archspace.families.darts.spec import DartsGenotype
from archspace.families.darts.supernet import DartsSearchConfig, DartsSearchNetwork
from archspace.families.nb201.modules import NB201Network
from archspace.oneshot.bilevel import BilevelSearch, SearchData, SearchRecipe
from archspace.oneshot.methods import Darts, Gdas, softmax_mixture
from archspace.oneshot.nb201_net import NB201SearchConfig, NB201SearchNetwork


def _data(batch: int) -> SearchData:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4 * batch, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (4 * batch,), generator=g)
    return SearchData(x[:batch], y[:batch], x[batch:2 * batch], y[batch:2 * batch], x[:batch], y[:batch])


def _standalone_step(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    start = time.perf_counter()
    opt.zero_grad()
    F.cross_entropy(net(x), y).backward()
    opt.step()
    return time.perf_counter() - start


def _search_step(search: BilevelSearch) -> float:
    start = time.perf_counter()
    search.train_step(0)
    return time.perf_counter() - start


def _median(fn, repeats: int) -> float:
    fn()  # warm-up
    return statistics.median(fn() for _ in range(repeats))


def bench_space(name: str, make_net, standalone, sampled_standalone, batch: int, repeats: int) -> dict[str, float]:
    data = _data(batch)
    x, y = data.weight_x, data.weight_y
    recipe = SearchRecipe(batch_size=batch)
    first = BilevelSearch(make_net(), Darts(1), recipe, data)
    second = BilevelSearch(make_net(), Darts(2), recipe, data)
    gdas = BilevelSearch(make_net(), Gdas(), recipe, data)
    ctx = gdas.context(0)
    sampled = gdas.method.relax(gdas.arch.as_dict(), ctx).index
    out = {
        "standalone": _median(lambda: _standalone_step(standalone(), x, y), repeats),
        "darts1": _median(lambda: _search_step(first), repeats),
        "darts2": _median(lambda: _search_step(second), repeats),
        "gdas": _median(lambda: _search_step(gdas), repeats),
        "sampled_standalone": _median(lambda: _standalone_step(sampled_standalone(gdas.net.op_names, sampled), x, y),
                                      repeats),
    }
    print(f"{name}: stand-alone (most expensive op everywhere) {out['standalone'] * 1e3:.0f} ms, "
          f"DARTS-1 {out['darts1'] * 1e3:.0f} ms ({out['darts1'] / out['standalone']:.2f}x), "
          f"DARTS-2 {out['darts2'] * 1e3:.0f} ms ({out['darts2'] / out['darts1']:.2f}x DARTS-1), "
          f"GDAS {out['gdas'] * 1e3:.0f} ms ({out['gdas'] / out['sampled_standalone']:.2f}x the sampled "
          f"network's {out['sampled_standalone'] * 1e3:.0f} ms)", flush=True)
    return out


def saved_bytes(net: torch.nn.Module, x: torch.Tensor) -> int:
    """Bytes of the distinct tensors autograd saves during one forward (what backward needs)."""
    seen: dict[tuple[int, int], int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        seen[(t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())] = t.untyped_storage().nbytes()
        return t

    arch = {k: torch.zeros(s, requires_grad=True) for k, s in net.arch_shapes().items()}
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        F.cross_entropy(net(x, softmax_mixture(arch)), torch.zeros(len(x), dtype=torch.long)).backward()
    return sum(seen.values())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--parts", nargs="+", choices=("nb201", "darts", "memory"), default=["nb201", "darts", "memory"])
    parser.add_argument("--memory-batch", type=int, default=16)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    nb = NB201SearchConfig(8, 1, num_classes=10, in_channels=1)
    if "nb201" in args.parts:
        bench_space("NB201 C=8 N=1 batch 32", lambda: NB201SearchNetwork(nb),
                lambda: NB201Network(("nor_conv_3x3",) * 6, 8, 1, 10, 1),
                    lambda names, idx: NB201Network(tuple(names[k] for k in idx["cell"]), 8, 1, 10, 1), 32,
                    args.repeats)
    dc = DartsSearchConfig(8, 5, num_classes=10, in_channels=1)
    heavy = DartsGenotype([("sep_conv_5x5", i) for n in range(4) for i in (0, 1)], [2, 3, 4, 5],
                          [("sep_conv_5x5", i) for n in range(4) for i in (0, 1)], [2, 3, 4, 5])
    family = DartsFamily(8, 5)
    if "darts" in args.parts:
        bench_space("DARTS 5 cells C=8 batch 16", lambda: DartsSearchNetwork(dc),
                    lambda: family.build(heavy, 10, 1),
                    lambda names, idx: SampledDarts(DartsSearchNetwork(dc), idx), 16, max(2, args.repeats // 2))
    if "memory" not in args.parts:
        return
    x = torch.randn(args.memory_batch, 1, 28, 28)
    masks = [("none", "skip_connect"), ("none", "skip_connect", "sep_conv_3x3"),
             ("none", "max_pool_3x3", "skip_connect", "sep_conv_3x3"),
             ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5"),
             tuple(DartsSearchConfig().ops)]
    base = None
    for ops in masks:
        net = DartsSearchNetwork(DartsSearchConfig(8, 5, ops=ops, num_classes=10, in_channels=1))
        mb = saved_bytes(net, x) / 2**20
        base = base or mb
        print(f"DARTS supernet (5 cells, C=8, batch {args.memory_batch}) with {len(ops)} ops: {mb:.1f} MiB saved for backward "
              f"({mb / base:.2f}x the 2-op mask)", flush=True)


class SampledDarts(torch.nn.Module):
    """The DARTS supernet restricted to one sampled op per edge (GDAS's stand-alone twin)."""

    def __init__(self, net: DartsSearchNetwork, index: dict[str, list[int]]) -> None:
        super().__init__()
        self.net, self.index = net, index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from archspace.families.supernet import Mixture

        weights = {g: torch.nn.functional.one_hot(torch.tensor(i), len(self.net.op_names)).float()
                   for g, i in self.index.items()}
        return self.net(x, Mixture(weights, self.index))


if __name__ == "__main__":
    main()
