"""A seeded generator of the demo group's value chain: suppliers, purchases, shipments and the rest of Scope 3,
packaging bills of materials and take-back records.

It is a fictitious supplier base shaped like a laptop maker's, not any real company's. Parameters, stated here
rather than hidden:

- about 300 suppliers: tier 1 part makers (displays, boards, memory, storage, batteries, chassis, keyboards,
  adapters), tier 2/3 material and component makers, packaging, carriers, services and equipment vendors;
  spend log-normal per category, shares of the bill of materials in ``PARTS``; suppliers in mainland China,
  Taiwan, South Korea, Japan, Vietnam and Malaysia at real city coordinates;
- purchase lines per supplier per month; methods mixed the way a programme in its third year has them: most
  lines spend-based (EEIO), chassis plastics and aluminium and cartons by mass (average data), the suppliers
  that disclosed a cradle-to-gate figure supplier-specific (with an evidence reference), a few hybrid;
- inbound legs by truck from Chinese suppliers, by sea from Korea/Japan/Taiwan/Vietnam/Malaysia to Shanghai
  port then truck; outbound to Rotterdam and Los Angeles by sea (most) and by air (urgent share), paid by
  the group (category 4); distribution by customers' retailers (category 9) estimated by road;
- laptops of 1.2-2.0 kg with 0.55-0.75 kg of packaging; use phase by market with yearly energy and lifetime
  in the range of published laptop footprints (``data/reference/factory`` and /shared data: 10-23 kWh/yr,
  4 years);
- packaging of 2024 heavier in plastics than 2025 (foam replaced by moulded pulp), so the base-year
  comparison has something to show.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from zerocarbon.services.demo_factory import SITES, YEAR

# city -> (latitude, longitude) [degree]
CITIES = {
    "Shenzhen": (22.54, 114.06), "Suzhou": (31.30, 120.59), "Kunshan": (31.38, 120.98), "Chongqing": (29.56, 106.55),
    "Chengdu": (30.57, 104.07), "Wuhan": (30.59, 114.31), "Dongguan": (23.02, 113.75), "Ningbo": (29.87, 121.54),
    "Hefei": (31.82, 117.23), "Tianjin": (39.08, 117.20), "Xiamen": (24.48, 118.09),
    "Taipei": (25.03, 121.56), "Hsinchu": (24.80, 120.97), "Busan": (35.10, 129.04), "Suwon": (37.26, 127.03),
    "Osaka": (34.69, 135.50), "Ho Chi Minh City": (10.82, 106.63), "Penang": (5.41, 100.33),
}
PORTS = {"Shanghai": (31.23, 121.47), "Rotterdam": (51.92, 4.48), "Los Angeles": (33.74, -118.27),
         "Tianjin port": (38.98, 117.75)}
COUNTRY = {"Taipei": "TW", "Hsinchu": "TW", "Busan": "KR", "Suwon": "KR", "Osaka": "JP", "Ho Chi Minh City": "VN",
           "Penang": "MY"}
SITE_CITY = {"TJ01": "Tianjin", "HF01": "Hefei"}


@dataclass(frozen=True)
class Part:
    category: str  # supplier category
    naics: str  # NAICS-6 commodity of the EEIO factors (US EPA Supply Chain GHG Emission Factors v1.3)
    cny_per_unit: float  # spend per laptop built
    count: int  # suppliers
    cities: tuple[str, ...]
    material: str = ""  # material factor key when bought by mass
    kg_per_unit: float = 0.0


PARTS = (
    Part("display", "334419", 520, 18, ("Suzhou", "Hefei", "Chengdu", "Taipei", "Suwon")),
    Part("pcba", "334418", 640, 22, ("Shenzhen", "Kunshan", "Chongqing", "Taipei")),
    Part("memory", "334413", 310, 8, ("Suwon", "Busan", "Wuhan", "Hsinchu")),
    Part("storage", "334112", 260, 10, ("Penang", "Wuhan", "Suwon", "Hsinchu")),
    Part("battery", "335911", 150, 12, ("Dongguan", "Ningbo", "Xiamen", "Osaka")),
    Part("chassis_plastic", "326199", 70, 14, ("Dongguan", "Suzhou", "Ho Chi Minh City"), "plastics_average", 0.45),
    Part("chassis_aluminium", "331318", 120, 10, ("Kunshan", "Chongqing", "Ho Chi Minh City"),
         "aluminium_cans_foil", 0.35),
    Part("keyboard", "334419", 45, 12, ("Suzhou", "Dongguan", "Ho Chi Minh City")),
    Part("power_adapter", "335999", 60, 12, ("Dongguan", "Shenzhen", "Xiamen")),
    Part("cables_connectors", "335929", 35, 20, ("Shenzhen", "Dongguan", "Kunshan", "Taipei")),
    Part("packaging", "322211", 18, 14, ("Hefei", "Tianjin", "Suzhou", "Ningbo"), "paper_board", 0.50),
    Part("electronic_components", "334416", 95, 60, ("Shenzhen", "Suzhou", "Taipei", "Osaka", "Penang")),
)
SERVICES = (("logistics_services", "484121", 40, 20), ("it_services", "541512", 8, 16),
            ("facility_services", "561720", 4, 14))
EQUIPMENT = ("equipment", "333242", 26, 12)  # capital goods: SMT and test equipment, per unit built
PRODUCTS = {  # product -> (site, share of the site's units, laptop kg, packaging [(material, kg, recycled, plastic)])
    "ZC-Book 14": ("TJ01", 1.0, 1.45, [("paper_board", 0.42, 0.85, False), ("paper", 0.12, 0.9, False),
                                        ("plastics_average", 0.015, 0.3, True)]),
    "ZC-Book 15": ("HF01", 0.55, 1.75, [("paper_board", 0.48, 0.85, False), ("paper", 0.14, 0.9, False),
                                         ("plastics_average", 0.02, 0.3, True)]),
    "ZC-Book 13 Air": ("HF01", 0.45, 1.20, [("paper_board", 0.38, 0.9, False), ("paper", 0.10, 0.9, False),
                                             ("plastics_average", 0.01, 0.5, True)]),
}
# market -> (share of units, yearly energy [kWh], lifetime [yr]); energy and lifetime in the range of published
# laptop footprints (Dell Latitude 7430: 17.25 kWh/yr over 4 years; HP 250 G9: 17.06 kWh/yr, 4 years).
MARKETS = {"CN": (0.40, 17.0, 4), "US": (0.30, 17.5, 4), "GB": (0.10, 17.0, 4), "DE": (0.20, 17.0, 4)}
ASIA_SEA = {"TW", "KR", "JP", "VN", "MY"}
CNY_PER_TONNE = 1_250_000
# The group's books convert at one rate for the year (a generator parameter); the shipped Federal Reserve
# annual averages end before the demo year, so spend rows carry the booked rate.
BOOKED_CNY_PER_USD = 7.18


# Distances are generator parameters, not data: road = 1.25 x great circle, sea within Asia = 1.3 x great circle,
# port-to-port to Europe (via Suez) and to the US west coast as round sailing distances, air = great circle.
ROAD_DETOUR, ASIA_SEA_DETOUR = 1.25, 1.3
SAILING_KM = {("Shanghai", "Rotterdam"): 19_500, ("Shanghai", "Los Angeles"): 10_500,
              ("Tianjin port", "Rotterdam"): 20_500, ("Tianjin port", "Los Angeles"): 10_300}


def _great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(np.radians, (*a, *b))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return float(2 * 6371.0 * np.arcsin(np.sqrt(h)))


def _leg(mode: str, a: tuple[float, float], b: tuple[float, float], km: float | None = None) -> dict:
    if km is None:
        gc = _great_circle_km(a, b)
        km = gc * {"road": ROAD_DETOUR, "sea": ASIA_SEA_DETOUR}.get(mode, 1.0)
    return {"mode": mode, "distance": round(max(km, 5.0), 1), "distance_unit": "km"}


def _months(year: int):
    start = pd.date_range(f"{year}-01-01", periods=12, freq="MS")
    return [d.date() for d in start], [d.date() for d in start + pd.offsets.MonthEnd(0)]


def _units() -> dict[str, float]:
    """Laptops built per product in a year."""
    per_site = {s.code: s.units_per_year for s in SITES}
    return {p: per_site[site] * share for p, (site, share, _, _) in PRODUCTS.items()}


def suppliers(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    groups = [(p.category, p.count, p.cities, 1) for p in PARTS]
    groups += [(c, n, ("Hefei", "Tianjin", "Shenzhen", "Suzhou"), 1) for c, _, _, n in SERVICES]
    groups += [(EQUIPMENT[0], EQUIPMENT[3], ("Suzhou", "Osaka", "Suwon", "Shenzhen"), 1)]
    groups += [("materials", 40, ("Ningbo", "Suzhou", "Chongqing", "Taipei", "Osaka"), 2),
               ("minerals_refining", 12, ("Chengdu", "Ningbo", "Xiamen"), 3)]
    n = 0
    for category, count, cities, tier in groups:
        for i in range(count):
            n += 1
            city = cities[i % len(cities)]
            country = COUNTRY.get(city, "CN")
            emissions = float(np.round(rng.lognormal(np.log(20_000 if tier == 1 else 60_000), 1.0), 0))
            rows.append({"supplier": f"S{n:04d}", "name": f"{city} {category.replace('_', ' ')} supplier {i + 1}",
                         "tier": tier, "category": category, "country": country,
                         "region": "CN-" + city if country == "CN" else country, "site": city,
                         "emissions_t": emissions, "emissions_source": "reported" if i % 3 else "estimated", "contact": f"esg@s{n:04d}.example.com"})
    return pd.DataFrame(rows)


def generate(out: Path, seed: int = 2025, year: int = YEAR) -> dict[str, Path]:
    """Write the value-chain files of ``year`` (and the packaging of ``year - 1`` as the base year) into
    ``out``; return {kind: path} (``suppliers`` is the registry, the others are activity files)."""
    rng = np.random.default_rng(seed + 11)
    out.mkdir(parents=True, exist_ok=True)
    starts, ends = _months(year)
    sup = suppliers(rng)
    units = _units()
    site_units = {s.code: s.units_per_year for s in SITES}
    purchases, shipments, spend = [], [], {}
    by_cat = {c: g for c, g in sup.groupby("category")}
    plan = [(p.category, p.naics, p.cny_per_unit, p.material, p.kg_per_unit, 1) for p in PARTS]
    plan += [(c, naics, cny, "", 0.0, 1) for c, naics, cny, _ in SERVICES]
    plan += [(EQUIPMENT[0], EQUIPMENT[1], EQUIPMENT[2], "", 0.0, 2)]
    for category, naics, cny_per_unit, material, kg_per_unit, cat in plan:
        group = by_cat[category]
        weights = rng.dirichlet(np.full(len(group), 0.8))
        for (_, s), w in zip(group.iterrows(), weights):
            for site in site_units:
                share = w * site_units[site] / 12
                for m in range(12):
                    amount = cny_per_unit * share * rng.normal(1, 0.05)
                    spend[s.supplier] = spend.get(s.supplier, 0.0) + amount
                    row = {"site": site, "period_start": starts[m], "period_end": ends[m], "category": cat,
                           "item": category, "supplier": s.supplier}
                    code = int(s.supplier[1:])
                    if material and code % 2 == 0:
                        row.update(quantity=round(kg_per_unit * share / 1000, 3), unit="t", material=material)
                    elif category in ("display", "battery", "memory") and code % 4 == 0:
                        # Disclosed cradle-to-gate figure of the parts delivered, with its evidence.
                        row.update(supplier_co2e=round(amount / 7.2 * rng.uniform(0.18, 0.30), 1),
                                   supplier_co2e_unit="kgCO2e", evidence=f"{s.supplier}-PCF-{year}-Q{m // 3 + 1}")
                    else:
                        row.update(spend=round(amount, 2), currency="CNY", price_year=year, eeio_code=naics,
                                   exchange_rate=BOOKED_CNY_PER_USD)
                    purchases.append(row)
    # A supplier nothing is bought from directly (tiers 2-3) has no spend: left blank, not 0.
    sup["annual_spend"] = sup["supplier"].map(spend).round(0)
    sup["currency"] = sup["annual_spend"].map(lambda x: "CNY" if pd.notna(x) else "")
    sup["parts"] = sup["category"]
    # Inbound: one consolidated leg per supplier, site and month for part makers.
    part_cats = {p.category for p in PARTS}
    for _, s in sup[sup.category.isin(part_cats)].iterrows():
        origin = CITIES[s.site]
        for site in site_units:
            dest = CITIES[SITE_CITY[site]]
            share = site_units[site] / sum(site_units.values())
            # About CNY 1.25 million of parts per tonne: a laptop's bill of materials (CNY 2,500) weighs ~2 kg.
            tonnes = max(0.5, spend.get(s.supplier, 0) * share / 4 / CNY_PER_TONNE * rng.uniform(0.8, 1.2))
            for m in range(0, 12, 3):
                base = {"site": site, "period_start": starts[m], "period_end": ends[min(m + 2, 11)], "category": 4,
                        "shipment": f"IN-{s.supplier}-{site}-{m // 3 + 1}", "mass": round(tonnes, 2),
                        "mass_unit": "t", "carrier": "C-ROAD" if s.country == "CN" else "C-SEA"}
                if s.country in ASIA_SEA:
                    port = PORTS["Tianjin port"] if site == "TJ01" else PORTS["Shanghai"]
                    shipments.append({**base, "leg": 1, **_leg("sea", origin, port)})
                    shipments.append({**base, "leg": 2, **_leg("road", port, dest)})
                else:
                    shipments.append({**base, "leg": 1, **_leg("road", origin, dest)})
    # Outbound, paid by the group (category 4), and customers' distribution (category 9).
    for product, (site, _, kg, pack) in PRODUCTS.items():
        shipped_t = units[product] * (kg + sum(p[1] for p in pack)) / 1000
        dest_cn = CITIES[SITE_CITY[site]]
        port = PORTS["Tianjin port"] if site == "TJ01" else PORTS["Shanghai"]
        for m in range(12):
            month_t = shipped_t / 12
            for market, (share, _, _) in MARKETS.items():
                t = month_t * share
                ref = f"OUT-{product.replace(' ', '')}-{market}-{m + 1:02d}"
                common = {"site": site, "period_start": starts[m], "period_end": ends[m], "category": 4,
                          "shipment": ref, "mass_unit": "t"}
                if market == "CN":
                    shipments.append({**common, "leg": 1, "mode": "road", "mass": round(t, 2), "distance": 850,
                                      "distance_unit": "km", "carrier": "C-ROAD"})
                    continue
                far = "Rotterdam" if market in ("GB", "DE") else "Los Angeles"
                port_name = "Tianjin port" if site == "TJ01" else "Shanghai"
                air = 0.08 * t  # urgent launch volumes fly
                shipments.append({**common, "leg": 1, "mass": round(t, 2), **_leg("road", dest_cn, port),
                                  "carrier": "C-ROAD"})
                shipments.append({**common, "leg": 2, "mass": round(t - air, 2),
                                  **_leg("sea", port, PORTS[far], SAILING_KM[port_name, far]), "carrier": "C-SEA"})
                shipments.append({**common, "leg": 3, "mass": round(air, 2), **_leg("air", port, PORTS[far]),
                                  "carrier": "C-AIR"})
                shipments.append({**common, "category": 9, "shipment": ref + "-RETAIL", "leg": 1, "mode": "road",
                                  "mass": round(t, 2), "distance": 400, "distance_unit": "km"})
    waste, travel, commute, use, eol, packaging, takeback = [], [], [], [], [], [], []
    for s in SITES:
        scale = s.units_per_year / 3_000_000
        ys, ye = f"{year}-01-01", f"{year}-12-31"
        for material, treatment, tonnes in (("paper_board", "recycling_closed_loop", 420), ("plastics_average",
                                            "recycling_open_loop", 65), ("plastics_average", "combustion", 30),
                                            ("commercial_industrial_waste", "landfill", 120),
                                            ("electrical_items_small", "recycling_open_loop", 18)):
            # The demo classes its scrap electronics (circuit boards) as hazardous waste, as China's National
            # Hazardous Waste List does with waste circuit boards (category HW49); the rest of its waste is not.
            waste.append({"site": s.code, "period_start": ys, "period_end": ye, "material": material,
                          "treatment": treatment, "quantity": round(tonnes * scale, 1), "unit": "t",
                          "hazardous": "true" if material == "electrical_items_small" else "false"})
        for mode, km, n in (("air.domestic.average", 1_100, 1_800), ("air.short_haul.economy", 2_400, 600),
                            ("air.long_haul.economy", 9_500, 420), ("rail.national", 900, 3_500)):
            travel.append({"site": s.code, "period_start": ys, "period_end": ye, "mode": mode,
                           "distance": round(km * n * scale ** 0.5), "distance_unit": "km", "travellers": 1})
        employees = int(4_000 * scale ** 0.7)
        for mode, share, km in (("bus.average", 0.45, 12), ("car.average_unknown_fuel", 0.25, 18),
                                ("rail.national", 0.10, 20)):
            commute.append({"site": s.code, "period_start": ys, "period_end": ye, "mode": mode,
                            "one_way_distance": km, "distance_unit": "km", "employees": int(employees * share),
                            "days": 250})
    for product, (site, share, kg, pack) in PRODUCTS.items():
        n = units[product]
        ys, ye = f"{year}-01-01", f"{year}-12-31"
        for market, (mshare, kwh, life) in MARKETS.items():
            use.append({"site": site, "period_start": ys, "period_end": ye, "product": product,
                        "units_sold": round(n * mshare), "market": market, "lifetime_years": life,
                        "energy_per_year": kwh, "energy_unit": "kWh",
                        "energy_source": "typical energy consumption of comparable laptops (published PCF sheets)"})
            eol.append({"site": site, "period_start": ys, "period_end": ye, "product": product,
                        "units_sold": round(n * mshare), "material": "electrical_items_small", "mass_per_unit": kg,
                        "unit": "kg", "treatment": "recycling_open_loop" if market != "US" else "landfill"})
        for y in (year - 1, year):
            s0, e0 = _months(y)
            for q in range(4):
                for material, mass, recycled, plastic in pack:
                    extra = 0.0
                    if y == year - 1 and plastic:
                        extra = 0.03  # EPE foam corners, replaced by moulded pulp in the year after
                    packaging.append({"site": site, "period_start": s0[3 * q], "period_end": e0[3 * q + 2],
                                      "product": product, "units": round(n / 4 * (0.93 if y < year else 1.0)),
                                      "material": material, "mass_per_unit": round(mass + extra, 3), "unit": "kg",
                                      "recycled_share": recycled if not plastic or y == year else 0.0,
                                      "plastic": plastic})
        placed_t = n * kg / 1000
        for material, frac, rate, treatment in (("electrical_items_small", 1.0, 0.88, "recycling_open_loop"),
                                                ("paper_board", 0.3, 0.95, "recycling_closed_loop")):
            collected = placed_t * frac * 0.06
            takeback.append({"site": site, "period_start": f"{year}-01-01", "period_end": f"{year}-12-31",
                             "product": product, "material": material, "collected": round(collected, 2),
                             "recycled": round(collected * rate, 2), "unit": "t", "treatment": treatment,
                             "placed_on_market": round(placed_t * frac, 1)})
    paths = {"suppliers": out / "suppliers.csv"}
    sup.to_csv(paths["suppliers"], index=False)
    for kind, rows in (("purchase", purchases), ("shipment", shipments), ("waste", waste), ("travel", travel),
                       ("commute", commute), ("product_use", use), ("product_eol", eol)):
        paths[kind] = out / f"{kind}_{year}.csv"
        pd.DataFrame(rows).to_csv(paths[kind], index=False)
    pk = pd.DataFrame(packaging)
    for y in (year - 1, year):
        paths[f"packaging_{y}"] = out / f"packaging_{y}.csv"
        pk[pd.to_datetime(pk.period_start).dt.year == y].to_csv(paths[f"packaging_{y}"], index=False)
    paths["takeback"] = out / f"takeback_{year}.csv"
    pd.DataFrame(takeback).to_csv(paths["takeback"], index=False)
    return paths


ACTIVITY_KINDS = ("purchase", "shipment", "waste", "travel", "commute", "product_use", "product_eol", "takeback")


def load(sessions, org: str, files: dict[str, Path], factor_set: str, *, year: int = YEAR, actor: str,
         progress=lambda step: None) -> None:
    """Import the registry and the value-chain files of ``generate`` (all through the ordinary imports)."""
    from zerocarbon.services import accounting, suppliers

    progress("import suppliers")
    suppliers.import_suppliers(sessions, org, files["suppliers"].name, files["suppliers"].read_bytes(), actor=actor)
    for kind in ACTIVITY_KINDS:
        progress(f"import {kind}")
        accounting.import_file(sessions, org, kind, files[kind], year, factor_set, actor=actor)
    for y in (year - 1, year):
        accounting.import_file(sessions, org, "packaging", files[f"packaging_{y}"], y, factor_set, actor=actor)


def programme(sessions, org: str, files: dict[str, Path], *, seed: int = 2025, actor: str) -> dict:
    """The supplier programme of the demo group: one data campaign per year from the inventory year to today's,
    to every supplier; their answers with evidence, dated over the year they were given (most complete, some
    missing a certificate or a declaration, a few returned with a comment, a few not answered yet); the review;
    and reduction projects towards the programme goal. Returns counts of what was stored."""
    from datetime import date, timedelta

    from zerocarbon.services import suppliers

    rng = np.random.default_rng(seed + 29)
    sup = pd.read_csv(files["suppliers"], dtype={"supplier": str})
    today = suppliers.today()
    counts = {"campaigns": 0, "answered": 0, "accepted": 0, "returned": 0, "projects": 0}
    for year in range(YEAR, max(YEAR, today.year) + 1):
        last = min(date(year, 12, 1), today - timedelta(days=1))
        campaign = suppliers.create_campaign(sessions, org, f"Green specification {year}", [], date(year, 12, 31),
                                             list(sup.supplier), actor=actor)
        counts["campaigns"] += 1
        requests = {r["supplier"]: r["id"]
                    for c in suppliers.list_campaigns(sessions, org, suppliers.Viewer.everything(actor))
                    if c["id"] == campaign["id"] for r in c["requests"]}
        for _, s in sup.iterrows():
            if rng.random() < 0.04:
                continue  # not answered yet: overdue once the due date passes
            answered_on = date(year, 1, 15) + timedelta(days=int(rng.integers(0, max(1, (last - date(year, 1, 15)).days))))
            rows, evidence = _answers(rng, s, answered_on)
            sub = suppliers.submit(sessions, org, s.supplier, f"{s.supplier}-answers-{year}.csv", rows, evidence,
                                   request_id=requests.get(s.supplier), actor=f"{s.supplier}@supplier.demo",
                                   answered_on=answered_on)
            counts["answered"] += 1
            if rng.random() < 0.05:
                suppliers.review(sessions, org, sub["id"], False, "the renewable-electricity evidence covers only "
                                 "one of the two factories; send the certificate of the second", actor=actor)
                counts["returned"] += 1
            else:
                suppliers.review(sessions, org, sub["id"], True, actor=actor)
                counts["accepted"] += 1
            if year == YEAR and int(s.supplier[1:]) % 4 == 0:
                counts["projects"] += _projects(sessions, org, rng, s, actor)
    return counts


def _answers(rng: np.random.Generator, s, answered_on) -> tuple[bytes, dict[str, bytes]]:
    """One supplier's answers to the green specification as a submission file, and its evidence files."""
    from datetime import timedelta

    code = s.supplier
    rows = ["indicator,value,unit,evidence_ref,evidence_file,valid_until"]
    evidence = {}

    def answer(indicator, value, unit="", file="", valid=""):
        rows.append(f"{indicator},{value},{unit},,{file},{valid}")
        if file:
            evidence[file] = f"{code} {indicator} evidence (demo document)\n".encode()

    if rng.random() < 0.97:
        answer("iso14001", f"CN-14001-{code}", file=f"{code}-iso14001.pdf",
               valid=(answered_on + timedelta(days=int(rng.integers(400, 1100)))).isoformat())
    if rng.random() < 0.98:
        answer("substances", "yes", file=f"{code}-rohs-reach.pdf")
    answer("sbti", rng.choice(["none", "committed", "validated"], p=[0.15, 0.40, 0.45]))
    if rng.random() < 0.9:
        answer("renewable_share", int(rng.integers(15, 95)), "%", file=f"{code}-green-power.pdf")
    answer("scope12_disclosed", int(s.emissions_t), "tCO2e", file=f"{code}-ghg-inventory.pdf")
    answer("env_audit", rng.choice(["pass", "minor", "major"], p=[0.8, 0.18, 0.02]), file=f"{code}-audit.pdf")
    return "\n".join(rows).encode(), evidence


def _projects(sessions, org: str, rng: np.random.Generator, s, actor: str) -> int:
    """Two reduction projects of a supplier, submitted with their evidence reference and accepted."""
    from zerocarbon.services import suppliers

    code, base = s.supplier, float(s.emissions_t)
    lines = ["project_id,description,type,start_year,annual_reduction_t,baseline_t,evidence_ref,evidence_file"]
    for j, (what, kind, share) in enumerate((("rooftop PV", "renewable_electricity", 0.08),
                                             ("compressed-air leak programme", "energy_efficiency", 0.03))):
        lines.append(f"{code}-P{j + 1},{what},{kind},{int(rng.integers(2021, YEAR + 1))},"
                     f"{round(base * share * rng.uniform(0.5, 1.5))},{round(base)},{code}-AUD-{j + 1},")
    stored = suppliers.submit_projects(sessions, org, code, f"{code}-projects.csv", "\n".join(lines).encode(),
                                       actor=f"{code}@supplier.demo")
    for p in stored:
        suppliers.review_project(sessions, org, p["id"], True, actor=actor)
    return len(stored)
