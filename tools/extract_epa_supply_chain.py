"""Extract the US EPA Supply Chain GHG Emission Factors v1.3 (NAICS-6, kg CO2e per 2022 USD) into the factor library.

Input: ``SupplyChainGHGEmissionFactors_v1.3.0_NAICS_CO2e_USD2022.csv`` (columns 2017 NAICS Code, 2017 NAICS
Title, GHG, Unit, Supply Chain Emission Factors without Margins, Margins of Supply Chain Emission Factors,
Supply Chain Emission Factors with Margins, Reference USEEIO Code; format described in USEPA/supply-chain-factors
format-specs/README.md). Output: ``src/zerocarbon/data/factors/eeio_epa_v13.csv``, two rows per commodity
(``with_margins``: cradle to the point of sale, purchaser price; ``without_margins``: cradle to the point of
production). The file is checked before anything is written: 1016 commodities, six-digit codes, one unit
("kg CO2e/2022 USD, purchaser price"), with = without + margins to the published rounding.

Run: python tools/extract_epa_supply_chain.py path/to/SupplyChainGHGEmissionFactors_v1.3.0_NAICS_CO2e_USD2022.csv [out.csv]
The EPA publishes the file at https://pasteur.epa.gov/uploads/10.23719/1531143/ (DOI 10.23719/1531143). The copy
used for the shipped file: GitHub sungkomp/mcp-csv-agent, commit 2f5575dc07a5, data/..., blob 38b7896
(SHA-256 c7f508646ee091cb2218be65dec0e2bdb6143ba8511773d486c9e87f6df84177).
"""
from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "zerocarbon" / "data" / "factors" / "eeio_epa_v13.csv"
COLUMNS = ["factor_id", "kind", "subject", "use", "gas", "value", "unit", "basis", "region", "year",
           "issuer", "document", "edition", "licence", "confidence", "source_key", "notes"]
UNIT = "kg CO2e/2022 USD, purchaser price"
HEADER = ["2017 NAICS Code", "2017 NAICS Title", "GHG", "Unit", "Supply Chain Emission Factors without Margins",
          "Margins of Supply Chain Emission Factors", "Supply Chain Emission Factors with Margins",
          "Reference USEEIO Code"]
BASE = dict(
    kind="eeio", gas="CO2e", unit="kg/USD", basis="", region="US", year="2022", issuer="US EPA",
    document=("US EPA Supply Chain Greenhouse Gas Emission Factors for US Industries and Commodities v1.3.0, "
              "by 2017 NAICS-6, kg CO2e (IPCC AR5 GWP-100) per 2022 USD purchaser price, both columns (model "
              "USEEIOv2.2.22-GHG, GHG data year 2022; DOI 10.23719/1531143); file SupplyChainGHGEmissionFactors_v1.3.0_"
              "NAICS_CO2e_USD2022.csv, copy read from GitHub sungkomp/mcp-csv-agent (blob 38b7896, commit 2f5575d)"),
    edition="v1.3.0", licence="US government work, public domain (EPA data; code repository USEPA/supply-chain-factors is MIT)",
    confidence="official (EPA) via a third-party byte copy of the EPA file")
COLUMN = {"with_margins": "Supply Chain Emission Factors with Margins",
          "without_margins": "Supply Chain Emission Factors without Margins"}


def rows_from(path: str) -> list[dict]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != HEADER:
            raise SystemExit(f"{path}: header {reader.fieldnames} is not the v1.3 format {HEADER}")
        src = list(reader)
    problems = []
    out: list[dict] = []
    for n, r in enumerate(src, start=2):
        code = r["2017 NAICS Code"].strip()
        if not re.fullmatch(r"\d{6}", code):
            problems.append(f"line {n}: NAICS code '{code}' is not six digits")
        if r["Unit"] != UNIT or r["GHG"] != "All GHGs":
            problems.append(f"line {n}: unit '{r['Unit']}' / GHG '{r['GHG']}' is not '{UNIT}' / 'All GHGs'")
        w, m, wm = (float(r[COLUMN["without_margins"]]), float(r["Margins of Supply Chain Emission Factors"]),
                    float(r[COLUMN["with_margins"]]))
        if abs(w + m - wm) > 0.0015:  # the three are published rounded to 3 decimals
            problems.append(f"line {n}: with margins {wm} != without {w} + margins {m}")
        for use, col in COLUMN.items():
            out.append(dict(BASE, factor_id=f"USEPA_SCv13.eeio.{code}.{use}", subject=code, use=use,
                            value=r[col].strip(), source_key=f"usepa-sc-v1.3:{code}:{use}",
                            notes=r["2017 NAICS Title"].strip()))
    codes = {r["2017 NAICS Code"] for r in src}
    if len(src) != 1016 or len(codes) != 1016:
        problems.append(f"{len(src)} rows, {len(codes)} distinct codes; v1.3 has 1016 commodities")
    if problems:
        raise SystemExit("\n".join(problems[:20]))
    return out


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    rows = rows_from(argv[1])
    out = Path(argv[2]) if len(argv) > 2 else OUT
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"{out}: {len(rows)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
