"""Extract the Scope 3 factors of the UK GHG Conversion Factors 2024 (flat file v1.1) into the factor library.

Input: the DESNZ/Defra flat file ``ghg-conversion-factors-2024-FlatFormat_v1_1.xlsx`` (sheet
'Factors by Category': columns ID, Scope, Level 1..4, Column Text, UOM, GHG/Unit, value). Output:
``src/zerocarbon/data/factors/scope3_desnz2024.csv`` in the factor-library schema. Only the published
totals (GHG/Unit ``kg CO2e``: CO2 + CH4 + N2O in CO2e with DESNZ's GWPs) are kept; blank cells (DESNZ
publishes no factor) are skipped, never filled. Each row names the sheet, the DESNZ row ID and the cell.

Run: python tools/extract_desnz_scope3.py path/to/ghg-conversion-factors-2024-FlatFormat_v1_1.xlsx [out.csv]
Needs openpyxl. The copy used for the shipped file: GitHub SWASTIKA3011/Carbon-Lens, commit bf80fee84c7e,
blob aa36504 (SHA-256 db8cb915af241b389add753402fb225f1850c583ac331994a71b2f281c484320).
"""
from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "zerocarbon" / "data" / "factors" / "scope3_desnz2024.csv"
SHEET = "Factors by Category"
COLUMNS = ["factor_id", "kind", "subject", "use", "gas", "value", "unit", "basis", "region", "year",
           "issuer", "document", "edition", "licence", "confidence", "source_key", "notes"]
BASE = dict(
    gas="CO2e", year="2024", issuer="UK DESNZ (with Defra)",
    document=("UK Government GHG Conversion Factors for Company Reporting 2024, flat file v1.1 (updated "
              "2024-10-18), DESNZ/Defra, produced by Ricardo; copy read from GitHub SWASTIKA3011/Carbon-Lens "
              "ghg-conversion-factors-2024-FlatFormat_v1_1.xlsx (blob aa36504, commit bf80fee)"),
    edition="2024 v1.1 (2024-10-18)", licence="Open Government Licence v3.0 (Crown copyright)",
    confidence="official (DESNZ)")

UOM = {"tonne.km": ("kg/tkm", ""), "passenger.km": ("kg/pkm", ""), "km": ("kg/km", ""), "tonnes": ("kg/t", ""),
       "litres": ("kg/L", ""), "kWh (Net CV)": ("kg/kWh", "NCV"), "kWh (Gross CV)": ("kg/kWh", "GCV"),
       "cubic metres": ("kg/m**3", ""), "kg": ("kg/kg", ""), "kWh": ("kg/kWh", ""),
       "Room per night": ("kg/room_night", "")}

# -- freight ----------------------------------------------------------------------------------------
HGV_SIZE = {"Rigid (>3.5 - 7.5 tonnes)": "rigid_3_5_to_7_5t", "Rigid (>7.5 tonnes-17 tonnes)": "rigid_7_5_to_17t",
            "Rigid (>17 tonnes)": "rigid_over_17t", "All rigids": "rigid_all",
            "Articulated (>3.5 - 33t)": "artic_3_5_to_33t", "Articulated (>33t)": "artic_over_33t",
            "All artics": "artic_all", "All HGVs": ""}
LADEN = {"0% Laden": "0pct_laden", "50% Laden": "50pct_laden", "100% Laden": "100pct_laden",
         "Average laden": "average_laden"}
VAN_CLASS = {"Class I (up to 1.305 tonnes)": "class_i", "Class II (1.305 to 1.74 tonnes)": "class_ii",
             "Class III (1.74 to 3.5 tonnes)": "class_iii", "Average (up to 3.5 tonnes)": "average"}
VEHICLE_FUEL = {"Diesel": "_diesel", "Petrol": "_petrol", "CNG": "_cng", "LPG": "_lpg", "Unknown": "",
                "Hybrid": "_hybrid", "Plug-in Hybrid Electric Vehicle": "_phev",
                "Battery Electric Vehicle": "_bev"}
FLIGHT_BAND = {"Domestic, to/from UK": "domestic", "Short-haul, to/from UK": "short_haul",
               "Long-haul, to/from UK": "long_haul", "International, to/from non-UK": "international"}
RF = {"With RF": ".with_rf", "Without RF": ""}


def slug(text: str) -> str:
    s = text.strip().lower().replace(",", "").replace("+", "plus").replace("–", "_").replace("-", "_")
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


def freight(l2: str, l3: str, l4: str, ct: str) -> str | None:
    l2 = l2.removeprefix("WTT- ").lower()
    if l2 in ("hgv (all diesel)", "hgv refrigerated (all diesel)"):
        size = HGV_SIZE[l3]
        kind = "hgv_refrigerated" if "refrigerated" in l2 else "hgv"
        return f"road.{kind}{'_' + size if size else ''}_{LADEN[ct]}"
    if l2 == "vans":
        return f"road.van_{VAN_CLASS[l3]}{VEHICLE_FUEL[ct]}"
    if l2 == "freight flights":
        return f"air.{FLIGHT_BAND[l3]}{RF[ct]}"
    if l2 == "rail" and l3 == "Freight train":
        return "rail.freight_train"
    if l2 in ("cargo ship", "sea tanker"):
        return f"sea.{slug(l3)}_{slug(l4)}"
    return None


# -- material use and waste -------------------------------------------------------------------------
MATERIAL = {
    "Aggregates": "aggregates", "Asbestos": "asbestos", "Asphalt": "asphalt",
    "Average construction": "construction_average", "Bricks": "bricks", "Concrete": "concrete",
    "Insulation": "insulation", "Metals": "construction_metals", "Soils": "soils", "Mineral oil": "mineral_oil",
    "Plasterboard": "plasterboard", "Tyres": "tyres", "Wood": "wood",
    "Books": "books", "Glass": "glass", "Clothing": "clothing", "Food and drink": "food_drink",
    "Organic: food and drink waste": "food_drink",
    "Compost derived from garden waste": "compost_garden_waste",
    "Compost derived from food and garden waste": "compost_food_garden_waste",
    "Electrical items - fridges and freezers": "electrical_items_fridges_freezers",
    "WEEE - fridges and freezers": "electrical_items_fridges_freezers",
    "Electrical items - large": "electrical_items_large", "WEEE - large": "electrical_items_large",
    "Electrical items - IT": "electrical_items_it",
    "Electrical items - small": "electrical_items_small", "WEEE - small": "electrical_items_small",
    "WEEE - mixed": "electrical_items_mixed",
    "Batteries - Alkaline": "batteries_alkaline", "Batteries - Li ion": "batteries_li_ion",
    "Batteries - NiMh": "batteries_nimh", "Batteries": "batteries",
    "Metal: aluminium cans and foil (excl. forming)": "aluminium_cans_foil", "Metal: mixed cans": "mixed_cans",
    "Metal: scrap metal": "scrap_metal", "Metal: steel cans": "steel_cans",
    "Plastics: average plastics": "plastics_average", "Plastics: average plastic film": "plastics_film",
    "Plastics: average plastic rigid": "plastics_rigid", "Plastics: HDPE (incl. forming)": "hdpe",
    "Plastics: LDPE and LLDPE (incl. forming)": "ldpe_lldpe", "Plastics: PET (incl. forming)": "pet",
    "Plastics: PP (incl. forming)": "pp", "Plastics: PS (incl. forming)": "ps", "Plastics: PVC (incl. forming)": "pvc",
    "Paper and board: board": "paper_board", "Paper and board: mixed": "paper_board_mixed",
    "Paper and board: paper": "paper",
    "Commercial and industrial waste": "commercial_industrial_waste",
    "Household residual waste": "household_residual_waste", "Organic: garden waste": "garden_waste",
    "Organic: mixed food and garden waste": "food_garden_waste",
}
MATERIAL_USE = {"Primary material production": "primary", "Re-used": "reused", "Open-loop source": "open_loop",
                "Closed-loop source": "closed_loop"}
TREATMENT = {"Re-use": "reuse", "Open-loop": "recycling_open_loop", "Closed-loop": "recycling_closed_loop",
             "Combustion": "combustion", "Composting": "composting", "Landfill": "landfill",
             "Anaerobic digestion": "anaerobic_digestion"}

# -- business travel --------------------------------------------------------------------------------
CABIN = {"Average passenger": "average", "Economy class": "economy", "Premium economy class": "premium_economy",
         "Business class": "business", "First class": "first"}
LAND = {("Taxis", "Regular taxi"): "taxi.regular", ("Taxis", "Black cab"): "taxi.black_cab",
        ("Bus", "Local bus (not London)"): "bus.local_not_london", ("Bus", "Local London bus"): "bus.local_london",
        ("Bus", "Average local bus"): "bus.average", ("Bus", "Coach"): "bus.coach",
        ("Rail", "National rail"): "rail.national", ("Rail", "International rail"): "rail.international",
        ("Rail", "Light rail and tram"): "rail.light_rail_tram", ("Rail", "London Underground"): "rail.london_underground",
        ("Ferry", "Foot passenger"): "ferry.foot_passenger", ("Ferry", "Car passenger"): "ferry.car_passenger",
        ("Ferry", "Average (all passenger)"): "ferry.average"}
CAR_SIZE = {"Small car": "small", "Medium car": "medium", "Large car": "large", "Average car": "average"}
MOTORBIKE = {"Small": "small", "Medium": "medium", "Large": "large", "Average": "average"}
# DESNZ hotel country names -> ISO 3166-1 alpha-2 (London: the UK row for London hotels).
HOTEL = {"UK": "GB", "UK (London)": "GB.london", "Argentina": "AR", "Australia": "AU", "Austria": "AT",
         "Belgium": "BE", "Brazil": "BR", "Canada": "CA", "Chile": "CL", "China": "CN", "Colombia": "CO",
         "Costa Rica": "CR", "Czech Republic": "CZ", "Egypt": "EG", "Fiji": "FJ", "Finland": "FI", "France": "FR",
         "Germany": "DE", "Greece": "GR", "Hong Kong, China": "HK", "India": "IN", "Indonesia": "ID",
         "Ireland": "IE", "Israel": "IL", "Italy": "IT", "Japan": "JP", "Jordan": "JO", "Kazakhstan": "KZ",
         "Korea": "KR", "Macau, China": "MO", "Malaysia": "MY", "Maldives": "MV", "Mexico": "MX",
         "Netherlands": "NL", "New Zealand": "NZ", "Oman": "OM", "Panama": "PA", "Peru": "PE",
         "Philippines": "PH", "Poland": "PL", "Portugal": "PT", "Qatar": "QA", "Romania": "RO",
         "Russian Federation": "RU", "Saudi Arabia": "SA", "Singapore": "SG", "South Africa": "ZA",
         "Spain": "ES", "Switzerland": "CH", "Taiwan, China": "TW", "Thailand": "TH", "Turkey": "TR",
         "United Arab Emirates": "AE", "United States": "US", "Vietnam": "VN"}

# -- well-to-tank fuels: DESNZ fuel -> the fuel keys of our combustion files (several where one DESNZ fuel is
# the same fuel under two keys), else a key of its own. Match notes go into the row notes.
FUEL = {
    "Butane": [("butane", "")], "CNG": [("cng", "")], "LNG": [("lng", "")],
    "LPG": [("lpg", "same key as fuels_ipcc2006/fuels_epa2025 'lpg'")],
    "Natural gas": [("natural_gas", "same key as fuels_ipcc2006/fuels_epa2025 'natural_gas'")],
    "Natural gas (100% mineral blend)": [("natural_gas_mineral_blend", "")],
    "Other petroleum gas": [("other_petroleum_gas", "")],
    "Propane": [("propane", "same key as fuels_epa2025 'propane'"),
                ("propane_gas", "DESNZ 'Propane' under the fuels_epa2025 key 'propane_gas' (propane as gas)")],
    "Aviation spirit": [("aviation_spirit", "")], "Aviation turbine fuel": [("aviation_turbine_fuel", "")],
    "Burning oil": [("kerosene", "DESNZ 'Burning oil' (kerosene heating oil) under the fuels_epa2025 key 'kerosene'")],
    "Diesel (average biofuel blend)": [("diesel_average_biofuel_blend", "")],
    "Diesel (100% mineral diesel)": [("diesel_mineral", "")],
    "Fuel oil": [("residual_fuel_oil", "DESNZ 'Fuel oil' (heavy fuel oil) under the fuels_ipcc2006 key 'residual_fuel_oil'"),
                 ("residual_fuel_oil_no6", "DESNZ 'Fuel oil' (heavy fuel oil) under the fuels_epa2025 key 'residual_fuel_oil_no6'")],
    "Gas oil": [("gas_diesel_oil", "DESNZ 'Gas oil' under the fuels_ipcc2006 key 'gas_diesel_oil' (IPCC Gas/Diesel Oil)"),
                ("distillate_fuel_oil_no2", "DESNZ 'Gas oil' under the fuels_epa2025 key 'distillate_fuel_oil_no2'")],
    "Lubricants": [("lubricants", "")], "Naphtha": [("naphtha", "")],
    "Petrol (average biofuel blend)": [("petrol_average_biofuel_blend", "")],
    "Petrol (100% mineral petrol)": [("motor_gasoline", "DESNZ 'Petrol (100% mineral petrol)' under the fuels_ipcc2006/fuels_epa2025 key 'motor_gasoline'")],
    "Processed fuel oils - residual oil": [("processed_fuel_oil_residual", "")],
    "Processed fuel oils - distillate oil": [("processed_fuel_oil_distillate", "")],
    "Refinery miscellaneous": [("refinery_miscellaneous", "")], "Waste oils": [("waste_oils", "")],
    "Marine gas oil": [("marine_gas_oil", "")], "Marine fuel oil": [("marine_fuel_oil", "")],
    "Coal (industrial)": [("coal_industrial", ""),
                          ("coal_mixed_industrial", "DESNZ 'Coal (industrial)' under the fuels_epa2025 key 'coal_mixed_industrial' (EPA 'Mixed (Industrial Sector)'); UK industrial coal, a proxy for US coal")],
    "Coal (electricity generation)": [("coal_electricity_generation", "")],
    "Coal (domestic)": [("coal_domestic", "")], "Coking coal": [("coking_coal", "")],
    "Petroleum coke": [("petroleum_coke", "")],
    "Coal (electricity generation - home produced coal only)": [("coal_electricity_generation_uk_produced", "")],
}
# Bioenergy WTT: physical units only (DESNZ does not state NCV/GCV for its GJ and kWh bioenergy rows).
BIO_UNITS = ("litres", "kg", "tonnes")


def classify(scope, l1, l2, l3, l4, ct, uom):
    """(kind, subject, use) for a Scope 3 row we ship, else None. ``l*`` are DESNZ Level 1..4."""
    if scope != "Scope 3":
        return None
    if l1 == "Freighting goods" and uom == "tonne.km":
        s = freight(l2, l3, l4, ct)
        return ("freight", s, "ttw") if s else None
    if l1 == "WTT- delivery vehs & freight" and uom == "tonne.km":
        s = freight(l2, l3, l4, ct)
        return ("freight", s, "wtt") if s else None
    if l1 == "Material use":
        return ("material", MATERIAL[l3], MATERIAL_USE[ct])
    if l1 == "Waste disposal":
        return ("waste", MATERIAL[l3], TREATMENT[ct])
    if l1 in ("Business travel- air", "WTT- business travel- air"):
        return ("travel", f"air.{FLIGHT_BAND[l3]}.{CABIN[l4]}{RF[ct]}", "wtt" if l1.startswith("WTT") else "ttw")
    if l1 in ("Business travel- land", "WTT- pass vehs & travel- land", "Business travel- sea",
              "WTT- business travel- sea"):
        use = "wtt" if l1.startswith("WTT") else "ttw"
        l2 = l2.removeprefix("WTT- ")
        key = (l2[0].upper() + l2[1:], l3)
        if key in LAND and uom == "passenger.km":
            return ("travel", LAND[key], use)
        if l2.lower() == "cars (by size)" and uom == "km":
            fuel = "_unknown_fuel" if ct == "Unknown" else VEHICLE_FUEL[ct]
            return ("travel", f"car.{CAR_SIZE[l3]}{fuel}", use)
        if l2.lower() == "motorbike" and uom == "km":
            return ("travel", f"motorbike.{MOTORBIKE[l3]}", use)
        return None
    if l1 == "Hotel stay":
        return ("travel", f"hotel.{HOTEL[l3]}", "ttw")
    if l1 == "WTT- fuels":
        return ("fuel_wtt", FUEL[l3], "")
    if l1 == "WTT- bioenergy" and uom in BIO_UNITS:
        return ("fuel_wtt", [(slug(l3), "")], "")
    if l1 == "WTT- UK electricity" and l3 == "Electricity: UK":
        kind = "electricity_wtt" if "(generation)" in l2 else "electricity_td_wtt"
        return (kind, "location", "")
    if l1 == "Transmission and distribution" and l2 == "T&D- UK electricity":
        return ("electricity_td", "location", "")
    return None


USE_NOTE = {
    "freight": "per tonne.km of goods moved",
    "travel": None,
    "electricity_wtt": ("well-to-tank of UK grid generation, per kWh of electricity consumed (applied to the same "
                        "kWh as the Scope 2 factor)"),
    "electricity_td": "generation emissions of the electricity lost in UK transmission and distribution, per kWh consumed",
    "electricity_td_wtt": "well-to-tank of the electricity lost in UK transmission and distribution, per kWh consumed",
}


def rows_from(path: str) -> list[dict]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    ws = wb[SHEET]
    out: list[dict] = []
    header_seen = False
    for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
        cells = list(row[:10]) + [None] * (10 - len(row[:10]))
        if cells[0] == "ID":
            assert cells[8] == "GHG/Unit" and str(cells[9]).startswith("GHG Conversion Factor 2024"), cells
            header_seen = True
            continue
        if not header_seen or cells[8] != "kg CO2e" or cells[9] is None:
            continue
        rid, scope, l1, l2, l3, l4, ct, uom = [("" if c is None else str(c)) for c in cells[:8]]
        got = classify(scope, l1, l2, l3.strip(), l4.strip(), ct.strip(), uom)
        if got is None:
            continue
        kind, subject, use = got
        unit, basis = UOM[uom]
        value = float(cells[9])
        where = (f"{scope}, {l1}, {l2}, {l3.strip()}" + (f", {l4.strip()}" if l4.strip() else "")
                 + (f", {ct.strip()}" if ct.strip() else "") + f", per {uom}")
        cell = f"sheet '{SHEET}' row ID {rid} cell J{n}"
        subjects = subject if isinstance(subject, list) else [(subject, "")]
        for subj, match in subjects:
            region = "GB" if kind.startswith("electricity_") else ""
            if kind == "travel" and subj.startswith("hotel."):
                region = subj.split(".")[1]
            note = ["total of CO2, CH4 and N2O in kg CO2e as published", where]
            if match:
                note.append(match)
            if kind in USE_NOTE and USE_NOTE[kind]:
                note.append(USE_NOTE[kind])
            if kind == "travel" and unit == "kg/km":
                note.append("per vehicle km (whole vehicle), not per passenger km")
            if kind == "travel" and unit == "kg/room_night":
                note.append("per room per night")
            if subj.endswith(".with_rf"):
                note.append("includes DESNZ's uplift for the indirect (non-CO2) effects of aviation")
            elif kind in ("travel", "freight") and subj.startswith("air."):
                note.append("direct effects of CO2, CH4 and N2O only (without radiative forcing)")
            if kind == "fuel_wtt" and uom == "cubic metres":
                note.append("DESNZ 'cubic metres' of gas; the flat file does not restate the reference conditions")
            unit_tag = {"kg/kWh": f"kWh_{basis}" if basis else "kWh", "kg/t": "t", "kg/L": "L", "kg/m**3": "m3",
                        "kg/kg": "kg"}.get(unit, "")
            fid = f"DESNZ2024.{kind}.{subj}" + (f".{use}" if use else "") + (f".per_{unit_tag}" if kind == "fuel_wtt" else "")
            out.append(dict(BASE, factor_id=fid, kind=kind, subject=subj, use=use, value=repr(value), unit=unit, basis=basis, region=region,
                            source_key=f"desnz2024-flat:{rid}", notes="; ".join(note) + "; " + cell))
    return out


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    rows = rows_from(argv[1])
    out = Path(argv[2]) if len(argv) > 2 else OUT
    ids = [r["factor_id"] for r in rows]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise SystemExit(f"repeated factor ids: {dup[:10]}")
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["kind"]] = counts.get(r["kind"], 0) + 1
    print(f"{out}: {len(rows)} rows " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
