"""Energy- and carbon-aware production scheduling: solver-neutral problem, schedule, checks and KPIs."""
