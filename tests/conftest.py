"""Shared test settings: one torch thread per test worker (the suite runs with pytest -n 2)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - torch is a core dependency
    pass

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FASHION_MNIST_DIR = Path(os.environ.get("ARCHSPACE_FASHION_MNIST", "/usr/share/datasets/fashion-mnist"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (real public reference data); skip when this checkout has none beside it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def fashion_mnist_dir() -> Path:
    """Fashion-MNIST IDX files; skip with the reason when the Debian package is absent."""
    if not (FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"Fashion-MNIST not installed in {FASHION_MNIST_DIR} (Debian package dataset-fashion-mnist)")
    return FASHION_MNIST_DIR
