"""Knowledge distillation (Hinton et al. 2015): match a teacher's temperature-softened outputs.

The loss mixes the usual cross-entropy on labels with the KL divergence between the teacher's and
the student's softmax at temperature T, scaled by T^2 so gradient magnitudes stay comparable
across temperatures: ``(1 - w) * CE(student, y) + w * T^2 * KL(p_teacher^T || p_student^T)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor,
    temperature: float,
    weight: float,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Mean KD loss over the batch (see module docstring); ``weight`` = 0 is plain cross-entropy."""
    hard = F.cross_entropy(student_logits, labels, label_smoothing=label_smoothing)
    if weight == 0:
        return hard
    soft_student = F.log_softmax(student_logits.float() / temperature, dim=1)
    soft_teacher = F.log_softmax(teacher_logits.float() / temperature, dim=1)
    kl = F.kl_div(soft_student, soft_teacher, reduction="batchmean", log_target=True)
    return (1.0 - weight) * hard + weight * temperature**2 * kl
