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

On-site generation is a supply of the site, not a load under it (:func:`role`). In the electricity flows a
revenue electricity meter measures grid import, a ``pv`` meter without ``revenue`` measures generation and a
``pv`` meter with ``revenue`` (the utility's billing meter of what is fed into the grid) measures export. The
site's own measurement is then its consumption::

    consumption = grid import + generation - export

(generation - export is the PV consumed on site). Without an export meter all generation counts as consumed
on site: exported energy that no meter measures then shows as an ``unmetered`` remainder of the site. Without an
import meter the site is, as before, the sum of its parts, and generation is still drawn as a supply.
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

CONSUMER, IMPORT, GENERATION, EXPORT = "consumer", "import", "generation", "export"
SUPPLY_NODES = {IMPORT: "grid import", GENERATION: "generation", EXPORT: "export"}


def role(meter: Meter, medium: str = "electricity") -> str:
    """What a meter measures in the flows of ``medium``: grid ``import`` (a revenue meter of the medium),
    on-site ``generation`` (a ``pv`` meter without ``revenue``), ``export`` (a ``pv`` revenue meter: the
    utility's meter of the energy fed into the grid), or a ``consumer`` below the site. PV meters are supplies
    only in the electricity flows."""
    if medium == "electricity" and meter.medium == "pv":
        return EXPORT if meter.revenue else GENERATION
    if meter.revenue and meter.medium == medium:
        return IMPORT
    return CONSUMER


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
    role: str = CONSUMER  # consumer | import | generation | export (see :func:`role`)


@dataclass(frozen=True)
class FlowNode:
    id: str  # unique: the path of names from the site
    name: str
    level: str  # site | area | line | asset | unmetered | import | generation | export
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
    kind: str  # children_exceed_meter | export_exceeds_generation | partial_coverage | no_readings
    message: str
    value: float | None = None
    meter: str | None = None  # the meter a coverage warning is about
    share: float | None = None  # partial_coverage: its readings' share of the best-covered meter's time


@dataclass
class Flows:
    site: str
    medium: str
    unit: str
    total: float  # the site node's value: its consumption
    grid_import: float | None = None  # None: no import meter
    generation: float | None = None  # None: no generation meter
    export: float | None = None  # None: no export meter
    nodes: list[FlowNode] = field(default_factory=list)
    links: list[FlowLink] = field(default_factory=list)
    warnings: list[FlowWarning] = field(default_factory=list)

    @property
    def self_consumption(self) -> float | None:
        """Generation consumed on site: generation - export (all generation without an export meter)."""
        if self.generation is None:
            return None
        return max(self.generation - (self.export or 0.0), 0.0)

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
    supplies = {r: [t for t in totals if t.role == r] for r in (IMPORT, GENERATION, EXPORT)}
    tree = _tree([t for t in totals if t.role in (CONSUMER, IMPORT)])
    values: dict[Path, float] = {}
    out = Flows(site, medium, unit, 0.0)
    out.grid_import, out.generation, out.export = (float(sum(t.value for t in supplies[r])) if supplies[r] else None
                                                   for r in (IMPORT, GENERATION, EXPORT))
    if out.export is not None and out.export > (out.generation or 0.0) + ABSOLUTE_TOLERANCE:
        out.warnings.append(FlowWarning(
            _id(site, ()), "export_exceeds_generation",
            f"{site}: export meter(s) {', '.join(t.meter for t in supplies[EXPORT])} measure {out.export:,.3f} "
            f"{unit}, more than generation ({out.generation or 0.0:,.3f} {unit}); check the registry's pv meters "
            "(revenue=true marks the export meter) and missing readings", out.export - (out.generation or 0.0)))

    def visit(path: Path) -> float:
        node = tree[path]
        below = sum(visit(child) for child in node.children)
        nid = _id(site, path)
        level = path[-1][0] if path else "site"
        name = path[-1][1] if path else site
        if node.own and not path and out.generation is not None:
            # the site's own measurement is its consumption: import plus the generation consumed on site
            value = float(sum(t.value for t in node.own)) + (out.self_consumption or 0.0)
        elif node.own:
            value = float(sum(t.value for t in node.own))
        if node.own:
            rest = value - below
            tol = max(ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE * abs(value))
            if node.children and rest > tol:
                values[path + ((UNMETERED, UNMETERED),)] = rest
            elif node.children and rest < -tol:
                out.warnings.append(FlowWarning(
                    nid, "children_exceed_meter",
                    f"{nid}: the meters below measure {below:,.3f} {unit}, {-rest:,.3f} {unit} more than "
                    + (f"grid import {', '.join(t.meter for t in node.own)} plus on-site generation consumed "
                       f"({value:,.3f} {unit})" if not path and out.generation is not None else
                       f"its own meter(s) {', '.join(t.meter for t in node.own)} ({value:,.3f} {unit})")
                    + "; check CT ratios, "
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
    _supply(out, supplies)
    out.warnings += _coverage(site, totals, unit)
    return out


def _supply(out: Flows, supplies: dict[str, list[MeterTotal]]) -> None:
    """Supply nodes left of the site: grid import -> site, generation -> site (what is consumed on site) and
    generation -> export."""
    site_id = _id(out.site, ())
    found = []
    for r in (IMPORT, GENERATION, EXPORT):
        if supplies[r]:
            value = {IMPORT: out.grid_import, GENERATION: out.generation, EXPORT: out.export}[r]
            found.append(FlowNode(site_id + SEPARATOR + SUPPLY_NODES[r], SUPPLY_NODES[r], r, value, True,
                                  tuple(t.meter for t in supplies[r])))
    if not found:
        return
    ids = {n.level: n.id for n in found}
    links = []
    if IMPORT in ids:
        links.append(FlowLink(ids[IMPORT], site_id, out.grid_import))
    if GENERATION in ids:
        links.append(FlowLink(ids[GENERATION], site_id, out.self_consumption))
        if EXPORT in ids:
            links.append(FlowLink(ids[GENERATION], ids[EXPORT], min(out.export, out.generation)))
    out.nodes[:0] = found
    out.links[:0] = links



def _coverage(site: str, totals: list[MeterTotal], unit: str) -> list[FlowWarning]:
    known = [t for t in totals if t.covered_min is not None]
    if not known:
        return []
    best = max(t.covered_min for t in known)
    found = []
    for t in sorted(known, key=lambda t: t.meter):
        nid = _id(site, t.path) if t.role in (CONSUMER, IMPORT) else _id(site, ()) + SEPARATOR + SUPPLY_NODES[t.role]
        if t.covered_min <= 0:
            found.append(FlowWarning(nid, "no_readings", f"meter {t.meter} ({nid}) has no readings in the period: "
                                                         "what it measures shows in its parent's remainder",
                                     meter=t.meter))
        elif t.covered_min < best:
            found.append(FlowWarning(nid, "partial_coverage",
                                     f"meter {t.meter} ({nid}) has readings for {t.covered_min / best:.1%} of the "
                                     "time the best-covered meter has: the energy it missed shows in its parent's "
                                     "remainder", t.value, t.meter, t.covered_min / best))
    return found


__all__ = ["LEVELS", "UNMETERED", "CONSUMER", "IMPORT", "GENERATION", "EXPORT", "role", "MeterTotal", "FlowNode", "FlowLink", "FlowWarning", "Flows", "place", "flows"]
