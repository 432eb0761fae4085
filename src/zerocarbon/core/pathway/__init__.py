"""Abatement measures, the pathway model (baseline, interactions, cost), the MACC and the greedy ranking."""
