"""Trainer speed and memory on Fashion-MNIST (CPU), measured side by side in one run.

1. overhead: the trainer's images/s vs a minimal hand-written PyTorch loop training the same
   model (same init, same in-memory tensors, same batch size, no augmentation), run alternately
   A/B several times with one torch thread; the ratio of the medians of images per CPU-second of
   the training thread is the figure (target >= 0.95); the wall-clock ratio is printed too.
2. sizes: images/s and peak training memory (resident memory above what the process held after
   loading the dataset and a warm-up run, sampled every 2 ms in a fresh process) for three models
   of increasing flops.
3. scaling: seconds per epoch as the training set grows (fixed model), and seconds per image vs
   model flops (from 2).
4. --full: the real figure — SMALL_RESNET (2.55 MFLOPs), 3 epochs of the default recipe on the
   full 55k training split, test error.

Usage: .venv/bin/python benchmarks/bench_train.py [--threads 2] [--repeats 5] [--steps 60] [--full]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from dataclasses import replace

import torch
import torch.nn.functional as F

from archspace.data import Dataset, load_dataset
from archspace.families import family_for
from archspace.families.anynet.spec import AnyNetArch
from archspace.spaces.zoo import get_model
from archspace.train import Recipe, train

TINY = AnyNetArch.from_lists([1, 1], [8, 16], [2, 2], [1.0, 1.0], [8, 8], block="X",
                             stem="simple_stem_in", stem_width=8)
# ResNet-style AnyNet (basic R blocks, dense convs: fast on CPU), 2.55 MFLOPs / 78k params at 28x28.
SMALL_RESNET = get_model("resnet8_fmnist")  # zoo entry: 3 R blocks, stride-2 stem, 2.55 MFLOPs at 28x28
MODELS = {"tiny_spec": TINY, "anynetx_tiny": get_model("anynetx_tiny"), "resnet20_cifar": get_model("resnet20_cifar")}
BATCH = 128


def small_eval(dataset: Dataset, size: int = 256) -> Dataset:
    """Shrink val/test so the (untimed) final evaluation does not dominate the benchmark's wall time."""
    index = torch.arange(size)
    return replace(dataset, val=dataset.val.take(index), test=dataset.test.take(index))


def hand_loop(arch: AnyNetArch, dataset: Dataset, steps: int, seed: int) -> dict[str, float]:
    """The plainest loop: slice a permuted tensor, forward, CE, backward, SGD step.

    Timed from the end of step 1 to the end of step ``steps - 1`` (the same window as the trainer).
    """
    torch.manual_seed(seed)
    model = family_for(arch).build(arch, num_classes=dataset.num_classes, in_channels=dataset.in_channels)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-5)
    images, labels = dataset.train.images, dataset.train.labels
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    model.train()
    marks = []
    for step in range(steps):
        index = order[step * BATCH:(step + 1) * BATCH]
        loss = F.cross_entropy(model(images[index]), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step in (0, steps - 2):
            marks.append((time.thread_time(), time.perf_counter()))
    return _speeds(marks, steps - 2)


def trainer_speed(arch: AnyNetArch, dataset: Dataset, steps: int, seed: int) -> dict[str, float]:
    """The trainer, timed between its progress reports after step 1 and after step ``steps - 1``."""
    marks = []

    def record(event) -> None:
        if not event.epoch_end and event.step in (1, steps - 1):
            marks.append((time.thread_time(), time.perf_counter()))

    recipe = Recipe(epochs=1, batch_size=BATCH, subset=steps * BATCH, augment=False)
    train(arch, dataset, recipe, seed=seed, progress=record, progress_every=1)
    return _speeds(marks, steps - 2)


def _speeds(marks: list[tuple[float, float]], steps: int) -> dict[str, float]:
    (cpu0, wall0), (cpu1, wall1) = marks
    return {"cpu": steps * BATCH / (cpu1 - cpu0), "wall": steps * BATCH / (wall1 - wall0)}


def overhead(dataset: Dataset, model: str, steps: int, repeats: int) -> dict:
    """A/B alternation with one torch thread, so the thread's CPU time is the work done: images per
    CPU-second is insensitive to other processes on a shared machine; wall-clock is shown too."""
    arch = MODELS[model]
    hand_loop(arch, dataset, 5, 0)  # warm-up: first-call imports and allocator
    trainer_speed(arch, dataset, 5, 0)
    hand, ours = [], []
    for repeat in range(repeats):
        hand.append(hand_loop(arch, dataset, steps, repeat))
        ours.append(trainer_speed(arch, dataset, steps, repeat))
    row: dict = {"model": model, "steps_timed": steps - 2, "batch": BATCH}
    for clock in ("cpu", "wall"):
        mine, theirs = [r[clock] for r in ours], [r[clock] for r in hand]
        row[f"hand_img_per_{clock}_s"] = [round(v) for v in theirs]
        row[f"trainer_img_per_{clock}_s"] = [round(v) for v in mine]
        row[f"ratio_{clock}_medians"] = round(statistics.median(mine) / statistics.median(theirs), 3)
    return row


MEMORY_CHILD = """
import json, resource, sys, threading, time, torch
torch.set_num_threads({threads})
from archspace.data import load_dataset
from archspace.train import Recipe, train
sys.path.insert(0, "benchmarks")
from bench_train import MODELS, small_eval
dataset = small_eval(load_dataset("fashion-mnist"))
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
peak, stop = [0.0], [False]
def sample():
    while not stop[0]:
        peak[0] = max(peak[0], rss()); time.sleep(0.002)
torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)  # first optimizer imports torch._dynamo
train(MODELS["tiny_spec"], dataset, Recipe(epochs=1, subset=128), seed=0)  # other one-time set-up
base = rss()
thread = threading.Thread(target=sample); thread.start()
result = train(MODELS["{model}"], dataset, Recipe(epochs=1, subset={images}, augment=True), seed=0)
stop[0] = True; thread.join()
print(json.dumps({{"img_s": result.images_per_s, "flops": result.flops, "params": result.params,
                  "peak_mb": peak[0] - base, "base_mb": base, "seconds": result.train_seconds}}))
"""


def sizes(threads: int, images: int) -> list[dict]:
    rows = []
    for name in MODELS:
        code = MEMORY_CHILD.format(threads=threads, model=name, images=images)
        output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
        rows.append({"model": name, **json.loads(output.strip().splitlines()[-1])})
    return rows


def scaling(dataset: Dataset, sizes_list: list[int]) -> list[dict]:
    rows = []
    for size in sizes_list:
        result = train(TINY, dataset, Recipe(epochs=1, subset=size, augment=True), seed=0)
        rows.append({"train_images": size, "epoch_seconds": result.train_seconds,
                     "img_s": result.images_per_s})
    return rows


def full_run(threads: int, recipe: Recipe) -> dict:
    dataset = load_dataset("fashion-mnist")
    start = time.perf_counter()
    result = train(SMALL_RESNET, dataset, recipe, seed=0)
    return {"model": SMALL_RESNET.to_json(), "recipe": recipe.to_dict(), "flops": result.flops,
            "params": result.params, "epochs": 3, "train_images": len(dataset.train), "threads": threads,
            "val_error": result.val_error, "test_error": result.test_error, "train_seconds": result.train_seconds,
            "wall_seconds": time.perf_counter() - start, "img_s": result.images_per_s,
            "history": [vars(h) for h in result.history]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--size-images", type=int, default=2560, help="training images per model in part 2")
    parser.add_argument("--overhead-models", nargs="+", default=["tiny_spec", "anynetx_tiny"], choices=list(MODELS))
    parser.add_argument("--full", action="store_true", help="also run 3 epochs on the full training set")
    parser.add_argument("--full-lr", type=float, default=0.05, help="learning rate of the --full run")
    parser.add_argument("--full-no-augment", action="store_true", help="--full run without crop/flip")
    parser.add_argument("--skip", nargs="*", default=[], choices=["overhead", "sizes", "scaling"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset = small_eval(load_dataset("fashion-mnist"))
    report: dict = {"threads": args.threads, "torch": torch.__version__}
    if "overhead" not in args.skip:
        report["overhead"] = [overhead(dataset, model, args.steps, args.repeats) for model in args.overhead_models]
        print(json.dumps({"overhead": report["overhead"]}, indent=1), flush=True)
    if "sizes" not in args.skip:
        report["sizes"] = sizes(args.threads, args.size_images)
        print(json.dumps({"sizes": report["sizes"]}, indent=1), flush=True)
    if "scaling" not in args.skip:
        report["scaling"] = scaling(dataset, [1280, 5120, 20480])
        print(json.dumps({"scaling": report["scaling"]}, indent=1), flush=True)
    if args.full:
        recipe = Recipe(epochs=3, lr=args.full_lr, augment=not args.full_no_augment)
        report["full"] = full_run(args.threads, recipe)
        print(json.dumps({"full": report["full"]}, indent=1), flush=True)


if __name__ == "__main__":
    main()
