"""Shared test settings: one torch thread per test worker (the suite runs with pytest -n 2), and
the hypothesis profiles.

Hypothesis profiles: ``ci`` is derandomized (the same examples on every run, so a fresh clone's
first ``make test`` cannot fail on a case no earlier run saw), ``dev`` is random with a local
example database, ``explore`` is random with many more examples, for hunting new failures (pin
what it finds with ``@example``). ``HYPOTHESIS_PROFILE`` picks one; the default is ``ci`` when
``CI`` is set and ``dev`` otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("OMP_NUM_THREADS", "1")

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - torch is a core dependency
    pass

_SLOW_OK = [HealthCheck.too_slow]  # property tests build torch models: slow examples are expected
settings.register_profile("ci", derandomize=True, max_examples=150, deadline=None, database=None,
                          print_blob=True, suppress_health_check=_SLOW_OK)
settings.register_profile("dev", max_examples=300, deadline=None, suppress_health_check=_SLOW_OK)
settings.register_profile("explore", max_examples=2000, deadline=None, print_blob=True,
                          suppress_health_check=_SLOW_OK)


def hypothesis_profile_name(environ: Mapping[str, str]) -> str:
    """``HYPOTHESIS_PROFILE`` if set, else ``ci`` when ``CI`` is set (to anything) and ``dev`` otherwise."""
    return environ.get("HYPOTHESIS_PROFILE") or ("ci" if "CI" in environ else "dev")


settings.load_profile(hypothesis_profile_name(os.environ))

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


@pytest.fixture
def fashion_mnist_slice(fashion_mnist_dir: Path, tmp_path: Path):
    """A factory: the first ``train`` / ``test`` images of the real Fashion-MNIST splits as an .npz
    dataset in ``tmp_path`` (fast to train on)."""
    import numpy as np

    from archspace.data.idx import read_idx

    def make(train: int, test: int) -> Path:
        out = tmp_path / "fmnist_slice.npz"
        images = read_idx(fashion_mnist_dir / "train-images-idx3-ubyte.gz", 3)[:train]
        labels = read_idx(fashion_mnist_dir / "train-labels-idx1-ubyte.gz", 1)[:train]
        test_images = read_idx(fashion_mnist_dir / "t10k-images-idx3-ubyte.gz", 3)[:test]
        test_labels = read_idx(fashion_mnist_dir / "t10k-labels-idx1-ubyte.gz", 1)[:test]
        np.savez(out, x=images, y=labels.astype(np.int64), x_test=test_images, y_test=test_labels.astype(np.int64))
        return out

    return make
