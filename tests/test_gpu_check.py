"""benchmarks/gpu_check.py without a GPU: one line saying why it skipped, exit status 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present: the check would really run")
def test_gpu_check_skips_cleanly_without_cuda(tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpu_check: skipped: no CUDA device")
    assert done.stderr == "" and not out.exists()


def load_gpu_check():
    """The script as a module (it lives in benchmarks/, outside the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_check_of_the_gpu_script_runs_on_cpu_at_tiny_size(tmp_path: Path) -> None:
    """The GPU days are rare: the trainer, supernet and design-study checks must already work, so
    each runs here on the CPU at a tiny size through the same functions the GPU run calls."""
    check = load_gpu_check()
    trainer = check.check_trainer("regnetx_200mf", 32, 64, 32, {"fp32": 1.0}, device="cpu")
    assert trainer["memory_format"] == "channels_last" and trainer["amp"] == "fp32"
    assert trainer["images_per_epoch"] == 64 and trainer["images_per_s"] > 0 and trainer["mflops_per_image"] > 0
    supernet = check.check_supernet(2, 8, device="cpu")
    assert supernet["steps"] == 2 and supernet["images_per_s"] > 0
    study = check.check_design_study(tmp_path, device="cpu", n=2, epochs=1, subset=128)
    assert study["models"] == 4 and study["data"] == "Fashion-MNIST" and study["seconds"] > 0
