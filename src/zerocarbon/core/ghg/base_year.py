"""Base-year recalculation (GHG Protocol Corporate Standard ch.5).

The base year is recalculated when structural changes (acquisition, divestment, outsourcing,
insourcing), changes in calculation method or factors, or discovered errors, alone or together,
change base-year emissions by more than a significance threshold. The standard leaves the
threshold to the company; we default to 5 % (a common policy choice) and record it.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ChangeKind(str, Enum):
    STRUCTURAL = "structural"
    METHOD = "method"
    ERROR = "error"
    ORGANIC_GROWTH = "organic_growth"  # never triggers recalculation (ch.5)


@dataclass(frozen=True)
class BaseYearChange:
    kind: ChangeKind
    delta_t: float  # change in base-year emissions [tCO2e], signed
    reason: str


@dataclass(frozen=True)
class RecalculationDecision:
    recalculate: bool
    cumulative_change_t: float
    relative_change: float
    threshold: float
    recalculated_base_t: float
    reasons: tuple[str, ...]


def assess_recalculation(base_year_total_t: float, changes: list[BaseYearChange],
                         threshold: float = 0.05) -> RecalculationDecision:
    """Decide whether the base year must be recalculated; the cumulative absolute change counts."""
    if base_year_total_t <= 0:
        raise ValueError("base-year total must be positive [tCO2e]")
    relevant = [c for c in changes if c.kind is not ChangeKind.ORGANIC_GROWTH]
    cumulative = sum(abs(c.delta_t) for c in relevant)
    relative = cumulative / base_year_total_t
    recalc = relative > threshold
    new_base = base_year_total_t + sum(c.delta_t for c in relevant) if recalc else base_year_total_t
    return RecalculationDecision(recalc, cumulative, relative, threshold, new_base,
                                 tuple(f"{c.kind.value}: {c.reason} ({c.delta_t:+,.1f} t)" for c in relevant))
