"""Stored scheduler runs: plan a horizon (a day, a week, ...) from uploaded files, keep the comparison with the
conventional plan on real dates, list and read the runs of an organisation.

A stored result (``ScheduleRunInfo.result``) holds:

- ``plans``: every plan of :func:`scheduling.compare` (the conventional EDD and FIFO plans with lines always on,
  the min-makespan plan and the energy-aware plan) with its label, method, line policy, solver status and KPIs;
- ``savings``: per plan against the conventional plan (EDD, lines always on), annualised x ``annualisation.factor``
  (operating days a year / operating days in the horizon) exactly as ``zerocarbon schedule run`` prints them,
  plus the horizon's differences (``*_per_horizon`` keys: over the problem's horizon, whatever its length; runs
  stored with ``*_per_week`` keys for the same figures read back with ``*_per_horizon`` keys) and the peak
  difference [kW]; ``gas``: CO2, or CO2e for a series in CO2e units (the key ``tco2e_per_year`` stays);
- ``annualisation``: factor, operating days a year, horizon days, operating days in the horizon and the sentence
  that states them;
  ``currency``: of the price series and every cost figure;
- ``segments``: for the conventional and the energy-aware plan, each line's time cut into run, changeover, idle,
  standby and off (standby outside the line's working windows) segments, as ``[line, state, start, end, kWh,
  order, operation]`` with start and end local date-times (ISO 8601 with offset) in the site's time zone;
- ``bands``: the price and carbon series (one value per ``step_min`` slot) as runs of equal value
  ``[start, end, value]``;
- ``carbon_series``: None when the problem file's own carbon series was planned on, else the grid
  carbon-intensity series that replaced it (``with_carbon_series``): its name, ``spec`` (``shipped:<name>`` or the
  uploaded file's name), whether it is shipped, publisher (``source``), ``method``, units, the series interval
  used (``used_from``/``used_to`` in the series' clock, ``shift_days`` when the problem's dates were moved into
  the series' year), the file's SHA-256 and the sentence that states all this (``note``).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta, timezone as dt_timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from sqlalchemy.orm import sessionmaker

from zerocarbon.core.schedule.kpi import STATES, line_states
from zerocarbon.core.schedule.model import Problem, Schedule
from zerocarbon.errors import InputError, NotFoundError, Problem as Issue, StateError
from zerocarbon.services import scheduling
from zerocarbon.store import repos
from zerocarbon.store import schedule_runs as store
from zerocarbon.store.tables import ScheduleRunRow

OBJECTIVES = ("cost", "carbon", "idle")
MIN_TIME_LIMIT, MAX_TIME_LIMIT = 1.0, 120.0  # [s] of CP-SAT search a run may ask for
OPERATING_DAYS = scheduling.OPERATING_DAYS_PER_YEAR  # default: a 5-day week, 50 weeks
MIN_OPERATING_DAYS, MAX_OPERATING_DAYS = 1.0, 366.0  # operating days a year a run may state
SHIPPED = "shipped:"
BASELINE, OPTIMISED = "edd_always_on", "energy_aware"
SEGMENT_STATES = ("run", "changeover", "idle", "standby", "off")
SEGMENT_FIELDS = ("line", "state", "start", "end", "kwh", "order", "operation")
DONE = "done"

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ScheduleRunInfo:
    id: int
    organisation: str
    name: str
    created_by: str
    created_at: datetime  # UTC
    problem_file: str
    problem_sha256: str
    orders_file: str | None
    orders_sha256: str | None
    time_limit_s: float
    objective: str
    status: str
    summary: dict
    result: dict | None = None  # None in lists


@dataclass(frozen=True)
class RunPage:
    total: int
    limit: int
    offset: int
    runs: list[ScheduleRunInfo]


LEGACY_SUFFIX, HORIZON_SUFFIX = "_per_week", "_per_horizon"


def _horizon_keys(saving: dict) -> dict:
    """A saving with the horizon's differences under ``*_per_horizon``: runs stored before the keys were named
    per horizon call them ``*_per_week`` although they are over the horizon, whatever its length."""
    if not isinstance(saving, dict) or not any(k.endswith(LEGACY_SUFFIX) for k in saving):
        return saving
    return {(k[:-len(LEGACY_SUFFIX)] + HORIZON_SUFFIX if k.endswith(LEGACY_SUFFIX) else k): v
            for k, v in saving.items()}


def gas(series: dict | None) -> str:
    """The gas of a run's carbon figures: ``CO2e`` when the grid carbon-intensity series it planned on is in
    CO2e units, else ``CO2`` (the problem file's own carbon series is kgCO2/kWh). Savings keep the key
    ``tco2e_per_year`` whichever it is."""
    return "CO2e" if series and "CO2e" in str(series.get("unit", "")) else "CO2"


def _read_back(summary: dict | None, result: dict | None) -> tuple[dict | None, dict | None]:
    if summary and isinstance(summary.get("savings"), dict):
        summary = dict(summary, savings=_horizon_keys(summary["savings"]))
    if summary is not None and "gas" not in summary:
        summary = dict(summary, gas="CO2")  # stored before the gas was: its series' unit is only in the result
    if result and isinstance(result.get("savings"), dict):
        result = dict(result, savings={k: _horizon_keys(v) for k, v in result["savings"].items()})
    if result is not None and "gas" not in result:
        result = dict(result, gas=gas(result.get("carbon_series")))
    return summary, result


def _info(row: ScheduleRunRow, org_code: str, with_result: bool) -> ScheduleRunInfo:
    summary, result = _read_back(row.summary, row.result if with_result else None)
    return ScheduleRunInfo(row.id, org_code, row.name, row.created_by, row.created_at, row.problem_file,
                           row.problem_sha256, row.orders_file, row.orders_sha256, row.time_limit_s, row.objective,
                           row.status, summary, result)


# -- the result: plans, savings, segments on real dates, bands -------------------------------------------------
def _clock(problem: Problem, source: str, timezone: str | None) -> Callable[[int], str]:
    """Minute of the horizon -> local ISO date-time in ``timezone`` (the problem's own offset when None)."""
    try:
        start = datetime.fromisoformat(problem.start)
    except (TypeError, ValueError):
        raise InputError([Issue(source, None, "start", f"'{problem.start}' is not an ISO date-time such as "
                                                       "2026-08-03T00:00+08:00; the plan needs it to be shown "
                                                       "on real dates")]) from None
    zone = None
    if timezone:
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError([Issue("organisation", None, "timezone", f"unknown time zone '{timezone}'")]) from None
    if start.tzinfo is None:
        start = start.replace(tzinfo=zone or ZoneInfo("UTC"))
    zone = zone or start.tzinfo
    # Minutes are elapsed time: counted on UTC, so a daylight-saving change inside the horizon moves the wall clock.
    origin = start.astimezone(dt_timezone.utc)

    def stamp(minute: int) -> str:
        return (origin + timedelta(minutes=int(minute))).astimezone(zone).isoformat(timespec="minutes")

    return stamp


def _segments(problem: Problem, schedule: Schedule, policy: str, stamp) -> list[list]:
    """Each line's horizon cut where its state, or the order it works on, changes."""
    out: list[list] = []
    family = {o.id: o.family for o in problem.orders}
    code_of = {STATES.index("run"): 0, STATES.index("changeover"): 1, STATES.index("idle"): 2,
               STATES.index("standby"): 3}
    by_line = schedule.by_line()
    for li, line in enumerate(problem.lines):
        kw, state = line_states(problem, schedule, line, policy)
        horizon = len(state)
        code = np.full(horizon, 3, dtype=np.int64)
        for s, c in code_of.items():
            code[state == s] = c
        windows = problem.calendars.get(line.id)
        if windows:
            working = np.zeros(horizon, dtype=bool)
            for ws, we in windows:
                working[max(0, ws):max(0, min(horizon, we))] = True
            code[(code == 3) & ~working] = 4
        items = by_line.get(line.id, [])
        tag = np.zeros(horizon, dtype=np.int64)  # 1 + index of the operation a run or changeover minute serves
        prev = None
        for k, a in enumerate(items):
            co = line.changeover_min(prev, family[a.order])
            tag[max(0, a.start - co):a.end] = k + 1
            prev = family[a.order]
        tag[code > 1] = 0
        key = code * (len(items) + 1) + tag
        cuts = (np.flatnonzero(np.diff(key)) + 1).tolist()
        for s, e in zip([0, *cuts], [*cuts, horizon]):
            a = items[tag[s] - 1] if tag[s] else None
            out.append([li, SEGMENT_STATES[code[s]], stamp(s), stamp(e), round(float(kw[s:e].sum()) / 60.0, 3),
                        a.order if a else None, a.index if a else None])
    return out


def _bands(values: tuple[float, ...], horizon: int, stamp, step: int = 60) -> list[list]:
    """Values per ``step``-minute slot as runs of equal value over the horizon: [start, end, value]."""
    out: list[list] = []
    slots = -(-horizon // step)
    for h in range(min(slots, len(values))):
        v = float(values[h])
        if out and out[-1][2] == v:
            out[-1][1] = min(horizon, (h + 1) * step)
        else:
            out.append([h * step, min(horizon, (h + 1) * step), v])
    return [[stamp(s), stamp(e), v] for s, e, v in out]


def comparison_result(cmp: scheduling.Comparison, timezone: str | None = None, source: str = "problem") -> dict:
    """The stored form of a comparison (see the module's description)."""
    problem = cmp.problem
    stamp = _clock(problem, source, timezone)
    base = cmp.runs[cmp.baseline].kpis
    plans, savings = {}, {}
    for key, run in cmp.runs.items():
        plans[key] = {"label": run.label, "method": run.schedule.method, "policy": run.schedule.policy,
                      "status": run.schedule.objective.get("status"), "kpis": run.kpis.as_dict()}
        if key != cmp.baseline:
            k = run.kpis
            savings[key] = dict(cmp.savings(key), peak_kw=base.peak_kw - k.peak_kw,
                                grid_kwh_per_horizon=base.grid_kwh - k.grid_kwh,
                                co2_kg_per_horizon=base.co2_kg - k.co2_kg,
                                cost_per_horizon=base.energy_cost - k.energy_cost)
    horizon = max(problem.horizon, *(r.schedule.makespan for r in cmp.runs.values()))
    zone = timezone or stamp(0)[16:]
    return {
        "problem": problem.name, "start": stamp(0), "end": stamp(horizon), "timezone": zone,
        "horizon_min": horizon, "orders": len(problem.orders),
        "lines": [{"id": ln.id, "stage": ln.stage} for ln in problem.lines],
        "baseline": cmp.baseline, "optimised": OPTIMISED,
        "annualisation": cmp.annualisation.as_dict(), "currency": cmp.currency,
        "plans": plans, "savings": savings,
        "segment_fields": list(SEGMENT_FIELDS), "segment_states": list(SEGMENT_STATES),
        "segments": {key: _segments(problem, cmp.runs[key].schedule, cmp.runs[key].schedule.policy, stamp)
                     for key in (cmp.baseline, OPTIMISED) if key in cmp.runs},
        "bands": {"price": _bands(problem.series.price, horizon, stamp, problem.series.step_min),
                  "price_unit": f"{cmp.currency}/kWh", "step_min": problem.series.step_min,
                  "carbon": _bands(problem.series.carbon, horizon, stamp, problem.series.step_min),
                  "carbon_unit": "kgCO2/kWh"},
        "carbon_series": None,
    }


def _summary(result: dict) -> dict:
    best = result["plans"].get(OPTIMISED, {})
    series = result.get("carbon_series")
    return {"problem": result["problem"], "start": result["start"], "end": result["end"],
            "timezone": result["timezone"], "orders": result["orders"], "lines": len(result["lines"]),
            "solver_status": best.get("status"), "on_time_rate": best.get("kpis", {}).get("on_time_rate"),
            "savings": result["savings"].get(OPTIMISED, {}), "annualisation": result["annualisation"],
            "currency": result["currency"], "carbon_series": series["spec"] if series else None,
            "gas": gas(series)}


# -- grid carbon-intensity series ------------------------------------------------------------------------------
def shipped_spec(name: str) -> str:
    """``shipped:<name>`` for a shipped series name given with or without the prefix. A name from a form or a
    request is only ever looked up among the shipped series, never read as a server path
    (``carbon_series.series_spec``, the lookup the command line shares)."""
    from zerocarbon.services.carbon_series import series_spec

    return series_spec(name, paths=False)


@lru_cache(maxsize=4)
def _shipped_rows(files: tuple[tuple[str, float], ...]) -> tuple[dict, ...]:
    from zerocarbon.services.carbon_series import series_summary

    return tuple(series_summary(SHIPPED + Path(f).stem) for f, _ in files)


def shipped_series() -> list[dict]:
    """The shipped grid carbon-intensity series a run may plan on: per series its name, ``spec``
    (``shipped:<name>``), period, step, units, publisher (``source``), method and value statistics [kg per kWh]
    (``carbon_series.summary``); read once per set of files."""
    from zerocarbon.io.intensity_series import shipped_series as files

    found = files()
    rows = _shipped_rows(tuple((str(p), p.stat().st_mtime) for p in found.values()))
    return [dict(r, spec=SHIPPED + r["name"]) for r in rows]


def _apply_series(problem: Problem, spec: str | Path) -> tuple[Problem, dict]:
    """``problem`` on the series of ``spec`` (``shipped:<name>`` or a CSV path, named by its file name in every
    problem) and the stored description of what was used; InputError when the series does not read or does not
    cover the problem's horizon."""
    from zerocarbon.core.energy.intensity import SeriesWindowError
    from zerocarbon.io.intensity_series import resolve
    from zerocarbon.services.carbon_series import with_carbon_series

    text = str(spec)
    shipped = text.startswith(SHIPPED)
    path = resolve(text)
    label = text if shipped else path.name
    try:
        applied = with_carbon_series(problem, text)
    except SeriesWindowError as exc:
        raise InputError([Issue(label, None, exc.column or "start", str(exc))]) from None
    s, w = applied.series, applied.window
    return applied.problem, {
        "name": s.name or path.stem, "spec": label, "shipped": shipped, "source": s.source, "method": s.method,
        "unit": s.unit, "source_unit": s.source_unit, "step_min": s.step_min,
        "series_start": s.start.isoformat(), "series_end": s.end.isoformat(),
        "used_from": w.used_from.isoformat(), "used_to": w.used_to.isoformat(), "shift_days": w.shift_days,
        "window_step_min": w.step_min, "sha256": _sha256(path), "note": applied.note}


# -- use cases -------------------------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _site_timezone(sessions: sessionmaker, org_code: str, site: str | None) -> str | None:
    with sessions.begin() as s:
        _, org = repos.load_organisation(s, org_code)
    if site is not None:
        found = next((x for x in org.sites if x.code == site), None)
        if found is None:
            raise InputError([Issue("site", None, "site", f"'{site}' is not a site of {org_code}; its sites: "
                                                          f"{', '.join(x.code for x in org.sites) or 'none'}")])
        return found.timezone
    return org.sites[0].timezone if org.sites else None


def _read(problem_path: Path, orders_path: Path | None) -> Problem:
    """The problem, or an InputError naming the file also when its JSON has the wrong shape (a list where an
    object belongs, text where a number does), which the reader does not check field by field."""
    try:
        return scheduling.read_problem(problem_path, orders_path)
    except InputError:
        raise
    except (TypeError, AttributeError, KeyError, ValueError, IndexError) as exc:
        raise InputError([Issue(problem_path.name, None, None, f"not a plant problem file ({type(exc).__name__}: "
                                                                f"{exc}); start from `zerocarbon schedule example`")]
                         ) from None


def check_settings(time_limit: float, objective: str,
                   operating_days: float = scheduling.OPERATING_DAYS_PER_YEAR) -> None:
    problems = []
    if not MIN_OPERATING_DAYS <= operating_days <= MAX_OPERATING_DAYS:
        problems.append(Issue("settings", None, "operating_days", f"{operating_days:g} days a year is outside "
                                                                  f"{MIN_OPERATING_DAYS:g}..{MAX_OPERATING_DAYS:g}"))
    if not MIN_TIME_LIMIT <= time_limit <= MAX_TIME_LIMIT:
        problems.append(Issue("settings", None, "time_limit", f"{time_limit} s is outside "
                                                              f"{MIN_TIME_LIMIT:g}..{MAX_TIME_LIMIT:g} s"))
    if objective not in OBJECTIVES:
        problems.append(Issue("settings", None, "objective", f"'{objective}' is not one of {', '.join(OBJECTIVES)}"))
    if problems:
        raise InputError(problems)


def record_run(sessions: sessionmaker, org_code: str, cmp: scheduling.Comparison, *, actor: str,
               problem_file: str, problem_sha256: str, time_limit: float, objective: str,
               orders_file: str | None = None, orders_sha256: str | None = None, name: str | None = None,
               site: str | None = None, result: dict | None = None) -> ScheduleRunInfo:
    """Store a comparison already computed (with its input files' names and hashes) and audit it; ``result`` is
    its stored form when already made (``comparison_result``)."""
    if result is None:
        result = comparison_result(cmp, _site_timezone(sessions, org_code, site), problem_file)
    summary = _summary(result)
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        row = store.add(s, ScheduleRunRow(
            organisation_id=org_id, name=(name or cmp.problem.name)[:256], created_by=actor, created_at=repos.now(),
            problem_file=problem_file[:512], problem_sha256=problem_sha256,
            orders_file=orders_file[:512] if orders_file else None, orders_sha256=orders_sha256,
            time_limit_s=float(time_limit), objective=objective, status=DONE, summary=summary, result=result))
        saved = summary["savings"]
        repos.audit(s, actor, "schedule.run", f"schedule:{row.id}", org_id=org_id, problem=problem_file,
                    problem_sha256=problem_sha256, orders=orders_file, orders_sha256=orders_sha256,
                    time_limit_s=float(time_limit), objective=objective, solver_status=summary["solver_status"],
                    grid_mwh_per_year=saved.get("grid_mwh_per_year"), tco2e_per_year=saved.get("tco2e_per_year"),
                    operating_days=result["annualisation"].get("operating_days"),
                    carbon_series=summary["carbon_series"],
                    carbon_series_sha256=(result.get("carbon_series") or {}).get("sha256"))
        return _info(row, org_code, True)


PHASES = ("read", "plan energy-aware", "plan conventional", "compare", "store")


def _prepare(sessions: sessionmaker, org_code: str, problem_path: Path, orders_path: Path | None, *,
             time_limit: float, objective: str, site: str | None, operating_days: float,
             carbon_series: str | Path | None) -> tuple[Problem, dict | None]:
    check_settings(time_limit, objective, operating_days)
    problem = _read(problem_path, orders_path)
    _clock(problem, problem_path.name, None)
    used = None
    if carbon_series:
        problem, used = _apply_series(problem, carbon_series)
    _site_timezone(sessions, org_code, site)
    return problem, used


def check_input(sessions: sessionmaker, org_code: str, problem_path: str | Path,
                orders_path: str | Path | None = None, *, time_limit: float = 10.0, objective: str = "cost",
                site: str | None = None, operating_days: float = scheduling.OPERATING_DAYS_PER_YEAR,
                carbon_series: str | Path | None = None) -> Problem:
    """The problem a run would plan (on ``carbon_series`` when given), or an InputError (file, row, column,
    reason) for bad settings, a file that does not read, a problem without a start date, a carbon series that
    does not read or does not cover the problem's horizon, or an unknown organisation or site; nothing is
    solved."""
    return _prepare(sessions, org_code, Path(problem_path), Path(orders_path) if orders_path else None,
                    time_limit=time_limit, objective=objective, site=site, operating_days=operating_days,
                    carbon_series=carbon_series)[0]


def run_plan(sessions: sessionmaker, org_code: str, problem_path: str | Path, orders_path: str | Path | None = None,
             *, actor: str, time_limit: float = 10.0, objective: str = "cost", name: str | None = None,
             site: str | None = None, workers: int = 2, seed: int = 0, progress: Progress | None = None,
             cancelled: Callable[[], bool] | None = None,
             operating_days: float = scheduling.OPERATING_DAYS_PER_YEAR,
             carbon_series: str | Path | None = None) -> ScheduleRunInfo:
    """Plan a problem file (and an orders CSV/XLSX replacing its orders) against the conventional plans, store
    the comparison and audit the run.

    ``time_limit`` [s] is CP-SAT's search time for the energy-aware plan (``scheduling.compare`` says how a run
    uses it), ``objective`` what it lowers once every order is on time (cost, carbon or idle energy). Dates are
    shown in the time zone of ``site`` (default: the organisation's first site). Savings are annualised x
    ``operating_days`` (a year) / operating days in the horizon. ``carbon_series`` (``shipped:<name>`` or the path
    of a series CSV) replaces the problem's grid carbon intensity before planning (``carbon_series.with_carbon_series``);
    the stored result names the series, its publisher, method and the interval used.

    A run goes through PHASES: read, plan energy-aware, plan conventional, compare, store. ``progress(done,
    total, message)`` hears each phase as it starts (``done`` = its index, ``total`` = 5, ``message`` = its name)
    and the solver's progress inside a planning phase; ``cancelled()`` is asked before each phase after reading:
    when it answers true the run stops with a StateError and nothing is stored. A solve under way is not
    interrupted: it finishes its phase first. Bad input raises InputError (file, row, column, reason) before
    anything is solved or stored.
    """
    problem_path = Path(problem_path)
    orders_path = Path(orders_path) if orders_path else None
    report = progress or (lambda done, total, message: None)
    total = len(PHASES)
    report(0, total, "read")
    problem, series = _prepare(sessions, org_code, problem_path, orders_path, time_limit=time_limit,
                               objective=objective, site=site, operating_days=operating_days,
                               carbon_series=carbon_series)
    at = {"phase": 0}

    def enter(phase: str) -> None:
        if cancelled is not None and cancelled():
            raise StateError("the schedule run was cancelled; nothing was stored")
        at["phase"] = PHASES.index(phase)
        report(at["phase"], total, phase)

    def search(step: str, incumbent: float, bound: float, seconds: float) -> None:
        report(at["phase"], total, f"{PHASES[at['phase']]}: CP-SAT {step}, incumbent {incumbent:,.0f}, "
                                   f"bound {bound:,.0f} ({seconds:.1f} s)")

    cmp = scheduling.compare(problem, time_limit=time_limit, workers=workers, secondary=objective, seed=seed,
                             progress=search, phase=enter, operating_days=operating_days)
    enter("compare")
    result = comparison_result(cmp, _site_timezone(sessions, org_code, site), problem_path.name)
    result["carbon_series"] = series
    result["gas"] = gas(series)
    if series:
        result["bands"]["carbon_unit"] = series["unit"]
    enter("store")
    info = record_run(sessions, org_code, cmp, actor=actor, problem_file=problem_path.name,
                      problem_sha256=_sha256(problem_path), time_limit=time_limit, objective=objective,
                      orders_file=orders_path.name if orders_path else None,
                      orders_sha256=_sha256(orders_path) if orders_path else None, name=name,
                      site=site, result=result)
    report(total, total, "done")
    return info


def list_runs(sessions: sessionmaker, org_code: str, limit: int = 50, offset: int = 0) -> RunPage:
    """The organisation's runs, newest first, a page at a time, without their results."""
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        total, rows = store.page(s, org_id, limit, offset)
        return RunPage(total, limit, offset, [_info(r, org_code, False) for r in rows])


def get_run(sessions: sessionmaker, org_code: str, run_id: int) -> ScheduleRunInfo:
    """One run with its result; a run of another organisation is not found."""
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        row = store.get(s, org_id, run_id)
        if row is None:
            raise NotFoundError(f"no schedule run {run_id} in {org_code}")
        return _info(row, org_code, True)
