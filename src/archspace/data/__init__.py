"""Datasets as normalized in-memory tensors: Fashion-MNIST, MNIST, CIFAR-10/100, digits, .npz arrays.

``load_dataset(name, data_dir=None, seed=0, val_size=None, subset=None, augment=True) -> Dataset``;
``Dataset`` exposes ``train``/``val``/``test`` splits, ``num_classes``, ``in_channels``,
``resolution`` and the batched ``augmentation`` the trainer applies. ``dataset_input(name)`` gives
a named dataset's (resolution, channels, classes) without loading it.
"""

from archspace.data.augment import Augmentation
from archspace.data.dataset import Dataset, Split, dataset_from_arrays, split_indices
from archspace.data.inputs import DATASET_INPUTS, DatasetInput, dataset_input, input_spec
from archspace.data.sources import DATASETS, dataset_names, load_dataset, load_npz

__all__ = [
    "DATASETS",
    "DATASET_INPUTS",
    "Augmentation",
    "Dataset",
    "DatasetInput",
    "Split",
    "dataset_from_arrays",
    "dataset_input",
    "dataset_names",
    "input_spec",
    "load_dataset",
    "load_npz",
    "split_indices",
]
