"""Green supply chain: logistics legs, packaging, recycling, supplier scorecards and reductions (pure core)."""
