"""Core nouns as plain dataclasses (see docs/architecture.md for the glossary)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from zerocarbon.errors import NotFoundError


class Boundary(str, Enum):
    """GHG Protocol Corporate Standard ch.3 consolidation approaches."""

    OPERATIONAL_CONTROL = "operational_control"
    FINANCIAL_CONTROL = "financial_control"
    EQUITY_SHARE = "equity_share"


class Methodology(str, Enum):
    """The standard a site reports under; it decides the lines of the site's report (docs/methodology.md §10).

    Both standards use the same formulas and gases (CO2, CH4, N2O, HFCs, PFCs, SF6, NF3), so the ledger is
    the same; they differ in how it is reported:

    - ``ghg_protocol``: GHG Protocol Corporate Standard + Scope 2 Guidance: Scope 1 by source category,
      Scope 2 twice (location-based and market-based, dual reporting).
    - ``gbt32150``: GB/T 32150-2015 + GB/T 32151 sector parts: the standard's emission categories
      (化石燃料燃烧排放, 过程排放, 购入的电力/热力产生的排放), electricity with the grid-average factor only
      (the standard has no market-based method, so contractual instruments do not enter its report).
    """

    GHG_PROTOCOL = "ghg_protocol"
    GBT_32150 = "gbt32150"

    @property
    def scope2_methods(self) -> tuple[str, ...]:
        """Scope 2 methods this standard reports."""
        return ("location", "market") if self is Methodology.GHG_PROTOCOL else ("location",)

    def reporting_line(self, scope: str, category: str, method: str) -> str | None:
        """Report line of a ledger row (scope, category, Scope 2 method), or None if the standard leaves it out.

        Raises ValueError for a (scope, category) the standard has no line for, so a new ledger category
        cannot drop out of a report unnoticed.
        """
        if method not in ("both",) + self.scope2_methods:
            return None
        try:
            line = REPORTING_LINES[self][(scope, category)]
        except KeyError:
            raise ValueError(f"{self.value} has no report line for scope {scope} category '{category}'") from None
        return line.format(method=method)


# Ledger (scope, category) -> report line. GB/T 32150-2015 §3 defines process emissions (过程排放) as
# emissions from physical or chemical changes other than fuel combustion, so refrigerant leakage and
# F-gas process emissions fall there; purchased electricity and heat are separate categories.
REPORTING_LINES: dict[Methodology, dict[tuple[str, str], str]] = {
    Methodology.GHG_PROTOCOL: {
        ("1", "stationary_combustion"): "Scope 1: stationary combustion",
        ("1", "mobile_combustion"): "Scope 1: mobile combustion",
        ("1", "fugitive_refrigerants"): "Scope 1: fugitive (refrigerants)",
        ("1", "process_fgases"): "Scope 1: process (fluorinated gases)",
        ("2", "purchased_electricity"): "Scope 2 ({method}-based): purchased electricity",
        ("2", "purchased_heat_steam"): "Scope 2 ({method}-based): purchased heat and steam",
    },
    Methodology.GBT_32150: {
        ("1", "stationary_combustion"): "化石燃料燃烧排放 fuel combustion",
        ("1", "mobile_combustion"): "化石燃料燃烧排放 fuel combustion",
        ("1", "fugitive_refrigerants"): "过程排放 process emissions",
        ("1", "process_fgases"): "过程排放 process emissions",
        ("2", "purchased_electricity"): "购入的电力产生的排放 purchased electricity",
        ("2", "purchased_heat_steam"): "购入的热力产生的排放 purchased heat",
    },
}


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

    def methodology_report(self, rows: Iterable[tuple[str, str, str, str, float]]) -> dict[str, dict[str, float]]:
        """Per site, tCO2e on the report lines of the standard the site declares (``Site.methodology``).

        Parameters
        ----------
        rows : (site, scope, category, method, co2e_t [t]) of the ledger rows inside the totals (memo items
            such as biogenic CO2 left out), e.g. the ledger grouped by those four columns

        Returns
        -------
        {site: {report line: tCO2e}}; a line sums the rows that fall on it.
        """
        report: dict[str, dict[str, float]] = {}
        for site, scope, category, method, co2e_t in rows:
            line = self.site(site).methodology.reporting_line(scope, category, method)
            if line is not None:
                lines = report.setdefault(site, {})
                lines[line] = lines.get(line, 0.0) + co2e_t
        return report

    def site(self, code: str) -> Site:
        for s in self.sites:
            if s.code == code:
                return s
        raise NotFoundError(f"no site '{code}' in organisation {self.code}", entity=code)
