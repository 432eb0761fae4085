"""Core nouns as plain dataclasses (see docs/architecture.md for the glossary)."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Boundary(str, Enum):
    """GHG Protocol Corporate Standard ch.3 consolidation approaches."""

    OPERATIONAL_CONTROL = "operational_control"
    FINANCIAL_CONTROL = "financial_control"
    EQUITY_SHARE = "equity_share"


class Methodology(str, Enum):
    GHG_PROTOCOL = "ghg_protocol"  # GHG Protocol Corporate Standard + Scope 2 Guidance
    GBT_32150 = "gbt32150"  # GB/T 32150-2015 + GB/T 32151 sector parts


@dataclass(frozen=True)
class Site:
    """A factory. ``province`` and ``grid_region`` pick the grid factor; the site states both."""

    code: str
    name: str
    country: str = "CN"
    province: str | None = None
    grid_region: str | None = None  # north, northeast, east, central, northwest, south, southwest
    timezone: str = "Asia/Shanghai"
    equity_share: float = 1.0  # fraction [0, 1]
    operational_control: bool = True
    financial_control: bool = True
    methodology: Methodology = Methodology.GHG_PROTOCOL

    def inclusion(self, boundary: Boundary) -> float:
        """Fraction of this site's emissions the organisation reports under ``boundary``."""
        if boundary is Boundary.OPERATIONAL_CONTROL:
            return 1.0 if self.operational_control else 0.0
        if boundary is Boundary.FINANCIAL_CONTROL:
            return 1.0 if self.financial_control else 0.0
        return self.equity_share


@dataclass(frozen=True)
class Organisation:
    code: str
    name: str
    sites: tuple[Site, ...] = field(default_factory=tuple)

    def site(self, code: str) -> Site:
        for s in self.sites:
            if s.code == code:
                return s
        raise KeyError(code)
