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
    passing removal, failing), each total printed on its bar (credits with their removals share); the legend names
    only the parts drawn. ``claim``: ``services.claims.get_claim``'s dict."""
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
    colors = dict(zip([label for stack in parts.values() for label, _ in stack if label != "failing a test"], COLORS))
    colors["failing a test"] = "#bab0ac"
    totals = []
    for x, stack in enumerate(parts.values()):
        bottom = 0.0
        for label, t in stack:
            if t > 0:  # only what is drawn goes in the legend
                ax.bar(x, t, bottom=bottom, label=label, color=colors[label], width=0.55)
                bottom += t
        totals.append(bottom)
    share = claim.get("removals_share")
    labels = [f"{totals[0]:,.1f} t", f"{totals[1]:,.1f} t" + (f"\nremovals {100 * share:.1f}%" if share is not None
                                                               else "")]
    for x, (t, text) in enumerate(zip(totals, labels)):
        ax.text(x, t, text, ha="center", va="bottom", fontsize=9)
    ax.set_ylim(0, 1.25 * max(max(totals), 1.0))  # headroom for the totals above the bars
    ax.set_xticks([0, 1], ["residual emissions", "credits retired"])
    ax.set_ylabel("tCO2e")
    where = claim.get("subject_key") or claim.get("site") or "organisation"
    ax.set_title(f"Claim {claim['id']}: {where} {claim['year']}")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save(fig, path)
