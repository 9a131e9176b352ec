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
