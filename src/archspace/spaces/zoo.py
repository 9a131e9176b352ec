"""Named models as data: the 24 published RegNets and ResNet/ResNeXt expressed as AnyNet.

Names follow ``regnetx_200mf`` ... ``regnetx_32gf`` (dots in "1.6gf" may be written ``1_6gf`` or
``1.6gf``), ``resnet50``, ``resnext50_32x4d`` and so on, plus small models for 28x28 / 32x32 data.
"""

from __future__ import annotations

from dataclasses import dataclass

from archspace.errors import UsageError
from archspace.families.anynet.spec import AnyNetArch
from archspace.spaces.regnet import RegNetParams, regnet_to_anynet


@dataclass(frozen=True)
class ZooEntry:
    """A registered model: its spec, the input it was designed for, and where it comes from."""

    name: str
    arch: AnyNetArch
    resolution: int = 224
    num_classes: int = 1000
    source: str = ""


# (name suffix, depth, w0, wa, wm, group width) from the paper's model zoo.
_REGNETX = [
    ("200mf", 13, 24, 36.44, 2.49, 8), ("400mf", 22, 24, 24.48, 2.54, 16), ("600mf", 16, 48, 36.97, 2.24, 24),
    ("800mf", 16, 56, 35.73, 2.28, 16), ("1_6gf", 18, 80, 34.01, 2.25, 24), ("3_2gf", 25, 88, 26.31, 2.25, 48),
    ("4_0gf", 23, 96, 38.65, 2.43, 40), ("6_4gf", 17, 184, 60.83, 2.07, 56), ("8_0gf", 23, 80, 49.56, 2.88, 120),
    ("12gf", 19, 168, 73.36, 2.37, 112), ("16gf", 22, 216, 55.59, 2.1, 128), ("32gf", 23, 320, 69.86, 2.0, 168),
]
_REGNETY = [
    ("200mf", 13, 24, 36.44, 2.49, 8), ("400mf", 16, 48, 27.89, 2.09, 8), ("600mf", 15, 48, 32.54, 2.32, 16),
    ("800mf", 14, 56, 38.84, 2.4, 16), ("1_6gf", 27, 48, 20.71, 2.65, 24), ("3_2gf", 21, 80, 42.63, 2.66, 24),
    ("4_0gf", 22, 96, 31.41, 2.24, 64), ("6_4gf", 25, 112, 33.22, 2.27, 72), ("8_0gf", 17, 192, 76.82, 2.19, 56),
    ("12gf", 19, 168, 73.36, 2.37, 112), ("16gf", 18, 200, 106.23, 2.48, 112), ("32gf", 20, 232, 115.89, 2.53, 232),
]
_RESNET_DEPTHS = {50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]}


def _regnet_entries() -> list[ZooEntry]:
    entries = []
    for block, table in (("X", _REGNETX), ("Y", _REGNETY)):
        for suffix, depth, w0, wa, wm, group_width in table:
            arch = regnet_to_anynet(RegNetParams(depth, w0, wa, wm, group_width), block=block)
            entries.append(ZooEntry(f"regnet{block.lower()}_{suffix}", arch, source="Radosavovic et al. 2020, model zoo"))
    return entries


def _resnet_entries() -> list[ZooEntry]:
    entries = []
    widths = [256, 512, 1024, 2048]
    for depth_name, depths in _RESNET_DEPTHS.items():
        # ResNet: bottleneck ratio 4, one group (group width = bottleneck width).
        resnet = AnyNetArch.from_lists(depths, widths, [1, 2, 2, 2], [4.0] * 4, [64, 128, 256, 512],
                                       block="X", stem="res_stem_in", stem_width=64)
        # ResNeXt 32x4d: bottleneck ratio 2, 32 groups of width 4 in the first stage.
        resnext = AnyNetArch.from_lists(depths, widths, [1, 2, 2, 2], [2.0] * 4, [4, 8, 16, 32],
                                        block="X", stem="res_stem_in", stem_width=64)
        entries.append(ZooEntry(f"resnet{depth_name}", resnet, source="He et al. 2016 (as AnyNet)"))
        entries.append(ZooEntry(f"resnext{depth_name}_32x4d", resnext, source="Xie et al. 2017 (as AnyNet)"))
    return entries


def _small_entries() -> list[ZooEntry]:
    """CIFAR-style ResNets (R blocks, 3 stages) for 32x32 / 28x28 inputs."""
    entries = []
    for depth in (20, 56):
        n = (depth - 2) // 6
        arch = AnyNetArch.from_lists([n] * 3, [16, 32, 64], [1, 2, 2], block="R", stem="res_stem_cifar", stem_width=16)
        entries.append(ZooEntry(f"resnet{depth}_cifar", arch, 32, 10, "He et al. 2016, CIFAR ResNet (as AnyNet)"))
    tiny = AnyNetArch.from_lists([1, 2, 2], [16, 32, 64], [1, 2, 2], [1.0] * 3, [8, 8, 8],
                                 block="X", stem="res_stem_cifar", stem_width=16)
    entries.append(ZooEntry("anynetx_tiny", tiny, 28, 10, "small X-block network for 28x28 data"))
    resnet8 = AnyNetArch.from_lists([1, 1, 1], [16, 32, 64], [1, 2, 2], block="R", stem="simple_stem_in", stem_width=16)
    entries.append(ZooEntry("resnet8_fmnist", resnet8, 28, 10, "3-block ResNet with a stride-2 stem, ~2.5 MFLOPs at 28x28"))
    return entries


def _build_zoo() -> dict[str, ZooEntry]:
    return {e.name: e for e in (*_regnet_entries(), *_resnet_entries(), *_small_entries())}


_ZOO = _build_zoo()


def _normalize(name: str) -> str:
    return name.strip().lower().replace(".", "_").replace("-", "_")


def list_models() -> list[ZooEntry]:
    """Every registered model, in registration order."""
    return list(_ZOO.values())


def get_entry(name: str) -> ZooEntry:
    key = _normalize(name)
    if key not in _ZOO:
        raise UsageError(f"unknown model {name!r}; run `archspace models` to list the {len(_ZOO)} registered names")
    return _ZOO[key]


def get_model(name: str) -> AnyNetArch:
    """The spec of a registered model, e.g. ``get_model("regnetx_200mf")``."""
    return get_entry(name).arch
