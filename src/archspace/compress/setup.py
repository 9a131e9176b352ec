"""What a compression run holds fixed: the teacher, the data and how teacher and candidates
are trained (``CompressionSetup``), and loading its data split (torch-free until ``load_data``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from archspace.compress.distill import DistillConfig
from archspace.errors import UsageError


@dataclass(frozen=True)
class CompressionSetup:
    """teacher: a name, graph dict or layer list (``compress.teachers.resolve_teacher``).
    dataset / data_dir: for ``archspace.data.load_dataset``; train_subset: train on this many
    images (the same ones for teacher and candidates); val_size: images held out of the
    training set, on which A(x) is measured; split_seed seeds both draws. teacher_training:
    the teacher's own run (cross-entropy); teacher_seed: its seed. cache_dir: where the
    trained teacher is kept (one file per setup)."""

    teacher: Any = "resnet20"
    dataset: str = "fashion-mnist"
    data_dir: str | None = None
    train_subset: int | None = None
    val_size: int | None = None
    split_seed: int = 0
    teacher_training: DistillConfig = field(default_factory=lambda: DistillConfig(epochs=10, loss="ce"))
    teacher_seed: int = 0
    cache_dir: str = "runs/teachers"

    def __post_init__(self) -> None:
        if isinstance(self.teacher_training, dict):
            object.__setattr__(self, "teacher_training", DistillConfig(**self.teacher_training))
        if self.train_subset is not None and (isinstance(self.train_subset, bool) or not isinstance(self.train_subset, int)
                                              or self.train_subset < 1):
            raise UsageError(f"train_subset must be an integer >= 1, got {self.train_subset!r}")
        if self.val_size is not None and (isinstance(self.val_size, bool) or not isinstance(self.val_size, int)
                                          or self.val_size < 1):
            raise UsageError(f"val_size must be an integer >= 1, got {self.val_size!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompressionSetup:
        return cls(**data)

    def teacher_key(self, graph_json: str) -> str:
        """Identity of the trained teacher: everything that changes its weights (not the cache dir)."""
        data = {k: v for k, v in self.to_dict().items() if k not in ("cache_dir", "data_dir", "teacher")}
        text = json.dumps({"graph": graph_json, **data}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def load_data(self) -> Any:
        """The dataset with its validation split and training subset, without augmentation."""
        from archspace.data import load_dataset

        data = load_dataset(self.dataset, data_dir=self.data_dir, seed=self.split_seed, val_size=self.val_size,
                            augment=False)
        return data if self.train_subset is None else data.with_train_subset(self.train_subset, self.split_seed)
