"""Collect the measured NAS runs (``archspace nss nas ... --json`` outputs) into docs/nss/nas.json and
print the markdown tables of docs/nss/README.md (one row per regime and space, means over seeds;
then every run).

Run: ``.venv/bin/python docs/nss/nas_table.py runs/nss/nas [docs/nss/nas.json]``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from archspace.nss.nas import nan_free, summarize_nas

# The bands of the CPU run: the 3.2GF and 800MF regimes moved to d <= 2, w <= 16 at 28x28 (nss regimes).
REGIMES = {"949365:1017507": "3.2GF@28px", "444779:464790": "800MF@28px"}
SPACES = {
    "nss:d1-2w1-16_d1-2w1-16_d1-2w1-16": "expanded space",
    "nss:d1-1w1-4_d2-2w9-12_d2-2w13-16": "Elite Space, search seed 0 (3.2GF)",
    "nss:d2-2w1-4_d1-1w5-8_d2-2w13-16": "Elite Space, search seed 1 (3.2GF)",
    "nss:d1-1w1-4_d1-1w5-8_d1-1w5-8": "Elite Space, search seed 0 (800MF)",
    "nss:d2-2w1-4_d1-1w1-4_d1-1w1-4": "analytic Elite Space (Table 1 screen, 3.2GF)",
    "nss:d1-1w1-4_d1-1w1-4_d1-1w5-8": "analytic Elite Space (Table 1 screen, 800MF)",
}


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main(folder: str, out: str = "docs/nss/nas.json") -> int:
    results = [json.loads(p.read_text()) for p in sorted(Path(folder).glob("*.json"))]
    rows = summarize_nas(results)
    Path(out).write_text(json.dumps(nan_free({"summary": rows, "runs": results}), indent=2) + "\n")
    print("| regime | space | seeds | samples to satisfy (measured) | exact mean | Delta % of the returned network | "
          "exact mean Delta % (first in budget) | test error % (sd) | first in-budget network: test error % |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {REGIMES.get(r['regime'], r['regime'])} | {SPACES.get(r['space'], '')} `{r['space']}` | {r['runs']} | {_fmt(r['samples_to_satisfy'])} | "
              f"{_fmt(r['expected_samples'], 2)} | {_fmt(r['delta_percent'])} | {_fmt(r['expected_delta_percent'])} | "
              f"{_fmt(r['test_error'], 2)} ({_fmt(r['test_error_sd'], 2)}) | {_fmt(r['first_test_error'], 2)} |")
    print()
    print("| run | first in budget at draw | draws | candidates: flops (Delta %) test error % | returned |")
    print("|---|---:|---:|---|---|")
    for r in results:
        cands = "; ".join(f"{c['flops']:,} ({c['delta_percent']:.1f}) {_fmt(c['test_error'], 2)}" for c in r["candidates"])
        best = r["best"]
        picked = "-" if best is None else f"draw {best['draw']}: {_fmt(best['test_error'], 2)}%"
        print(f"| {r['name']} | {r['samples_to_satisfy']} | {r['draws']} | {cands} | {picked} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
