"""Use cases of scheduling: solve a plant week against the conventional baselines, report savings."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from zerocarbon.core.schedule.check import violations
from zerocarbon.core.schedule.kpi import Kpis, compute_kpis
from zerocarbon.core.schedule.model import Problem, Schedule
from zerocarbon.io.schedule_files import (find_instance, gantt_html, gantt_png, instance_bounds, read_instance,
                                         read_plant_problem,
                                         schedule_json, shipped_instances, write_schedule_csv)
from zerocarbon.solvers.schedule.cpsat import SolveOptions, solve
from zerocarbon.solvers.schedule.dispatch import dispatch
from zerocarbon.solvers.schedule.plant_lns import solve_energy_aware
from zerocarbon.solvers.schedule.rolling import solve_rolling

OPERATING_DAYS_PER_YEAR = 250.0  # default: a 5-day week, 50 weeks a year (assumption, stated with every figure)


@dataclass(frozen=True)
class Annualisation:
    """Savings over the horizon times ``factor`` = operating days a year / operating days in the horizon.

    An operating day of the horizon is a calendar day (midnight to midnight in the UTC offset of
    ``Problem.start``) on which at least one line has a working window; a day the horizon only partly covers
    counts for that part (a 1-day horizon from 16:00 to 16:00 is one day, not two). Every day of the horizon
    (horizon_min / 1440) is one when a line has no calendar, since such a line is always available.
    """

    operating_days: float
    horizon_days: float
    horizon_operating_days: float | None = None  # None: every day of the horizon

    @property
    def working_days(self) -> float:
        return self.horizon_days if self.horizon_operating_days is None else self.horizon_operating_days

    @property
    def factor(self) -> float:
        return self.operating_days / self.working_days if self.working_days else 0.0

    @property
    def text(self) -> str:
        return (f"annualised x {self.factor:.1f} ({self.operating_days:g} operating days a year / "
                f"{self.working_days:g} operating days in the {self.horizon_days:g}-day horizon)")

    def as_dict(self) -> dict:
        return {"factor": self.factor, "operating_days": self.operating_days, "horizon_days": self.horizon_days,
                "horizon_operating_days": self.working_days, "text": self.text}


def _day_bounds(problem: Problem) -> list[tuple[int, int]]:
    """[start, end) minutes of each calendar day the horizon touches, midnights taken in the offset of
    ``Problem.start`` (minute 0 is a midnight when the start is not given)."""
    from datetime import datetime, timedelta

    first = 0
    if problem.start:
        t0 = datetime.fromisoformat(problem.start)
        midnight = t0.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        first = int((midnight - t0).total_seconds() // 60) % 1440
    edges = [0] + list(range(first or 1440, problem.horizon, 1440)) + [problem.horizon]
    return [(a, b) for a, b in zip(edges, edges[1:]) if b > a]


def horizon_operating_days(problem: Problem) -> float | None:
    """Calendar days of the horizon on which at least one line has a working window (a partly covered day by
    the part covered); None when a line has no calendar (it is always available, so every day is one)."""
    if not problem.lines or any(not problem.calendars.get(ln.id) for ln in problem.lines):
        return None
    windows = [w for ln in problem.lines for w in problem.calendars[ln.id]]
    return round(sum((b - a) / 1440 for a, b in _day_bounds(problem)
                     if any(ws < b and we > a for ws, we in windows)), 4)


def annualisation(problem: Problem, operating_days: float = OPERATING_DAYS_PER_YEAR) -> Annualisation:
    if not operating_days > 0:
        raise ValueError(f"operating days per year must be positive, not {operating_days}")
    return Annualisation(float(operating_days), problem.horizon / 1440.0, horizon_operating_days(problem))


@dataclass
class Run:
    label: str
    schedule: Schedule
    kpis: Kpis


@dataclass
class Comparison:
    problem: Problem
    runs: dict[str, Run] = field(default_factory=dict)
    baseline: str = "edd_always_on"
    operating_days: float = OPERATING_DAYS_PER_YEAR

    @property
    def annualisation(self) -> Annualisation:
        return annualisation(self.problem, self.operating_days)

    @property
    def currency(self) -> str:
        return self.problem.series.currency

    def savings(self, label: str) -> dict[str, float]:
        """Annualised savings of ``label`` against the baseline (positive = saved), x ``annualisation.factor``."""
        b, r = self.runs[self.baseline].kpis, self.runs[label].kpis
        weeks = self.annualisation.factor
        return {
            "grid_mwh_per_year": (b.grid_kwh - r.grid_kwh) * weeks / 1000,
            "total_mwh_per_year": (b.total_kwh - r.total_kwh) * weeks / 1000,
            "tco2e_per_year": (b.co2_kg - r.co2_kg) * weeks / 1000,
            "cost_per_year": (b.energy_cost - r.energy_cost) * weeks,
            "energy_cost_change": r.energy_cost / b.energy_cost - 1 if b.energy_cost else 0.0,
            "co2_change": r.co2_kg / b.co2_kg - 1 if b.co2_kg else 0.0,
            "idle_change": (r.energy_kwh["idle"] / b.energy_kwh["idle"] - 1) if b.energy_kwh["idle"] else 0.0,
        }


def _checked(problem: Problem, label: str, schedule: Schedule, policy: str) -> Run:
    bad = violations(problem, schedule)
    if bad:
        raise RuntimeError(f"{label}: the schedule breaks {len(bad)} rule(s): " + "; ".join(bad[:5]))
    schedule.policy = policy
    return Run(label, schedule, compute_kpis(problem, schedule, policy))


def compare(problem: Problem, time_limit: float = 60.0, workers: int = 2, secondary: str = "cost",
            chunk: int = 30, seed: int = 0, progress=None, include_makespan: bool = True,
            phase: Callable[[str], None] | None = None,
            operating_days: float = OPERATING_DAYS_PER_YEAR) -> Comparison:
    """The energy-aware plan and the conventional plans, all validated, KPIs recomputed from each.

    ``time_limit`` [s] is the search time for the energy-aware plan. With ``secondary`` cost or carbon
    (``plant_lns.solve_energy_aware``): up to half for dispatching plans that keep lines out of the dearest
    slots of the price (or carbon) series, a quarter (more when that search converges early) for CP-SAT
    (its two phases, on time first then ``secondary``, share it 35 % and the rest; a week of more than
    ``chunk`` orders in chunks, each an equal share of the time left, and only when that quarter gives each
    chunk at least 1 s, else the search takes it; a week of at most ``chunk`` orders is one model, solved
    first with 70 % of the time); the best of those
    and of the plain dispatching plans (EDD with lines switched off past break-even among them), by weighted
    tardiness then the recomputed KPI, is then improved by large-neighbourhood search for the time left and
    is never worse than any of them. With ``idle`` the CP-SAT plan takes the whole time. The min-makespan
    comparison plan gets a third of ``time_limit`` more, in chunks of its own (always rolling, at least 1 s
    each). So a run takes about 4/3 of ``time_limit``, more when there are many chunks, plus model building
    and checks. Measured on the 220-order laptop week with 10 s, 2 workers, no makespan plan: 10.4 s.

    ``phase(name)`` is called before ``"plan energy-aware"`` and before ``"plan conventional"`` (the dispatching
    plans and the min-makespan plan); an exception it raises stops the comparison there.

    With ``problem.start_on_grid``, a single line or a flow shop (``slots.applies``) and ``secondary`` cost or
    carbon, the energy-aware plan comes from the exact time-indexed slot model (``solvers/schedule/slots.py``)
    instead of the interval model. Savings are annualised x ``operating_days`` / operating days in the horizon
    (:func:`annualisation`).
    """
    from zerocarbon.solvers.schedule import slots

    annualisation(problem, operating_days)  # a bad value is refused before anything is solved
    announce = phase or (lambda name: None)
    announce("plan energy-aware")
    opt = SolveOptions(time_limit=time_limit, workers=workers, seed=seed, objective="lexicographic",
                       secondary=secondary, progress=progress)
    if problem.start_on_grid and secondary in ("cost", "carbon") and slots.applies(problem) is None:
        plan = slots.solve_slots(problem, opt)
        label = f"time-indexed slot model, on-time then {secondary}, planned on/off"
    elif secondary in ("cost", "carbon") and problem.has_energy:
        plan = solve_energy_aware(problem, opt, chunk=chunk)
        label = f"on time then {secondary}: dear-slot dispatch, CP-SAT, neighbourhood search; planned on/off"
    else:
        plan = solve_rolling(problem, opt, chunk=chunk) if len(problem.orders) > chunk else solve(problem, opt)
        label = f"CP-SAT on-time then {secondary}, planned on/off"
    energy_aware = _checked(problem, label, plan, "planned")
    announce("plan conventional")
    cmp = Comparison(problem, operating_days=operating_days)
    cmp.runs["edd_always_on"] = _checked(problem, "EDD, lines always on", dispatch(problem, "edd"), "always_on")
    cmp.runs["fifo_always_on"] = _checked(problem, "FIFO, lines always on", dispatch(problem, "fifo"), "always_on")
    if include_makespan:
        ms = solve_rolling(problem, SolveOptions(time_limit=time_limit / 3, workers=workers, seed=seed,
                                                 objective="makespan", progress=progress), chunk=chunk)
        cmp.runs["makespan_always_on"] = _checked(problem, "CP-SAT makespan, lines always on", ms, "always_on")
    cmp.runs["energy_aware"] = energy_aware
    return cmp


def write_outputs(cmp: Comparison, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    best = cmp.runs["energy_aware"]
    paths["schedule_csv"] = out / "schedule.csv"
    write_schedule_csv(best.schedule, cmp.problem, paths["schedule_csv"])
    paths["schedule_json"] = out / "schedule.json"
    paths["schedule_json"].write_text(json.dumps(schedule_json(best.schedule), indent=1))
    paths["gantt_html"] = out / "gantt.html"
    paths["gantt_html"].write_text(gantt_html(best.schedule, cmp.problem, f"{cmp.problem.name}: energy-aware plan"),
                                   encoding="utf-8")
    paths["gantt_png"] = out / "gantt.png"
    gantt_png(best.schedule, cmp.problem, f"{cmp.problem.name}: energy-aware plan", paths["gantt_png"])
    paths["kpis_json"] = out / "schedule_kpis.json"
    paths["kpis_json"].write_text(json.dumps(
        {"problem": cmp.problem.name, "baseline": cmp.baseline,
         "runs": {k: {"label": r.label, "method": r.schedule.method, "kpis": r.kpis.as_dict()} for k, r in cmp.runs.items()},
         "savings_vs_baseline": {k: cmp.savings(k) for k in cmp.runs if k != cmp.baseline},
         "currency": cmp.currency, "annualisation": cmp.annualisation.as_dict()}, indent=2, default=float))
    return paths


def read_problem(path: str | Path, orders: str | Path | None = None) -> Problem:
    """A plant problem file (JSON), with its orders replaced by an orders CSV/XLSX when given."""
    return read_plant_problem(path, orders)


def write_example(out: Path, large: bool = False) -> dict:
    """Write the demo laptop-plant week (or the 43-line plant) as a problem file; returns what was written."""
    from zerocarbon.services.demo_plant import large_plant_week, laptop_week

    spec = large_plant_week() if large else laptop_week()
    Path(out).write_text(json.dumps(spec, indent=1, ensure_ascii=False), encoding="utf-8")
    return spec


def solve_shop(problem: Problem, time_limit: float = 60.0, workers: int = 2, seed: int = 0) -> Schedule:
    """Makespan of a (flexible) job shop: best dispatching rule, tabu search (classical job shop), CP-SAT with
    the incumbent as hint, then CP-SAT large-neighbourhood search; ``method`` names the phases that improved."""
    from zerocarbon.solvers.schedule.shop import solve_shop_engine

    s = solve_shop_engine(problem, time_limit=time_limit, workers=workers, seed=seed)
    s.problem = problem.name
    return s


def solve_benchmark(instance: str | Path, format: str | None = None, time_limit: float = 60.0, workers: int = 2,
                    seed: int = 0) -> dict:
    """Solve a job-shop benchmark given by file path or shipped name (``ta01``, ``mk03``) for makespan.

    Returns the schedule as a JSON-ready dict: makespan, the solver's lower bound, the operations, the
    instance, its format, whether the validator accepts the plan and, for a shipped instance,
    ``best_known`` (published best-known makespan and lower bound with their sources) and
    ``gap = (makespan - bks) / bks``.
    """
    t0 = time.perf_counter()
    path, fmt = find_instance(instance, format)
    problem = read_instance(path, fmt)
    schedule = solve_shop(problem, time_limit=time_limit, workers=workers, seed=seed)
    out = schedule_json(schedule)
    out.update({"instance": path.stem, "file": str(path), "format": fmt, "time_limit_s": time_limit,
                "workers": workers, "valid": not violations(problem, schedule),
                "status": schedule.objective.get("status"), "seconds": round(time.perf_counter() - t0, 2)})
    shipped = shipped_instances().get(path.stem.lower())
    known = instance_bounds().get(path.stem.lower())
    if known and shipped and shipped[0].resolve() == path.resolve():
        out["best_known"] = known
        out["gap"] = (schedule.makespan - known["bks"]) / known["bks"]
    return out


BENCH_SUMMARY = ("instance", "makespan", "best_known", "gap", "lower_bound", "status", "valid", "seconds")


def benchmark_summary(result: dict) -> dict:
    """The headline of :func:`solve_benchmark`'s result, without the operations: instance, makespan, the
    published best-known makespan (None for an instance that is not shipped), the gap to it, the solver's
    proven lower bound, the solver status, whether the validator accepts the plan and the wall time [s]."""
    known = result.get("best_known")
    return {"instance": result["instance"], "makespan": result["makespan"],
            "best_known": known["bks"] if known else None, "gap": result.get("gap"),
            "lower_bound": result["lower_bound"], "status": result["status"], "valid": result["valid"],
            "seconds": result["seconds"]}
