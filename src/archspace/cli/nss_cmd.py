"""`archspace nss search|table|space|regimes`: Network Space Search and its analytic tools.

    archspace nss search --dataset fashion-mnist --flops 400M --out runs/nss-400m   # Elite Space
    archspace nss search --dataset cifar100 --flops 400M --preset reference --out DIR --dry-run   # the plan only
    archspace nss table [--json]                       # samples-to-satisfy / Delta, 12 RegNet regimes
    archspace nss space d1-4w1-64_d5-8w65-128_d1-4w449-512   # size and exact FLOPs distribution
    archspace nss regimes --max-depth 4 --max-width 32 --resolution 28 --classes 10 --channels 1
    archspace nss nas NAME --space nss:<space-id> --flops 949365:1017507 --trained 3 --seed 0 --db FILE
        # FLOPs-constrained random search inside a space, candidates trained in a Study (Table 1 measured)

``search`` resumes from ``--out``/checkpoint.pt when it exists (same settings). The Elite Space it
prints is usable at once: ``archspace study run NAME --space nss:<space-id> ...``. The work is
done by ``archspace.nss`` (``workflow.search_elite_space``, ``table.elite_table``, ...).
"""

from __future__ import annotations

import argparse
from typing import Any

from archspace.cli.common import add_db_option, add_json_flag, print_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("nss", help="Network Space Search: Elite Spaces for FLOPs regimes",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="nss_command", metavar="SUBCOMMAND")
    sub.required = True
    _register_search(sub)
    _register_table(sub)
    _register_space(sub)
    _register_regimes(sub)
    _register_nas(sub)


def _add_partition_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-depth", type=int, default=16, help="depth bound of the (reduced) expanded space (<= 16)")
    p.add_argument("--max-width", type=int, default=512, help="width bound of the (reduced) expanded space (<= 512)")
    p.add_argument("--depth-bins", type=int, default=4, help="depth bins per stage of the partition (default 4)")
    p.add_argument("--width-bins", type=int, default=8, help="width bins per stage of the partition (default 8)")


def _add_input_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--resolution", type=int, default=32, help="input size flops are counted at (default 32)")
    p.add_argument("--classes", type=int, default=100, help="classes (default 100, CIFAR-100)")
    p.add_argument("--channels", type=int, default=3, help="input channels (default 3)")


def _register_search(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="search network spaces; print and store the Elite Space")
    p.add_argument("--flops", required=True, help="regime: a target (400M, 3.2G: band [0.9 T, T]) or LO:HI")
    p.add_argument("--tolerance", type=float, default=0.1, help="band below a target (default 0.1)")
    p.add_argument("--dataset", default="fashion-mnist", help="dataset (default fashion-mnist)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--val-size", type=int, default=5000, help="validation images for theta (default 5000)")
    _add_partition_args(p)
    p.add_argument("--epochs", type=int, default=None, help="epochs (default 50)")
    p.add_argument("--warmup-epochs", type=int, default=None, help="weights-only epochs (default 15 of 50; 25%% of --epochs when only that is given)")
    p.add_argument("--batch-size", type=int, default=None, help="batch size (default 64)")
    p.add_argument("--steps-per-epoch", type=int, default=None, help="cap steps per epoch (default: the whole split)")
    p.add_argument("--train-subset", type=int, default=None, help="train on this many training images")
    p.add_argument("--lr", type=float, default=None, help="weight learning rate (default 0.025)")
    p.add_argument("--arch-lr", type=float, default=None, help="theta learning rate (default 3e-4)")
    p.add_argument("--flops-weight", type=float, default=None, help="lambda of the FLOPs term (default 1)")
    p.add_argument("--tau-start", type=float, default=None, help="initial temperature (default 5)")
    p.add_argument("--tau-end", type=float, default=None, help="final temperature (default 0.001)")
    p.add_argument("--hard", action="store_true", help="straight-through (one-hot) Gumbel-softmax")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--preset", choices=("reference",), default=None,
                   help="reference: the supplement's full-size search (d <= 16, w <= 512, 50 epochs with 15 of "
                        "warm-up, batch 64); any flag that scales it down is refused")
    p.add_argument("--dry-run", dest="dry_run", action="store_true",
                   help="print the resolved search (config, spaces, largest network) and exit; nothing is trained")
    p.add_argument("--out", required=True, help="run directory (checkpoint.pt, result.json); resumed when present")
    add_json_flag(p)
    p.set_defaults(handler=run_search_cmd)


def _register_table(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("table", help="NAS inside Elite Spaces vs the expanded space: samples until the budget is "
                                     "met and Delta %%, exact (supplement Table 1)")
    _add_partition_args(p)
    _add_input_args(p)
    p.add_argument("--tolerance", type=float, default=0.1, help="regime band below each target (default 0.1)")
    p.add_argument("--flops", default=None, help="comma-separated targets/ranges instead of the 12 RegNet regimes")
    p.add_argument("--seed", type=int, default=0, help="seed of the Elite Space screening")
    add_json_flag(p)
    p.set_defaults(handler=run_table_cmd)


def _register_space(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("space", help="size and exact FLOPs distribution of a network space")
    p.add_argument("space_id", help="d<lo>-<hi>w<lo>-<hi> per stage joined by _, or 'expanded'")
    _add_input_args(p)
    p.add_argument("--bins", type=int, default=12, help="histogram bins (default 12)")
    add_json_flag(p)
    p.set_defaults(handler=run_space_cmd)


def _register_regimes(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("regimes", help="the 12 RegNet regimes moved to a reduced space / other input by quantile")
    p.add_argument("--max-depth", type=int, default=16)
    p.add_argument("--max-width", type=int, default=512)
    _add_input_args(p)
    p.add_argument("--tolerance", type=float, default=0.1)
    add_json_flag(p)
    p.set_defaults(handler=run_regimes_cmd)


def _register_nas(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("nas", help="NAS inside a network space under a FLOPs budget: random search, the in-budget "
                                   "candidates trained in a Study (samples to satisfy, Delta %%, error)")
    p.add_argument("name", help="study name (rerun to resume)")
    p.add_argument("--space", required=True, help="nss:<space-id> (an Elite Space or the expanded space as an id)")
    p.add_argument("--flops", required=True, help="regime: a target (400M: band [0.9 T, T]) or LO:HI; "
                                                  "the constraint is flops <= its upper end")
    p.add_argument("--tolerance", type=float, default=0.1, help="band below a target (default 0.1)")
    p.add_argument("--trained", type=int, default=3, help="in-budget candidates trained (default 3)")
    p.add_argument("--seed", type=int, default=0, help="draws and trial seeds (default 0)")
    p.add_argument("--dataset", default="fashion-mnist", help="dataset (default fashion-mnist)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--epochs", type=int, default=4, help="training epochs per candidate (default 4)")
    p.add_argument("--subset", type=int, default=10_000, help="training images per candidate (default 10000)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--threads", type=int, default=1, help="torch threads per training (default 1)")
    p.add_argument("--max-draws", type=int, default=100_000, help="give up after this many draws (default 100000)")
    p.add_argument("--no-progress", action="store_true", help="no live progress bar")
    add_db_option(p)
    add_json_flag(p)
    p.set_defaults(handler=run_nas_cmd)


def run_nas_cmd(args: argparse.Namespace) -> int:
    from archspace.nss.nas import NASConfig, nan_free, plan_nas, run_nas

    config = NASConfig(args.space, args.flops, trained=args.trained, seed=args.seed, dataset=args.dataset,
                       epochs=args.epochs, subset=args.subset, tolerance=args.tolerance, device=args.device,
                       data_dir=args.data_dir, threads=args.threads, max_draws=args.max_draws)
    plan_nas(config)  # every check before any data is read
    result = run_nas(config, args.db, args.name, progress=not (args.no_progress or args.json))
    if args.json:
        print_json(nan_free(result))
        return 0
    best, analytic = result["best"], result["analytic"]
    print(f"NAS in {result['space']} under flops <= {result['budget']:.4g} ({result['regime']['name']}), "
          f"seed {result['seed']}: first in-budget network at draw {result['samples_to_satisfy']} "
          f"(expected {analytic['expected_samples']:.3g}); {result['draws']} draws for {result['trained']} candidates")
    print_table(["draw", "flops", "Δ %", "val error %", "test error %", "arch"],
                [[c["draw"], c["flops"], c["delta_percent"], c["val_error"], c["test_error"],
                  f"d{tuple(c['arch']['depths'])} w{tuple(c['arch']['widths'])}"] for c in result["candidates"]],
                title=f"study {result['name']}: candidates")
    if best is not None:
        print(f"returned: draw {best['draw']}, flops {best['flops']:,} (Δ {best['delta_percent']:.1f}%), "
              f"test error {best['test_error']:.2f}%")
    return 0


def run_search_cmd(args: argparse.Namespace) -> int:
    from archspace.cli.supernet_cmd import apply_threads
    from archspace.nss.workflow import NSSRunSettings, describe_plan, plan, search_elite_space

    settings = NSSRunSettings(
        flops=args.flops, dataset=args.dataset, data_dir=args.data_dir, val_size=args.val_size,
        tolerance=args.tolerance, max_depth=args.max_depth, max_width=args.max_width, depth_bins=args.depth_bins,
        width_bins=args.width_bins, epochs=args.epochs, warmup_epochs=args.warmup_epochs, batch_size=args.batch_size,
        steps_per_epoch=args.steps_per_epoch, train_subset=args.train_subset, lr=args.lr, arch_lr=args.arch_lr,
        flops_weight=args.flops_weight, tau_start=args.tau_start, tau_end=args.tau_end, hard=args.hard,
        seed=args.seed, device=args.device, preset=args.preset)
    plan(settings)  # every check before torch threads or data
    if args.dry_run:
        return _print_plan(describe_plan(settings), args.json)
    apply_threads(args)
    result = search_elite_space(settings, args.out, progress=True)  # on stderr: stdout stays the result
    if args.json:
        print_json(result["elite"])
        return 0
    elite = result["elite"]
    flops = elite["flops"]
    print(f"Elite Space for {elite['regime']['name']}: {elite['space']}  (p = {elite['probability']:.4f}, "
          f"{elite['size']:,} networks)")
    for index, r in enumerate(elite["ranges"]):
        print(f"  stage {index + 1}: depth {r['depth'][0]}-{r['depth'][1]}, width {r['width'][0]}-{r['width'][1]}")
    print(f"  flops (exact, {elite['inputs']['resolution']}x{elite['inputs']['resolution']}): mean {flops['mean']:.4g}, "
          f"range {flops['min']:.4g}..{flops['max']:.4g}, median {flops['quantiles']['p50']:.4g}")
    print(f"  P(in regime) = {elite['in_regime']:.4f}; P(flops <= target) = {elite['budget']['probability']:.4f}")
    print(f"  stored in {args.out}/result.json; train a population: archspace study run NAME --space {elite['space']}")
    return 0


def _print_plan(described: dict[str, Any], as_json: bool) -> int:
    if as_json:
        print_json(described)
        return 0
    config, largest = described["config"], described["largest_network"]
    print(f"NSS search plan ({described['preset'] or 'custom'}): regime {config['regime']['name']} "
          f"[{config['regime']['low']:.4g}, {config['regime']['high']:.4g}] on {described['dataset']}")
    print(f"  expanded space {described['expanded_space']['space']} ({described['expanded_space']['size']:,} "
          f"networks), {described['spaces']:,} network spaces")
    print(f"  {config['epochs']} epochs ({config['warmup_epochs']} warm-up), batch {config['batch_size']}, "
          f"SGD lr {config['lr']:g} -> {config['lr_min']:g}, Adam {config['arch_lr']:g} on theta, "
          f"tau {config['tau_start']:g} -> {config['tau_end']:g}")
    print(f"  super network = largest network: {largest['flops']:.4g} flops, {largest['params']:,} parameters "
          f"at {described['inputs']['resolution']}x{described['inputs']['resolution']}")
    return 0


def _regimes(args: argparse.Namespace) -> list[Any] | None:
    from archspace.nss.regimes import parse_regime
    from archspace.parsing import parse_list

    if not args.flops:
        return None
    return [parse_regime(item, args.tolerance) for item in parse_list(args.flops, "flops regime")]


def run_table_cmd(args: argparse.Namespace) -> int:
    from archspace.nss.distribution import InputSpec
    from archspace.nss.partition import Partition
    from archspace.nss.regimes import regnet_regimes
    from archspace.nss.table import elite_table

    partition = Partition.uniform(args.max_depth, args.max_width, args.depth_bins, args.width_bins)
    inputs = InputSpec(args.resolution, args.classes, args.channels)
    rows = elite_table(partition, _regimes(args) or regnet_regimes(args.tolerance), inputs, seed=args.seed)
    if args.json:
        print_json([r.to_dict() for r in rows])
        return 0
    print_table(["regime", "expanded: samples", "Δ %", "elite: samples", "Δ %", "fewer samples %", "Elite Space"],
                [[r.regime.name, r.expanded.expected_samples, r.expanded.delta_percent, r.elite.expected_samples,
                  r.elite.delta_percent, r.fewer_samples_percent, r.elite_space] for r in rows],
                title=f"uniform NAS until flops <= target ({inputs.resolution}x{inputs.resolution}, exact)")
    return 0


def run_space_cmd(args: argparse.Namespace) -> int:
    from archspace.nss.distribution import InputSpec, flops_distribution
    from archspace.spaces.registry import get_space

    space = get_space("nss") if args.space_id == "expanded" else get_space(f"nss:{args.space_id}")
    dist = flops_distribution(space, args.bins, InputSpec(args.resolution, args.classes, args.channels))
    if args.json:
        print_json({**space.summary(), "flops": dist.to_dict()})
        return 0
    print(f"{space.name}: {space.size:,} networks; flops mean {dist.mean:.4g}, range {dist.min:.4g}..{dist.max:.4g}")
    print_table(["flops from", "to", "networks", "share %"],
                [[dist.edges[i], dist.edges[i + 1], dist.counts[i], 100.0 * dist.counts[i] / dist.size]
                 for i in range(len(dist.counts))], title="exact flops distribution (uniform sampling)")
    return 0


def run_regimes_cmd(args: argparse.Namespace) -> int:
    from archspace.nss.distribution import InputSpec
    from archspace.nss.regimes import regnet_regimes, scale_regime
    from archspace.spaces.registry import get_space

    source, dest = get_space("nss"), get_space("nss", max_depth=args.max_depth, max_width=args.max_width)
    inputs = InputSpec(args.resolution, args.classes, args.channels)
    rows = [(r, scale_regime(r, source, InputSpec(), dest, inputs)) for r in regnet_regimes(args.tolerance)]
    if args.json:
        print_json([{"regime": r.to_dict(), "scaled": s.to_dict()} for r, s in rows])
        return 0
    print_table(["regime (32x32, full space)", "scaled low", "scaled high"], [[r.name, s.low, s.high] for r, s in rows],
                title=f"quantile-matched regimes of nss max_depth={args.max_depth} max_width={args.max_width} at "
                      f"{inputs.resolution}x{inputs.resolution}")
    return 0
