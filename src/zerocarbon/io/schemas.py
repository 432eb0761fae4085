"""Column schemas of every activity file, declared as data (name, type, unit, required, meaning,
ceiling, Chinese header).

``docs/data-formats.md`` is generated from these tables (``zerocarbon schema``), so code and docs
cannot drift apart.
"""
from __future__ import annotations

from dataclasses import dataclass

from zerocarbon.core.instruments import instrument_technologies, instrument_types


@dataclass(frozen=True)
class Ceiling:
    """Largest magnitude one row may hold, in ``unit`` (``""``: a plain number), and why.

    A row's value is converted from the row's own unit into ``unit`` before the comparison; a column
    whose unit may have several dimensions (fuel by mass, energy, volume or gas amount) has one
    ceiling per dimension.
    """

    value: float
    unit: str
    reason: str


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # str | float | date | bool | int
    required: bool
    description: str
    example: str
    check: str = ""  # nonneg | fraction | positive | unstated (a bool whose blank means "not said")
    max: tuple[Ceiling, ...] = ()  # ceilings on |value|, one per dimension of the row's unit
    unit_column: str = ""  # column giving this value's unit; "" when the value is in the ceiling's unit
    aliases: tuple[str, ...] = ()  # other accepted headers (Chinese)


def C(name, type_, required, description, example, check="", *, zh, max=(), unit_column=""):  # noqa: N802, A002
    """Table-like declaration; ``zh`` is the Chinese header (or headers, comma-separated)."""
    return Column(name, type_, required, description, example, check, tuple(max), unit_column,
                  tuple(a.strip() for a in zh.split(",")))


# Ceilings are sanity limits, not data: generous enough that no real site-period reaches them, low
# enough that a typo of many zeros, 1e308 or an exponent slip is caught before it reaches a total.
ELECTRICITY_CEILING = Ceiling(1e12, "kWh", "1,000 TWh in one row: ten times the yearly output of the "
                                           "largest power station; no site uses that")
HEAT_CEILING = Ceiling(1e10, "GJ", "10 EJ in one row: more heat than any site buys in a year")
FUEL_CEILINGS = (
    Ceiling(1e8, "t", "100 Mt in one row: more fuel than any single plant burns in a year"),
    Ceiling(1e10, "GJ", "10 EJ in one row: more fuel energy than any single plant burns in a year"),
    Ceiling(1e12, "L", "1 billion m3 of liquid fuel in one row: more than any site burns in a year"),
    Ceiling(1e11, "Nm3", "100 billion Nm3 of gas in one row: a sizeable share of a large country's yearly gas use"),
)
FGAS_CEILING = Ceiling(1e7, "kg", "10,000 t of one fluorinated gas at one site in one row: more than any "
                                  "refrigeration plant or fab holds or uses")
HEAT_FACTOR_CEILING = Ceiling(1000, "kg/GJ", "ten times the CO2 of burning lignite (about 100 kg/GJ, IPCC 2006): "
                                            "no heat supply emits more")
INSTRUMENT_FACTOR_CEILING = Ceiling(2, "kg/kWh", "twice the CO2 of a kWh from coal (about 1 kg/kWh): no supply "
                                                 "emits more")
SERIAL_CEILING = Ceiling(2 ** 53 - 1, "", "largest whole number a 64-bit float keeps exactly; a longer serial "
                                          "would be silently rounded")
YEAR_CEILING = Ceiling(9999, "", "a four-digit calendar year")

COMMON = [
    C("site", "str", True, "site code, as declared in the organisation file", "TJ01", zh="站点"),
    C("period_start", "date", True, "first day of the period (inclusive), ISO date", "2025-01-01", zh="开始日期"),
    C("period_end", "date", True, "last day of the period (inclusive), ISO date", "2025-01-31", zh="结束日期"),
]

SCHEMAS: dict[str, list[Column]] = {
    "fuel": COMMON + [
        C("fuel", "str", True, "fuel key of the factor set (`zerocarbon factors list`)", "natural_gas", zh="燃料"),
        C("use", "str", True, "stationary | mobile | nonroad.<equipment> (a category of the set's non-road "
                               "factors, e.g. nonroad.industrial_commercial_equipment for forklifts; mobile counts "
                               "as mobile combustion too)", "stationary", zh="用途"),
        C("quantity", "float", True, "amount of fuel", "1.25", "nonneg", zh="数量", max=FUEL_CEILINGS,
          unit_column="unit"),
        C("unit", "str", True, "unit of quantity: energy (GJ, mmBtu), mass (t), volume (L), gas amount "
                               "at stated conditions (Nm3 = 0 degC, Sm3 = 15 degC, scf, 万Nm3)", "万Nm3", zh="单位"),
        C("basis", "str", False, "NCV (=LHV) or GCV (=HHV); required when unit is an energy unit", "NCV",
          zh="热值基准"),
        C("biogenic", "bool", False, "true for biomass fuels: CO2 reported outside the scopes", "false",
          zh="生物质"),
        C("reference", "str", False, "document reference: invoice or delivery note number; tells separate "
                                     "deliveries of one site, fuel, use and period apart (see Repeated records)",
          "FP-2025-0117", zh="单据号,单据编号,发票号"),
    ],
    "electricity": COMMON + [
        C("meter", "str", True, "meter id (revenue meter of the grid connection)", "TJ01-M-MAIN", zh="电表"),
        C("quantity", "float", True, "electricity bought from the grid", "1520000", "nonneg", zh="数量",
          max=(ELECTRICITY_CEILING,), unit_column="unit"),
        C("unit", "str", True, "energy unit", "kWh", zh="单位"),
    ],
    "heat": COMMON + [
        C("quantity", "float", True, "purchased heat or steam", "1200", "nonneg", zh="数量", max=(HEAT_CEILING,),
          unit_column="unit"),
        C("unit", "str", True, "energy unit", "GJ", zh="单位"),
        C("supplier_factor", "float", True, "supplier's emission factor of the heat", "0.11", "nonneg",
          zh="供应商排放因子", max=(HEAT_FACTOR_CEILING,), unit_column="supplier_factor_unit"),
        C("supplier_factor_unit", "str", True, "unit of supplier_factor: CO2 mass per energy", "t/GJ",
          zh="排放因子单位"),
        C("factor_source", "str", True, "where the supplier factor comes from (document, year)",
          "supplier letter 2025", zh="因子来源"),
    ],
    "refrigerant": COMMON + [
        C("gas", "str", True, "refrigerant: a gas or blend with a GWP in the set (R-410A, HFC-134a, SF6)", "R-410A",
          zh="制冷剂,气体"),
        C("method", "str", True, "mass_balance | screening", "mass_balance", zh="方法"),
        C("unit", "str", True, "mass unit of the amounts below", "kg", zh="单位"),
        C("inventory_start", "float", False, "stock in storage at period start (mass balance)", "120", "nonneg",
          zh="期初库存", max=(FGAS_CEILING,), unit_column="unit"),
        C("inventory_end", "float", False, "stock in storage at period end (mass balance)", "80", "nonneg",
          zh="期末库存", max=(FGAS_CEILING,), unit_column="unit"),
        C("purchased", "float", False, "purchased or received (mass balance)", "50", "nonneg", zh="购入量",
          max=(FGAS_CEILING,), unit_column="unit"),
        C("recovered_or_sold", "float", False, "returned, recycled, sold or destroyed (mass balance)", "0", "nonneg",
          zh="回收或售出量", max=(FGAS_CEILING,), unit_column="unit"),
        C("capacity_change", "float", False, "charge of new minus retired equipment (mass balance; may be negative)",
          "0", zh="设备容量变化", max=(FGAS_CEILING,), unit_column="unit"),
        C("charge", "float", False, "equipment charge (screening)", "350", "nonneg", zh="充注量",
          max=(FGAS_CEILING,), unit_column="unit"),
        C("annual_leak_rate", "float", False, "fraction of charge lost per year (screening)", "0.05", "fraction",
          zh="年泄漏率"),
        C("parameter_source", "str", False, "source of the leak rate or log (screening: required)", "maintenance log",
          zh="参数来源"),
        C("reference", "str", False, "equipment id or log reference; tells records of one site, gas, method and "
                                     "period apart (see Repeated records)", "CH-02", zh="单据号,设备编号"),
    ],
    "process_gas": COMMON + [
        C("gas", "str", True, "CHF3, CH2F2, CF4, C2F6, C3F8, c-C4F8, C5F8, SF6 or NF3", "NF3", zh="气体"),
        C("consumed", "float", True, "gas fed to the process", "120", "nonneg", zh="消耗量", max=(FGAS_CEILING,),
          unit_column="unit"),
        C("unit", "str", True, "mass unit", "kg", zh="单位"),
        C("heel", "float", True, "fraction left in the cylinder (h)", "0.10", "fraction", zh="残留比例"),
        C("utilisation", "float", True, "fraction of gas used up in the process (U)", "0.8", "fraction",
          zh="利用率"),
        C("abatement_fraction", "float", True, "fraction fed through abatement (a)", "0.9", "fraction",
          zh="处理比例"),
        C("destruction_efficiency", "float", True, "destruction efficiency of abatement (d)", "0.95", "fraction",
          zh="去除效率"),
        C("byproduct_cf4_rate", "float", False, "kg CF4 formed per kg gas (B)", "0.02", "fraction", zh="CF4副产率"),
        C("byproduct_c2f6_rate", "float", False, "kg C2F6 formed per kg gas (B)", "0", "fraction", zh="C2F6副产率"),
        C("parameter_source", "str", True, "source of h, U, a, d, B (standard table, measurement)",
          "GB/T 32151.24 Annex", zh="参数来源"),
        C("reference", "str", False, "equipment id or log reference (tool, cylinder log); tells records of one "
                                     "site, gas and period apart (see Repeated records)", "ETCH-07", zh="单据号,设备编号"),
    ],
    "generation": COMMON + [
        C("technology", "str", True, "pv | wind | other", "pv", zh="技术"),
        C("generated", "float", True, "generated on site", "410000", "nonneg", zh="发电量", max=(ELECTRICITY_CEILING,),
          unit_column="unit"),
        C("exported", "float", False, "exported to the grid (not self-consumed)", "12000", "nonneg", zh="上网电量",
          max=(ELECTRICITY_CEILING,), unit_column="unit"),
        C("unit", "str", True, "energy unit", "kWh", zh="单位"),
    ],
    "instrument": [
        C("instrument_id", "str", True, "unique id of the instrument (certificate batch, contract)", "GEC-2025-000123",
          zh="凭证编号"),
        C("type", "str", True, " | ".join(instrument_types()) + " (`data/instruments/types.csv`)", "GEC", zh="类型"),
        C("registry", "str", True, "issuing registry (serial numbers are unique within it)", "CN-GEC", zh="登记机构"),
        C("market", "str", True, "market boundary, country code", "CN", zh="市场"),
        C("volume", "float", True, "electricity the instrument represents; for certificate types it must equal the "
                                   "serial range (GEC, I-REC: 1 certificate = 1 MWh)", "5000", "positive", zh="电量",
          max=(ELECTRICITY_CEILING,), unit_column="unit"),
        C("unit", "str", True, "energy unit of volume", "MWh", zh="单位"),
        C("vintage_start", "date", True, "first day of generation covered", "2025-01-01", zh="发电开始日期"),
        C("vintage_end", "date", True, "last day of generation covered", "2025-06-30", zh="发电结束日期"),
        C("serial_start", "int", False, "first certificate serial number", "1000001", "nonneg", zh="起始序列号",
          max=(SERIAL_CEILING,)),
        C("serial_end", "int", False, "last certificate serial number", "1005000", "nonneg", zh="结束序列号",
          max=(SERIAL_CEILING,)),
        C("retired_for_site", "str", True, "site the instrument is retired (cancelled) for", "TJ01", zh="核销站点"),
        C("retired_for_year", "int", True, "reporting year it is retired for", "2025", "positive", zh="核销年度",
          max=(YEAR_CEILING,)),
        C("emission_factor", "float", True, "kg CO2 per kWh of the contracted supply (0 for renewable certificates); "
                                           "a blank is refused", "0", "nonneg", zh="排放因子",
          max=(INSTRUMENT_FACTOR_CEILING,)),
        C("technology", "str", True, "generation technology: " + " | ".join(instrument_technologies())
          + "; renewable ones (`data/instruments/technologies.csv`) with a zero emission_factor count toward the "
            "renewable share", "solar", zh="发电技术"),
    ],
}

# -- Scope 3 and supply-chain kinds (docs/scope3.md) ---------------------------------------------------------
CURRENCIES = ("CNY", "USD", "HKD", "EUR", "GBP")
SPEND_CEILINGS = tuple(Ceiling(1e12, cur, f"a trillion {cur} in one row: more than any company spends on one line in a "
                                          "year") for cur in CURRENCIES)
MASS_CEILING = Ceiling(1e9, "t", "a billion tonnes in one row: more than any company buys, ships or discards in a year")
QUANTITY_CEILINGS = (
    MASS_CEILING,
    Ceiling(1e12, "unit", "a trillion items in one row: more than any company buys in a year"),
    ELECTRICITY_CEILING,
    Ceiling(1e12, "L", "1 billion m3 in one row: more than any company buys in a year"),
)
CO2E_CEILINGS = (
    Ceiling(1e10, "kgCO2e", "10 MtCO2e in one row: the yearly emissions of a large steelworks, not one purchase line"),
    Ceiling(1e6, "kgCO2e/kg", "1,000 t CO2e per kg: no material's footprint comes near it (primary aluminium is "
                              "about 10 kg/kg)"),
    Ceiling(1e7, "kgCO2e/unit", "10,000 t CO2e per item: more than a whole aircraft's production footprint"),
)
LEG_MASS_CEILING = Ceiling(1e7, "t", "ten million tonnes in one leg: more than fifty of the largest bulk carriers")
LEG_DISTANCE_CEILING = Ceiling(1e5, "km", "100,000 km in one leg: two and a half times round the Earth")
LATITUDE_CEILING = Ceiling(90, "", "a latitude lies between -90 and 90 degrees")
LONGITUDE_CEILING = Ceiling(180, "", "a longitude lies between -180 and 180 degrees")
TRAVEL_DISTANCE_CEILING = Ceiling(1e8, "km", "100 million km in one row: more than a large company's yearly travel")
COMMUTE_CEILING = Ceiling(1000, "km", "a one-way commute of more than 1,000 km is not a daily commute")
HEADCOUNT_CEILING = Ceiling(1e7, "", "ten million people in one row: more than any company employs")
DAYS_CEILING = Ceiling(366, "", "days in one year")
NIGHTS_CEILING = Ceiling(1e7, "", "ten million room nights in one row: more than a large company's yearly travel")
UNITS_CEILING = Ceiling(1e12, "", "a trillion products in one row: more than any company sells in a year")
LIFETIME_CEILING = Ceiling(100, "", "a century of use: no product's stated lifetime is longer")
PRODUCT_ENERGY_CEILING = Ceiling(1e9, "kWh", "1 TWh a year for one product: more than a large power station makes")
UNIT_MASS_CEILING = Ceiling(1e6, "kg", "1,000 t per product: more than a wide-body aircraft weighs")
TREATMENTS = ("landfill", "recycling_closed_loop", "recycling_open_loop", "combustion", "composting",
              "anaerobic_digestion")
FREIGHT_MODES = ("road", "rail", "sea", "inland_waterway", "air")
# Fixed lists of a text column's values (compared exactly); the importer and the row models both use them.
CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("purchase", "category"): ("1", "2"),
    ("shipment", "category"): ("4", "9"),
    ("shipment", "mode"): FREIGHT_MODES,
    ("waste", "treatment"): TREATMENTS,
    ("product_eol", "treatment"): TREATMENTS,
    ("takeback", "treatment"): TREATMENTS,
}
# Unit columns of the new kinds: column -> (a unit of the dimension it must have, what to call it). "currency":
# one of the currencies pint knows; "co2e": a CO2e mass or a CO2e mass per unit; "": any unit pint knows.
UNIT_COLUMNS: dict[str, dict[str, tuple[str, str]]] = {
    "purchase": {"currency": ("currency", "a currency"), "unit": ("", ""),
                 "supplier_co2e_unit": ("co2e", "a CO2e mass (kgCO2e, tCO2e) or a CO2e mass per unit of quantity")},
    "shipment": {"mass_unit": ("kg", "a mass unit"), "distance_unit": ("km", "a length unit"), "fuel_unit": ("", ""),
                 "carrier_co2e_unit": ("kgCO2e", "a CO2e mass unit (kgCO2e, tCO2e)")},
    "waste": {"unit": ("kg", "a mass unit")},
    "travel": {"distance_unit": ("km", "a length unit"), "currency": ("currency", "a currency")},
    "commute": {"distance_unit": ("km", "a length unit")},
    "product_use": {"energy_unit": ("kWh", "an energy unit")},
    "product_eol": {"unit": ("kg", "a mass unit")},
    "packaging": {"unit": ("kg", "a mass unit")},
    "takeback": {"unit": ("kg", "a mass unit")},
}
# Column groups that only make sense together (a method's inputs): a row giving one gives them all.
SPEND = ("spend", "currency", "price_year", "eeio_code")
SPEND_COLUMNS = [
    C("spend", "float", False, "amount paid (spend-based method, with currency, price_year and eeio_code)", "250000",
      "nonneg", zh="金额,采购金额", max=SPEND_CEILINGS, unit_column="currency"),
    C("currency", "str", False, "currency of spend: " + ", ".join(CURRENCIES) + " (万元 = 10,000 CNY)", "CNY",
      zh="币种"),
    C("price_year", "int", False, "year whose money spend is stated in (normally the year of purchase): converted to "
                                  "USD at that year's average rate, then to the EEIO factor's price year",
      "2020", "positive", zh="价格年份", max=(YEAR_CEILING,)),
    C("eeio_code", "str", False, "NAICS-6 code of the product's sector in the EEIO factors (US EPA Supply Chain GHG "
                                 "Emission Factors)", "334111", zh="行业代码,NAICS代码"),
    C("exchange_rate", "float", False, "units of currency per USD booked for this spend (e.g. the rate of the "
                                       "financial statements); used instead of the shipped annual average, which "
                                       "is needed for a year the reference does not have yet", "7.18", "positive",
      zh="汇率", max=(Ceiling(1e6, "", "a million units of a currency per US dollar: more than any currency in "
                                        "use; a slip of many zeros"),)),
]
SCHEMAS.update({
    "purchase": COMMON + [
        C("category", "str", True, "GHG Protocol Scope 3 category: 1 purchased goods and services, 2 capital goods",
          "1", zh="类别"),
        C("item", "str", True, "what was bought", "aluminium chassis", zh="物品,采购物品"),
        C("supplier", "str", False, "supplier code (as in the supplier register)", "SUP-0042", zh="供应商,供应商编码"),
        *SPEND_COLUMNS,
        C("quantity", "float", False, "amount bought (average-data method with material; a PACT footprint's "
                                      "declared unit with pcf_id; per-unit supplier figures)", "1200", "nonneg",
          zh="数量", max=QUANTITY_CEILINGS, unit_column="unit"),
        C("unit", "str", False, "unit of quantity (t, kg, unit, kWh, m3, ...)", "kg", zh="单位"),
        C("material", "str", False, "material key of the set's material factors (average-data method; "
                                    "`zerocarbon factors list`)", "aluminium_cans_foil", zh="材料"),
        C("supplier_co2e", "float", False, "supplier's cradle-to-gate emissions of this purchase (supplier-specific "
                                           "method): a CO2e mass for the row, or CO2e per unit of quantity",
          "2100", "nonneg", zh="供应商排放量", max=CO2E_CEILINGS, unit_column="supplier_co2e_unit"),
        C("supplier_co2e_unit", "str", False, "unit of supplier_co2e and supplier_scope12_co2e: kgCO2e, tCO2e, or "
                                              "per unit of quantity (kgCO2e/kg)", "kgCO2e", zh="供应商排放单位"),
        C("supplier_scope12_co2e", "float", False, "supplier's Scope 1+2 emissions allocated to this purchase "
                                                   "(hybrid method, with material or spend for its inputs)", "640",
          "nonneg", zh="供应商范围一二排放", max=CO2E_CEILINGS, unit_column="supplier_co2e_unit"),
        C("pcf_id", "str", False, "id of a supplier product footprint (PACT) stored for the organisation; quantity is "
                                  "in its declared unit", "3893bb5d-da16-4fc3-b5f6-2e6a1fd8b0e5", zh="产品碳足迹编号"),
        C("evidence", "str", False, "document backing the supplier's figures (EPD, verified report, PACT file); "
                                    "required with supplier_co2e or supplier_scope12_co2e", "EPD S-P-01234",
          zh="证据,证明材料"),
    ],
    "shipment": COMMON + [
        C("category", "str", True, "GHG Protocol Scope 3 category: 4 upstream (paid by the company), 9 downstream",
          "4", zh="类别"),
        C("shipment", "str", True, "shipment or consignment id", "SHP-2025-0042", zh="运单号,货运单号"),
        C("leg", "str", False, "leg of the shipment (one vehicle, one mode)", "1", zh="运输段,段"),
        C("mode", "str", True, " | ".join(FREIGHT_MODES), "road", zh="运输方式"),
        C("vehicle", "str", False, "vehicle type of the set's freight factors (road: hgv_average_laden, van_average; "
                                   "sea: container_ship_average; ...); blank: the mode's average", "hgv_average_laden",
          zh="车型,运输工具"),
        C("mass", "float", True, "mass of the goods carried on the leg", "12.5", "nonneg", zh="重量,货物重量",
          max=(LEG_MASS_CEILING,), unit_column="mass_unit"),
        C("mass_unit", "str", True, "mass unit of mass", "t", zh="重量单位"),
        C("distance", "float", False, "distance of the leg (blank: great circle between the coordinates x the "
                                      "mode's distance adjustment factor)", "1210", "nonneg", zh="距离",
          max=(LEG_DISTANCE_CEILING,), unit_column="distance_unit"),
        C("distance_unit", "str", False, "length unit of distance", "km", zh="距离单位"),
        C("origin_lat", "float", False, "latitude of the origin, decimal degrees", "39.0851", zh="起点纬度",
          max=(LATITUDE_CEILING,)),
        C("origin_lon", "float", False, "longitude of the origin, decimal degrees", "117.1994", zh="起点经度",
          max=(LONGITUDE_CEILING,)),
        C("destination_lat", "float", False, "latitude of the destination", "31.2304", zh="终点纬度",
          max=(LATITUDE_CEILING,)),
        C("destination_lon", "float", False, "longitude of the destination", "121.4737", zh="终点经度",
          max=(LONGITUDE_CEILING,)),
        C("fuel", "str", False, "fuel key of the carrier's fuel data (fuel-based method)", "gas_diesel_oil",
          zh="燃料"),
        C("fuel_quantity", "float", False, "fuel the carrier used for this leg (its share)", "0.26", "nonneg",
          zh="燃料用量", max=FUEL_CEILINGS, unit_column="fuel_unit"),
        C("fuel_unit", "str", False, "unit of fuel_quantity (t, kg; L where the set has factors per volume)", "t",
          zh="燃料单位"),
        C("carrier_co2e", "float", False, "emissions the carrier reports for this leg, well-to-wheel", "1050",
          "nonneg", zh="承运商排放量", max=CO2E_CEILINGS[:1], unit_column="carrier_co2e_unit"),
        C("carrier_co2e_unit", "str", False, "CO2e mass unit of carrier_co2e", "kgCO2e", zh="承运商排放单位"),
        C("carrier", "str", False, "carrier (logistics provider)", "Tianjin Haul Co.", zh="承运商"),
    ],
    "waste": COMMON + [
        C("material", "str", True, "material key of the set's waste factors", "paper_board", zh="材料,废物类别"),
        C("treatment", "str", True, " | ".join(TREATMENTS), "recycling_closed_loop", zh="处理方式"),
        C("quantity", "float", True, "mass of waste sent to treatment", "3.2", "nonneg", zh="数量",
          max=(MASS_CEILING,), unit_column="unit"),
        C("unit", "str", True, "mass unit of quantity", "t", zh="单位"),
        C("hazardous", "bool", False, "true for hazardous waste under the site's law (PRC National Hazardous Waste "
                                      "List, HK Waste Disposal Ordinance); HKEX KPI A1.3/A1.4 need it (blank: not "
                                      "stated)", "false", "unstated", zh="危险废物,是否危废"),
    ],
    "travel": COMMON + [
        C("mode", "str", True, "travel factor key (air.long_haul.economy, air.short_haul.economy, rail.national, "
                               "taxi.regular, car.average_unknown_fuel, bus.average, ...)", "air.long_haul.economy",
          zh="出行方式"),
        C("distance", "float", False, "distance travelled per traveller (distance-based method)", "9200", "nonneg",
          zh="距离", max=(TRAVEL_DISTANCE_CEILING,), unit_column="distance_unit"),
        C("distance_unit", "str", False, "length unit of distance", "km", zh="距离单位"),
        C("travellers", "float", False, "number of travellers making the trip", "2", "nonneg", zh="人数",
          max=(HEADCOUNT_CEILING,)),
        C("hotel", "str", False, "country code of a hotel stay on the trip (factor hotel.<country>)", "GB",
          zh="酒店国家"),
        C("nights", "float", False, "room nights of the hotel stay", "3", "nonneg", zh="间夜数", max=(NIGHTS_CEILING,)),
        *SPEND_COLUMNS,
    ],
    "commute": COMMON + [
        C("mode", "str", True, "travel factor key of the commute (car.average_unknown_fuel, bus.average, "
                               "rail.national, ...)", "bus.average", zh="通勤方式"),
        C("one_way_distance", "float", True, "average one-way distance home to work", "12", "nonneg",
          zh="单程距离", max=(COMMUTE_CEILING,), unit_column="distance_unit"),
        C("distance_unit", "str", True, "length unit of one_way_distance", "km", zh="距离单位"),
        C("employees", "float", True, "employees commuting this way", "180", "nonneg", zh="员工人数",
          max=(HEADCOUNT_CEILING,)),
        C("days", "float", True, "working days in the period", "230", "nonneg", zh="工作天数", max=(DAYS_CEILING,)),
    ],
    "product_use": COMMON + [
        C("product", "str", True, "product sold", "Dell Latitude 7430", zh="产品"),
        C("units_sold", "float", True, "units sold in the period", "10000", "nonneg", zh="销量", max=(UNITS_CEILING,)),
        C("market", "str", True, "country where the products are used (ISO 3166-1 code; picks the grid factor)",
          "CN", zh="市场,销售国家"),
        C("lifetime_years", "float", True, "expected years of use", "4", "nonneg", zh="使用年限",
          max=(LIFETIME_CEILING,)),
        C("energy_per_year", "float", True, "electricity one unit uses per year", "17.25", "nonneg", zh="年耗电量",
          max=(PRODUCT_ENERGY_CEILING,), unit_column="energy_unit"),
        C("energy_unit", "str", True, "energy unit of energy_per_year", "kWh", zh="能耗单位"),
        C("energy_source", "str", True, "where the yearly energy comes from (test standard, data sheet)",
          "ENERGY STAR TEC, Dell Latitude 7430 product carbon footprint", zh="能耗来源"),
    ],
    "product_eol": COMMON + [
        C("product", "str", True, "product sold", "Dell Latitude 7430", zh="产品"),
        C("units_sold", "float", True, "units sold in the period", "10000", "nonneg", zh="销量", max=(UNITS_CEILING,)),
        C("material", "str", True, "material key of the set's waste factors", "electrical_items_small", zh="材料"),
        C("mass_per_unit", "float", True, "mass of this material in one unit", "1.3", "nonneg", zh="单件重量",
          max=(UNIT_MASS_CEILING,), unit_column="unit"),
        C("unit", "str", True, "mass unit of mass_per_unit", "kg", zh="单位"),
        C("treatment", "str", True, " | ".join(TREATMENTS), "landfill", zh="处理方式"),
    ],
    "packaging": COMMON + [
        C("product", "str", True, "product packed", "Dell Latitude 7430", zh="产品"),
        C("units", "float", True, "units produced in the period", "10000", "nonneg", zh="产量", max=(UNITS_CEILING,)),
        C("material", "str", True, "packaging material key", "paper_board", zh="包装材料"),
        C("mass_per_unit", "float", True, "packaging mass per unit produced", "0.45", "nonneg", zh="单件包装重量",
          max=(UNIT_MASS_CEILING,), unit_column="unit"),
        C("unit", "str", True, "mass unit of mass_per_unit", "kg", zh="单位"),
        C("recycled_share", "float", False, "share of recycled content", "0.6", "fraction", zh="再生料比例"),
        C("plastic", "bool", False, "true for plastic packaging", "false", zh="塑料"),
    ],
    "takeback": COMMON + [
        C("product", "str", True, "product taken back", "Dell Latitude 7430", zh="产品"),
        C("material", "str", True, "material key of the set's waste factors", "electrical_items_small", zh="材料"),
        C("collected", "float", True, "mass collected back", "4.1", "nonneg", zh="回收量", max=(MASS_CEILING,),
          unit_column="unit"),
        C("recycled", "float", True, "mass of the collected material recycled", "3.6", "nonneg", zh="再利用量",
          max=(MASS_CEILING,), unit_column="unit"),
        C("unit", "str", True, "mass unit of collected, recycled and placed_on_market", "t", zh="单位"),
        C("treatment", "str", True, "treatment of the recycled mass: " + " | ".join(TREATMENTS),
          "recycling_open_loop", zh="处理方式"),
        C("placed_on_market", "float", False, "mass of the product placed on the market in the period", "13",
          "nonneg", zh="投放市场量", max=(MASS_CEILING,), unit_column="unit"),
    ],
})
SCOPE3_KINDS = ("purchase", "shipment", "waste", "travel", "commute", "product_use", "product_eol")
SUPPLY_KINDS = SCOPE3_KINDS + ("packaging", "takeback")

KINDS = tuple(SCHEMAS)
# How a bool cell is read (any case); a blank cell is false.
TRUE = frozenset({"true", "1", "yes", "y", "t"})
FALSE = frozenset({"false", "0", "no", "n", "f", ""})
ENERGY_UNIT_KINDS = {"electricity", "heat", "generation", "instrument"}
MASS_UNIT_KINDS = {"refrigerant", "process_gas"}


def header_map(kind: str) -> dict[str, str]:
    """Every accepted header of ``kind`` (canonical name or alias) -> canonical column name."""
    out = {}
    for c in SCHEMAS[kind]:
        out[c.name] = c.name
        out.update({a: c.name for a in c.aliases})
    return out


def number_text(value: float) -> str:
    """Short form (1e+12) where it is exact, else every digit (9007199254740991)."""
    short = f"{value:g}"
    return short if float(short) == value else f"{value:.17g}"


def json_schema_file(kind: str) -> str:
    """Where the JSON Schema of ``kind`` is published in the documentation, relative to docs/."""
    return f"schemas/{kind}.schema.json"


def _example_text(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _kind_table(kind: str) -> list[str]:
    """The columns of ``kind`` as its row model publishes them (JSON Schema), as a Markdown table."""
    from zerocarbon.io.models import row_json_schema

    schema = row_json_schema(kind)
    required = set(schema["required"])
    lines = [f"## {kind}", "", f"JSON Schema: [{json_schema_file(kind)}]({json_schema_file(kind)})", "",
             "| column | 中文列名 | type | required | meaning | ceiling | example |", "|---|---|---|---|---|---|---|"]
    for name, prop in schema["properties"].items():
        typed = next(t for t in prop.get("anyOf", [prop]) if t.get("type") != "null")  # optional: [T, null]
        shown = typed["type"] + (f" ({typed['format']})" if "format" in typed else "")
        ceiling = "; ".join(f"{number_text(m['value'])} {m['unit']}".strip() for m in prop.get("x-ceilings", []))
        meaning = prop["description"].split(" Ceiling per row:")[0].rstrip(".")
        lines.append(f"| `{name}` | {' / '.join(prop['x-aliases'])} | {shown} | {'yes' if name in required else 'no'} "
                     f"| {meaning.replace('|', '&#124;')} | {ceiling} | `{_example_text(prop['examples'][0])}` |")
    lines.append("")
    return lines


def schema_markdown() -> str:
    renewable = [t for t, r in instrument_technologies().items() if r]
    lines = ["# Activity data formats", "",
             "Generated from `zerocarbon.io.schemas` and the row models built from it (`zerocarbon.io.models`) by "
             "`zerocarbon schema`.", "",
             "## Files", "",
             "- **CSV** with a header row, encoded UTF-8 (with or without BOM) or GB18030/GBK (what Excel in "
             "Chinese saves as \"CSV\"); the encoding is detected: UTF-8 is tried first, then GB18030.",
             "- **XLSX** with a header row. A workbook with one sheet (not counting sheets with no cells at all) "
             "is read as it is; with several, name the sheet with `--sheet NAME` (the error lists the sheets). "
             "No sheet is ever skipped silently.",
             "- Headers are the column names below or their Chinese aliases (中文列名); both forms may be mixed in "
             "one file, but a column may appear only once.",
             "- Row numbers in error messages count the header as row 1.", "",
             "Imports are all-or-nothing: if any row is wrong, nothing is written and every problem is listed "
             "with file, row, column and reason.", "",
             "## Numbers", "",
             "- Every number must be finite: `inf`, `Infinity`, `nan` and numbers beyond the float range "
             "(`1e309`) are refused.",
             "- Each amount has a **ceiling** per row (column *ceiling* below; the row's value is converted from "
             "its own unit first). Ceilings are sanity limits, far above any real site-period, that catch typos "
             "(extra zeros, a wrong exponent). The reasons:", ""]
    seen = set()
    for cols in SCHEMAS.values():
        for c in cols:
            for m in c.max:
                if m not in seen:
                    seen.add(m)
                    lines.append(f"  - {number_text(m.value)} {m.unit}".rstrip() + f": {m.reason}")
    lines += ["- `integer` columns take whole numbers only.", "",
              "## Checks across columns", "",
              "- `period_end` may not be before `period_start`; with a reporting year, both lie in that year.",
              "- refrigerant, mass balance: (inventory_start - inventory_end) + purchased - recovered_or_sold - "
              "capacity_change must not be negative; a negative balance means a stock figure is wrong and the row "
              "is refused with the computed value.",
              "- instrument: `serial_start` and `serial_end` come together or not at all, and the range may not "
              "end before it starts or overlap another instrument of the same registry. For certificate types "
              "(" + ", ".join(f"{t}: 1 certificate = {v:g} MWh" for t, v in instrument_types().items() if v)
              + ") the volume in MWh must equal serial_end - serial_start + 1 certificates. Other types ("
              + ", ".join(t for t, v in instrument_types().items() if not v)
              + ") are contracts, not certificate batches: their serials are checked only as a range.",
              "- instrument: `emission_factor` is required (a blank is not read as zero). Only instruments whose "
              f"`technology` is renewable ({', '.join(renewable)}) and whose factor is 0 count toward the "
              "renewable-electricity share; others still cover consumption at their factor in the market-based "
              "method.",
              "- purchase: a row gives at least one complete method: spend, currency, price_year and eeio_code "
              "(spend-based); quantity, unit and material (average-data); supplier_co2e, supplier_co2e_unit and "
              "evidence (supplier-specific); or pcf_id and quantity (a stored supplier product footprint). The "
              "columns of a method come together (a spend without a currency is refused, not guessed). Supplier "
              "figures (supplier_co2e, supplier_scope12_co2e) without `evidence` are refused; "
              "supplier_scope12_co2e (hybrid method) needs the inputs too (material or spend). A supplier_co2e_unit "
              "per unit (kgCO2e/kg) needs quantity in that unit. category is 1 or 2.",
              "- shipment: a leg gives its distance (with distance_unit) or all four coordinates; fuel, fuel_quantity "
              "and fuel_unit come together; carrier_co2e needs carrier_co2e_unit; category is 4 or 9.",
              "- travel: distance, distance_unit and travellers; hotel and nights; or the spend columns.",
              "- takeback: recycled is not more than collected, collected not more than placed_on_market.",
              "- Fractions (recycled_share) lie between 0 and 1; coordinates within +-90 / +-180 degrees.", "",
              "## Repeated records", "",
              "An import (and `import replace`) is refused when a row counts again what a row of the same file or "
              "of an active batch counts; the message names both files, rows and the batch, and points at "
              "`zerocarbon import replace BATCH FILE`, the way to correct a file already imported.", "",
              "- electricity, heat, generation: the same meter (heat: supplier factor source; generation: "
              "technology) of a site with periods that share at least one day.",
              "- shipment: the same shipment and leg (and category) twice, whatever the period: one leg is carried "
              "once.",
              "- fuel, refrigerant, process_gas: the same site, material (fuel and use; gas and method; gas) and "
              "period, and",
              "  - when both rows give a `reference` (单据号: invoice or delivery note number, equipment id, log "
              "reference): the same reference;",
              "  - otherwise: the same quantity (fuel: quantity and unit; refrigerant: every amount with its unit; "
              "process_gas: consumed and unit).",
              "- Separate deliveries in one month remain possible: give them different references, or (without "
              "references) they differ in quantity. Rows of the same site, material and period that differ in "
              "quantity and do not both give a reference are imported with a **warning**: the later may be a "
              "correction of the earlier, which `import replace` does without counting twice.", ""]
    lines += ["## JSON Schema", "",
              "One row of each kind is also published as JSON Schema (draft 2020-12), built from the same column "
              "declarations as the tables below and the importer: `zerocarbon schema --json-schema KIND`, "
              "`GET /api/v1/schemas/KIND` (no login needed) and the files linked under each kind. In JSON a row's "
              "values are typed (numbers, booleans, ISO dates as strings); in a file they are the text of the cells. "
              "Extensions: `x-aliases` (Chinese headers), `x-ceilings` (value, unit, reason) and `x-unit-column` "
              "(the column whose unit the value is converted from before the ceiling applies). JSON Schema cannot say "
              "the checks across columns above; the importer makes them all.",
              ""]
    for kind in SCHEMAS:
        lines += _kind_table(kind)
    return "\n".join(lines)
