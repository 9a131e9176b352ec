"""Hostile input against the real ``archspace`` command, one subprocess per case.

Every case is one representative of a failure class (a bound, a bad seed, a bad path, a bad file, a
device this machine lacks) for one subcommand. Each must exit with status 2, print exactly one line
on stderr (``archspace: error: ...`` naming the problem), no traceback, and leave the working
folder (database, output folders, files) exactly as it was: validation happens before any work.
The cases run two at a time; nearly all fail before torch is imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from archspace.experiments.population import PopulationStudyConfig, run_population_study

SPEC = ('{"kind": "anynet", "stages": [{"depth": 1, "width": 16, "stride": 1, "bottleneck_ratio": 1.0, '
        '"group_width": 8}], "block": "X", "stem": "res_stem_cifar", "stem_width": 16}')
HUGE_SPEC = SPEC.replace('"depth": 1', '"depth": 5000000').replace('"width": 16', '"width": 9000000')

# (subcommand arguments, text the one error line must contain). {d} = the working folder.
CASES: list[tuple[str, str]] = [
    # study run: bounds, seeds, devices, executors, the space's size
    ("study run s --space nb201 --evaluator complexity --n 0", "--n"),
    ("study run s --space nb201 --evaluator nb201 --n 20000", "15,625"),
    ("study run s --space nb201 --evaluator complexity --n 4 --seed -1", "--seed"),
    ("study run s --space regnetx --n 4 --stem-width 0", "--stem-width"),
    ("study run s --space nb201 --n 4 --epochs 0", "--epochs"),
    ("study run s --space nb201 --n 4 --workers 0", "--workers"),
    ("study run s --space nb201 --n 4 --device tpu", "device"),
    ("study run s --space nb201 --n 4 --device cuda:7", "cuda"),
    # `--ray auto` without a cluster: in tests/test_study_ray.py, before that file starts its Ray
    # (auto connects to any Ray on the machine, so here it would race that file's instance).
    ("study run s --space nb201 --evaluator complexity --n 4 --db {d}/folder", "folder"),
    ("study run s --space nb201 --evaluator complexity --n 4 --db {d}/garbage.db", "garbage.db"),
    ("study run kept --space anynetx_a --evaluator complexity --n 3 --db {d}/s.db", "space"),
    ("study export kept --db {d}/s.db --out {d}/folder", "folder"),
    ("study show missing --db {d}/s.db", "missing"),
    ("study show kept --db {d}/nothing-here.db", "nothing-here.db"),
    # train
    ("train {d}/latin1.json --epochs 1", "UTF-8"),
    ("train {d}/empty.json --epochs 1", "empty"),
    ("train {d}/truncated.json --epochs 1", "JSON"),
    ("train anynetx_tiny --val-size 0", "--val-size"),
    ("train anynetx_tiny --batch-size 0", "--batch-size"),
    ("train anynetx_tiny --stem-width 0", "--stem-width"),
    ("train anynetx_tiny --lr nan", "--lr"),
    ("train anynetx_tiny --out {d}/folder", "folder"),
    ("train anynetx_tiny --predictions {d}/p.txt", ".npz"),
    ("train anynetx_tiny --recipe {d}/latin1.json", "UTF-8"),
    ("train anynetx_tiny --seed 99999999999", "--seed"),
    # complexity / fit / sample
    ("complexity {d}/latin1.json", "UTF-8"),
    ("train " + repr(HUGE_SPEC), "MAX_TRAIN_PARAMS"),
    ("fit {d}/truncated.json", "JSON"),
    ("sample regnetx --n 100000000 --seed 0", "--n"),
    ("sample regnetx --n 3 --seed -5", "--seed"),
    ("sample regnetx --n 3 --seed 0 --out {d}/folder", "folder"),
    # analyze / committee / design-study / ranking-study
    ("analyze kept --db {d}/s.db --out {d}/a-file", "a-file"),
    ("analyze --csv {d}/latin1.json --out {d}/new", "UTF-8"),
    ("analyze kept --db {d}/s.db --out {d}/new --reps 0", "--reps"),
    ("analyze --csv {d}/empty.json --out {d}/new", "empty"),
    ("committee --study kept --db {d}/s.db --target-flops 1M --out {d}/a-file", "a-file"),
    ("committee --predictions {d}/folder --costs {d}/latin1.json --target-flops 1M --out {d}/new", "UTF-8"),
    ("committee --study kept --db {d}/s.db --target-flops 1M --max-models 0 --out {d}/new", "--max-models"),
    ("design-study --val-size 0 --out {d}/new --db {d}/new.db", "--val-size"),
    ("design-study --config {d}/latin1.json --out {d}/new --db {d}/new.db", "UTF-8"),
    ("design-study --out {d}/a-file --db {d}/new.db", "a-file"),
    ("ranking-study --out {d}/new --seeds -1", "--seeds"),
    ("ranking-study --out {d}/new --seeds 0,0", "--seeds"),
    # bench / nb201 / supernet
    ("bench nb201 --runs 0", "--runs"),
    ("bench nb201 --budget 20000", "15,625"),
    ("bench nb201 --workers 0", "--workers"),
    ("bench nb201 --out {d}/a-file", "a-file"),
    ("nb201 lookup 99999", "99999"),
    ("nb201 flatness --random 0", "--random"),
    ("supernet train --checkpoint {d}/folder --epochs 1", "folder"),
    ("supernet train --checkpoint {d}/c.pt --epochs 0", "--epochs"),
    ("supernet rank --checkpoint {d}/missing.pt --db {d}/s.db", "missing.pt"),
    ("supernet rank --checkpoint {d}/latin1.json --db {d}/s.db --cells 0", "--cells"),
]


TIMEOUT_S = 90  # a case fails within a second or two; this only turns a hang into a report


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    run_population_study(PopulationStudyConfig("kept", space="nb201", evaluator="complexity", n=3), folder / "s.db")
    (folder / "folder").mkdir()
    (folder / "a-file").write_text("not a folder\n")
    (folder / "latin1.json").write_bytes('{"kind": "anynet", "name": "caf\u00e9"}'.encode("latin-1"))
    (folder / "empty.json").write_text("")
    (folder / "truncated.json").write_text(SPEC[: len(SPEC) // 2])
    (folder / "garbage.db").write_bytes(bytes(range(256)) * 8)
    return folder


def _run(args: str, folder: Path) -> subprocess.CompletedProcess[str]:
    import shlex

    env = {**os.environ, "ARCHSPACE_STUDY_DB": str(folder / "default.db"), "RAY_ADDRESS": ""}
    env.pop("RAY_ADDRESS")
    argv = [sys.executable, "-m", "archspace", *shlex.split(args.replace("{d}", str(folder)))]
    try:
        return subprocess.run(argv, capture_output=True, text=True, cwd=folder, env=env, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:  # a hang is a broken case, reported with the others
        return subprocess.CompletedProcess(argv, -1, "", f"hung for more than {TIMEOUT_S} s")


def test_every_bad_input_is_one_line_exit_2_and_changes_nothing(workdir):
    before = _snapshot(workdir)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda case: _run(case[0], workdir), CASES))
    broken = []
    for (args, expected), out in zip(CASES, results, strict=True):
        lines = out.stderr.strip().splitlines()
        ok = (out.returncode == 2 and len(lines) == 1 and lines[0].startswith("archspace: error:")
              and expected.lower() in lines[0].lower() and "Traceback" not in out.stderr)
        if not ok:
            broken.append(f"{args}\n  -> exit {out.returncode}: {out.stderr.strip()[-400:]}")
    assert not broken, f"{len(broken)} of {len(CASES)} cases broke the contract:\n" + "\n".join(broken)
    assert _snapshot(workdir) == before  # no study, folder, database or temporary file left behind
