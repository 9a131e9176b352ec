"""A user's .npz labels: a gap below the largest label is refused, unless the file says num_classes."""

from __future__ import annotations

import numpy as np
import pytest

from archspace.data import load_dataset
from archspace.errors import DataError


def test_labels_with_a_gap_are_refused_and_num_classes_is_honoured(tmp_path):
    x = np.zeros((40, 8, 8), np.uint8)
    np.savez(tmp_path / "gap.npz", x=x, y=np.array([0] * 20 + [109] * 20))
    with pytest.raises(DataError, match=r"skip class\(es\) \[1, 2, 3, 4, 5\] \.\.\. below the largest label 109"):
        load_dataset(str(tmp_path / "gap.npz"))
    np.savez(tmp_path / "named.npz", x=x, y=np.array([0] * 20 + [109] * 20), num_classes=np.array(110))
    assert load_dataset(str(tmp_path / "named.npz")).num_classes == 110
    np.savez(tmp_path / "dense.npz", x=x, y=np.arange(40) % 4)
    assert load_dataset(str(tmp_path / "dense.npz")).num_classes == 4
    np.savez(tmp_path / "bad.npz", x=x, y=np.arange(40) % 4, num_classes=np.array([2, 3]))
    with pytest.raises(DataError, match="num_classes must be one integer"):
        load_dataset(str(tmp_path / "bad.npz"))
