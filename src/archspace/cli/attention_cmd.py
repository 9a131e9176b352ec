"""`archspace attention search`: attention cells for a small AnyNet, searched three ways and compared.

GP bandit, random search and regularized evolution (Studies in --db, resumable), the
differentiable supergraph, then the found cells against no attention, a non-local block and an
SE block at one recipe (see ``archspace.experiments.attention``). Writes ``summary.json`` and
``summary.md`` to --out. A rerun with the same --db and --out resumes: finished search trials and
final rows whose spec, seeds and settings match are reused, the supergraph is trained again.
"""

from __future__ import annotations

import argparse

from archspace.cli.common import (
    add_db_option,
    add_json_flag,
    check_output_dir,
    check_seeds,
    print_json,
)
from archspace.cli.options import check_int
from archspace.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("attention", help="attention-cell search (GP bandit, supergraph)", description=__doc__)
    sub = p.add_subparsers(dest="attention_command", metavar="ACTION")
    sub.required = True
    s = sub.add_parser("search", help="search cells and compare them with baselines", description=__doc__)
    s.add_argument("--out", required=True, help="output folder (summary.json, summary.md)")
    add_db_option(s)
    s.add_argument("--dataset", default="fashion-mnist")
    s.add_argument("--data-dir", default=None)
    s.add_argument("--frames", type=int, default=1,
                   help="1 = images, AnyNet backbone; > 1 = clips (e.g. --dataset moving-fashion-mnist --frames 8)")
    s.add_argument("--train-subset", type=int, default=3000, help="training images (default 3000)")
    s.add_argument("--val-size", type=int, default=2000)
    s.add_argument("--epochs", type=int, default=3)
    s.add_argument("--budget", type=int, default=10, help="trained cells per strategy (default 10)")
    s.add_argument("--n-init", type=int, default=4, help="random cells before the GP bandit's model (default 4)")
    s.add_argument("--max-ops", type=int, default=3, help="K, the most ops in a cell (default 3)")
    s.add_argument("--positions", default="1,2", help="stages after which the cell is inserted (default 1,2)")
    s.add_argument("--strategies", default="gp-bandit,rs,re")
    s.add_argument("--final-seeds", default="0,1", help="seeds of the final comparison (default 0,1)")
    s.add_argument("--seed", type=int, default=0, help="search seed (default 0)")
    s.add_argument("--supergraph-kinds", default=None, metavar="TYPE:DIM,...",
                   help="node kinds of the supergraph, taken in turn (default dot:spatial,map:spatial for "
                        "images, dot:spatiotemporal,map:temporal,dot:spatial for clips)")
    s.add_argument("--connection-lr", type=float, default=0.03,
                   help="Adam learning rate of the supergraph's connection logits (default 0.03)")
    add_json_flag(s)
    s.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from archspace.experiments.attention import (
        AttentionSearchConfig,
        run_attention_search,
        summary_markdown,
    )
    from archspace.search.registry import parse_strategy_names

    check_output_dir(args.out, "--out")
    for option in ("train_subset", "val_size", "epochs", "budget", "n_init", "max_ops"):
        check_int(getattr(args, option), "--" + option.replace("_", "-"), 1, 1_000_000)
    check_int(args.seed, "--seed", 0, 2**31 - 1)
    check_int(args.frames, "--frames", 1, 1024)
    positions = _ints(args.positions, "--positions")
    seeds = check_seeds(_ints(args.final_seeds, "--final-seeds"), "--final-seeds")
    strategies = tuple(parse_strategy_names(args.strategies))
    from archspace.families.attention.supernet import ConnectionRecipe, SupergraphConfig

    supergraph = None if args.supergraph_kinds is None else SupergraphConfig(node_kinds=_kinds(args.supergraph_kinds))
    config = AttentionSearchConfig(
        out_dir=args.out, db=args.db, dataset=args.dataset, data_dir=args.data_dir, train_subset=args.train_subset,
        val_size=args.val_size, frames=args.frames, epochs=args.epochs, positions=positions, max_ops=args.max_ops, budget=args.budget,
        n_init=args.n_init, strategies=strategies, search_seed=args.seed, final_seeds=seeds, supergraph=supergraph,
        connections=ConnectionRecipe(lr=args.connection_lr))
    from archspace.experiments.attention import attention_space

    attention_space(config)  # validate the space before any data is loaded or model trained
    summary = run_attention_search(config, progress=True)
    if args.json:
        print_json(summary)
    else:
        print(summary_markdown(summary), end="")
    return 0


def _ints(text: str, option: str) -> tuple[int, ...]:
    """Comma-separated integers, in order (repeats kept, so callers can refuse them)."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise UsageError(f"{option} is empty; give comma-separated integers")
    try:
        return tuple(int(item) for item in items)
    except ValueError:
        raise UsageError(f"{option} must be comma-separated integers, got {text!r}") from None


def _kinds(text: str) -> tuple[tuple[str, str], ...]:
    """``type:dimension`` pairs, comma-separated (checked by ``SupergraphConfig``)."""
    pairs = [item.strip().split(":") for item in text.split(",") if item.strip()]
    if not pairs or any(len(pair) != 2 for pair in pairs):
        raise UsageError(f"--supergraph-kinds must be comma-separated TYPE:DIMENSION pairs "
                         f"(e.g. dot:spatiotemporal,map:temporal), got {text!r}")
    return tuple((kind.strip(), dimension.strip()) for kind, dimension in pairs)
