"""Training: recipes, the trainer, knowledge distillation, and supernet training (``supernet``).

``train(arch_or_module, dataset, recipe=Recipe(), seed=0, device="cpu", teacher=None,
progress=None) -> TrainResult``; ``Recipe`` (YAML-loadable hyper-parameters);
``archspace.evaluators.training.TrainingEvaluator`` is the Evaluator contract over ``train``;
``schedule`` holds the optimizer and learning-rate schedule the trainer and ``supernet`` share.
"""

from archspace.train.distill import distillation_loss
from archspace.train.recipe import Recipe
from archspace.train.result import EpochStats, TrainResult
from archspace.train.trainer import Progress, top1_error, train

__all__ = ["EpochStats", "Progress", "Recipe", "TrainResult", "distillation_loss", "top1_error", "train"]
