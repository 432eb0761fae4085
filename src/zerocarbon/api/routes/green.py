"""The green supply chain: the five-dimension overview, freight by mode and modal-shift scenarios, packaging
(HKEX KPI A2.5) and take-back/recycling. Every endpoint reads (a scenario stores nothing): ``supply.read``."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from zerocarbon.api.deps import Acting, requires
from zerocarbon.api.problems import RESPONSES
from zerocarbon.services import green_supply

router = APIRouter(prefix="/orgs/{org}", tags=["green supply chain"], responses=RESPONSES)

Year = Annotated[int, Path(ge=1990, le=2100, description="reporting year")]
BaseYear = Annotated[int | None, Query(ge=1990, le=2100, description="packaging base year to compare with")]
FactorSet = Annotated[str | None, Query(max_length=128, description="factor set (default: the one the year's "
                                                                    "inventory was computed with)")]
Mode = Literal["road", "rail", "sea", "inland_waterway", "air"]


@router.get("/supply-chain/{year}")
def overview(year: Year, acting: Annotated[Acting, requires("supply.read")], base_year: BaseYear = None,
             factor_set: FactorSet = None) -> dict:
    """The five dimensions of the year (green production, suppliers, logistics, recycling, packaging) and Scope 3
    by category. Each has a ``status``: ``ok``, ``no data`` (nothing imported; no figure, never a zero) or ``not
    available`` (with the reason)."""
    return green_supply.overview(acting.sessions, acting.org, year, factor_set, base_year)


@router.get("/logistics/{year}")
def logistics(year: Year, acting: Annotated[Acting, requires("supply.read")], factor_set: FactorSet = None) -> dict:
    """Freight legs of the year by mode: t.km, TTW and WTT [tCO2e], intensity [gCO2e/t.km]."""
    return green_supply.logistics(acting.sessions, acting.org, year, factor_set)


@router.get("/logistics/{year}/modal-shift")
def modal_shift(year: Year, acting: Annotated[Acting, requires("supply.read")],
                from_mode: Annotated[Mode, Query(alias="from")] = "road",
                to_mode: Annotated[Mode, Query(alias="to")] = "rail",
                min_km: Annotated[float, Query(ge=0, le=100000, description="legs longer than this [km]")] = 0.0,
                vehicle: Annotated[str, Query(max_length=128, description="freight factor of the new mode")] = "",
                distance_ratio: Annotated[float, Query(gt=0, le=5)] = 1.0,
                category: Annotated[Literal[4, 9] | None, Query()] = None,
                factor_set: FactorSet = None) -> dict:
    """A scenario (nothing is stored): legs of ``from`` longer than ``min_km`` moved to ``to``, recomputed; the
    change in tCO2e and %, and the t.km moved."""
    return green_supply.modal_shift(acting.sessions, acting.org, year, from_mode=from_mode, min_distance_km=min_km,
                                    to_mode=to_mode, to_vehicle=vehicle, distance_ratio=distance_ratio,
                                    category=category, factor_set=factor_set).as_dict()


@router.get("/packaging/{year}")
def packaging(year: Year, acting: Annotated[Acting, requires("supply.read")], base_year: BaseYear = None) -> dict:
    """HKEX KPI A2.5: packaging material in tonnes by material and product, kg per unit produced, recycled and
    plastic-free shares; with ``base_year``, the change per product and in total."""
    report, change = green_supply.packaging(acting.sessions, acting.org, year, base_year)
    return {**report.as_dict(), "base": change.as_dict() if change else None}


@router.get("/recycling/{year}")
def recycling(year: Year, acting: Annotated[Acting, requires("supply.read")], factor_set: FactorSet = None) -> dict:
    """Collected and recycled tonnes, recycling and take-back rates by product and material; avoided emissions
    [tCO2e] as a memo, not deducted from any total."""
    return green_supply.recycling(acting.sessions, acting.org, year, factor_set).as_dict()
