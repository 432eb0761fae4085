"""Inventory outputs: ledger CSV, summary JSON, a bilingual Markdown summary and a chart."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from zerocarbon.core.ghg.inventory import InventoryResult  # noqa: E402
from zerocarbon.io.spreadsheet import write_csv  # noqa: E402

CATEGORY_LABELS = {
    "stationary_combustion": ("Stationary combustion", "固定燃烧"),
    "mobile_combustion": ("Mobile combustion", "移动燃烧"),
    "fugitive_refrigerants": ("Refrigerants (fugitive)", "制冷剂逸散"),
    "process_fgases": ("Process F-gases", "工艺含氟气体"),
    "purchased_electricity": ("Purchased electricity", "外购电力"),
    "purchased_heat_steam": ("Purchased heat/steam", "外购热力"),
}


def write_outputs(result: InventoryResult, out: Path, org_name: str) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"ledger": out / "inventory_ledger.csv", "summary_json": out / "inventory_summary.json",
             "summary_md": out / "inventory_summary.md", "chart": out / "inventory_by_category.png"}
    write_csv(result.ledger, paths["ledger"])
    t = result.totals()
    summary = {"organisation": org_name, "year": result.year, "factor_set": result.factor_set,
               "factor_set_fingerprint": result.factor_set_fingerprint, "gwp_set": result.gwp_set,
               "boundary": result.boundary.value, "totals_tCO2e": t,
               "by_site_location": result.by("site", "scope").to_dict(orient="records"),
               "by_site_market": result.by("site", "scope", method="market").to_dict(orient="records"),
               "renewable": result.renewable.to_dict(orient="records"),
               "warnings": result.warnings, "exclusions": result.exclusions}
    paths["summary_json"].write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=float), encoding="utf-8")
    cat_l = result.by("scope", "category")
    cat_m = result.by("scope", "category", method="market")
    lines = [f"# GHG inventory {result.year} — {org_name}", f"# 温室气体排放清单 {result.year}", "",
             f"Factor set 排放因子集: `{result.factor_set}` (fingerprint `{result.factor_set_fingerprint[:12]}`), "
             f"GWP {result.gwp_set}, boundary 组织边界: {result.boundary.value}", "",
             "| | tCO2e |", "|---|---:|",
             f"| Scope 1 范围一 | {t['scope1_t']:,.1f} |",
             f"| Scope 2 location-based 范围二(基于位置) | {t['scope2_location_t']:,.1f} |",
             f"| Scope 2 market-based 范围二(基于市场) | {t['scope2_market_t']:,.1f} |",
             f"| Total (location) 合计(位置) | {t['total_location_t']:,.1f} |",
             f"| Total (market) 合计(市场) | {t['total_market_t']:,.1f} |",
             f"| Biogenic CO2 (outside scopes) 生物质CO2(范围外) | {t['biogenic_co2_t']:,.1f} |",
             f"| Non-Kyoto memo (HCFC) 非京都气体备忘 | {t['non_kyoto_memo_t']:,.1f} |",
             f"| Renewable electricity share 可再生电力占比 | {t['renewable_share']:.1%} |", "",
             "## By category 按类别", "", "| scope | category 类别 | location tCO2e | market tCO2e |", "|---|---|---:|---:|"]
    merged = cat_l.merge(cat_m, on=["scope", "category"], how="outer", suffixes=("_l", "_m")).fillna(0)
    for r in merged.itertuples(index=False):
        en, zh = CATEGORY_LABELS.get(r.category, (r.category, r.category))
        lines.append(f"| {r.scope} | {en} {zh} | {r.co2e_t_l:,.1f} | {r.co2e_t_m:,.1f} |")
    if result.warnings:
        lines += ["", "## Warnings 警告", ""] + [f"- {w}" for w in result.warnings]
    if result.exclusions:
        lines += ["", "## Disclosed exclusions 披露的排除项", ""] + [f"- {e}" for e in result.exclusions]
    paths["summary_md"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    _chart(merged, paths["chart"], result.year)
    return paths


def _chart(merged, path: Path, year: int) -> None:
    labels = [CATEGORY_LABELS.get(c, (c, c))[0] for c in merged["category"]]
    fig, ax = plt.subplots(figsize=(8, 4))
    y = range(len(labels))
    ax.barh([i + 0.2 for i in y], merged["co2e_t_l"], height=0.4, label="location-based")
    ax.barh([i - 0.2 for i in y], merged["co2e_t_m"], height=0.4, label="market-based")
    ax.set_yticks(list(y), labels)
    ax.set_xlabel("tCO2e")
    ax.set_title(f"GHG inventory {year} by category")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
