"""The carbon-neutrality chart: residual emissions in the boundary [tCO2e] by scope beside the claim's credits by
type (avoidance, removal) and by whether they pass every credit test."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from zerocarbon.io.charts import COLORS, _save  # noqa: E402


def claim_chart(claim: dict, path: Path) -> Path:
    """Two stacked bars: emissions (Scope 1, Scope 2 market-based, Scope 3) and credits (passing avoidance,
    passing removal, failing). ``claim``: ``services.claims.get_claim``'s dict."""
    e = claim["emissions"]
    failing = {f["credit"] for f in claim.get("findings") or [] if f["credit"] and not f["passed"]}
    credits = claim.get("credits") or []
    parts = {
        "emissions": [("Scope 1", e["scope1_t"] or 0.0), ("Scope 2 market-based", e["scope2_market_t"] or 0.0),
                      ("Scope 3", sum((e.get("scope3") or {}).values()))],
        "credits": [("avoidance (passing)", sum(c["quantity_t"] for c in credits
                                                if c["project_type"] == "avoidance" and c["ref"] not in failing)),
                    ("removal (passing)", sum(c["quantity_t"] for c in credits
                                              if c["project_type"] == "removal" and c["ref"] not in failing)),
                    ("failing a test", sum(c["quantity_t"] for c in credits if c["ref"] in failing))],
    }
    fig, ax = plt.subplots(figsize=(7, 4))
    colors = iter(COLORS)
    for x, (bar, stack) in enumerate(parts.items()):
        bottom = 0.0
        for label, t in stack:
            color = "#bab0ac" if label == "failing a test" else next(colors)
            ax.bar(x, t, bottom=bottom, label=label, color=color, width=0.55)
            bottom += t
    ax.set_xticks([0, 1], ["residual emissions", "credits retired"])
    ax.set_ylabel("tCO2e")
    where = claim.get("subject_key") or claim.get("site") or "organisation"
    ax.set_title(f"Claim {claim['id']}: {where} {claim['year']}")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save(fig, path)
