"""``archspace committee``: choose a cascade of trained models under a cost or accuracy target.

    archspace committee --predictions DIR --target-flops 300M --out runs/committee
    archspace committee --study NAME --db runs/studies.db --target-accuracy 0.92 --out runs/c --json

With ``--predictions`` a seeded half of the examples is the held-out split the cascade is chosen
on and the other half the test split it is reported on; with ``--study`` the trainer's validation
logits are held out and its test logits report. The output folder gets selection.json,
committees.csv (singles, ensembles and the cascade front on the test split) and committees.png.
"""

from __future__ import annotations

import argparse

from archspace.cli.common import (
    add_db_option,
    add_json_flag,
    check_output_dir,
    make_output_dir,
    parse_number,
    print_json,
    print_table,
    read_json_file,
)
from archspace.errors import DataError, UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "committee", help="select ensembles/cascades of trained models under a flops or accuracy target",
        description="Choose a cascade of trained models under a flops or accuracy target: select on a held-out split, report on a test split.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--predictions", metavar="DIR", help="folder of .npz files (predictions|logits, ground_truth|labels)")
    source.add_argument("--study", metavar="NAME", help="a study whose trials stored validation/test logits")
    add_db_option(parser, help_what="study database (with --study)")
    parser.add_argument("--costs", metavar="FILE", help="JSON {model: flops} (else costs.json in DIR or 'flops' in each file)")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--target-flops", metavar="X", help="maximize accuracy with average flops <= X (e.g. 300M)")
    target.add_argument("--target-accuracy", metavar="Y", help="minimize average flops with accuracy >= Y (0.75 or 75%%)")
    parser.add_argument("--max-models", type=int, default=4, help="at most this many models per cascade (1..4)")
    parser.add_argument("--worst-case-flops", metavar="Z", help="bound on the flops of an example that runs every stage")
    parser.add_argument("--confidence", default="max_prob", choices=["max_prob", "margin", "entropy"])
    parser.add_argument("--combine", default="logits", choices=["logits", "probs"], help="average logits or probabilities")
    parser.add_argument("--heldout-fraction", type=float, default=0.5, help="with --predictions: share held out for choosing")
    parser.add_argument("--seed", type=int, default=0, help="with --predictions: seed of the held-out/test split")
    parser.add_argument("--no-fronts", action="store_true", help="skip the ensemble and cascade fronts (faster)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for selection.json, committees.csv, committees.png")
    add_json_flag(parser)
    parser.set_defaults(handler=run, path_options={"out": "dir"})


def _target_accuracy(text: str) -> float:
    value = parse_number(text.rstrip("%"), "--target-accuracy")
    if text.endswith("%") or value > 1.0:
        value /= 100.0
    if not 0.0 < value <= 1.0:
        raise UsageError(f"--target-accuracy must be in (0, 1] or (0, 100]%, got {text!r}")
    return value


def _read_costs(path: str | None) -> dict[str, float] | None:
    if path is None:
        return None
    data = read_json_file(path, "--costs")
    if not isinstance(data, dict) or not all(isinstance(v, (int, float)) for v in data.values()):
        raise DataError(f"--costs {path}: must map model names to numbers")
    return {str(k): float(v) for k, v in data.items()}


def _config(args: argparse.Namespace):
    from archspace.committee.selection import SelectionConfig

    return SelectionConfig(
        max_models=args.max_models,
        target_cost=parse_number(args.target_flops, "--target-flops") if args.target_flops else None,
        target_accuracy=_target_accuracy(args.target_accuracy) if args.target_accuracy else None,
        worst_case_cost=parse_number(args.worst_case_flops, "--worst-case-flops") if args.worst_case_flops else None,
        confidence=args.confidence,
        combine=args.combine,
    )


def _pools(args: argparse.Namespace):
    from archspace.committee.inputs import pool_from_npz, pools_from_study

    if args.study:
        return pools_from_study(args.study, args.db)
    pool = pool_from_npz(args.predictions, costs=_read_costs(args.costs))
    return pool.split(args.heldout_fraction, seed=args.seed)


def run(args: argparse.Namespace) -> int:
    check_output_dir(args.out, "--out")
    _read_costs(args.costs)
    config = _config(args)  # bad options fail before any data is read
    from archspace.experiments.committees import run_committees, write_outputs
    from archspace.progress import ProgressBar

    heldout, test = _pools(args)
    with ProgressBar("cascade search", enabled=not args.json) as bar:
        def advance(done: int, total: int) -> None:
            bar.update(completed=done, total=total)

        report = run_committees(heldout, test, config, fronts=not args.no_fronts,
                                progress=advance if bar.enabled else None)
    paths = write_outputs(report, make_output_dir(args.out), cost_label="average flops per example")
    if args.json:
        print_json({**report.to_dict(), "outputs": {k: str(v) for k, v in paths.items()}})
        return 0
    _print_report(report, paths)
    return 0


def _print_report(report, paths) -> None:
    rows = [["best single (held-out choice)", report.reference_single.describe(),
             100 * report.reference_single.accuracy, report.reference_single.average_cost,
             report.reference_single.worst_case_cost]]
    if report.chosen is not None:
        rows.append(["selected cascade", report.chosen.describe(), 100 * report.chosen.accuracy,
                     report.chosen.average_cost, report.chosen.worst_case_cost])
    print_table(["", "committee", "test acc %", "avg flops", "worst flops"], rows,
                title=f"{report.heldout_examples} held-out / {report.test_examples} test examples")
    gain = report.gain()
    stats = report.selection.stats
    if gain is None:
        print("no cascade meets the target on the held-out split")
    else:
        print(f"gain over the single model: {gain['accuracy_gain_points']:+.2f} accuracy points, "
              f"{gain['speedup']:.2f}x average-cost speedup")
    print(f"searched {stats.cascades_evaluated:,} cascades ({stats.cascades_pruned:,} pruned, "
          f"{stats.settings_evaluated:,} threshold settings) in {stats.seconds:.1f} s")
    print("wrote " + ", ".join(str(p) for p in paths.values()))
