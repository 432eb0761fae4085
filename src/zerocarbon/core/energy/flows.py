"""Energy flows of one site and medium: site -> area (workshop) -> line -> asset, from metered totals, as the
nodes and links of a Sankey diagram.

Where a meter sits comes from the meter registry: a revenue meter (the utility's billing meter) measures the
whole site, whatever its ``area``/``line``/``asset`` say about where it hangs; any other meter sits at the
deepest of ``area``, ``line`` and ``asset`` it fills in (a meter with ``area`` only is that workshop's
sub-main, one with ``line`` and no ``asset`` measures the line, one with an ``asset`` measures that asset).

One rule then gives every node its value, so nothing is counted twice: a node with meters of its own is worth
what they measure (added up); a node without is worth the sum of its children. Where a node has both, the
children's sum is inside the node's own measurement: the rest is an explicit ``unmetered`` child (losses,
loads without a meter), and a children's sum above the node's own reading is a data warning, never hidden.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from zerocarbon.core.energy.intervals import Meter

LEVELS = ("area", "line", "asset")
UNMETERED = "unmetered"
SEPARATOR = " › "
# A remainder within float rounding of the node's own reading is no remainder: sums over a year of 15-minute
# readings carry errors around 1e-9 of the total.
RELATIVE_TOLERANCE = 1e-7
ABSOLUTE_TOLERANCE = 1e-6

Path = tuple[tuple[str, str], ...]  # ((level, name), ...) below the site; () is the site itself


def place(meter: Meter) -> Path:
    """The node a meter measures, below its site: () for a revenue meter or a meter without area, line and
    asset; else the path through the levels it fills in."""
    if meter.revenue:
        return ()
    return tuple((level, getattr(meter, level)) for level in LEVELS if getattr(meter, level).strip())


@dataclass(frozen=True)
class MeterTotal:
    """One meter's energy over the period, in the flows' unit, and the minutes its readings cover."""

    meter: str
    path: Path
    value: float
    covered_min: float | None = None


@dataclass(frozen=True)
class FlowNode:
    id: str  # unique: the path of names from the site
    name: str
    level: str  # site | area | line | asset | unmetered
    value: float
    metered: bool  # True: the value is the node's own meters' reading; False: the sum of its children
    meters: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlowLink:
    source: str
    target: str
    value: float


@dataclass(frozen=True)
class FlowWarning:
    node: str
    kind: str  # children_exceed_meter | partial_coverage | no_readings
    message: str
    value: float | None = None


@dataclass
class Flows:
    site: str
    medium: str
    unit: str
    total: float  # the site node's value
    nodes: list[FlowNode] = field(default_factory=list)
    links: list[FlowLink] = field(default_factory=list)
    warnings: list[FlowWarning] = field(default_factory=list)

    def children(self, node_id: str) -> list[FlowNode]:
        targets = {lk.target for lk in self.links if lk.source == node_id}
        return [n for n in self.nodes if n.id in targets]


@dataclass
class _Node:
    path: Path
    own: list[MeterTotal] = field(default_factory=list)
    children: list[Path] = field(default_factory=list)


def _id(site: str, path: Path) -> str:
    return SEPARATOR.join([site, *(name for _, name in path)])


def _tree(totals: list[MeterTotal]) -> dict[Path, _Node]:
    nodes: dict[Path, _Node] = {(): _Node(())}
    for t in totals:
        for depth in range(1, len(t.path) + 1):
            sub = t.path[:depth]
            if sub not in nodes:
                nodes[sub] = _Node(sub)
                nodes[sub[:-1]].children.append(sub)
        nodes[t.path].own.append(t)
    for n in nodes.values():
        n.children.sort(key=lambda p: (LEVELS.index(p[-1][0]), p[-1][1]))
    return nodes


def flows(site: str, totals: list[MeterTotal], medium: str = "electricity", unit: str = "kWh",
          depth: int = 3) -> Flows:
    """Nodes, links, unmetered remainders and data warnings of one site from its meters' totals.

    ``depth`` is how many levels below the site are drawn (3: area, line and asset; 2: down to lines). Hidden
    levels still count: a line whose value comes from its assets' meters keeps that value.
    """
    tree = _tree(totals)
    values: dict[Path, float] = {}
    out = Flows(site, medium, unit, 0.0)

    def visit(path: Path) -> float:
        node = tree[path]
        below = sum(visit(child) for child in node.children)
        nid = _id(site, path)
        level = path[-1][0] if path else "site"
        name = path[-1][1] if path else site
        if node.own:
            value = float(sum(t.value for t in node.own))
            rest = value - below
            tol = max(ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE * abs(value))
            if node.children and rest > tol:
                values[path + ((UNMETERED, UNMETERED),)] = rest
            elif node.children and rest < -tol:
                out.warnings.append(FlowWarning(
                    nid, "children_exceed_meter",
                    f"{nid}: the meters below measure {below:,.3f} {unit}, {-rest:,.3f} {unit} more than its own "
                    f"meter(s) {', '.join(t.meter for t in node.own)} ({value:,.3f} {unit}); check CT ratios, "
                    "meter placement in the registry and missing readings", rest))
        else:
            value = below
        values[path] = value
        out.nodes.append(FlowNode(nid, name, level, value, bool(node.own), tuple(t.meter for t in node.own)))
        return value

    out.total = visit(())
    shown = {_id(site, p) for p in tree if len(p) <= depth}
    out.nodes = [n for n in out.nodes if n.id in shown]
    out.nodes.sort(key=lambda n: n.id.count(SEPARATOR))
    for path in sorted(values, key=len):
        if not path or len(path) > depth:
            continue
        parent = _id(site, path[:-1])
        if path[-1][0] == UNMETERED:
            nid = _id(site, path[:-1]) + SEPARATOR + UNMETERED
            out.nodes.append(FlowNode(nid, UNMETERED, UNMETERED, values[path], False))
            out.links.append(FlowLink(parent, nid, values[path]))
        else:
            out.links.append(FlowLink(parent, _id(site, path), values[path]))
    out.warnings += _coverage(site, totals, unit)
    return out


def _coverage(site: str, totals: list[MeterTotal], unit: str) -> list[FlowWarning]:
    known = [t for t in totals if t.covered_min is not None]
    if not known:
        return []
    best = max(t.covered_min for t in known)
    found = []
    for t in sorted(known, key=lambda t: t.meter):
        nid = _id(site, t.path)
        if t.covered_min <= 0:
            found.append(FlowWarning(nid, "no_readings", f"meter {t.meter} ({nid}) has no readings in the period: "
                                                         "what it measures shows in its parent's remainder"))
        elif t.covered_min < best:
            found.append(FlowWarning(nid, "partial_coverage",
                                     f"meter {t.meter} ({nid}) has readings for {t.covered_min / best:.1%} of the "
                                     "time the best-covered meter has: the energy it missed shows in its parent's "
                                     "remainder", t.value))
    return found


__all__ = ["LEVELS", "UNMETERED", "MeterTotal", "FlowNode", "FlowLink", "FlowWarning", "Flows", "place", "flows"]
