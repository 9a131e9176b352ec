"""Summarize the committed NSS CPU run: per epoch, the mass softmax(theta) puts on spaces whose
networks meet the regime (exact band probability per space) and the entropy; writes
docs/nss/trajectory.json. Run: .venv/bin/python docs/nss/trajectory.py runs/nss/seed0 runs/nss/seed1"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from archspace.nss.distribution import InputSpec, probability_in
from archspace.nss.partition import Partition


def main(runs: list[str]) -> None:
    out = {}
    for run in runs:
        result = json.loads((Path(run) / "result.json").read_text())
        config = result["config"]
        part = Partition(tuple(config["partition"]["depth_edges"]), tuple(config["partition"]["width_edges"]))
        regime = config["regime"]
        inputs = InputSpec(**result["elite"]["inputs"])
        band = np.array([probability_in(part.space(j), regime["low"], regime["high"], inputs)
                         for j in range(part.num_spaces)])
        state = torch.load(Path(run) / "checkpoint.pt", map_location="cpu", weights_only=True)
        dists = state["distributions"].numpy().astype(np.float64)
        order = np.argsort(-band, kind="stable")
        elite = result["elite"]["index"]
        out[run] = {
            "uniform_mass_in_band": float(band.mean()), "best_space": part.space(int(order[0])).space_id,
            "best_space_in_band": float(band[order[0]]), "elite": result["elite"]["space_id"],
            "elite_in_band": float(band[elite]), "elite_rank": int(np.where(order == elite)[0][0]) + 1,
            "spaces": part.num_spaces,
            "epochs": [{"epoch": h["epoch"], "phase": h["phase"], "loss": h["loss"], "train_error": h["train_error"],
                        "mass_in_band": float(d @ band), "entropy": h["entropy"], "top_probability": float(d.max())}
                       for h, d in zip(result["history"], dists, strict=True)],
        }
    Path("docs/nss/trajectory.json").write_text(json.dumps(out, indent=2) + "\n")
    for run, data in out.items():
        print(run, json.dumps({k: v for k, v in data.items() if k != "epochs"}))
        for e in data["epochs"]:
            print(f"  {e['epoch']} {e['phase']:6s} loss {e['loss']:.3f} err {e['train_error']:.1f} "
                  f"mass {e['mass_in_band']:.4f} H {e['entropy']:.3f} top {e['top_probability']:.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
