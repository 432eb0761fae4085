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


def line_day() -> tuple[list[float], list[float]]:
    """One local day of a line at 15-minute steps, kWh and units: 08:00-10:00 producing (10 kWh per interval,
    50 units), 10:00-12:00 on but idle (4 kWh), 22:00-23:00 idle at night (4 kWh), off (0.1 kWh) otherwise."""
    kwh, units = [0.1] * 96, [0.0] * 96
    for i in range(32, 40):
        kwh[i], units[i] = 10.0, 50.0
    for i in list(range(40, 48)) + list(range(88, 92)):
        kwh[i] = 4.0
    return kwh, units


def database_with_org(tmp_path, extra_sites: str = "") -> str:
    """URL of a new SQLite database holding organisation ORG (tests/data/organisation.yaml, plus the YAML site
    entries of ``extra_sites``), whose meters the meter commands then store."""
    from pathlib import Path

    from zerocarbon.services import accounting
    from zerocarbon.services.database import open_sessions

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    sessions = open_sessions(url)
    org = Path(__file__).parent / "data" / "organisation.yaml"
    if extra_sites:
        text = org.read_text(encoding="utf-8").rstrip("\n") + "\n" + extra_sites
        org = Path(tmp_path) / "organisation.yaml"
        org.write_text(text, encoding="utf-8")
    accounting.load_organisation_file(sessions, org, actor="test")
    sessions.kw["bind"].dispose()
    return url
