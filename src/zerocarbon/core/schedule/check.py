"""Independent schedule validator: it knows the problem's rules, not how any solver built the plan."""
from __future__ import annotations

import numpy as np

from zerocarbon.core.schedule.model import Problem, Schedule


def violations(problem: Problem, schedule: Schedule, check_cap: bool = True) -> list[str]:
    """Every broken rule, as readable sentences; an empty list means the schedule is valid."""
    out: list[str] = []
    ops = {op.key: op for op in problem.operations}
    seen: dict[tuple[str, int], object] = {}
    for a in schedule.assignments:
        key = (a.order, a.index)
        if key in seen:
            out.append(f"operation {key} is scheduled twice")
        seen[key] = a
        op = ops.get(key)
        if op is None:
            out.append(f"operation {key} is not in the problem")
            continue
        if a.line not in op.options:
            out.append(f"operation {key} on line {a.line}, which is not eligible ({sorted(op.options)})")
        elif a.end - a.start != op.options[a.line]:
            out.append(f"operation {key} lasts {a.end - a.start} min on {a.line}, expected {op.options[a.line]}")
        if problem.start_on_grid and a.start % problem.series.step_min:
            out.append(f"operation {key} starts at minute {a.start}, not on the {problem.series.step_min}-min grid")
        if a.start < 0 or a.end > problem.horizon:
            out.append(f"operation {key} [{a.start}, {a.end}) leaves the horizon [0, {problem.horizon})")
    for key in ops:
        if key not in seen:
            out.append(f"operation {key} is not scheduled")
    for o in problem.orders:
        prev = None
        for op in o.operations:
            a = seen.get(op.key)
            if a is None:
                continue
            if prev is None and a.start < o.release:
                out.append(f"order {o.id} starts at {a.start} before its release {o.release}")
            if prev is not None and a.start < prev.end + op.min_lag_after_previous:
                out.append(f"order {o.id} step {op.index} starts at {a.start} before step {prev.index} ends "
                           f"({prev.end}) plus lag {op.min_lag_after_previous}")
            prev = a
    family = {o.id: o.family for o in problem.orders}
    known = {ln.id for ln in problem.lines}
    for line_id, items in schedule.by_line().items():
        if line_id not in known:
            out.append(f"line {line_id} is not in the problem")
            continue
        line = problem.line(line_id)
        windows = problem.calendars.get(line_id)
        for i, a in enumerate(items):
            co = line.changeover_min(family[items[i - 1].order], family[a.order]) if i else 0
            if i and a.start < items[i - 1].end + co:
                out.append(f"line {line_id}: {(a.order, a.index)} starts at {a.start}, overlapping "
                           f"{(items[i - 1].order, items[i - 1].index)} which ends at {items[i - 1].end} "
                           f"(+{co} min changeover)")
            if windows and not any(ws <= a.start - co and a.end <= we for ws, we in windows):
                out.append(f"line {line_id}: {(a.order, a.index)} [{a.start - co}, {a.end}) is outside the "
                           "line's working windows")
    if check_cap and problem.power_cap_kw is not None and schedule.assignments:
        load = np.zeros(problem.horizon + 1)
        for a in schedule.assignments:
            op = ops.get((a.order, a.index))
            if a.line in known and op is not None and a.line in op.options:
                kw = np.asarray(op.kw_minutes(problem.line(a.line), problem.series.step_min))
                s, e = max(0, a.start), min(a.end, a.start + len(kw), problem.horizon + 1)
                if e > s:
                    load[s:e] += kw[s - a.start:e - a.start]
        over = np.flatnonzero(load > problem.power_cap_kw + 1e-6)
        if over.size:
            out.append(f"running power {load[over[0]]:.0f} kW exceeds the site cap {problem.power_cap_kw:.0f} kW "
                       f"at minute {over[0]} ({over.size} minutes in all)")
    return out
