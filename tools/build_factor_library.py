"""Rebuild src/zerocarbon/data/factors/*.csv from the reference pack in data/reference/.

The reference pack (top-level ``data/reference/``, each row with its source and where in the
publication it was read) is the record and is not installed with the package; this script only
normalises it into one machine-readable schema. It invents nothing:
every output row points back at a reference key (``source_key``), and rows computed from
sourced inputs say so in ``confidence`` and give the formula in ``notes``.

Run: python tools/build_factor_library.py
"""
from __future__ import annotations

import csv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REF = REPO / "data" / "reference"
OUT = REPO / "src" / "zerocarbon" / "data" / "factors"

COLUMNS = [
    "factor_id", "kind", "subject", "use", "gas", "value", "unit", "basis", "region", "year",
    "issuer", "document", "edition", "licence", "confidence", "source_key", "notes",
]
LICENCE_CN = "official government notice (facts); cite MEE/NBS"
LICENCE_IPCC = "IPCC material (c) IPCC; numbers reusable with citation"
LICENCE_EPA = "US government work, public domain"
LICENCE_OCD = "CC0 (openclimatedata/globalwarmingpotentials)"
LICENCE_OGL = "Open Government Licence v3.0 (Crown copyright)"
LICENCE_EMBER = "CC BY-SA 4.0 as stated by the carrier (co2.js README) for Ember data; attribute Ember"
LICENCE_AIB = "published free of charge by AIB; its terms of use were not read: cite AIB, check before redistribution"

REGIONS = {"north": "华北", "northeast": "东北", "east": "华东", "central": "华中",
           "northwest": "西北", "south": "南方", "southwest": "西南"}


def read(name: str) -> list[dict]:
    with open(REF / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write(name: str, rows: list[dict]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / name, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in COLUMNS})
    print(f"{name}: {len(rows)} rows")


def grid() -> list[dict]:
    rows = []
    for r in read("grid_china.csv"):
        _, level, subject, *rest = r["key"].split(".")
        year = rest[-1]
        if level == "national":
            region, series = "CN", subject  # location | excl_market_nonfossil | fossil_only
        elif level == "region":
            region, series = f"CN-grid-{subject}", "location"
        else:  # province
            region, series = f"CN-{subject}", "location"
        assert r["unit"] == "kgCO2/kWh", r
        rows.append(dict(
            factor_id=f"CN_MEE_NBS.grid.{series}.{region}.{year}", kind="grid_electricity",
            subject=series, gas="CO2", value=r["value"], unit="kg/kWh", basis="", region=region,
            year=year, issuer="MEE & NBS (生态环境部, 国家统计局)", document=r["source"],
            edition=r["edition_year"], licence=LICENCE_CN, confidence=r["confidence"],
            source_key=r["key"], notes=r["notes"],
        ))
    return rows


def ipcc() -> list[dict]:
    ref = {r["key"]: r for r in read("fuels_ipcc2006.csv")}
    rows = []
    doc = "2006 IPCC Guidelines for National GHG Inventories, Vol.2 Energy"

    def add(**kw):
        base = dict(issuer="IPCC", document=doc, edition="2006", licence=LICENCE_IPCC, region="",
                    year="", use="")
        base.update(kw)
        rows.append(base)

    for key, r in ref.items():
        if not key.startswith("IPCC2006."):
            continue
        _, fuel, what = key.split(".")
        if what == "NCV_default":
            add(factor_id=f"IPCC2006.{fuel}.NCV", kind="heating_value", subject=fuel, gas="",
                value=r["value"], unit="GJ/t", basis="NCV", confidence=r["confidence"],
                source_key=key, notes="default net calorific value (TJ/Gg = GJ/t)")
        elif what == "carbon_content_default":
            add(factor_id=f"IPCC2006.{fuel}.carbon_content", kind="carbon_content", subject=fuel,
                gas="", value=r["value"], unit="kg/GJ", basis="NCV", confidence=r["confidence"],
                source_key=key, notes="default carbon content, kg C per GJ (NCV)")
            published = f"IPCC2006.{fuel}.CO2_EF_stationary"
            if published not in ref:
                # Table 1.4 value not in the pack: derive it the way IPCC does (C x 44/12,
                # oxidation 1.0 in 2006 GL) and say so.
                value = round(float(r["value"]) * 44 / 12 * 1000, 1)
                add(factor_id=f"IPCC2006.{fuel}.CO2.computed", kind="combustion", subject=fuel,
                    use="any", gas="CO2", value=f"{value}", unit="kg/TJ", basis="NCV",
                    confidence="computed", source_key=key,
                    notes=f"COMPUTED = carbon content {r['value']} kgC/GJ x 44/12 x 1000 (oxidation 1.0, "
                          "2006 GL default); the rounded Table 1.4 value was not available")
        elif what.endswith("_EF_stationary"):
            gas = what.split("_")[0]
            # CO2 depends on the fuel's carbon only (IPCC 2006 Vol.2 Ch.1 §1.4.2), so it applies to
            # stationary and mobile use alike; CH4/N2O depend on the technology and do not.
            add(factor_id=f"IPCC2006.{fuel}.{gas}.stationary", kind="combustion", subject=fuel,
                use="any" if gas == "CO2" else "stationary", gas=gas, value=r["value"], unit="kg/TJ", basis="NCV",
                confidence=r["confidence"], source_key=key, notes=r["notes"])
    # GB/T 32151 natural-gas triple (UNVERIFIED in the pack).
    g = {k.split(".")[-1]: v for k, v in ref.items() if k.startswith("CN.GB_T_32151.natural_gas")}
    gdoc = "GB/T 32151 series default (天然气); via code transcription, see source_key"
    common = dict(issuer="SAMR/SAC (国家标准)", document=gdoc, edition="GB/T 32151 (part/year not stated)",
                  licence="facts from a national standard", region="CN", year="", use="")
    rows.append(dict(common, factor_id="GBT32151.natural_gas.NCV", kind="heating_value",
                     subject="natural_gas", gas="", value=g["NCV"]["value"], unit="GJ/万Nm3", basis="NCV",
                     confidence=g["NCV"]["confidence"], source_key="CN.GB_T_32151.natural_gas.NCV",
                     notes="Nm3 taken at 0 degC/101.325 kPa; the source does not state the reference conditions"))
    cc, ox = float(g["carbon_content"]["value"]), float(g["oxidation_rate"]["value"])
    rows.append(dict(common, factor_id="GBT32151.natural_gas.CO2.computed", kind="combustion",
                     subject="natural_gas", use="any", gas="CO2", value=f"{round(cc * 44 / 12 * ox, 4)}",
                     unit="t/TJ", basis="NCV", confidence="computed from UNVERIFIED inputs",
                     source_key="CN.GB_T_32151.natural_gas.carbon_content;CN.GB_T_32151.natural_gas.oxidation_rate",
                     notes=f"COMPUTED = {cc} tC/TJ x 44/12 x oxidation {ox} (GB/T 32150 formula EF = CC x OF x 44/12)"))
    return rows


def epa() -> list[dict]:
    rows = []
    unit_map = {"scf": "scf", "gallon": "gallon", "short ton": "short_ton"}
    doc = "US EPA GHG Emission Factors Hub (Last Modified 2025-01-15), Table 1 Stationary Combustion"
    for r in read("fuels_epa.csv"):
        parts = r["key"].split(".")
        if len(parts) != 3:
            continue
        _, fuel, what = parts
        common = dict(issuer="US EPA", document=doc, edition="2025-01-15", licence=LICENCE_EPA,
                      region="", year="", confidence=r["confidence"], source_key=r["key"], notes=r["notes"])
        if what == "heat_content_HHV":
            phys = r["unit"].split("/")[1]
            rows.append(dict(common, factor_id=f"EPA2025.{fuel}.HHV", kind="heating_value",
                             subject=fuel, gas="", value=r["value"], unit=f"mmBtu/{unit_map[phys]}", basis="GCV"))
            continue
        gas, per = what.split("_", 1)
        mass, denom = r["unit"].split(" ", 1)[0], r["unit"].split("/")[1]
        if per == "per_mmBtu":
            rows.append(dict(common, factor_id=f"EPA2025.{fuel}.{gas}.per_energy", kind="combustion",
                             subject=fuel, use="any" if gas == "CO2" else "stationary", gas=gas, value=r["value"],
                             unit=f"{mass}/mmBtu", basis="GCV"))
        else:
            rows.append(dict(common, factor_id=f"EPA2025.{fuel}.{gas}.per_unit", kind="combustion_physical",
                             subject=fuel, use="any" if gas == "CO2" else "stationary", gas=gas, value=r["value"],
                             unit=f"{mass}/{unit_map[denom.strip()]}", basis=""))
    return rows


def gwp() -> list[dict]:
    rows = []
    ref = read("gwp.csv")
    published = {r["key"] for r in ref}
    for r in ref:
        parts = r["key"].split(".")
        if parts[0] != "GWP100":
            continue
        gwp_set, gas = parts[1], parts[2]
        computed = len(parts) == 4
        if computed and f"GWP100.{gwp_set}.{gas}" in published:
            continue  # a published value beats our sum over components
        licence = LICENCE_OCD if "openclimatedata" in r["source"] else (
            LICENCE_EPA if "EPA" in r["source"] else "IPCC numbers, cite IPCC")
        rows.append(dict(factor_id=f"GWP100.{gwp_set}.{gas}", kind="gwp", subject=gas, gas=gas,
                         value=r["value"], unit="kgCO2e/kg", basis="", region="", year="",
                         issuer="IPCC", document=r["source"], edition=gwp_set, licence=licence,
                         confidence=r["confidence"], source_key=r["key"], notes=r["notes"]))
    # Extension read from openclimatedata/globalwarmingpotentials (CC0) @fc4e6f4, same file as the pack.
    ocd = "openclimatedata/globalwarmingpotentials globalwarmingpotentials.csv (CC0), commit fc4e6f4 (2026-03-26)"
    extra = {"C3F8": {"AR4": "8830", "AR5": "8900", "AR5_CCF": "9878", "AR6": "9290"},
             "HCFC-22": {"AR4": "1810", "AR5": "1760", "AR5_CCF": "2106", "AR6": "1960"}}
    for gas, values in extra.items():
        for gwp_set, v in values.items():
            rows.append(dict(factor_id=f"GWP100.{gwp_set}.{gas}", kind="gwp", subject=gas, gas=gas, value=v,
                             unit="kgCO2e/kg", basis="", issuer="IPCC", document=ocd, edition=gwp_set,
                             licence=LICENCE_OCD, confidence="secondary transcription (CC0 dataset)",
                             source_key=f"ocd:{gas.replace('-', '')}:{gwp_set}GWP100".replace("_CCF", "CCF"),
                             notes="added by zerocarbon from the same dataset as the reference pack"
                                   + ("; HCFC-22 is a Montreal Protocol gas: reported as a memo item, outside Scope 1" if gas == "HCFC-22" else "")))
    return rows


def egrid() -> list[dict]:
    """eGRID2023 subregion total output emission rates as printed in the EPA Hub 2025, Table 6."""
    rows = []
    for r in read("egrid2023_subregions.csv"):
        _, region, gas, _ = r["key"].split(".")
        key = "US" if region == "US" else f"US-grid-{region}"
        mass, denom = r["unit"].split("/")
        rows.append(dict(
            factor_id=f"EGRID2023.grid.location.{key}.{gas}", kind="grid_electricity", subject="location",
            gas=gas, value=r["value"], unit=f"{mass.split()[0]}/{denom}", basis="", region=key, year="2023",
            issuer="US EPA", document=r["source"], edition="eGRID2023 (January 2025)", licence=LICENCE_EPA,
            confidence=r["confidence"], source_key=r["key"], notes=f"{r['notes']}; {r['location']}"))
    return rows


def desnz() -> list[dict]:
    """UK grid electricity (DESNZ 2024). Only the total (CO2e) and the CO2 part are per-gas-usable:
    DESNZ gives CH4 and N2O already in CO2e, so those two parts are kept in the reference only."""
    rows = []
    for r in read("desnz2024_uk_electricity.csv"):
        part = r["key"].rsplit(".", 1)[1]
        if part not in ("CO2e", "CO2"):
            continue
        unit = "kgCO2e/kWh" if part == "CO2e" else "kg/kWh"
        note = ("total of CO2, CH4 and N2O in kg CO2e as published" if part == "CO2e" else
                "CO2 part of the total (published as 'kg CO2e of CO2 per unit', i.e. kg of CO2)")
        rows.append(dict(
            factor_id=f"DESNZ2024.grid.location.GB.{part}", kind="grid_electricity", subject="location", gas=part,
            value=r["value"], unit=unit, basis="", region="GB", year="2024",
            issuer="UK DESNZ (with Defra)", document=r["source"], edition="2024 v1.1 (2024-10-18)", licence=LICENCE_OGL,
            confidence=r["confidence"], source_key=r["key"], notes=f"{note}; {r['notes']}; {r['location']}"))
    return rows


def ember() -> list[dict]:
    rows = []
    for r in read("ember_yearly_intensity.csv"):
        _, iso3, year = r["key"].split(".")
        iso2 = r["notes"].split("alpha-2 ", 1)[1].split(" ", 1)[0]
        rows.append(dict(
            factor_id=f"EMBER.grid.lifecycle.{iso2}.{year}", kind="grid_electricity", subject="lifecycle", gas="CO2e",
            value=r["value"], unit="gCO2e/kWh", basis="", region=iso2, year=year, issuer="Ember",
            document=r["source"], edition="co2.js snapshot 2025-08-03", licence=LICENCE_EMBER,
            confidence=r["confidence"], source_key=r["key"],
            notes=f"{r['location']}; life-cycle emissions of generation (upstream included), not combustion only"))
    return rows


def aib() -> list[dict]:
    rows = []
    for r in read("aib_residual_mix.csv"):
        _, _, iso2, year = r["key"].split(".")
        rows.append(dict(
            factor_id=f"AIB.grid.residual_mix.{iso2}.{year}", kind="grid_electricity", subject="residual_mix",
            gas="CO2", value=r["value"], unit="g/kWh", basis="", region=iso2, year=year,
            issuer="AIB (Association of Issuing Bodies)", document=r["source"], edition=r["edition_year"],
            licence=LICENCE_AIB, confidence=r["confidence"], source_key=r["key"],
            notes=f"{r['location']}; {r['notes']}"))
    return rows


# EPA Hub Table 5 names fuels by the vehicle's fuel; map them onto the Table 1 fuel subjects that
# route the CO2 ("Diesel" is Distillate Fuel Oil No. 2, whose CO2 factor the Hub's Table 2 repeats).
NONROAD_FUELS = {"Diesel": ("distillate_fuel_oil_no2", ""), "Diesel Equipment": ("distillate_fuel_oil_no2", ""),
                 "Diesel Off-Road Trucks": ("distillate_fuel_oil_no2", "off_road_trucks"),
                 "Gasoline": ("motor_gasoline", ""), "Gasoline (2 stroke)": ("motor_gasoline", "2_stroke"),
                 "Gasoline (4 stroke)": ("motor_gasoline", "4_stroke"),
                 "Gasoline Off-Road Trucks": ("motor_gasoline", "off_road_trucks"), "LPG": ("lpg", ""),
                 "Residual Fuel Oil": ("residual_fuel_oil_no6", ""), "Jet Fuel": ("kerosene_type_jet_fuel", ""),
                 "Aviation Gasoline": ("aviation_gasoline", "")}


def _snake(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_").replace("__", "_")


def epa_nonroad_heat() -> list[dict]:
    rows = []
    doc5 = "US EPA GHG Emission Factors Hub (Last Modified 2025-01-15), Table 5 Mobile Combustion CH4 and N2O for Non-Road Vehicles"
    doc7 = "US EPA GHG Emission Factors Hub (Last Modified 2025-01-15), Table 7 Steam and Heat"
    for r in read("epa_hub2025_nonroad_steam.csv"):
        common = dict(issuer="US EPA", edition="2025-01-15", licence=LICENCE_EPA, region="US", year="",
                      confidence=r["confidence"], source_key=r["key"], basis="")
        if r["key"].startswith("EPA2025.T5."):
            vehicle_fuel, gas = r["key"][len("EPA2025.T5."):].rsplit(".", 1)
            vehicle, fuel = vehicle_fuel.split("|")
            subject, variant = NONROAD_FUELS[fuel]
            use = "nonroad." + _snake(vehicle) + (f".{variant}" if variant else "")
            rows.append(dict(common, factor_id=f"EPA2025.{subject}.{gas}.{use}", kind="combustion_physical",
                             subject=subject, use=use, gas=gas, value=r["value"], unit="g/gallon", document=doc5,
                             notes=f"{r['notes']}; {r['location']}"))
        else:
            gas = r["key"].rsplit(".", 1)[1]
            mass = r["unit"].split()[0]
            rows.append(dict(common, factor_id=f"EPA2025.steam_and_heat.{gas}", kind="purchased_heat",
                             subject="steam_and_heat", use="", gas=gas, value=r["value"], unit=f"{mass}/mmBtu",
                             document=doc7, notes=f"{r['notes']}; {r['location']}"))
    return rows


if __name__ == "__main__":
    write("grid_china.csv", grid())
    write("fuels_ipcc2006.csv", ipcc())
    write("fuels_epa2025.csv", epa())
    write("gwp.csv", gwp())
    write("grid_us_egrid2023.csv", egrid())
    write("grid_uk_desnz2024.csv", desnz())
    write("grid_ember_lifecycle.csv", ember())
    write("grid_aib_residual_mix.csv", aib())
    write("epa2025_nonroad_heat.csv", epa_nonroad_heat())
