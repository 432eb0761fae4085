"""The pathway model: streams of the base inventory, what measures do to them, and the cost and emissions of a
plan year by year. Solver-neutral: the MILP (``solvers.pathway``), the greedy ranking and the brute force all
judge a plan with :func:`evaluate`.

Per year t (growth factor g_t = (1 + growth)^(t - base year), grid factor EF_t, discount d_t = (1 + r)^-(t - base)):

- every stream q_s,t = g_t x base_s x prod over active measures i acting on s of (1 - f_i) (savings multiply:
  each acts on what remains after the others); a fuel switch moves the part it removes, times
  ``electricity_per_fuel``, to the electricity end use it names (fuels are switched before electricity savings
  apply, in catalogue order);
- electricity E_t = sum of end-use streams; renewable R_t = existing on-site + yield x PV kW + MWh bought, R_t <= E_t;
- Scope 1 = sum fuel MWh x (tCO2e/MWh of that use) + refrigerant tCO2e; Scope 2 (market-based)
  = (E_t - R_t) x EF_t; Scope 2 location-based = (E_t - on-site generation) x EF_loc_t; with a base from a stored
  inventory EF and EF_loc of the base year are those the inventory implies and later years scale them by the
  scenario's factor of the year over its base-year factor (``Scenario.grid``);
- cost_t = grid MWh x electricity price + fuel MWh x fuel price + sum active whole measures (capex x CRF + fixed
  opex) x size + PV kW x (capex x CRF + fixed opex) + MWh bought x price + carbon price x Scope 1+2;
  CRF(r, L) = r (1 + r)^L / ((1 + r)^L - 1) (1/L when r = 0): capital enters as its annuity in each year the measure
  is in service within the horizon;
- net present cost = sum_t d_t x (cost_t - cost_t of business as usual).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

from zerocarbon.core.pathway.measures import Catalogue, Measure
from zerocarbon.core.pathway.scenario import Scenario, Target

MAX_GROUP = 12  # measures interacting on shared streams; 2^12 combinations a year at most


def crf(rate: float, years: int) -> float:
    """Capital recovery factor [1/year]: the annuity of 1 unit of capital over ``years`` at ``rate``."""
    if rate == 0:
        return 1 / years
    g = (1 + rate) ** years
    return rate * g / (g - 1)


@dataclass(frozen=True)
class Stream:
    key: str  # end_use:SMT, fuel:natural_gas_hot_water, refrigerant:HFC, scope3:purchased_goods
    base: float  # [MWh] electricity or fuel, [tCO2e] refrigerant and Scope 3, in the base year
    ef: float = 0.0  # [tCO2e/MWh] of a fuel use
    fuel: str | None = None  # price key

    @property
    def kind(self) -> str:
        return self.key.split(":", 1)[0]


@dataclass(frozen=True)
class Quantities:
    """What the streams of a set of active whole measures amount to, at growth 1 (base-year scale)."""

    electricity_mwh: float
    fuel_mwh: dict[str, float]  # by price key
    scope1_t: float
    scope3_t: float

    def fuel_cost(self, prices: dict[str, float]) -> float:
        return sum(v * prices.get(k, 0.0) for k, v in self.fuel_mwh.items())


@dataclass(frozen=True)
class Group:
    """Whole measures that act on shared streams, and the value of each combination of them."""

    measures: tuple[str, ...]
    streams: tuple[str, ...]
    combos: tuple[tuple[frozenset, Quantities], ...]  # exclusive-group violations left out


@dataclass(frozen=True)
class Problem:
    catalogue: Catalogue
    scenario: Scenario
    measures: tuple[Measure, ...]  # those that may be adopted (excluded and stream-less dropped)
    streams: dict[str, Stream]
    dropped: tuple[tuple[str, str], ...] = ()  # (measure id, why)
    # quantities of each interaction group by the subset of its measures in service: a plan, a MACC step or a
    # greedy step changes one group at a time, so the others are read back rather than computed again
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def years(self) -> tuple[int, ...]:
        return self.scenario.years

    def measure(self, mid: str) -> Measure:
        if "by_id" not in self.cache:
            self.cache["by_id"] = {m.id: m for m in self.measures}
        return self.cache["by_id"][mid]

    @property
    def continuous(self) -> tuple[Measure, ...]:
        if "continuous" not in self.cache:
            self.cache["continuous"] = tuple(m for m in self.measures if not m.binary)
        return self.cache["continuous"]

    def size(self, m: Measure) -> float:
        """Size of a whole measure: the base quantity of the streams it acts on [MWh or tCO2e]."""
        return sum(self.streams[s].base for s in m.streams if s in self.streams)

    def annual_fixed(self, m: Measure) -> float:
        """[CNY/year] while a whole measure is in service: capex annuity + fixed opex, times its size."""
        key = ("annual", m.id)
        if key in self.cache:
            return self.cache[key]
        r = self.scenario.discount_rate
        capex = m.capex.value if m.capex else 0.0
        opex = m.fixed_opex.value if m.fixed_opex else 0.0
        self.cache[key] = (capex * crf(r, int(m.lifetime.value)) + opex) * self.size(m)
        return self.cache[key]

    def unit_cost(self, m: Measure) -> float:
        """[CNY/year] per unit of a continuous measure: per kW of PV, per MWh bought."""
        r = self.scenario.discount_rate
        if m.kind == "re_purchase":
            return m.variable_opex.value
        capex = m.capex.value if m.capex else 0.0
        return capex * crf(r, int(m.lifetime.value)) + (m.fixed_opex.value if m.fixed_opex else 0.0)

    def max_size(self, m: Measure) -> float | None:
        if m.kind == "onsite_re":
            return self.scenario.base.assets.get(m.max_driver or "", 0.0)
        return None

    def base_scope12(self) -> float:
        """Scope 1+2 (market-based) of the base year as stated in the scenario."""
        q = quantities(self, frozenset())
        b = self.scenario.base
        return q.scope1_t + (q.electricity_mwh - b.onsite_re_mwh - b.re_purchased_mwh) * self.scenario.grid(b.year)

    def cap(self, t: Target) -> float | None:
        if t.max_scope12_t is not None:
            return t.max_scope12_t
        if t.reduction_vs_base is not None:
            return (1 - t.reduction_vs_base) * self.base_scope12()
        return None


def build_problem(catalogue: Catalogue, scenario: Scenario) -> Problem:
    """The streams of the scenario's base and the measures that act on at least one of them."""
    b = scenario.base
    streams = {f"end_use:{k}": Stream(f"end_use:{k}", v) for k, v in b.electricity_mwh.items()}
    for k, f in b.fuels.items():
        streams[f"fuel:{k}"] = Stream(f"fuel:{k}", f.mwh, f.tco2e / f.mwh if f.mwh else 0.0, f.fuel)
    streams.update({f"refrigerant:{k}": Stream(f"refrigerant:{k}", v) for k, v in b.refrigerant_tco2e.items()})
    streams.update({f"scope3:{k}": Stream(f"scope3:{k}", v) for k, v in b.scope3_tco2e.items()})
    for m in catalogue.measures:  # electricity a fuel switch adds goes to an end use, possibly a new one
        if m.kind == "fuel_switch":
            streams.setdefault(f"end_use:{m.electricity_end_use}", Stream(f"end_use:{m.electricity_end_use}", 0.0))
    kept, dropped = [], []
    for m in catalogue.measures:
        if m.id in scenario.exclude:
            dropped.append((m.id, "excluded by the scenario"))
        elif m.binary and not any(streams.get(s) and streams[s].base > 0 for s in m.streams):
            dropped.append((m.id, f"the base has none of {', '.join(m.targets)}"))
        elif m.kind == "onsite_re" and not b.assets.get(m.max_driver or ""):
            dropped.append((m.id, f"the scenario states no {m.max_driver} (base.assets)"))
        else:
            kept.append(m)
    return Problem(catalogue, scenario, tuple(kept), streams, tuple(dropped))


def _apply(problem: Problem, active: frozenset, keys) -> dict[str, float]:
    """Stream values [base-year scale] with ``active`` whole measures, for the streams ``keys`` (and the end uses
    fuel switches among them feed)."""
    values = {k: problem.streams[k].base for k in keys}
    ordered = [m for m in problem.measures if m.id in active]
    for m in ordered:
        if m.kind != "fuel_switch":
            continue
        for s in m.streams:
            if s in values:
                removed = values[s] * m.fraction.value
                values[s] -= removed
                eu = f"end_use:{m.electricity_end_use}"
                values[eu] = values.get(eu, problem.streams[eu].base) + removed * m.electricity_per_fuel.value
    for m in ordered:
        if m.kind != "saving":
            continue
        for s in m.streams:
            if s in values:
                values[s] *= 1 - m.fraction.value
    return values


def _sum(problem: Problem, values: dict[str, float]) -> Quantities:
    elec, fuel, s1, s3 = 0.0, {}, 0.0, 0.0
    for k, v in values.items():
        st = problem.streams[k]
        if st.kind == "end_use":
            elec += v
        elif st.kind == "fuel":
            fuel[st.fuel] = fuel.get(st.fuel, 0.0) + v
            s1 += v * st.ef
        elif st.kind == "refrigerant":
            s1 += v
        else:
            s3 += v
    return Quantities(elec, fuel, s1, s3)


def _layout(problem: Problem) -> tuple[Quantities, tuple[tuple[frozenset, tuple[str, ...]], ...]]:
    """The streams no whole measure touches (summed), and each interaction group: its measures and streams."""
    if "layout" not in problem.cache:
        members = _components(problem)
        layout = tuple((frozenset(m.id for m in ms), tuple(sorted(set().union(*(_stream_keys(problem, m) for m in ms)))))
                       for ms in members)
        touched = set().union(*(keys for _, keys in layout)) if layout else set()
        free = _sum(problem, {k: s.base for k, s in problem.streams.items() if k not in touched})
        problem.cache["layout"] = (free, layout)
    return problem.cache["layout"]


def quantities(problem: Problem, active: frozenset) -> Quantities:
    """Every stream with ``active`` whole measures, at base-year scale. Measures of different interaction
    groups touch different streams, so each group is computed on its own (and kept)."""
    free, layout = _layout(problem)
    cache = problem.cache
    elec, s1, s3, fuel = free.electricity_mwh, free.scope1_t, free.scope3_t, dict(free.fuel_mwh)
    for members, keys in layout:
        key = ("group", members, active & members)
        q = cache.get(key)
        if q is None:
            q = cache[key] = _sum(problem, _apply(problem, key[2], keys))
        elec, s1, s3 = elec + q.electricity_mwh, s1 + q.scope1_t, s3 + q.scope3_t
        for k, v in q.fuel_mwh.items():
            fuel[k] = fuel.get(k, 0.0) + v
    return Quantities(elec, fuel, s1, s3)


def _stream_keys(problem: Problem, m: Measure) -> set[str]:
    keys = {s for s in m.streams if s in problem.streams}
    if m.kind == "fuel_switch":
        keys.add(f"end_use:{m.electricity_end_use}")
    return keys


def _components(problem: Problem) -> list[list[Measure]]:
    """Whole measures joined by the streams they share (union-find), in catalogue order."""
    whole = [m for m in problem.measures if m.binary]
    parent = {m.id: m.id for m in whole}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    owner: dict[str, str] = {}
    for m in whole:
        for s in _stream_keys(problem, m):
            if s in owner:
                parent[find(m.id)] = find(owner[s])
            else:
                owner[s] = m.id
    members: dict[str, list[Measure]] = {}
    for m in whole:
        members.setdefault(find(m.id), []).append(m)
    return list(members.values())


def groups(problem: Problem) -> tuple[Group, ...]:
    """Interaction groups, each with the quantities of every combination of its measures that no exclusive group
    forbids. Streams no measure touches are in no group."""
    out = []
    for ms in _components(problem):
        if len(ms) > MAX_GROUP:
            from zerocarbon.errors import InputError, Problem as Issue

            raise InputError([Issue(problem.catalogue.origin, None, "measures", (
                f"{len(ms)} measures act on shared streams ({', '.join(m.id for m in ms)}); at most {MAX_GROUP} "
                "can interact"))])
        keys = sorted(set().union(*(_stream_keys(problem, m) for m in ms)))
        ids = tuple(m.id for m in ms)
        combos = []
        for k in range(len(ids) + 1):
            for subset in combinations(ids, k):
                groups_used = [problem.measure(i).exclusive for i in subset if problem.measure(i).exclusive]
                if len(groups_used) != len(set(groups_used)):
                    continue
                combos.append((frozenset(subset), _sum(problem, _apply(problem, frozenset(subset), keys))))
        out.append(Group(ids, tuple(keys), tuple(combos)))
    return tuple(out)


def free_streams(problem: Problem) -> Quantities:
    """The streams no whole measure acts on, at base-year scale."""
    return _layout(problem)[0]


# --- plans ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """Decisions: start years of each whole measure (a start keeps it in service for its lifetime), and the size
    added each year of each continuous measure (kW of PV, MWh bought)."""

    starts: dict[str, tuple[int, ...]] = field(default_factory=dict)
    added: dict[str, dict[int, float]] = field(default_factory=dict)

    def active(self, problem: Problem, year: int) -> frozenset:
        out = []
        for mid, ys in self.starts.items():
            life = int(problem.measure(mid).lifetime.value)
            for s in ys:
                if s <= year < s + life:
                    out.append(mid)
                    break
        return frozenset(out)

    def capacity(self, problem: Problem, mid: str, year: int) -> float:
        life = int(problem.measure(mid).lifetime.value)
        return sum(v for s, v in self.added.get(mid, {}).items() if s <= year < s + life)


@dataclass(frozen=True)
class YearResult:
    year: int
    active: tuple[str, ...]
    sizes: dict[str, float]  # continuous measures in service: kW, MWh
    electricity_mwh: float
    onsite_re_mwh: float
    purchased_re_mwh: float
    grid_mwh: float
    fuel_mwh: dict[str, float]
    scope1_t: float
    scope2_market_t: float
    scope2_location_t: float
    scope3_t: float
    re_share: float
    energy_cost: float
    measure_cost: float
    carbon_cost: float
    target_cap_t: float | None = None
    target_re_share: float | None = None

    @property
    def scope12_t(self) -> float:
        return self.scope1_t + self.scope2_market_t

    @property
    def cost(self) -> float:
        return self.energy_cost + self.measure_cost + self.carbon_cost


@dataclass(frozen=True)
class PlanResult:
    years: tuple[YearResult, ...]
    bau: tuple[YearResult, ...]
    npc: float  # [currency] net present cost against business as usual
    violations: tuple[str, ...]  # targets the plan misses

    @property
    def meets_targets(self) -> bool:
        return not self.violations


TOLERANCE_T = 1e-3  # [tCO2e] and share points a solver's rounding may leave


def year_result(problem: Problem, plan: Plan, year: int) -> YearResult:
    sc = problem.scenario
    active = plan.active(problem, year)
    g = sc.growth_factor(year)
    q = quantities(problem, active)
    elec = q.electricity_mwh * g
    continuous = problem.continuous
    sizes = {m.id: plan.capacity(problem, m.id, year) for m in continuous}
    pv = sum(sizes[m.id] * m.yield_.value for m in continuous if m.kind == "onsite_re")
    bought = sum(sizes[m.id] for m in continuous if m.kind == "re_purchase")
    onsite = sc.base.onsite_re_mwh + pv
    ef = sc.grid(year)
    grid = elec - onsite
    s1, s2m = q.scope1_t * g, (elec - onsite - bought) * ef
    measure_cost = sum(problem.annual_fixed(problem.measure(i)) for i in active)
    measure_cost += sum(sizes[m.id] * problem.unit_cost(m) for m in continuous)
    energy = grid * sc.electricity_price + q.fuel_cost(sc.fuel_prices) * g
    target = next((t for t in sc.targets if t.year == year), None)
    return YearResult(year, tuple(sorted(active)), {k: v for k, v in sizes.items() if v > 1e-9}, elec, onsite, bought,
                      grid, {k: v * g for k, v in q.fuel_mwh.items()}, s1, s2m, grid * sc.grid_location(year),
                      q.scope3_t * g,
                      (onsite + bought) / elec if elec > 0 else 0.0, energy, measure_cost, sc.carbon_price * (s1 + s2m),
                      problem.cap(target) if target else None, target.min_re_share if target else None)


def violations(problem: Problem, years: tuple[YearResult, ...]) -> tuple[str, ...]:
    out = []
    for y in years:
        if y.onsite_re_mwh + y.purchased_re_mwh > y.electricity_mwh + TOLERANCE_T:
            out.append(f"{y.year}: renewable electricity {y.onsite_re_mwh + y.purchased_re_mwh:,.1f} MWh exceeds "
                       f"the {y.electricity_mwh:,.1f} MWh consumed")
        if y.target_cap_t is not None and y.scope12_t > y.target_cap_t + TOLERANCE_T:
            out.append(f"{y.year}: Scope 1+2 {y.scope12_t:,.1f} t > target {y.target_cap_t:,.1f} t")
        if y.target_re_share is not None and y.re_share < y.target_re_share - 1e-6:
            out.append(f"{y.year}: renewable share {y.re_share:.1%} < target {y.target_re_share:.1%}")
    return tuple(out)


def check_plan(problem: Problem, plan: Plan) -> tuple[str, ...]:
    """Rules a plan itself breaks: overlapping starts, exclusive measures together, sizes beyond a limit."""
    out = []
    for mid, ys in plan.starts.items():
        life = int(problem.measure(mid).lifetime.value)
        ys = sorted(ys)
        if any(b < a + life for a, b in zip(ys, ys[1:])):
            out.append(f"{mid}: started again while in service")
        if not problem.scenario.reinvest and len(ys) > 1:
            out.append(f"{mid}: started {len(ys)} times without re-investment")
    for year in problem.years:
        active = plan.active(problem, year)
        seen: dict[str, str] = {}
        for mid in sorted(active):
            g = problem.measure(mid).exclusive
            if g and g in seen:
                out.append(f"{year}: {seen[g]} and {mid} are exclusive ({g})")
            elif g:
                seen[g] = mid
        for m in problem.measures:
            if m.binary:
                continue
            cap = problem.max_size(m)
            if cap is not None and plan.capacity(problem, m.id, year) > cap + 1e-6:
                out.append(f"{year}: {m.id} {plan.capacity(problem, m.id, year):,.1f} > limit {cap:,.1f}")
            if m.ramp is not None and plan.added.get(m.id, {}).get(year, 0.0) > m.ramp.value + 1e-6:
                out.append(f"{year}: {m.id} adds more than {m.ramp.value:,.1f} a year")
    return tuple(out)


def evaluate(problem: Problem, plan: Plan) -> PlanResult:
    """Every year of ``plan`` and of business as usual, the net present cost and the targets it misses."""
    years = tuple(year_result(problem, plan, y) for y in problem.years)
    bau = tuple(year_result(problem, Plan(), y) for y in problem.years)
    npc = sum(problem.scenario.discount(y.year) * (y.cost - b.cost) for y, b in zip(years, bau))
    return PlanResult(years, bau, npc, check_plan(problem, plan) + violations(problem, years))
