"""The DARTS family: published parameter counts, the family contract on every zoo genotype, the
reference genotype text both ways, and bad genotypes named by node / input / op."""

from __future__ import annotations

import pytest

from archspace.checks import check_family
from archspace.errors import InvalidArchitecture, UsageError
from archspace.families import get_family
from archspace.families.darts.genotypes import GENOTYPE_TEXT, genotype_names, get_genotype
from archspace.families.darts.spec import DartsGenotype


def test_darts_v2_has_the_reference_parameter_count():
    """C=36, 20 cells, 10 classes, no auxiliary head: 3,349,342 (reference count_parameters_in_MB)."""
    genotype = get_genotype("DARTS_V2")
    family = get_family("darts", channels=36, layers=20)
    assert family.complexity(genotype).params == 3_349_342
    assert sum(p.numel() for p in family.build(genotype).parameters()) == 3_349_342
    with_aux = get_family("darts", channels=36, layers=20, auxiliary=True)
    assert with_aux.complexity(genotype).params == 3_825_768  # + the CIFAR auxiliary head
    assert sum(p.numel() for p in with_aux.build(genotype).parameters()) == 3_825_768


@pytest.mark.parametrize(("name", "mflops", "mparams"), [("DARTS_V2", 528, 3.3), ("GDAS_V1", 519, 3.4),
                                                         ("PDARTS", 532, 3.4), ("PC_DARTS", 557, 3.6)])
def test_published_costs(name, mflops, mparams):
    """The papers' 32x32 multiply-adds and parameter counts (rounded as they print them)."""
    cx = get_family("darts").complexity(get_genotype(name))
    assert round(cx.flops / 1e6) == mflops and round(cx.params / 1e6, 1) == mparams


def test_every_zoo_genotype_agrees_with_its_module():
    small = get_family("darts", channels=4, layers=3)
    assert check_family(small, [get_genotype(n) for n in genotype_names()], resolution=32) == {"specs": 7}
    check_family(get_family("darts", channels=4, layers=3, auxiliary=True), [get_genotype("DARTS_V2")], resolution=32)
    check_family(small, [get_genotype("AmoebaNet")], resolution=28, in_channels=1)


@pytest.mark.parametrize("name", list(GENOTYPE_TEXT))
def test_genotype_text_round_trips(name):
    genotype = get_genotype(name)
    assert DartsGenotype.from_string(genotype.to_string()) == genotype
    assert DartsGenotype.from_string(GENOTYPE_TEXT[name]) == genotype
    assert genotype.to_string().startswith("Genotype(normal=[(")


def test_range_concat_and_reference_layout_parse():
    text = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)], normal_concat=range(2, 3), "
            "reduce=[('max_pool_3x3', 0), ('skip_connect', 1)], reduce_concat=[2])")
    genotype = DartsGenotype.from_string(text)
    assert genotype.normal_concat == (2,) and genotype.nodes("reduce") == 1


@pytest.mark.parametrize(("text", "field"), [
    ("Genotype(normal=[('sep_conv_3x3', 0)", "genotype"),
    ("Genome(normal=[], normal_concat=[], reduce=[], reduce_concat=[])", "genotype"),
    ("Genotype(normal=[('sep_conv_9x9', 0), ('skip_connect', 1)], normal_concat=[2], "
     "reduce=[('max_pool_3x3', 0), ('skip_connect', 1)], reduce_concat=[2])", "normal[0] (node 2)"),
    ("Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 2)], normal_concat=[2], "
     "reduce=[('max_pool_3x3', 0), ('skip_connect', 1)], reduce_concat=[2])", "normal[1] (node 2)"),
    ("Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)], normal_concat=[2], "
     "reduce=[('max_pool_3x3', 0), ('skip_connect', 3)], reduce_concat=[2])", "reduce[1] (node 2)"),
    ("Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)], normal_concat=[2, 3], "
     "reduce=[('max_pool_3x3', 0), ('skip_connect', 1)], reduce_concat=[2])", "normal_concat"),
])
def test_bad_genotypes_name_the_field(text, field):
    with pytest.raises(InvalidArchitecture) as info:
        DartsGenotype.from_string(text)
    assert info.value.field == field


def test_a_node_reading_itself_or_a_later_node_is_named():
    with pytest.raises(InvalidArchitecture, match="is itself"):
        DartsGenotype([("skip_connect", 0), ("skip_connect", 2)], [2], [("skip_connect", 0), ("skip_connect", 1)], [2])
    with pytest.raises(InvalidArchitecture, match="a later node"):
        DartsGenotype([("skip_connect", 0), ("skip_connect", 3)], [2], [("skip_connect", 0), ("skip_connect", 1)], [2])


def test_resolution_and_options_are_checked():
    family = get_family("darts", channels=8, layers=5)
    with pytest.raises(InvalidArchitecture, match="even map"):
        family.complexity(get_genotype("DARTS_V2"), resolution=30)  # 30 -> 15: the second reduction fails
    with pytest.raises(InvalidArchitecture, match="auxiliary head"):
        get_family("darts", channels=8, layers=5, auxiliary=True).complexity(get_genotype("DARTS_V2"), resolution=16)
    with pytest.raises(UsageError, match="even"):
        get_family("darts", channels=9)
