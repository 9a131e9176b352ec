"""The DARTS cell space: exact size, contract, validation naming the node, neighbors, op masks (S3)."""

from __future__ import annotations

import numpy as np
import pytest

from archspace.checks import check_space
from archspace.errors import InvalidArchitecture, UsageError
from archspace.families.darts.genotypes import get_genotype
from archspace.families.darts.spec import DartsGenotype
from archspace.spaces.registry import get_space


def test_exact_size():
    space = get_space("darts")
    assert space.size() == (180 * 7**8) ** 2 == 1_076_746_950_455_072_400  # ~1.08e18
    assert space.summary()["input_choices_per_cell"] == 180
    assert get_space("darts_s3").size() == (180 * 2**8) ** 2


def test_contract_and_s3_build():
    check_space(get_space("darts"), n=6, input_spec={"resolution": 32, "num_classes": 10})
    s3 = get_space("darts_s3", channels=8, layers=5)
    check_space(s3, n=4, build=True, input_spec={"resolution": 28, "num_classes": 10, "in_channels": 1})
    assert {op for g in s3.sample_batch(0, 20) for op in g.ops()} == {"skip_connect", "sep_conv_3x3"}


def test_validation_names_node_and_op():
    s3 = get_space("darts_s3")
    with pytest.raises(InvalidArchitecture) as info:
        s3.validate(get_genotype("DARTS_V2"))
    assert info.value.field == "normal[7] (node 5)" and "dil_conv_3x3" in str(info.value)
    same = DartsGenotype([("sep_conv_3x3", 0), ("sep_conv_3x3", 0)] + list(get_genotype("DARTS_V2").normal[2:]),
                         [2, 3, 4, 5], get_genotype("DARTS_V2").reduce, [2, 3, 4, 5])
    with pytest.raises(InvalidArchitecture, match="must differ"):
        get_space("darts").validate(same)
    with pytest.raises(InvalidArchitecture, match="4 nodes"):
        get_space("darts").validate(get_genotype("NASNet"))


def test_op_masks():
    with pytest.raises(UsageError, match="no parametric op"):
        get_space("darts", ops=["none", "skip_connect", "max_pool_3x3"])
    with pytest.raises(UsageError, match="unknown"):
        get_space("darts", ops=["sep_conv_3x3", "conv_9x9"])
    assert get_space("darts_s3").ops == ("none", "skip_connect", "sep_conv_3x3")


def test_neighbors_mutation_encoding():
    space = get_space("darts")
    genotype = get_genotype("DARTS_V2")
    # per pair: 6 other ops + (node + 2 - 2) other inputs; per cell 2 * (4 * 6 + 0 + 1 + 2 + 3) = 60
    assert len(space.neighbors(genotype)) == 120
    canonical = space.canonical(genotype)
    assert canonical != genotype and np.array_equal(space.encode(canonical), space.encode(genotype))
    assert space.mutate(genotype, 3) == space.mutate(genotype, 3) != canonical
    assert space.encode(genotype).shape == (224,)
