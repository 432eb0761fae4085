"""The demo group's least-cost pathway to 2030 on what the organisation has stored: the base is its stored 2025
inventory (Scope 1+2 of the ledger, electricity by end use from the meters ``<site>-M-<END_USE>``, the
certificates and contract of 2025, on-site PV) and the targets are its stored ones (-50 % Scope 1+2 market-based
by 2030 against 2023, 90 % renewable electricity by 2030; set by the targets step, which runs first). The scenario
``data/measures/inventory/demo_2030.yaml`` only maps the inventory onto the catalogue's streams and gives prices,
growth, grid factor and roof area. Writes the stored run's result as JSON, the MACC and the pathway as PNG."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import sessionmaker

SCENARIO = "data/measures/inventory/demo_2030.yaml"
YEAR = 2025


def scenario_text() -> str:
    from importlib.resources import files

    return files("zerocarbon").joinpath(SCENARIO).read_text(encoding="utf-8")


def run(sessions: sessionmaker, org_code: str, out: Path, *, actor: str = "demo") -> dict[str, Path]:
    from zerocarbon.services import pathway

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    info = pathway.optimise(sessions, org_code, scenario_text(), Path(SCENARIO).name, actor=actor, year=YEAR,
                            targets="stored")
    result = info.result
    paths = {"pathway_json": out / "pathway_2030.json"}
    paths["pathway_json"].write_text(json.dumps({"run": info.id, "summary": info.summary, "result": result},
                                                ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    paths["macc_png"], paths["pathway_png"] = pathway.write_charts(result, out, "pathway_2030")
    return paths
