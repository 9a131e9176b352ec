"""The teacher, trained once per setup and cached with its accuracy and training-split logits.

``load_or_train_teacher(setup, space)`` returns a ``TrainedTeacher``: the module (eval mode),
its validation accuracy A(teacher), its params, and its logits on the training split (what
every candidate's distillation reads, so the teacher never runs again). The file
``<cache_dir>/teacher-<key>.pt`` is written atomically, so parallel workers that race to train
the same teacher leave one whole file; a per-process memo avoids re-reading it.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from archspace.compress.distill import accuracy, logits_of, train_student
from archspace.compress.setup import CompressionSetup


@dataclass
class TrainedTeacher:
    module: Any
    accuracy: float
    params: int
    train_logits: torch.Tensor
    seconds: float
    path: str


def load_or_train_teacher(setup: CompressionSetup, space: Any, data: Any) -> TrainedTeacher:
    """The cached teacher of ``setup`` (training it first when no file holds it)."""
    graph = space.teacher_graph
    key = setup.teacher_key(graph.to_json())
    path = Path(setup.cache_dir) / f"teacher-{key}.pt"
    module = space.family.build(graph, num_classes=data.num_classes, in_channels=data.in_channels)
    if path.is_file():
        saved = torch.load(path, map_location="cpu", weights_only=True)
        module.load_state_dict(saved["state"])
        module.eval()
        return TrainedTeacher(module, float(saved["accuracy"]), int(saved["params"]), saved["train_logits"],
                              float(saved["seconds"]), str(path))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(setup.teacher_seed)
        module = space.family.build(graph, num_classes=data.num_classes, in_channels=data.in_channels)
        run = train_student(module, data, None, setup.teacher_training, setup.teacher_seed, keep_state=True)
    acc = accuracy(module, data.val)
    params = sum(p.numel() for p in module.parameters())
    logits = logits_of(module, data.train)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"state": module.state_dict(), "accuracy": acc, "params": params, "train_logits": logits,
               "seconds": run.seconds}
    handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(handle)
    torch.save(payload, tmp)
    os.replace(tmp, path)
    path.with_suffix(".json").write_text(json.dumps(
        {"accuracy": acc, "params": params, "seconds": run.seconds, "history": run.history,
         "setup": setup.to_dict(), "created": time.time()}, indent=1, default=str))
    module.eval()
    return TrainedTeacher(module, acc, params, logits, run.seconds, str(path))
