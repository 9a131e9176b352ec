"""Build the packaged NAS-Bench-201 table from the public CSV (reproducible, deterministic).

Run ``python -m archspace.bench.nb201_pack [--csv PATH] --out PATH`` (``--replace-resource``
rewrites the packaged table; it is never overwritten by default). The CSV (one row per cell
in the official benchmark's index order; see shared/data/README.md) becomes one compressed
``.npz``:

* ``ops``: (15625, 6) uint8 op indices into ``archspace.families.nb201.table.OPS`` per benchmark index;
* one int32 array per numeric column, holding ``round(value * 10**decimals)`` — every CSV value has
  at most ``decimals`` decimals, so ``ints / 10**decimals`` restores the CSV's float exactly;
* ``<dataset>_valid_200_seeds``: (15625, 3) scaled ints, -1 where a cell has fewer seeds;
* ``meta``: JSON (column -> decimals, source file name and sha256).

The packer checks what it writes (row order, cell strings, value round trip) before saving.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from archspace.errors import DataError

# The public CSV in ../shared beside a source checkout (pass --csv elsewhere).
DEFAULT_CSV = Path(__file__).resolve().parents[4] / "shared" / "data" / "nb201" / "nb201.csv"
DATASETS = ("cifar10", "cifar100", "imagenet16")
MAX_SEEDS = 3
MISSING = -1

# numeric CSV column -> decimals kept (the CSV's own precision).
SCALAR_COLUMNS: dict[str, int] = {
    **{f"{d}_{s}_200": 4 for d in DATASETS for s in ("test", "valid")},
    **{f"{d}_{s}_12": 4 for d in DATASETS for s in ("test", "valid")},
    "params_mb": 6,
    **{f"{d}_train_seconds_200": 3 for d in DATASETS},
}
SEED_COLUMNS: dict[str, int] = {f"{d}_valid_200_seeds": 4 for d in DATASETS}


def _scaled(values: np.ndarray, decimals: int, column: str) -> np.ndarray:
    """Exact integers ``values * 10**decimals``; refuses values with more decimals."""
    scaled = np.round(values * 10**decimals)
    if not np.allclose(scaled / 10**decimals, values, rtol=0, atol=10 ** -(decimals + 3)):
        raise DataError(f"column {column} has values with more than {decimals} decimals")
    if np.abs(scaled).max() >= 2**31:
        raise DataError(f"column {column} does not fit int32 at {decimals} decimals")
    return scaled.astype(np.int32)


def _seed_matrix(texts: Sequence[str], decimals: int, column: str) -> np.ndarray:
    rows = [str(t).split(";") for t in texts]
    if any(not 1 <= len(r) <= MAX_SEEDS for r in rows):
        raise DataError(f"column {column}: each row needs 1..{MAX_SEEDS} ';'-separated seeds")
    out = np.full((len(rows), MAX_SEEDS), np.nan)
    for i, r in enumerate(rows):
        out[i, : len(r)] = [float(v) for v in r]
    present = ~np.isnan(out)
    scaled = np.full(out.shape, MISSING, dtype=np.int32)
    scaled[present] = _scaled(out[present], decimals, column)
    return scaled


def pack(csv_path: Path, out_path: Path) -> dict[str, object]:
    """Read ``csv_path``, write ``out_path``; returns the metadata written."""
    import pandas as pd

    from archspace.families.nb201.index import unique_string
    from archspace.families.nb201.spec import NB201Cell
    from archspace.families.nb201.table import NUM_CELLS

    if not csv_path.is_file():
        raise DataError(f"NAS-Bench-201 CSV not found: {csv_path}")
    raw = csv_path.read_bytes()
    frame = pd.read_csv(io.BytesIO(raw), dtype={"arch": str, "unique": str})
    needed = ["index", "arch", "unique", *SCALAR_COLUMNS, *SEED_COLUMNS]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(f"{csv_path}: missing columns {missing}")
    if len(frame) != NUM_CELLS or not np.array_equal(frame["index"].to_numpy(), np.arange(NUM_CELLS)):
        raise DataError(f"{csv_path}: expected rows 0..{NUM_CELLS - 1} in benchmark index order")
    cells = [NB201Cell.from_string(s) for s in frame["arch"]]
    if any(c.to_string() != s for c, s in zip(cells, frame["arch"], strict=True)):
        raise DataError(f"{csv_path}: cell strings do not round-trip")
    if any(unique_string(c) != u for c, u in zip(cells, frame["unique"], strict=True)):
        raise DataError(f"{csv_path}: 'unique' column disagrees with the isomorphism strings")
    arrays: dict[str, np.ndarray] = {"ops": np.array([c.op_indices for c in cells], dtype=np.uint8)}
    for column, decimals in SCALAR_COLUMNS.items():
        arrays[column] = _scaled(frame[column].to_numpy(dtype=np.float64), decimals, column)
    for column, decimals in SEED_COLUMNS.items():
        arrays[column] = _seed_matrix(frame[column].tolist(), decimals, column)
    meta = {
        "format": 1,
        "rows": NUM_CELLS,
        "decimals": {**SCALAR_COLUMNS, **SEED_COLUMNS},
        "seed_missing": MISSING,
        "source": csv_path.name,
        "source_sha256": hashlib.sha256(raw).hexdigest(),
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    out_path.write_bytes(buffer.getvalue())
    return meta


def default_out_path() -> Path:
    return Path(__file__).resolve().parents[1] / "resources" / "nb201_table.npz"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m archspace.bench.nb201_pack", description=__doc__.split("\n")[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV, help=f"source CSV (default {DEFAULT_CSV})")
    parser.add_argument("--out", type=Path, default=None, help="output .npz file")
    parser.add_argument("--replace-resource", action="store_true",
                        help="write the packaged resource itself (never done without this flag)")
    args = parser.parse_args(argv)
    resource = default_out_path()
    out = args.out or (resource if args.replace_resource else None)
    if out is None:
        parser.error("give --out FILE (or --replace-resource to rewrite the packaged table)")
    if out.expanduser().resolve() == resource and not args.replace_resource:
        parser.error(f"--out {out} is the packaged resource; add --replace-resource to rewrite it")
    if out.expanduser().is_dir():
        parser.error(f"--out {out} is a directory; give a .npz file")
    try:
        meta = pack(args.csv, out)
    except DataError as exc:
        print(f"nb201_pack: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {meta['rows']} cells, sha256 of source {str(meta['source_sha256'])[:12]})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
