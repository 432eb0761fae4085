"""The demo group's least-cost pathway to 2030: -50 % Scope 1+2 against 2025 and 90 % renewable electricity,
from the shipped scenario ``data/measures/scenarios/demo_2030.yaml``. Its base inventory is a value of that
scenario, taken from the demo generator's stated parameters (its notes give the arithmetic): the stored run says
``base.source = scenario``. Writes the stored run's result as JSON, the MACC and the pathway as PNG."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import sessionmaker

SCENARIO = "demo_2030"


def run(sessions: sessionmaker, org_code: str, out: Path, *, actor: str = "demo") -> dict[str, Path]:
    from zerocarbon.services import pathway

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    text = pathway.shipped_scenarios()[SCENARIO]
    info = pathway.optimise(sessions, org_code, text, f"{SCENARIO}.yaml", actor=actor)
    result = info.result
    paths = {"pathway_json": out / "pathway_2030.json"}
    paths["pathway_json"].write_text(json.dumps({"run": info.id, "summary": info.summary, "result": result},
                                                ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    paths["macc_png"], paths["pathway_png"] = pathway.write_charts(result, out, "pathway_2030")
    return paths
