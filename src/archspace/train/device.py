"""Device selection and mixed-precision settings for training."""

from __future__ import annotations

import contextlib
import resource
import sys
from dataclasses import dataclass

import torch

from archspace.errors import UsageError


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``cpu`` (default), ``cuda`` / ``cuda:N`` (must be available), or ``auto`` (CUDA if present)."""
    if device is None or str(device) == "cpu":
        return torch.device("cpu")
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise UsageError(f"unknown device {device!r}; use cpu, cuda, cuda:N or auto") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"device {device!r} requested but CUDA is not available on this machine (use --device cpu)")
    if resolved.type not in ("cpu", "cuda"):
        raise UsageError(f"unsupported device {device!r}; use cpu, cuda, cuda:N or auto")
    return resolved


@dataclass(frozen=True)
class Precision:
    """Autocast dtype (None = full fp32) and whether a gradient scaler is needed (fp16)."""

    dtype: torch.dtype | None

    @property
    def needs_scaler(self) -> bool:
        return self.dtype == torch.float16

    def autocast(self, device: torch.device) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=self.dtype)


def resolve_precision(amp: str, device: torch.device) -> Precision:
    """Mixed precision applies on CUDA only; ``auto`` picks bf16 where supported, else fp16."""
    if device.type != "cuda" or amp == "off":
        return Precision(None)
    if amp == "bf16" or (amp == "auto" and torch.cuda.is_bf16_supported()):
        return Precision(torch.bfloat16)
    return Precision(torch.float16)


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_mb(device: torch.device) -> float:
    """CUDA: peak bytes allocated since the last reset. CPU: the process's peak resident set."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def is_out_of_memory(exc: BaseException) -> bool:
    """True for CUDA OOM and for the CPU allocator's failure to allocate."""
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)
