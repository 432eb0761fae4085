"""Demo carbon-neutrality claims on the demo group's 2025 inventory: a register of DEMO credits (CCER and Gold
Standard avoidance, a Puro.earth biochar removal batch, and a Gold Standard batch never retired), a claim of site
TJ01 that passes every test and gets its statements, and a claim of site HF01 that is refused with its reasons
(it reuses the CCER batch TJ01's claim holds, and uses the unretired batch). A credits file repeating serials of
a stored batch is refused at import, and the refusal is kept in the output.

Every credit here is demo data, labelled so in its ``note`` and project id: no registry issued them. Their
quantities are sized from the computed inventory so that TJ01's credits cover its residual emissions.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from zerocarbon.core.access import Role
from zerocarbon.errors import InputError, NotFoundError
from zerocarbon.services import accounting, claims
from zerocarbon.services.demo_users import demo_email

YEAR = 2025
FACTOR_SET = "CN-2025.1"
NOTE = "demo data: not issued by any registry"
HEADER = ("credit_id,programme,project_id,project_type,vintage,serial_start,serial_end,quantity_t,verified_by,"
          "verification_date,issued_date,additionality,storage_years,reversal_provision,corresponding_adjustment,"
          "retirement_date,retirement_beneficiary,retired_for_subject,retired_for_period,note")


def _residual(sessions: sessionmaker, org: str, site: str) -> float:
    try:
        totals = accounting.site_totals(sessions, org, YEAR)
    except NotFoundError:
        accounting.compute(sessions, org, YEAR, FACTOR_SET, actor="demo")
        totals = accounting.site_totals(sessions, org, YEAR)
    [t] = [x for x in totals if x.site == site]
    return t.scope1 + t.scope2_market


def credits_csv(org: str, tj01_residual_t: float) -> str:
    """The demo register: 60% CCER, 30% Gold Standard, the rest (at least 10%) biochar removals of TJ01's residual,
    rounded up to whole credits; and 200 t of Gold Standard credits never retired."""
    ccer = math.ceil(0.6 * tj01_residual_t)
    gs = math.ceil(0.3 * tj01_residual_t)
    removal = max(1, math.ceil(tj01_residual_t) - ccer - gs, math.ceil(0.1 * tj01_residual_t))
    tj = f"{org}/TJ01"
    rows = [
        f"DEMO-CCER-01,CCER,DEMO-CCER-PV-0001,avoidance,2024,100001,{100000 + ccer},{ccer},DEMO verifier A,"
        f"2025-03-10,2025-04-15,CCER methodology for grid-connected PV (demo),,,not_applicable,2026-03-31,{org},"
        f"{tj},{YEAR},{NOTE}",
        f"DEMO-GS-01,GS,DEMO-GS-STOVES-0002,avoidance,2025,500001,{500000 + gs},{gs},DEMO verifier B,2025-09-01,"
        f"2025-10-20,Gold Standard additionality (demo),,,unknown,2026-03-31,{org},{tj},{YEAR},{NOTE}",
        f"DEMO-PURO-01,PURO,DEMO-PURO-BIOCHAR-0003,removal,2025,900001,{900000 + removal},{removal},DEMO verifier C,"
        f"2025-11-15,2025-12-01,biochar removal (demo),100,buffer pool 10% (demo),unknown,2026-03-31,{org},{tj},"
        f"{YEAR},{NOTE}",
        f"DEMO-GS-02,GS,DEMO-GS-WIND-0004,avoidance,2025,700001,700200,200,DEMO verifier B,2025-08-01,2025-09-01,"
        f"Gold Standard additionality (demo),,,unknown,,,,,{NOTE}; deliberately not retired",
    ]
    return "\n".join([HEADER, *rows]) + "\n"


def _plan(first_period: bool, credit_ids: list[str], base_year: int) -> bytes:
    return json.dumps({  # JSON is YAML: the plan file as a user would write it
        "commitment_date": "2025-01-10", "base_year": base_year,
        "interim_targets": ["2027: Scope 1+2 market-based -30% vs base year (demo)"],
        "long_term_target": "2035: -90% vs base year, residual balanced by removals only (demo)",
        "reduction_measures": ["rooftop_pv", "green_power_contract", "air_compressor_vsd", "led_lighting"],
        "removal_strategy": "shift from avoidance credits to durable removals by 2030 (demo)",
        "offset_types": ["CCER", "Gold Standard", "Puro.earth biochar"],
        "monitoring_indicators": ["tCO2e Scope 1+2 market-based", "kWh per unit", "removals share of credits"],
        "approved_by": "General manager (demo)", "approved_date": "2025-01-12",
        "public_url": "https://example.org/demo/carbon-neutrality-plan", "first_period": first_period,
        "credits": credit_ids}, ensure_ascii=False).encode()


def run(sessions: sessionmaker, org_code: str, out: Path, *, actor: str = "demo") -> dict[str, Path]:
    """Credits, two claims (TJ01 passes and is signed off by the demo auditor; HF01 is refused), their JSON,
    statements and charts under ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    residual = _residual(sessions, org_code, "TJ01")
    _residual(sessions, org_code, "HF01")
    held = {c["credit_id"] for c in claims.list_credits(sessions, org_code)}
    text = credits_csv(org_code, residual)
    files: dict[str, Path] = {}
    (out / "demo_credits.csv").write_text(text, encoding="utf-8")
    files["credits"] = out / "demo_credits.csv"
    if "DEMO-CCER-01" not in held:
        claims.import_credits(sessions, org_code, "demo_credits.csv", text.encode(), actor=actor)
    # A second file repeating 10 serials of the CCER batch: refused as double counting, nothing stored.
    dup = (f"{HEADER}\nDEMO-CCER-99,CCER,DEMO-CCER-PV-0001,avoidance,2024,100001,100010,10,DEMO verifier A,"
           f"2025-03-10,2025-04-15,CCER methodology for grid-connected PV (demo),,,not_applicable,,,,,"
           f"{NOTE}; repeats serials of DEMO-CCER-01\n")
    try:
        claims.import_credits(sessions, org_code, "demo_credits_again.csv", dup.encode(), actor=actor)
        refused_import = []
    except InputError as exc:
        refused_import = [str(p) for p in exc.problems]
    passing = claims.create_claim(sessions, org_code, YEAR, "plan_TJ01.yaml",
                                  _plan(True, ["DEMO-CCER-01", "DEMO-GS-01", "DEMO-PURO-01"], YEAR),
                                  site="TJ01", actor=actor)
    refused = claims.create_claim(sessions, org_code, YEAR, "plan_HF01.yaml",
                                  _plan(False, ["DEMO-CCER-01", "DEMO-GS-02"], YEAR - 1), site="HF01", actor=actor)
    for d, name in ((passing, "TJ01"), (refused, "HF01")):
        checked = claims.check(sessions, org_code, d["id"], actor=actor)
        if checked["passed"]:
            claims.submit(sessions, org_code, d["id"], actor=actor)
            claims.review(sessions, org_code, d["id"], True, "demo sign-off",
                          actor=f"user:{demo_email(Role.auditor)}")
            for lang in ("en", "zh"):
                path = out / f"claim_{name}_statement_{lang}.txt"
                path.write_text(claims.statement(sessions, org_code, d["id"], lang) + "\n", encoding="utf-8")
                files[f"statement_{name}_{lang}"] = path
        detail = claims.get_claim(sessions, org_code, d["id"])
        detail["demo_note"] = NOTE
        if name == "HF01":
            detail["refusal_reasons"] = [f"{f['test']}: {f['reason']}" for f in detail["findings"] if not f["passed"]]
            detail["double_counted_import_refused"] = refused_import
        path = out / f"claim_{name}.json"
        path.write_text(json.dumps(detail, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        files[f"claim_{name}"] = path
        files[f"chart_{name}"] = claims.chart(sessions, org_code, d["id"], out / f"claim_{name}.png")
    return files
