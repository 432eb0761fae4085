"""Solver-neutral scheduling problem and schedule.

Time is an integer number of minutes from the start of the horizon (``Problem.start`` gives the wall
clock). A job-shop or flexible-job-shop instance is the special case with no power, calendars,
changeovers or due dates: orders are jobs, operations are the job's steps, lines are machines.

Plant problems are built from stages (SMT -> assembly -> test -> pack): each order has one operation
per stage, and each operation may run on any eligible line of its stage, with a duration that depends
on the line's rate for the order's product family.
"""
from __future__ import annotations

from dataclasses import dataclass, field


ANY_FAMILY = "*"  # the family last run on a line is unknown (plan repair): assume the longest changeover


@dataclass(frozen=True)
class Line:
    """A production line (or machine).

    Power [kW] by state: ``run_kw`` while producing, ``idle_kw`` while on and waiting, ``standby_kw``
    while off/standby. Switching from standby to on takes ``warmup_min`` minutes and ``warmup_kwh``.
    ``changeover`` maps (family_from, family_to) to (minutes, kWh); a missing pair costs nothing.
    """

    id: str
    stage: str = ""
    run_kw: float = 0.0
    idle_kw: float = 0.0
    standby_kw: float = 0.0
    warmup_min: int = 0
    warmup_kwh: float = 0.0
    changeover: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)

    def changeover_min(self, a: str | None, b: str) -> int:
        """Minutes to change from family ``a`` to ``b``; ``a = ANY_FAMILY`` means unknown: the longest."""
        if a is None or a == b:
            return 0
        if a == ANY_FAMILY:
            return max((m for m, _ in self.changeover.values()), default=0)
        return self.changeover.get((a, b), (0, 0.0))[0]

    def changeover_kwh(self, a: str | None, b: str) -> float:
        if a is None or a == b:
            return 0.0
        if a == ANY_FAMILY:
            return max((e for _, e in self.changeover.values()), default=0.0)
        return self.changeover.get((a, b), (0, 0.0))[1]

    @property
    def breakeven_min(self) -> float:
        """Idle gap [min] above which switching off and warming up again uses less energy than idling."""
        if self.idle_kw <= self.standby_kw:
            return float("inf")
        return max(self.warmup_min, self.warmup_kwh * 60.0 / (self.idle_kw - self.standby_kw))


@dataclass(frozen=True)
class Operation:
    """One step of an order; ``options`` maps line id to duration [min]."""

    order: str
    index: int
    options: dict[str, int]
    min_lag_after_previous: int = 0  # transfer/buffer time from the previous step [min]
    # Power while running [kW] per slot of the series step, counted from the operation's start, per line id;
    # a line without a profile runs at its constant ``run_kw``. Past the profile's end its last value holds.
    power_kw: dict[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, int]:
        return (self.order, self.index)

    def kw_minutes(self, line: Line, step_min: int) -> list[float]:
        """Running power [kW] in each minute of this operation on ``line``."""
        dur = self.options[line.id]
        profile = self.power_kw.get(line.id)
        if not profile:
            return [line.run_kw] * dur
        return [profile[min(i // step_min, len(profile) - 1)] for i in range(dur)]

    def peak_kw(self, line: Line) -> float:
        profile = self.power_kw.get(line.id)
        return max(profile) if profile else line.run_kw


@dataclass(frozen=True)
class Order:
    id: str
    family: str = ""
    quantity: float = 0.0
    release: int = 0  # [min]
    due: int | None = None  # [min]
    weight: float = 1.0  # priority in weighted tardiness
    operations: tuple[Operation, ...] = ()


STEPS_MIN = (15, 30, 60)  # allowed series steps [min]


@dataclass(frozen=True)
class Series:
    """Values per slot of ``step_min`` minutes from the horizon start: price [currency/kWh], grid carbon
    intensity [kgCO2/kWh], on-site PV [kW, mean over the slot]. A minute past the last value takes the last
    value."""

    price: tuple[float, ...] = ()
    carbon: tuple[float, ...] = ()
    pv_kw: tuple[float, ...] = ()
    step_min: int = 60
    currency: str = "CNY"

    def at(self, series: str, minute: int) -> float:
        values = getattr(self, series)
        if not values:
            return 0.0
        return values[min(minute // self.step_min, len(values) - 1)]

    def per_minute(self, series: str, minutes: int) -> list[float]:
        """The series as one value per minute over ``minutes`` (zeros when it is empty)."""
        values = getattr(self, series)
        if not values:
            return [0.0] * minutes
        last, step = len(values) - 1, self.step_min
        return [values[min(t // step, last)] for t in range(minutes)]

    def slots(self, horizon: int) -> int:
        """Slots covering ``horizon`` minutes: ceil(horizon / step_min)."""
        return -(-horizon // self.step_min)


@dataclass(frozen=True)
class Problem:
    name: str
    lines: tuple[Line, ...]
    orders: tuple[Order, ...]
    horizon: int  # [min]
    # Working windows per line [(start, end)], minutes; empty means always available.
    calendars: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    series: Series = field(default_factory=Series)
    power_cap_kw: float | None = None  # site cap on the sum of running lines' power
    start: str = ""  # ISO datetime of minute 0, for outputs
    start_on_grid: bool = False  # operation starts are multiples of ``series.step_min``

    def line(self, line_id: str) -> Line:
        for ln in self.lines:
            if ln.id == line_id:
                return ln
        raise KeyError(line_id)

    def order(self, order_id: str) -> Order:
        for o in self.orders:
            if o.id == order_id:
                return o
        raise KeyError(order_id)

    @property
    def operations(self) -> list[Operation]:
        return [op for o in self.orders for op in o.operations]

    @property
    def has_energy(self) -> bool:
        return any(ln.run_kw or ln.idle_kw for ln in self.lines) or any(op.power_kw for op in self.operations)


@dataclass(frozen=True)
class Assignment:
    order: str
    index: int
    line: str
    start: int
    end: int


@dataclass
class Schedule:
    """Assignments plus, per line, the off windows the plan decides (the rest of a line's calendar is on)."""

    problem: str
    assignments: list[Assignment]
    policy: str = "always_on"  # always_on | planned (on/off from the plan, break-even rule)
    method: str = ""
    lower_bound: float | None = None
    objective: dict[str, float] = field(default_factory=dict)

    def by_line(self) -> dict[str, list[Assignment]]:
        out: dict[str, list[Assignment]] = {}
        for a in sorted(self.assignments, key=lambda a: (a.line, a.start)):
            out.setdefault(a.line, []).append(a)
        return out

    @property
    def makespan(self) -> int:
        return max((a.end for a in self.assignments), default=0)
