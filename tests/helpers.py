"""Builders of small activity frames for core tests."""
import pandas as pd

from zerocarbon.core.ghg.inventory import KIND_COLUMNS, ActivityData


def frame(kind: str, rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for c in KIND_COLUMNS[kind]:
        if c not in df:
            df[c] = None
    for c in df.columns:
        if c.startswith(("period_", "vintage_")):
            df[c] = pd.to_datetime(df[c])
    if "activity_id" in df and df["activity_id"].isna().any():
        df["activity_id"] = [f"{kind}.csv:{i + 2}" for i in range(len(df))]
    return df


def elec(site, kwh, month=1, unit="kWh"):
    return {"site": site, "meter": f"{site}-M", "period_start": f"2025-{month:02d}-01",
            "period_end": f"2025-{month:02d}-28", "quantity": kwh, "unit": unit}


def gec(iid, site, mwh, vintage="2025", serial=None, market="CN", year=2025, ef=0.0, technology="solar"):
    s, e = serial if serial else (None, None)
    return {"instrument_id": iid, "type": "GEC", "registry": "CN-GEC", "market": market, "volume_kwh": mwh * 1000,
            "vintage_start": f"{vintage}-01-01", "vintage_end": f"{vintage}-12-31", "serial_start": s,
            "serial_end": e, "retired_for_site": site, "retired_for_year": year, "emission_factor_kg_per_kwh": ef,
            "technology": technology}


def data(**kinds) -> ActivityData:
    return ActivityData({k: frame(k, v) for k, v in kinds.items()})
