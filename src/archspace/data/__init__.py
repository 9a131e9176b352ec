"""Datasets as normalized in-memory tensors: Fashion-MNIST, MNIST, CIFAR-10/100, digits, .npz arrays.

``load_dataset(name, data_dir=None, seed=0, val_size=None, subset=None, augment=True) -> Dataset``;
``Dataset`` exposes ``train``/``val``/``test`` splits, ``num_classes``, ``in_channels``,
``resolution`` and the batched ``augmentation`` the trainer applies.
"""

from archspace.data.augment import Augmentation
from archspace.data.dataset import Dataset, Split, dataset_from_arrays, split_indices
from archspace.data.sources import DATASETS, dataset_names, load_dataset, load_npz

__all__ = [
    "DATASETS",
    "Augmentation",
    "Dataset",
    "Split",
    "dataset_from_arrays",
    "dataset_names",
    "load_dataset",
    "load_npz",
    "split_indices",
]
