"""Reader for the IDX format of MNIST and Fashion-MNIST (``*-idx3-ubyte[.gz]``, ``*-idx1-ubyte[.gz]``).

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one
big-endian uint32 per dimension, then the data. Only unsigned-byte data (type 0x08) is used by
these datasets. Every structural problem (wrong magic, truncated data, trailing bytes, a corrupt
gzip stream) becomes a ``DataError`` naming the file.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from archspace.errors import DataError

UBYTE_TYPE = 0x08


def read_idx(path: Path, expected_ndim: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes with ``expected_ndim`` dimensions into a uint8 array."""
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataError(f"{path}: truncated IDX file ({len(raw)} bytes, no header)")
    zero1, zero2, dtype_code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero1 != 0 or zero2 != 0 or dtype_code != UBYTE_TYPE or ndim != expected_ndim:
        magic = int.from_bytes(raw[:4], "big")
        wanted = (UBYTE_TYPE << 8) | expected_ndim
        raise DataError(
            f"{path}: wrong IDX magic number 0x{magic:08x}; expected 0x{wanted:08x} "
            f"(unsigned bytes, {expected_ndim} dimension{'s' if expected_ndim > 1 else ''})"
        )
    header_end = 4 + 4 * ndim
    if len(raw) < header_end:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} bytes, need {header_end})")
    shape = struct.unpack(f">{ndim}I", raw[4:header_end])
    expected = int(np.prod(shape, dtype=np.int64))
    available = len(raw) - header_end
    if available < expected:
        raise DataError(
            f"{path}: truncated IDX data: header promises shape {tuple(shape)} "
            f"({expected} bytes) but only {available} bytes follow"
        )
    if available > expected:
        raise DataError(f"{path}: {available - expected} unexpected trailing bytes after shape {tuple(shape)}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_end).reshape(shape)


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when the name ends in .gz."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(f"{path}: corrupt or truncated gzip stream ({exc})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


def find_idx_file(directory: Path, stem: str) -> Path | None:
    """The first of ``stem.gz``, ``stem`` and the dotted variant (``train-images.idx3-ubyte``) present."""
    dotted = stem.replace("-idx", ".idx")
    for name in (f"{stem}.gz", stem, f"{dotted}.gz", dotted):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None
