"""GPU readiness check: one script, under 8 minutes on one CUDA device, JSON summary at the end.

Without CUDA it prints one line saying why it skipped and exits 0 (CI runs it in that mode).
With CUDA it runs, in order:

1. peak: the device's measured matmul throughput (8192^2, bf16 and fp32, CUDA-event timed, best
   of several), the denominator of every "fraction of peak" below.
2. trainer: ``archspace.train.train`` on a zoo RegNet (default ``regnetx_400mf``) at
   ``--resolution`` on random images, AMP (bf16 where supported, else fp16 with a scaler) and
   channels-last, 2 epochs; images/s of the second epoch, peak memory, achieved training
   TFLOP/s (3 x forward multiply-adds x 2) as a fraction of the bf16 (or fp16) matmul peak.
3. supernet: ``train_supernet`` steps of an NB201 supernet (N=2, C=32) at 32x32: images/s and
   peak memory.
4. design-study slice: ``run_design_study`` with 2 epochs, 4 models from each of 2 spaces, on
   Fashion-MNIST when its files are found (else on random 28x28 images written as a .npz, which
   checks the code path but not the errors), inline on the GPU; seconds, images/s and errors.

Usage: python benchmarks/gpu_check.py [--out gpu_check.json] [--model regnetx_400mf] [--resolution 128]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

SKIP_PREFIX = "gpu_check: skipped:"


def skip_reason() -> str | None:
    """Why the check cannot run here (None when a CUDA device is usable)."""
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        return f"no CUDA device (torch {torch.__version__}, torch.cuda.is_available() is False)"
    return None


# --- 1. peak -----------------------------------------------------------------------------------


def matmul_tflops(dtype: Any, size: int = 8192, repeats: int = 10) -> float:
    """Best TFLOP/s of a size^2 matmul in ``dtype`` (2 size^3 flops), timed with CUDA events."""
    import torch

    a = torch.randn(size, size, device="cuda", dtype=dtype)
    b = torch.randn(size, size, device="cuda", dtype=dtype)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    best = 0.0
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        a @ b
        end.record()
        end.synchronize()
        best = max(best, 2 * size**3 / (start.elapsed_time(end) / 1e3) / 1e12)
    del a, b
    torch.cuda.empty_cache()
    return best


def measure_peak() -> dict[str, float]:
    import torch

    peak = {"fp32": matmul_tflops(torch.float32), "fp16": matmul_tflops(torch.float16)}
    if torch.cuda.is_bf16_supported():
        peak["bf16"] = matmul_tflops(torch.bfloat16)
    return peak


# --- data --------------------------------------------------------------------------------------


def random_dataset(count: int, channels: int, resolution: int, seed: int = 0) -> Any:
    """Random normalized images and labels (throughput only), as an archspace ``Dataset``."""
    import torch

    from archspace.data.augment import Augmentation
    from archspace.data.dataset import Dataset, Split

    generator = torch.Generator().manual_seed(seed)

    def split(size: int) -> Split:
        return Split(torch.randn(size, channels, resolution, resolution, generator=generator),
                     torch.randint(0, 10, (size,), generator=generator))

    eval_size = max(256, count // 8)
    return Dataset(f"random-{channels}x{resolution}", split(count), split(eval_size), split(eval_size), 10,
                   (0.0,) * channels, (1.0,) * channels, Augmentation(crop_padding=resolution // 8, flip=True))


# --- 2. trainer ----------------------------------------------------------------------------------


def check_trainer(model: str, resolution: int, images: int, batch: int, peak: dict[str, float],
                  device: str = "cuda") -> dict[str, Any]:
    import torch

    from archspace.families import family_for
    from archspace.spaces.zoo import get_model
    from archspace.train import Recipe, train
    from archspace.train.device import reset_peak_memory, resolve_precision

    arch = get_model(model)
    data = random_dataset(images, 3, resolution)
    recipe = Recipe(epochs=2, batch_size=batch, lr=0.1, amp="auto", channels_last=True, eval_each_epoch=False)
    reset_peak_memory(torch.device(device))
    result = train(arch, data, recipe, seed=0, device=device)
    if result.status != "complete":
        raise RuntimeError(f"trainer run ended with status {result.status}: {result.message}")
    macs = family_for(arch).complexity(arch, resolution=resolution, num_classes=10, in_channels=3).flops
    steady = result.history[-1]
    per_epoch = (images // min(batch, images)) * min(batch, images)
    img_per_s = per_epoch / max(steady.seconds, 1e-9)
    dtype = resolve_precision("auto", torch.device(device)).dtype
    peak_key = {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(dtype, "fp32")
    tflops = img_per_s * 3 * 2 * macs / 1e12
    return {
        "model": model, "resolution": resolution, "batch": batch, "images_per_epoch": per_epoch,
        "amp": peak_key, "memory_format": result.memory_format, "mflops_per_image": macs / 1e6,
        "images_per_s": img_per_s, "images_per_s_both_epochs": result.images_per_s,
        "peak_memory_mb": result.peak_memory_mb, "train_tflops": tflops,
        "fraction_of_matmul_peak": tflops / peak[peak_key], "peak_used": peak_key,
    }


# --- 3. supernet ---------------------------------------------------------------------------------


def check_supernet(steps: int, batch: int, device: str = "cuda") -> dict[str, Any]:
    import torch

    from archspace.families.nb201.supernet import SupernetConfig
    from archspace.train.device import peak_memory_mb, reset_peak_memory
    from archspace.train.supernet import SPOSRecipe, train_supernet

    data = random_dataset(batch * steps, 3, 32)
    recipe = SPOSRecipe(epochs=1, batch_size=batch)
    reset_peak_memory(torch.device(device))
    run = train_supernet(SupernetConfig(cells_per_stage=2, channels=32), data, recipe, seed=0, device=device)
    if device == "cuda":
        torch.cuda.synchronize()
    return {"steps": run.steps, "batch": batch, "images_per_s": run.steps * batch / max(run.train_seconds, 1e-9),
            "peak_memory_mb": peak_memory_mb(torch.device(device))}


# --- 4. design-study slice -----------------------------------------------------------------------


def study_dataset(workdir: Path) -> tuple[str, str | None, str]:
    """(dataset, data_dir, what): Fashion-MNIST when found, else a random 28x28 .npz."""
    from archspace.data import load_dataset
    from archspace.errors import DataError

    try:
        load_dataset("fashion-mnist", val_size=2000)
        return "fashion-mnist", None, "Fashion-MNIST"
    except DataError:
        pass
    rng = np.random.default_rng(0)
    path = workdir / "random28.npz"
    np.savez(path, x=rng.integers(0, 256, (12_000, 28, 28), dtype=np.uint8), y=rng.integers(0, 10, 12_000))
    return str(path), None, "random 28x28 images (Fashion-MNIST not found: errors are meaningless)"


def check_design_study(workdir: Path, device: str = "cuda", n: int = 4, epochs: int = 2,
                       subset: int = 8000) -> dict[str, Any]:
    import torch

    from archspace.experiments.design_study import DesignStudyConfig, run_design_study
    from archspace.train.device import peak_memory_mb, reset_peak_memory

    dataset, data_dir, what = study_dataset(workdir)
    config = DesignStudyConfig(n=n, spaces=("anynetx_a", "regnetx"), epochs=epochs, subset=subset, val_size=2000,
                               dataset=dataset, data_dir=data_dir, workers=0, device=device,
                               db=str(workdir / "study.db"), out=str(workdir / "report"), reps=1000)
    reset_peak_memory(torch.device(device))
    started = time.perf_counter()
    outcome = run_design_study(config, progress=False)
    seconds = time.perf_counter() - started
    models = config.n * len(config.spaces)
    return {"data": what, "models": models, "epochs": config.epochs, "seconds": seconds,
            "train_images_per_s": models * config.epochs * config.subset / seconds,
            "peak_memory_mb": peak_memory_mb(torch.device(device)),
            "summary": outcome.summary_table}


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="gpu_check.json", help="JSON summary file (default gpu_check.json)")
    parser.add_argument("--model", default="regnetx_400mf", help="zoo model for the trainer check")
    parser.add_argument("--resolution", type=int, default=128)
    parser.add_argument("--images", type=int, default=16_384, help="training images per epoch of the trainer check")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--supernet-steps", type=int, default=60)
    parser.add_argument("--skip-study", action="store_true", help="leave out the design-study slice")
    args = parser.parse_args(argv)
    reason = skip_reason()
    if reason is not None:
        print(f"{SKIP_PREFIX} {reason}")
        return 0
    import torch

    started = time.perf_counter()
    summary: dict[str, Any] = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
                               "cuda": torch.version.cuda}
    summary["matmul_peak_tflops"] = peak = measure_peak()
    print(f"matmul peak TFLOP/s: {', '.join(f'{k} {v:.1f}' for k, v in peak.items())}", flush=True)
    summary["trainer"] = trainer = check_trainer(args.model, args.resolution, args.images, args.batch, peak)
    print(f"trainer {trainer['model']} {trainer['resolution']}px {trainer['amp']} {trainer['memory_format']}: "
          f"{trainer['images_per_s']:.0f} img/s, peak {trainer['peak_memory_mb']:.0f} MiB, "
          f"{100 * trainer['fraction_of_matmul_peak']:.1f}% of {trainer['peak_used']} matmul peak", flush=True)
    summary["supernet"] = supernet = check_supernet(args.supernet_steps, 256)
    print(f"supernet: {supernet['images_per_s']:.0f} img/s, peak {supernet['peak_memory_mb']:.0f} MiB", flush=True)
    if not args.skip_study:
        with tempfile.TemporaryDirectory() as workdir:
            summary["design_study"] = study = check_design_study(Path(workdir))
        print(f"design-study slice ({study['data']}): {study['models']} models x {study['epochs']} epochs in "
              f"{study['seconds']:.1f} s ({study['train_images_per_s']:.0f} train img/s), "
              f"peak {study['peak_memory_mb']:.0f} MiB", flush=True)
    summary["seconds"] = time.perf_counter() - started
    Path(args.out).write_text(json.dumps(summary, indent=2, default=float))
    print(f"summary: {args.out} ({summary['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
