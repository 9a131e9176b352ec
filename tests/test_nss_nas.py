"""NAS inside a network space under a FLOPs budget (``archspace nss nas``): the draws are a real
uniform random search that keeps the in-budget networks, the candidates are trained in a resumable
Study (a tiny real run on digits), the returned network is the best by validation error, and bad
input is one line with exit status 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from archspace.cli import main
from archspace.evaluation import Result
from archspace.families.nss import NSSArch
from archspace.nss.distribution import InputSpec
from archspace.nss.nas import NAS_SEED_SALT, NASConfig, plan_nas, summarize_nas
from archspace.spaces.registry import get_space

pytest.importorskip("torch")

SPACE = "nss:d1-1w1-2_d1-1w1-4_d1-1w1-4"  # 32 networks; at 8x8x1, 10 classes: 20,432..36,850 flops
BUDGET = 22_000  # 9 of the 32 networks are within it
DIGITS = InputSpec(8, 10, 1)


def _exact_flops(space_name: str) -> dict[NSSArch, int]:
    space = get_space(space_name)
    archs = [NSSArch((1, 1, 1), (a, b, c)) for a in (1, 2) for b in range(1, 5) for c in range(1, 5)]
    return {a: space.complexity(a, resolution=8, num_classes=10, in_channels=1).flops for a in archs}


def test_draws_are_a_uniform_search_keeping_the_first_distinct_in_budget_networks():
    flops = _exact_flops(SPACE)
    assert sum(f <= BUDGET for f in flops.values()) == 9
    plan = plan_nas(NASConfig(SPACE, f"0:{BUDGET}", trained=3, seed=5, dataset="digits"))
    assert plan.inputs == DIGITS and plan.budget == BUDGET and plan.draws == plan.draw_index[-1]
    # Replay the same seeded draws by hand: every draw before a candidate is over budget or a repeat.
    rng = np.random.default_rng([5, NAS_SEED_SALT])
    space = get_space(SPACE)
    drawn = [space.sample(rng) for _ in range(plan.draws)]
    kept = []
    for index, arch in enumerate(drawn, start=1):
        if flops[arch] <= BUDGET and arch not in kept:
            kept.append(arch)
            assert index == plan.draw_index[len(kept) - 1]
    assert tuple(kept) == plan.archs and list(plan.flops) == [flops[a] for a in kept]


def test_samples_to_satisfy_average_the_exact_expectation():
    # 200 seeded searches: the mean draw of the first in-budget network is close to 1 / p = 32 / 9.
    firsts = [plan_nas(NASConfig(SPACE, f"0:{BUDGET}", trained=1, seed=s, dataset="digits")).draw_index[0]
              for s in range(200)]
    assert abs(np.mean(firsts) - 32 / 9) < 0.6


def test_a_tiny_real_nas_trains_its_candidates_and_resumes(capsys, tmp_path):
    db = tmp_path / "nas.db"
    argv = ["nss", "nas", "tiny", "--space", SPACE, "--flops", f"0:{BUDGET}", "--trained", "2", "--seed", "1",
            "--dataset", "digits", "--epochs", "1", "--subset", "256", "--db", str(db), "--json"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    flops = _exact_flops(SPACE)
    assert result["trained"] == len(result["candidates"]) == 2 and result["samples_to_satisfy"] >= 1
    for c in result["candidates"]:
        arch = NSSArch(tuple(c["arch"]["depths"]), tuple(c["arch"]["widths"]))
        assert c["flops"] == flops[arch] <= BUDGET and c["state"] == "complete"
        assert c["delta_percent"] == pytest.approx(100 * (1 - c["flops"] / BUDGET))
        assert 0 <= c["test_error"] <= 100 and 0 <= c["val_error"] <= 100
    assert result["best"] == min(result["candidates"], key=lambda c: c["val_error"])
    assert result["analytic"]["expected_samples"] == pytest.approx(32 / 9)
    assert main(argv) == 0  # finished study: resumed, nothing retrained, the same answer
    assert json.loads(capsys.readouterr().out) == result
    rows = summarize_nas([result, {**result, "seed": 2}])
    assert len(rows) == 1 and rows[0]["runs"] == 2 and rows[0]["test_error"] == pytest.approx(result["best"]["test_error"])
    changed = list(argv)
    changed[changed.index("--seed") + 1] = "3"  # another seed under the same study name is refused
    assert main(changed) == 2 and "tiny" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--space", "regnetx", "--flops", "1M"], "takes an NSS space (nss or nss:<space-id>), not 'regnetx'"),
    (["--space", SPACE, "--flops", "0:1000", "--dataset", "digits"],
     "no network of space nss:d1-1w1-2_d1-1w1-4_d1-1w1-4 meets the budget flops <= 1000 of regime 0:1000; "
     "its flops range is 2.043e+04..3.685e+04 at 8x8"),
    (["--space", SPACE, "--flops", f"0:{BUDGET}", "--dataset", "digits", "--trained", "10"],
     "trained = 10 is more than the 9 networks"),
    (["--space", SPACE, "--flops", "1M", "--trained", "0"], "trained must be an integer >= 1"),
    (["--space", "nss:d2-1w1-2_d1-1w1-4_d1-1w1-4", "--flops", "1M"], "stage 1 depth range 2-1 is empty"),
    (["--space", "nss:d1-1w1-600_d1-1w1-4_d1-1w1-4", "--flops", "1M"], "width range 1-600 lies outside"),
])
def test_bad_nas_input_is_one_line_and_exit_2(capsys, tmp_path, argv, message):
    db = tmp_path / "nas.db"
    assert main(["nss", "nas", "x", *argv, "--db", str(db)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not db.exists()  # refused before any work


@pytest.mark.parametrize("name", ["rs", "re", "ls", "na-rs", "bo", "gp-bandit"])
def test_archspace_strategies_search_inside_an_elite_space(name):
    """Any strategy whose needs an NSS space meets (neighbors, mutate, encode) passes the Strategy
    contract inside an Elite Space, proposing only its networks."""
    from archspace.checks import check_strategy
    from archspace.search.registry import make_strategy

    space = get_space("nss:d2-2w1-4_d1-1w5-8_d2-2w13-16")
    options = {"bo": {"n_init": 4}, "gp-bandit": {"n_init": 4}}.get(name, {})
    steps = 8 if name in ("bo", "gp-bandit") else 15
    report = check_strategy(lambda s, seed: make_strategy(name, s, seed, **options), space, steps)
    assert report["asks"] == steps
    strategy = make_strategy(name, space, 0, **options)
    for _ in range(5):
        arch = strategy.ask()
        assert space.contains(arch)
        strategy.tell(arch, Result(objective=float(sum(arch.widths))))
