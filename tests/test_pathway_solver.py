"""The MILP's plan is the cheapest plan: on small random cases (interacting savings on shared end uses, fuel
switches, exclusive groups, lifetimes with re-investment, certificates bought), every portfolio is enumerated and
judged by the model's own evaluation, the certificates sized analytically; the optimiser must match the best.
Infeasible targets are refused with the target that cannot be met; greedy is never cheaper than the optimum."""
from __future__ import annotations

import itertools
import random

import pytest
import yaml

from zerocarbon.core.pathway.macc import greedy
from zerocarbon.core.pathway.measures import parse_catalogue
from zerocarbon.core.pathway.model import Plan, build_problem, evaluate, year_result
from zerocarbon.core.pathway.scenario import parse_scenario
from zerocarbon.errors import InfeasibleError
from zerocarbon.solvers.pathway import solve

ILL = {"status": "illustrative", "reason": "test case"}


def fig(value, unit):
    return {"value": value, "unit": unit, **ILL}


def random_case(seed: int):
    rng = random.Random(seed)
    n = rng.randint(2, 4)
    measures = []
    for i in range(n):
        kind = "fuel_switch" if i == n - 1 and rng.random() < 0.4 else "saving"
        if kind == "saving":
            targets = rng.sample(["A", "B"], rng.randint(1, 2))
            m = {"id": f"m{i}", "name": {"en": f"m{i}", "zh": f"m{i}"}, "scope": 2, "kind": "saving",
                 "acts_on": {"kind": "end_use", "targets": targets}, "fraction": fig(round(rng.uniform(0.05, 0.5), 3),
                                                                                      "fraction")}
        else:
            m = {"id": f"m{i}", "name": {"en": f"m{i}", "zh": f"m{i}"}, "scope": 1, "kind": "fuel_switch",
                 "acts_on": {"kind": "fuel", "targets": ["gas"], "electricity_end_use": "A"},
                 "fraction": fig(1.0, "fraction"), "electricity_per_fuel": fig(0.3, "MWh/MWh")}
        m["capex"] = fig(round(rng.uniform(50, 2500), 1), "CNY/MWh")
        m["lifetime"] = fig(rng.randint(1, 3), "year")
        measures.append(m)
    if n >= 3 and rng.random() < 0.5:
        measures[0]["exclusive"] = measures[1]["exclusive"] = "x"
    with_certs = rng.random() < 0.5
    if with_certs:
        measures.append({"id": "certs", "name": {"en": "c", "zh": "c"}, "scope": 2, "kind": "re_purchase",
                         "acts_on": {"kind": "electricity", "targets": ["*"]},
                         "variable_opex": fig(round(rng.uniform(5, 80), 2), "CNY/MWh"), "lifetime": fig(1, "year")})
    catalogue = parse_catalogue(yaml.safe_dump({"sources": {}, "measures": measures}), "random.yaml")
    scenario = {
        "name": f"case{seed}",
        "base": {"source": "scenario", "year": 2025, "electricity_mwh": {"A": 1000.0, "B": 600.0},
                 "fuels": {"gas": {"fuel": "natural_gas", "mwh": 400.0, "tco2e": 80.0}}},
        "growth": rng.choice([0.0, 0.02]), "grid_factor": {2025: 0.55, 2027: 0.5},
        "electricity_price": 600, "fuel_prices": {"natural_gas": 300}, "discount_rate": rng.choice([0.0, 0.06]),
        "carbon_price": rng.choice([0, 50]), "reinvest": rng.random() < 0.7,
        "targets": [{"year": 2026, "reduction_vs_base": round(rng.uniform(0.0, 0.25), 3)},
                    {"year": 2027, "reduction_vs_base": round(rng.uniform(0.1, 0.45), 3),
                     **({"min_re_share": round(rng.uniform(0.1, 0.6), 2)} if with_certs else {})}],
    }
    return build_problem(catalogue, parse_scenario(yaml.safe_dump(scenario), "scenario.yaml"))


def start_options(life: int, years: tuple[int, ...], reinvest: bool):
    out = []
    for k in range(len(years) + 1):
        for combo in itertools.combinations(years, k):
            if any(b < a + life for a, b in zip(combo, combo[1:])) or (not reinvest and len(combo) > 1):
                continue
            out.append(combo)
    return out


def best_purchases(problem, plan: Plan) -> Plan | None:
    """Certificates per year sized analytically: the least that meets the year's targets, or as many as can be
    used when the carbon price makes them pay; None when no size works."""
    if not any(m.id == "certs" for m in problem.measures):
        return plan
    sc = problem.scenario
    cert = problem.measure("certs")
    added = {}
    for t in problem.years:
        y = year_result(problem, plan, t)
        room = y.electricity_mwh - y.onsite_re_mwh
        need = 0.0
        ef = sc.grid(t)
        if y.target_cap_t is not None:
            need = max(need, (y.scope12_t - y.target_cap_t) / ef)
        if y.target_re_share is not None:
            need = max(need, y.target_re_share * y.electricity_mwh - y.onsite_re_mwh)
        if need > room + 1e-9:
            return None
        buy = room if cert.variable_opex.value - sc.carbon_price * ef < 0 else need
        if buy > 1e-12:
            added[t] = buy
    return Plan(plan.starts, {"certs": added} if added else {})


def brute_force(problem):
    whole = [m for m in problem.measures if m.binary]
    options = [start_options(int(m.lifetime.value), problem.years, problem.scenario.reinvest) for m in whole]
    results = []
    for choice in itertools.product(*options):
        plan = best_purchases(problem, Plan({m.id: s for m, s in zip(whole, choice) if s}))
        if plan is None:
            continue
        r = evaluate(problem, plan)
        if r.meets_targets:
            results.append((r.npc, plan))
    results.sort(key=lambda x: x[0])
    return results


@pytest.mark.parametrize("seed", range(40))
def test_milp_equals_brute_force(seed):
    problem = random_case(seed)
    found = brute_force(problem)
    if not found:
        with pytest.raises(InfeasibleError):
            solve(problem)
        return
    sol = solve(problem)
    assert sol.status == "optimal"
    assert sol.result.meets_targets, sol.result.violations
    best, plan = found[0]
    assert sol.result.npc == pytest.approx(best, rel=1e-6, abs=1e-3)
    # the solver's objective is the same model: its value equals the evaluation plus the BAU cost
    bau = sum(problem.scenario.discount(b.year) * b.cost for b in sol.result.bau)
    assert sol.objective == pytest.approx(sol.result.npc + bau, rel=1e-6, abs=1e-3)
    unique = len(found) == 1 or found[1][0] - best > 1e-3 * max(1.0, abs(best))
    if unique:
        assert {k: v for k, v in sol.plan.starts.items()} == {k: v for k, v in plan.starts.items()}


def test_cases_cover_exclusive_groups_interactions_and_purchases():
    problems = [random_case(s) for s in range(40)]
    assert sum(any(m.exclusive for m in p.measures) for p in problems) >= 5
    assert sum(any(m.kind == "fuel_switch" for m in p.measures) for p in problems) >= 5
    assert sum(any(m.id == "certs" for m in p.measures) for p in problems) >= 10
    shared = sum(any(len(set(a.targets) & set(b.targets)) for a, b in itertools.combinations(
        [m for m in p.measures if m.kind == "saving"], 2)) for p in problems)
    assert shared >= 20
    assert sum(bool(brute_force(p)) for p in problems) >= 30  # most cases have a plan to compare


@pytest.mark.parametrize("seed", range(40))
def test_greedy_never_cheaper_than_the_optimum(seed):
    problem = random_case(seed)
    g = greedy(problem)
    if not g.meets_targets:
        return
    sol = solve(problem)
    assert sol.result.npc <= g.result.npc + 1e-6 * max(1.0, abs(g.result.npc))


def _tiny(targets, measures_extra=(), exclude=()):
    measures = [{"id": "led", "name": {"en": "LED", "zh": "LED"}, "scope": 2, "kind": "saving",
                 "acts_on": {"kind": "end_use", "targets": ["A"]}, "fraction": fig(0.2, "fraction"),
                 "capex": fig(100, "CNY/MWh"), "lifetime": fig(5, "year")}, *measures_extra]
    catalogue = parse_catalogue(yaml.safe_dump({"sources": {}, "measures": measures}), "tiny.yaml")
    scenario = {"base": {"source": "scenario", "year": 2025, "electricity_mwh": {"A": 1000.0}}, "grid_factor": {2025: 0.5},
                "electricity_price": 600, "targets": targets, "exclude": list(exclude)}
    return build_problem(catalogue, parse_scenario(yaml.safe_dump(scenario), "tiny-scenario.yaml"))


def test_an_unreachable_emission_target_is_refused_with_the_best_reachable():
    problem = _tiny([{"year": 2027, "reduction_vs_base": 0.5}])
    with pytest.raises(InfeasibleError) as exc:
        solve(problem)
    # LED saves 20 % of 1000 MWh at 0.5 t/MWh: the lowest reachable is 400 t against a cap of 250 t
    assert "Scope 1+2 <= 250.0 tCO2e in 2027" in str(exc.value)
    assert "400.0 tCO2e" in str(exc.value)


def test_an_unreachable_renewable_share_is_refused_naming_it():
    certs = {"id": "certs", "name": {"en": "c", "zh": "c"}, "scope": 2, "kind": "re_purchase",
             "acts_on": {"kind": "electricity", "targets": ["*"]}, "variable_opex": fig(5, "CNY/MWh"),
             "lifetime": fig(1, "year")}
    problem = _tiny([{"year": 2026, "min_re_share": 0.5}], [certs], exclude=["certs"])
    with pytest.raises(InfeasibleError) as exc:
        solve(problem)
    assert "renewable share >= 50.0% in 2026" in str(exc.value)
    ok = solve(_tiny([{"year": 2026, "min_re_share": 0.5}], [certs]))
    assert ok.result.years[0].re_share == pytest.approx(0.5)


def test_macc_figure_keeps_tiny_bars_visible_and_labels_in_a_legend():
    from zerocarbon.io.pathway_charts import MIN_HEIGHT, macc_figure

    entries = [{"measure": "rooftop_pv", "cost_per_t": -518.5, "abatement_t": 2011.7, "illustrative": ["capex"]},
               {"measure": "green_certificates", "cost_per_t": 8.2, "abatement_t": 14827.7, "illustrative": []},
               {"measure": "ev_forklifts", "cost_per_t": 2075.5, "abatement_t": 20.8, "illustrative": ["capex"]},
               {"measure": "heat_pump_hot_water", "cost_per_t": 2266.5, "abatement_t": 56.5, "illustrative": []}]
    fig, ax = macc_figure(entries)
    span = 2266.5 + 518.5
    heights = [p.get_height() for p in ax.patches]
    assert heights[1] >= MIN_HEIGHT * span - 1e-9  # 8.2 CNY/t would be under a pixel tall
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[1] == "2 green_certificates: 8.2 CNY/t, 14,827.7 t/yr"
    numbers = [t.get_text() for t in ax.texts]
    assert numbers == ["1", "2"]  # the two narrow bars at the right end carry no text that could overlap
    assert ax.get_ylim()[1] > 2266.5  # nothing reaches into the title
