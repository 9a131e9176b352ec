"""Trainer throughput on CPU: the old trainer path, the new one and a hand-written loop, side by side.

What is measured, in one process with one torch thread, every arm interleaved model by model (the
order rotates), so a machine shared with other jobs slows every arm alike and the ratios hold:

1. peak: the machine's single-thread fp32 throughput on a 2048^2 matmul and on 3x3 convolutions
   (channels-last, forward, batch 128, the widths and map sizes of the design-study regime); the
   larger of the two is the "measured peak" every achieved GFLOP/s is divided by.
2. population: models sampled like the design study samples them (its regime, stem and 28x28
   Fashion-MNIST input; default 4 each from anynetx_a, anynetx_e, regnetx). Each arm runs one
   *scaled design-study trial*: the trial's training images, validation and test images in the
   proportions of the real trial (``--scale`` of them), end to end through ``train()``:

   - ``old``: the trainer as it was before channels-last on CPU (commit 5a1a1f3), reconstructed
     through options: NCHW (``channels_last=False``), eval batch = training batch (64),
     the test split evaluated every trial, the old design-study recipe (batch 64), and torch's
     per-tensor SGD loop (``foreach=False``, what torch picks on CPU when not told; the trainer's
     optimizer factory is swapped for the duration of the arm's trial).
   - ``new_b64``: today's trainer on the old recipe (channels-last by rule, eval batch 512, no
     test pass): what the trainer change alone buys.
   - ``new``: today's trainer on today's design-study recipe (``DesignStudyConfig`` defaults).
   - ``hand``: a plain loop (slice, forward, CE, backward, SGD step) in channels-last at the new
     recipe's batch size, no augmentation: the training-step ceiling in the best format.

   Figures: training images per CPU-second of the whole trial (train + evaluation + model build;
   ``time.process_time``), training-step images per CPU-second (between progress reports after
   step 1 and the last step), and achieved GFLOP/s of training (3x the forward multiply-adds x 2)
   as a fraction of the measured peak.
3. zoo: every zoo model small enough to train here (the CIFAR/Fashion-MNIST ones at their own
   input, the ImageNet RegNets 200-600MF at 64x64 RGB on random images), old vs new trainer on
   the default recipe (batch 128, NCHW + old eval + per-tensor SGD vs channels-last + new eval +
   multi-tensor SGD), test pass in both.
4. eval batches: every model above, no-grad channels-last evaluation at each CPU eval batch the
   trainer can pick (32-512), CPU seconds per batch, the batch ``trainer.cpu_eval_batch`` picks
   from the model's largest activation, and whether the logits are bit-identical across batches.

Usage: .venv/bin/python benchmarks/bench_train_throughput.py [--per-space 4] [--scale 0.2] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import platform
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F

from archspace.data import Dataset, load_dataset
from archspace.data.dataset import Split
from archspace.experiments.design_study import DesignStudyConfig, small_input_space
from archspace.families import family_for
from archspace.spaces.base import Regime
from archspace.spaces.zoo import get_entry
from archspace.train import Recipe, train
from archspace.train import trainer as trainer_module
from archspace.train.schedule import decay_groups

OLD_STUDY = DesignStudyConfig(epochs=2, subset=4000, val_size=2000, batch_size=64, lr=0.1)  # before issue 13
TEST_IMAGES = 10_000
ZOO_SMALL = ("resnet20_cifar", "resnet56_cifar", "anynetx_tiny", "resnet8_fmnist")
ZOO_IMAGENET = ("regnetx_200mf", "regnety_200mf", "regnetx_400mf", "regnety_400mf", "regnetx_600mf")


# --- 1. the machine's peak -------------------------------------------------------------------


def matmul_peak(size: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of a size^2 fp32 matmul (2 size^3 flops), best of ``repeats`` CPU-timed runs."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = 0.0
    for _ in range(repeats):
        start = time.process_time()
        a @ b
        best = max(best, 2 * size**3 / max(time.process_time() - start, 1e-9) / 1e9)
    return best


def conv_peak(repeats: int = 3) -> dict[str, float]:
    """GFLOP/s of single 3x3 convolutions (channels-last forward, batch 128), per (channels, map)."""
    results = {}
    for channels, side in ((16, 28), (32, 14), (64, 7), (128, 4)):
        conv = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False).to(memory_format=torch.channels_last)
        x = torch.randn(128, channels, side, side).contiguous(memory_format=torch.channels_last)
        flops = 2 * 128 * side * side * channels * channels * 9
        with torch.no_grad():
            conv(x)
            best = 0.0
            for _ in range(repeats):
                start = time.process_time()
                for _ in range(4):
                    conv(x)
                best = max(best, 4 * flops / max(time.process_time() - start, 1e-9) / 1e9)
        results[f"conv3x3_c{channels}_{side}x{side}"] = best
    return results


# --- 2. the arms -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arm:
    """One way to run a trial: a recipe and whether the test split is evaluated."""

    name: str
    recipe: Recipe
    evaluate_test: bool
    sgd_foreach: bool = True


def arms(new_study: DesignStudyConfig, scale: float) -> list[Arm]:
    def recipe(study: DesignStudyConfig, **changes: Any) -> Recipe:
        subset = max(study.batch_size * 2, int(study.subset * scale))
        return Recipe(epochs=study.epochs, subset=subset, batch_size=study.batch_size, lr=study.lr, **changes)

    return [
        Arm("old", recipe(OLD_STUDY, channels_last=False, eval_batch_size=OLD_STUDY.batch_size), True, False),
        Arm("new_b64", recipe(OLD_STUDY), False),
        Arm("new", recipe(new_study), False),
    ]


def scaled_dataset(data: Dataset, val: int, test: int) -> Dataset:
    """The first ``val`` validation and ``test`` test images (a trial's proportions, scaled)."""
    return replace(data, val=data.val.take(torch.arange(min(val, len(data.val)))),
                   test=data.test.take(torch.arange(min(test, len(data.test)))))


def run_trial(arch: Any, space: Any, data: Dataset, arm: Arm, seed: int) -> dict[str, float]:
    """One trial through ``train()``: CPU seconds of the whole call and of its training steps.

    Step throughput is summed over consecutive progress reports within an epoch (one report per
    step), so it excludes evaluation and each epoch's first step.
    """
    marks: list[tuple[int, float]] = []

    def record(event) -> None:
        if not event.epoch_end:
            marks.append((event.epoch, time.process_time()))

    start = time.process_time()
    with sgd_update(arm.sgd_foreach):
        result = train(arch, data, arm.recipe, seed=seed, space=space, progress=record, progress_every=1,
                       evaluate_test=arm.evaluate_test)
    total = time.process_time() - start
    pairs = [(b[1] - a[1]) for a, b in zip(marks, marks[1:]) if a[0] == b[0]]
    train_images = arm.recipe.epochs * arm.recipe.subset
    return {"trial_cpu_s": total, "trial_img_per_cpu_s": train_images / total,
            "step_img_per_cpu_s": len(pairs) * arm.recipe.batch_size / max(sum(pairs), 1e-9),
            "val_error": result.val_error, "format": result.memory_format}


@contextlib.contextmanager
def sgd_update(foreach: bool) -> Iterator[None]:
    """The trainer's SGD with torch's multi-tensor update (today) or its per-tensor loop (before)."""
    if foreach:
        yield
        return
    original = trainer_module.sgd

    def per_tensor_sgd(module: Any, lr: float, momentum: float, weight_decay: float, decay_1d: bool,
                       nesterov: bool = False) -> Any:
        return torch.optim.SGD(decay_groups(module, weight_decay, decay_1d), lr=lr, momentum=momentum,
                               nesterov=nesterov, foreach=False)

    trainer_module.sgd = per_tensor_sgd
    try:
        yield
    finally:
        trainer_module.sgd = original


def hand_loop(arch: Any, space: Any, data: Dataset, batch: int, steps: int, seed: int) -> float:
    """Training images per CPU-second of a plain channels-last loop (steps 2..steps timed)."""
    torch.manual_seed(seed)
    model = space.build(arch, num_classes=data.num_classes, in_channels=data.in_channels)
    model = model.to(memory_format=torch.channels_last).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-5)
    images, labels = data.train.images, data.train.labels
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    start = 0.0
    for step in range(steps):
        if step == 1:
            start = time.process_time()
        index = order[(step * batch) % (len(labels) - batch):][:batch]
        x = images[index].contiguous(memory_format=torch.channels_last)
        loss = F.cross_entropy(model(x), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return (steps - 1) * batch / (time.process_time() - start)


def population(config: DesignStudyConfig, spaces: list[str], per_space: int, seed: int) -> list[tuple[str, Any, Any]]:
    """``per_space`` models of each space, drawn as the design study draws its populations."""
    inputs = {"resolution": 28, "in_channels": 1, "num_classes": 10}
    models = []
    for name in spaces:
        space = small_input_space(name, config)
        for arch in space.sample_distinct(per_space, seed, Regime(flops=config.flops), complexity_kwargs=inputs):
            models.append((name, arch, space))
    return models


def gflops(img_per_s: float, macs: float) -> float:
    """Training GFLOP/s: forward + two backward passes, 2 flops per multiply-add."""
    return img_per_s * 3 * 2 * macs / 1e9


def bench_population(args: argparse.Namespace, data: Dataset, peak: float) -> list[dict[str, Any]]:
    new_study = DesignStudyConfig()
    trial_arms = arms(new_study, args.scale)
    # the trial's proportions: subset training images per epoch, val_size and 10,000 test images
    trial_data = scaled_dataset(data, int(new_study.val_size * args.scale), int(TEST_IMAGES * args.scale))
    rows = []
    for number, (space_name, arch, space) in enumerate(population(new_study, args.spaces, args.per_space, args.seed)):
        macs = space.complexity(arch, resolution=28, num_classes=10, in_channels=1).flops
        order = trial_arms[number % len(trial_arms):] + trial_arms[:number % len(trial_arms)]
        row: dict[str, Any] = {"space": space_name, "mflops": macs / 1e6, "depth": arch.depth if hasattr(arch, "depth") else None}
        for arm in order:
            row[arm.name] = run_trial(arch, space, trial_data, arm, args.seed)
        row["hand_step_img_per_cpu_s"] = hand_loop(arch, space, data, new_study.batch_size, args.hand_steps, args.seed)
        for key in ("old", "new_b64", "new"):
            row[key]["train_fraction_of_peak"] = gflops(row[key]["step_img_per_cpu_s"], macs) / peak
        row["hand_fraction_of_peak"] = gflops(row["hand_step_img_per_cpu_s"], macs) / peak
        rows.append(row)
        print(f"  {space_name:10s} {macs / 1e6:4.2f} MF  trial img/CPU-s old {row['old']['trial_img_per_cpu_s']:6.0f}"
              f"  new_b64 {row['new_b64']['trial_img_per_cpu_s']:6.0f}  new {row['new']['trial_img_per_cpu_s']:6.0f}"
              f"  | step old {row['old']['step_img_per_cpu_s']:5.0f} new {row['new']['step_img_per_cpu_s']:5.0f}"
              f" hand {row['hand_step_img_per_cpu_s']:5.0f}  | peak% new {100 * row['new']['train_fraction_of_peak']:4.1f}",
              file=sys.stderr, flush=True)
    return rows


# --- 3. zoo ------------------------------------------------------------------------------------


def synthetic(resolution: int, channels: int, train_size: int, eval_size: int, seed: int) -> Dataset:
    """Random normalized images with random labels: throughput only, no accuracy."""
    generator = torch.Generator().manual_seed(seed)

    def split(count: int) -> Split:
        return Split(torch.randn(count, channels, resolution, resolution, generator=generator),
                     torch.randint(0, 10, (count,), generator=generator))

    return Dataset(f"random-{channels}x{resolution}", split(train_size), split(eval_size), split(eval_size), 10,
                   (0.0,) * channels, (1.0,) * channels)


def bench_zoo(args: argparse.Namespace, fmnist: Dataset) -> list[dict[str, Any]]:
    rows = []
    base = Recipe(epochs=1, batch_size=128, lr=0.05)
    for number, name in enumerate((*ZOO_SMALL, *ZOO_IMAGENET)):
        entry = get_entry(name)
        if name in ZOO_IMAGENET:
            data, train_size = synthetic(64, 3, 384, 128, args.seed), 384
        elif entry.resolution == 32:
            data, train_size = synthetic(32, 3, 512, 256, args.seed), 512
        else:
            data, train_size = scaled_dataset(fmnist, 512, 512), 1024
        old = Arm("old", base.replace(subset=train_size, channels_last=False, eval_batch_size=base.batch_size), True, False)
        new = Arm("new", base.replace(subset=train_size), True)
        space = family_for(entry.arch)
        row: dict[str, Any] = {"model": name, "input": list(data.image_shape)}
        for arm in ((old, new) if number % 2 == 0 else (new, old)):
            row[arm.name] = run_trial(entry.arch, space, data, arm, args.seed)
        row["ratio_trial"] = row["new"]["trial_img_per_cpu_s"] / row["old"]["trial_img_per_cpu_s"]
        row["ratio_step"] = row["new"]["step_img_per_cpu_s"] / row["old"]["step_img_per_cpu_s"]
        rows.append(row)
        print(f"  {name:16s} {str(row['input']):12s} new/old trial {row['ratio_trial']:.2f}x  step {row['ratio_step']:.2f}x",
              file=sys.stderr, flush=True)
    return rows


# --- 4. the CPU eval batch ------------------------------------------------------------------


def eval_models(args: argparse.Namespace) -> list[tuple[str, Any, Any, int, int]]:
    """(name, arch, space, channels, resolution): zoo models at their benchmark input, then the population."""
    models = []
    for name in (*ZOO_SMALL, *ZOO_IMAGENET):
        entry = get_entry(name)
        channels, resolution = (3, 64) if name in ZOO_IMAGENET else (1 if entry.resolution == 28 else 3, entry.resolution)
        models.append((name, entry.arch, family_for(entry.arch), channels, resolution))
    for space_name, arch, space in population(DesignStudyConfig(), args.spaces, args.per_space, args.seed):
        models.append((space_name, arch, space, 1, 28))
    return models


def bench_eval_batches(args: argparse.Namespace) -> list[dict[str, Any]]:
    """No-grad channels-last evaluation of ``args.eval_images`` images at every candidate batch.

    Per model: CPU seconds per batch size (best of 2 interleaved rounds), the batch the trainer's
    rule picks from the largest activation, and whether the logits are bit-identical across batches.
    """
    rows = []
    generator = torch.Generator().manual_seed(args.seed)
    for name, arch, space, channels, resolution in eval_models(args):
        torch.manual_seed(args.seed)
        model = space.build(arch, num_classes=10, in_channels=channels).eval().to(memory_format=torch.channels_last)
        images = torch.randn(args.eval_images, channels, resolution, resolution, generator=generator)
        images = images.contiguous(memory_format=torch.channels_last)
        largest = trainer_module.largest_activation_bytes(model, images[:1])
        seconds: dict[int, float] = {}
        logits: dict[int, torch.Tensor] = {}
        for round_number in range(2):
            batches = trainer_module.CPU_EVAL_BATCHES[::(-1 if round_number % 2 else 1)]
            for batch in batches:
                start = time.process_time()
                with torch.no_grad():
                    logits[batch] = torch.cat([model(images[i:i + batch]) for i in range(0, len(images), batch)])
                seconds[batch] = min(seconds.get(batch, math.inf), time.process_time() - start)
        rule = trainer_module.cpu_eval_batch(largest)
        best = min(seconds, key=seconds.__getitem__)
        reference = logits[trainer_module.CPU_EVAL_BATCHES[0]]
        row = {"model": name, "input": [channels, resolution, resolution], "largest_activation_kib": largest / 1024,
               "cpu_s": {str(batch): value for batch, value in seconds.items()}, "rule": rule, "best": best,
               "rule_vs_best": seconds[rule] / seconds[best], "b512_vs_best": seconds[512] / seconds[best],
               "logits_identical": all(torch.equal(reference, value) for value in logits.values())}
        rows.append(row)
        print(f"  {name:16s} largest {row['largest_activation_kib']:6.1f} KiB  rule {rule:3d} best {best:3d}"
              f"  rule/best {row['rule_vs_best']:.2f}  512/best {row['b512_vs_best']:.2f}"
              f"  identical {row['logits_identical']}", file=sys.stderr, flush=True)
    return rows


# --- summary -----------------------------------------------------------------------------------


def geometric_mean(values: list[float]) -> float:
    return float(torch.tensor(values, dtype=torch.float64).log().mean().exp())


def summarize_eval(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not rows:
        return None
    return {"models": len(rows), "rule_vs_best_geomean": geometric_mean([row["rule_vs_best"] for row in rows]),
            "rule_vs_best_max": max(row["rule_vs_best"] for row in rows),
            "b512_vs_best_geomean": geometric_mean([row["b512_vs_best"] for row in rows]),
            "b512_vs_best_max": max(row["b512_vs_best"] for row in rows),
            "logits_identical_everywhere": all(row["logits_identical"] for row in rows)}


def summarize(rows: list[dict[str, Any]], zoo: list[dict[str, Any]], peak: dict[str, Any]) -> dict[str, Any]:
    def ratio(a: str, b: str, key: str) -> list[float]:
        return [row[a][key] / row[b][key] for row in rows]

    zoo_summary = {"zoo_min_trial_ratio": min((row["ratio_trial"] for row in zoo), default=None),
                   "zoo_min_step_ratio": min((row["ratio_step"] for row in zoo), default=None), "peak_gflops": peak}
    if not rows:
        return zoo_summary

    big = [row for row in rows if row["mflops"] >= 2.0]
    return {
        "models": len(rows),
        "trial_speedup_new_vs_old": {"geomean": geometric_mean(ratio("new", "old", "trial_img_per_cpu_s")),
                                     "min": min(ratio("new", "old", "trial_img_per_cpu_s"))},
        "trial_speedup_new_b64_vs_old": {"geomean": geometric_mean(ratio("new_b64", "old", "trial_img_per_cpu_s")),
                                         "min": min(ratio("new_b64", "old", "trial_img_per_cpu_s"))},
        "step_speedup_new_vs_old": geometric_mean(ratio("new", "old", "step_img_per_cpu_s")),
        "step_new_vs_hand": geometric_mean([row["new"]["step_img_per_cpu_s"] / row["hand_step_img_per_cpu_s"]
                                            for row in rows]),
        "fraction_of_peak_median": {
            arm: statistics.median(row[arm]["train_fraction_of_peak"] for row in rows) for arm in ("old", "new")
        } | {"hand": statistics.median(row["hand_fraction_of_peak"] for row in rows)},
        "fraction_of_peak_median_ge_2mf": (
            {"new": statistics.median(row["new"]["train_fraction_of_peak"] for row in big),
             "hand": statistics.median(row["hand_fraction_of_peak"] for row in big), "models": len(big)}
            if big else None),
        **zoo_summary,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spaces", default="anynetx_a,anynetx_e,regnetx")
    parser.add_argument("--per-space", type=int, default=4)
    parser.add_argument("--scale", type=float, default=0.2, help="fraction of a design-study trial's images")
    parser.add_argument("--hand-steps", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-zoo", action="store_true")
    parser.add_argument("--no-population", action="store_true")
    parser.add_argument("--no-eval-batches", action="store_true")
    parser.add_argument("--eval-images", type=int, default=2048, help="images per eval-batch measurement")
    parser.add_argument("--json", help="write every figure to this JSON file")
    args = parser.parse_args(argv)
    args.spaces = args.spaces.split(",")
    torch.set_num_threads(1)
    started, started_cpu = time.perf_counter(), time.process_time()
    print(f"# torch {torch.__version__}, {platform.machine()}, 1 thread; CPU shared with other jobs is expected: "
          "arms are interleaved and only ratios are compared", file=sys.stderr)
    peaks = {"matmul_2048": matmul_peak(), **conv_peak()}
    peak = max(peaks.values())
    print("peak GFLOP/s (1 thread): " + ", ".join(f"{k} {v:.1f}" for k, v in peaks.items()), file=sys.stderr)
    fmnist = load_dataset("fashion-mnist", seed=args.seed, val_size=DesignStudyConfig().val_size)
    rows = [] if args.no_population else bench_population(args, fmnist, peak)
    zoo = [] if args.no_zoo else bench_zoo(args, fmnist)
    eval_rows = [] if args.no_eval_batches else bench_eval_batches(args)
    summary = summarize(rows, zoo, {"measured": peaks, "peak": peak})
    summary["eval_batch"] = summarize_eval(eval_rows)
    summary["wall_s"], summary["cpu_s"] = time.perf_counter() - started, time.process_time() - started_cpu
    print(json.dumps(summary, indent=2))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"summary": summary, "population": rows, "zoo": zoo, "eval_batches": eval_rows,
                       "argv": sys.argv[1:]}, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
