"""KPIs recomputed from a schedule: service, energy by state, cost, carbon, peak.

Line states follow one of two policies:
- ``always_on`` (the conventional plant): a line is on for each whole working window it has
  (from 0 to the makespan when it has none), warming up at each window start; waiting time is idle.
- ``planned``: a line is on only around its work. Before each block of work it warms up; between two
  blocks it stays on (idle) if the gap is shorter than the line's break-even time, else goes to standby
  and warms up again (Mouzon et al. 2007 turn-off rule).

Energy is built minute by minute per line (an operation with a power profile draws its profile, slot by
slot from its start; otherwise the line's ``run_kw``), summed to a site load, netted against PV minute by
minute (grid import = max(0, load - PV); surplus PV is lost, there is no storage), and priced and
carbon-weighted minute by minute with the problem's series, each value holding for its ``step_min`` slot.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from zerocarbon.core.schedule.model import Line, Problem, Schedule

STATES = ("run", "idle", "changeover", "warmup", "standby")


@dataclass(frozen=True)
class Kpis:
    orders: int
    on_time_rate: float
    total_tardiness_min: float
    weighted_tardiness_min: float
    makespan_min: int
    energy_kwh: dict[str, float]
    total_kwh: float
    grid_kwh: float
    pv_used_kwh: float
    energy_cost: float  # [currency of the price series]
    co2_kg: float
    peak_kw: float  # highest 15-min mean grid import

    def as_dict(self) -> dict:
        return asdict(self)


def _blocks(line: Line, items, family) -> list[tuple[int, int, int]]:
    """(busy start incl. changeover, end, changeover minutes) per operation, in time order."""
    out = []
    prev_fam = None
    for a in items:
        co = line.changeover_min(prev_fam, family[a.order])
        out.append((a.start - co, a.end, co))
        prev_fam = family[a.order]
    return out


def line_profile(problem: Problem, schedule: Schedule, line: Line, policy: str | None = None):
    """Per-minute power of one line [kW] over the horizon and its energy by state [kWh]."""
    kw, _, energy, warmups = _line_minutes(problem, schedule, line, policy)
    return kw, energy, warmups


def line_states(problem: Problem, schedule: Schedule, line: Line, policy: str | None = None):
    """Per-minute power of one line [kW] and its state per minute (an index into ``STATES``), over the
    horizon; warm-up energy is a lump per start, so no minute is in the warm-up state."""
    kw, state, _, _ = _line_minutes(problem, schedule, line, policy)
    return kw, state


def _line_minutes(problem: Problem, schedule: Schedule, line: Line, policy: str | None):
    policy = policy or schedule.policy
    horizon = max(problem.horizon, schedule.makespan)
    kw = np.full(horizon, line.standby_kw, dtype=float)
    state = np.full(horizon, 4, dtype=np.int8)  # standby
    items = schedule.by_line().get(line.id, [])
    family = {o.id: o.family for o in problem.orders}
    ops = {op.key: op for op in problem.operations}
    warmups = 0
    windows = problem.calendars.get(line.id) or ((0, max(schedule.makespan, 1)),)

    def put(s, e, value, st):
        s, e = max(0, s), min(horizon, e)
        if e > s:
            kw[s:e] = value
            state[s:e] = st

    if policy == "always_on":
        for ws, we in windows:
            put(ws, we, line.idle_kw, 1)
            warmups += 1
    else:
        blocks = _blocks(line, items, family)
        prev_end = None
        for s, e, _ in blocks:
            if prev_end is None or s - prev_end >= line.breakeven_min or not _same_window(windows, prev_end, s):
                warmups += 1
            elif s > prev_end:
                put(prev_end, s, line.idle_kw, 1)
            prev_end = e if prev_end is None else max(prev_end, e)
    co_kwh = 0.0
    prev_fam = None
    for a in items:
        co = line.changeover_min(prev_fam, family[a.order])
        if co:
            e_co = line.changeover_kwh(prev_fam, family[a.order])
            co_kwh += e_co
            put(a.start - co, a.start, e_co * 60.0 / co, 2)
        elif prev_fam is not None and prev_fam != family[a.order]:
            co_kwh += line.changeover_kwh(prev_fam, family[a.order])
        op = ops.get((a.order, a.index))
        if op is not None and op.power_kw.get(line.id):
            s, e = max(0, a.start), min(horizon, a.end)
            if e > s:
                profile = np.asarray(op.kw_minutes(line, problem.series.step_min), dtype=float)
                kw[s:e] = profile[s - a.start: e - a.start]
                state[s:e] = 0
        else:
            put(a.start, a.end, line.run_kw, 0)
        prev_fam = family[a.order]
    energy = {name: float(kw[state == i].sum() / 60.0) for i, name in enumerate(STATES)}
    energy["changeover"] = co_kwh if co_kwh else energy["changeover"]
    energy["warmup"] = warmups * line.warmup_kwh if items or policy == "always_on" else 0.0
    return kw, state, energy, warmups


def _same_window(windows, a: int, b: int) -> bool:
    return any(ws <= a and b <= we for ws, we in windows)


def per_minute(problem: Problem, series: str, minutes: int) -> np.ndarray:
    """A series of the problem as one value per minute (each value holds for its slot; the last one beyond)."""
    values = getattr(problem.series, series)
    if not values:
        return np.zeros(minutes)
    arr = np.asarray(values, dtype=float)
    return arr[np.minimum(np.arange(minutes) // problem.series.step_min, len(arr) - 1)]


def compute_kpis(problem: Problem, schedule: Schedule, policy: str | None = None) -> Kpis:
    horizon = max(problem.horizon, schedule.makespan)
    site = np.zeros(horizon)
    energy = dict.fromkeys(STATES, 0.0)
    for line in problem.lines:
        kw, e, _ = line_profile(problem, schedule, line, policy)
        site += kw
        for k, v in e.items():
            energy[k] += v
    pv = per_minute(problem, "pv_kw", horizon)
    grid = np.maximum(site - pv, 0.0)
    # Warm-up energy is a lump per start, small next to run/idle energy: it is added to the totals without a
    # time profile, at the horizon's mean price and intensity.
    warm_kwh = energy["warmup"]
    price = per_minute(problem, "price", horizon)
    carbon = per_minute(problem, "carbon", horizon)
    warm_price = float(price.mean()) if problem.series.price else 0.0
    warm_carbon = float(carbon.mean()) if problem.series.carbon else 0.0
    cost = float((grid * price).sum() / 60.0) + warm_kwh * warm_price
    co2 = float((grid * carbon).sum() / 60.0) + warm_kwh * warm_carbon
    n15 = horizon // 15
    peak = float(grid[: n15 * 15].reshape(n15, 15).mean(axis=1).max()) if n15 else 0.0
    done: dict[str, int] = {}
    for a in schedule.assignments:
        done[a.order] = max(done.get(a.order, 0), a.end)
    tard, wtard, on_time = 0.0, 0.0, 0
    for o in problem.orders:
        t = max(0, done.get(o.id, 0) - o.due) if o.due is not None else 0
        tard += t
        wtard += o.weight * t
        on_time += t == 0
    total = float(sum(energy.values()))
    return Kpis(len(problem.orders), on_time / max(1, len(problem.orders)), tard, wtard, schedule.makespan,
                energy, total, float(grid.sum() / 60.0) + warm_kwh, float((site - grid).sum() / 60.0), cost, co2, peak)
