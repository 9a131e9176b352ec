"""Compression operations on a teacher graph (thesis 2.3.2): layer removal, shrinkage, skips.

``TeacherStructure`` reads once, from a teacher, what can be changed: the removable layers
(convs and pools of stride 1 whose output has their input's spatial size, so removing one keeps
every shape valid: its readers read its inputs instead), the *width groups* (layers whose
outputs are summed together, or that a grouped conv ties to its input, must keep one width: each
group gets one shrink ratio), and the skip pairs (i, j): layer j may also read layer i's output
because i's output and j's input have the same spatial size. ``apply(ops)`` turns an
``Operations`` value into a candidate graph: removed layers are bypassed, widths are
``round(ratio * teacher width)``, added skips join the sums, and widths that the candidate now
sums together are unified (to the smallest; the image's channels where a sum reads the input).
"""

from __future__ import annotations

from dataclasses import dataclass

from archspace.errors import InvalidArchitecture
from archspace.families.teacher.graph import walk_graph
from archspace.families.teacher.spec import GraphLayer, TeacherGraph
from archspace.families.teacher.table import LAYER_KINDS, NETWORK_INPUT


@dataclass(frozen=True)
class Operations:
    """One candidate as raw operations: per removable layer, per width group, per skip pair."""

    removed: tuple[bool, ...]
    ratios: tuple[float, ...]
    skips: tuple[bool, ...]


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent.setdefault(x, x)
        while parent != x:
            grand = self.parent.setdefault(parent, parent)
            self.parent[x] = grand
            x, parent = parent, grand
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # the image (-1) stays the root: a group holding it has the input's channels
            if rb == NETWORK_INPUT or (ra != NETWORK_INPUT and rb < ra):
                ra, rb = rb, ra
            self.parent[rb] = ra


def width_groups(kinds: list[str], inputs: list[tuple[int, ...]], conv_groups: list[int]) -> _UnionFind:
    """Union of width owners that must agree: summed inputs, and a grouped conv with its input.

    A node's width owner is itself when it sets a width (conv, linear); pools and sums pass
    their first input's owner through (-1: the image).
    """
    owners: dict[int, int] = {NETWORK_INPUT: NETWORK_INPUT}
    groups = _UnionFind()
    for index, kind in enumerate(kinds):
        sources = inputs[index]
        has_width = LAYER_KINDS[kind].has_width
        owners[index] = index if has_width else owners[sources[0]]
        if has_width:
            groups.find(index)
        if len(sources) > 1:
            first = owners[sources[0]]
            for source in sources[1:]:
                groups.union(first, owners[source])
        if kind == "conv" and conv_groups[index] > 1:
            groups.union(index, owners[sources[0]])
    return groups


class TeacherStructure:
    """What the compression operations may change in ``teacher`` (see the module docstring)."""

    def __init__(self, teacher: TeacherGraph, resolution: int, in_channels: int, max_skip_span: int = 6) -> None:
        self.teacher = teacher
        self.in_channels = in_channels
        walk = walk_graph(teacher, resolution, 10, in_channels)
        layers = teacher.layers
        last = len(layers) - 1
        self.removable = tuple(
            i for i, layer in enumerate(layers)
            if i != last and layer.kind in ("conv", "max_pool", "avg_pool") and layer.stride == 1
            and not (layer.kind == "conv" and layer.groups > 1)
            and walk.in_shapes[i][1:] == walk.out_shapes[i][1:])
        groups = width_groups([x.kind for x in layers], [x.inputs for x in layers], [x.groups for x in layers])
        members: dict[int, list[int]] = {}
        for i, layer in enumerate(layers):
            if LAYER_KINDS[layer.kind].has_width and not (i == last or layer.width == 0):
                members.setdefault(groups.find(i), []).append(i)
        # groups tied to the image's channels keep them; the rest are shrinkable, in layer order
        self.groups = tuple(tuple(m) for root, m in sorted(members.items(), key=lambda kv: kv[1][0])
                            if root != NETWORK_INPUT)
        self.group_of = {i: g for g, m in enumerate(self.groups) for i in m}
        pairs = []
        for j, target in enumerate(layers):
            if target.kind not in ("conv", "add") or j == last:
                continue
            for i in range(max(0, j - max_skip_span), j - 1):
                if layers[i].kind in ("linear", "global_pool") or i in target.inputs:
                    continue
                if walk.out_shapes[i][1:] == walk.in_shapes[j][1:] and walk.out_shapes[i][1] > 1:
                    pairs.append((i, j))
        self.skip_pairs = tuple(pairs)

    # -------------------------------------------------------------------------------------------
    def identity(self) -> Operations:
        """The operations that give back the teacher itself."""
        return Operations((False,) * len(self.removable), (1.0,) * len(self.groups), (False,) * len(self.skip_pairs))

    def check(self, ops: Operations) -> Operations:
        """``ops`` if its lengths and values fit this teacher, else ``InvalidArchitecture``."""
        for name, value, size in (("removed", ops.removed, len(self.removable)), ("ratios", ops.ratios, len(self.groups)),
                                  ("skips", ops.skips, len(self.skip_pairs))):
            if len(value) != size:
                raise InvalidArchitecture(f"operations.{name}", f"this teacher takes {size} values, got {len(value)}")
        for g, ratio in enumerate(ops.ratios):
            if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio <= 1:
                raise InvalidArchitecture(f"operations.ratios[{g}]", f"a shrink ratio must be in (0, 1], got {ratio!r}")
        if self.removable and all(ops.removed):
            raise InvalidArchitecture("operations.removed", "removes every removable layer: nothing of the "
                                                            "teacher's body would be left")
        return ops

    def apply(self, ops: Operations) -> TeacherGraph:
        """The candidate graph of ``ops`` (not shape-checked: ``walk_graph`` does that)."""
        layers = self.teacher.layers
        removed = {i for i, flag in zip(self.removable, ops.removed, strict=True) if flag}
        extra: dict[int, list[int]] = {}
        for (i, j), flag in zip(self.skip_pairs, ops.skips, strict=True):
            if flag:
                extra.setdefault(j, []).append(i)
        # replacement[t]: the candidate nodes that stand for teacher node t (itself, or what a
        # removed node read)
        replacement: dict[int, tuple[int, ...]] = {NETWORK_INPUT: (NETWORK_INPUT,)}
        kept: list[GraphLayer] = []
        inputs: list[tuple[int, ...]] = []
        widths: list[int] = []
        for index, layer in enumerate(layers):
            sources: dict[int, None] = {}
            for source in (*layer.inputs, *extra.get(index, ())):
                for producer in replacement[source]:
                    sources[producer] = None
            if index in removed:
                replacement[index] = tuple(sources)
                continue
            replacement[index] = (len(kept),)
            kept.append(layer)
            inputs.append(tuple(sources))
            group = self.group_of.get(index)
            widths.append(layer.width if group is None else max(1, int(round(ops.ratios[group] * layer.width))))
        groups = self._unify(kept, inputs, widths)
        return TeacherGraph.trusted(tuple(
            GraphLayer(layer.kind, inputs[i], widths[i], layer.kernel, layer.stride, layer.padding, groups[i],
                       layer.relu, layer.origin) for i, layer in enumerate(kept)))

    def _unify(self, kept: list[GraphLayer], inputs: list[tuple[int, ...]], widths: list[int]) -> list[int]:
        """Give every width group of the candidate one width, in place (the smallest; a multiple
        of the group widths of its grouped convs; the image's channels when a sum reads the
        input); returns the conv groups that follow."""
        groups = width_groups([layer.kind for layer in kept], inputs, [layer.groups for layer in kept])
        last = len(kept) - 1
        smallest: dict[int, int] = {}
        step: dict[int, int] = {}
        for i, layer in enumerate(kept):
            if i == last or not LAYER_KINDS[layer.kind].has_width:
                continue
            root = groups.find(i)
            smallest[root] = min(smallest.get(root, widths[i]), widths[i])
            if layer.groups > 1:
                step[root] = max(step.get(root, 1), max(1, layer.width // layer.groups))
        conv_groups = [layer.groups for layer in kept]
        for i, layer in enumerate(kept):
            if i == last or not LAYER_KINDS[layer.kind].has_width:
                continue
            root = groups.find(i)
            unit = step.get(root, 1)
            width = self.in_channels if root == NETWORK_INPUT else smallest[root]
            widths[i] = max(unit, width // unit * unit)
            if layer.groups > 1:
                conv_groups[i] = max(1, widths[i] // max(1, layer.width // layer.groups))
        return conv_groups

    def operations_of(self, graph: TeacherGraph, ratio_step: float) -> Operations:
        """Operations that rebuild ``graph`` (exact for candidates ``apply`` made from ratios on
        the ``ratio_step`` grid whose widths were not unified away; a best reading otherwise)."""
        present = {layer.origin: layer for layer in graph.layers}
        removed = tuple(i not in present for i in self.removable)
        ratios = []
        for members in self.groups:
            kept = [present[i] for i in members if i in present]
            if not kept:
                ratios.append(1.0)
                continue
            first = kept[0]
            ratio = first.width / self.teacher.layers[first.origin].width
            ratios.append(float(min(1.0, max(ratio_step, round(ratio / ratio_step) * ratio_step))))
        base = self.apply(Operations(removed, tuple(ratios), (False,) * len(self.skip_pairs)))
        base_edges = {(graph_origin(base, s), layer.origin) for layer in base.layers for s in layer.inputs}
        edges = {(graph_origin(graph, s), layer.origin) for layer in graph.layers for s in layer.inputs}
        added = edges - base_edges
        skips = tuple((i, j) in added for i, j in self.skip_pairs)
        return Operations(removed, tuple(ratios), skips)


def graph_origin(graph: TeacherGraph, index: int) -> int:
    return NETWORK_INPUT if index == NETWORK_INPUT else graph.layers[index].origin
