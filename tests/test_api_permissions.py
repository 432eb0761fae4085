"""Every role against every endpoint: allowed (2xx) exactly when the permission table gives the role the endpoint's
action (or, for the batch list and batch page, either import.read or import.read_own), refused with 403 otherwise.

The expectation comes from ``core.access.PERMISSIONS``, not from a copy: a role that gains or loses an action
changes the expected answers, and an endpoint guarded by the wrong action (or by none) fails here. A route
missing from ENDPOINTS fails ``test_every_route_is_in_the_matrix``; a page of the dashboard (or any other route of
the served application) missing from WEB_PAGES / PUBLIC_ROUTES fails ``test_every_route_of_the_served_app_is_listed``.

Tenancy: a member of another organisation (OTHER) is answered 404 with no data for every organisation-scoped
read of ORG, and for ORG's object ids asked through its own organisation's paths.
"""
from __future__ import annotations

import inspect
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd
import pytest
from fastapi.routing import APIRoute

from tests.api_support import (YEAR, client, electricity, fast_passwords, import_bytes, load_org, logged_in, person)
from tests.conftest import BACKENDS, blank_engine
from tests.test_factor_sets import ROW, RULES
from tests.test_web_energy import PLANT, build_lake, plant_day
from zerocarbon.api.app import ROUTERS
from zerocarbon.api.deps import get_principal
from zerocarbon.core.access import ACTIONS, PERMISSIONS, Role
from zerocarbon.core.factors import COLUMNS
from zerocarbon.services import accounting, jobs, schedule_runs, users
from zerocarbon.services.demo_plant import laptop_week
from zerocarbon.store.db import session_factory, upgrade

ORG = "ORG"
OTHER = "OTHER"  # an organisation whose admin must see nothing of ORG


@dataclass
class World:
    sessions: object
    tmp: object
    clients: dict
    counter: itertools.count
    made: dict = field(default_factory=dict)

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"


@dataclass(frozen=True)
class Endpoint:
    action: str | tuple[str, ...]  # a tuple: the endpoint serves a caller with any one of these actions
    method: str
    path: str  # {org} and names in braces are filled by ``prepare``
    # (world, calling role) -> {"path": {...}, "json"|"files"|"data": ...}
    prepare: Callable[[World, Role], dict] = lambda w, role: {}

    @property
    def actions(self) -> frozenset[str]:
        return frozenset((self.action,) if isinstance(self.action, str) else self.action)


def _actor(role: Role) -> str:
    return f"user:{role.value}@example.org"


def _batch(w: World, prefix: str, actor: str = "setup", needs_approval: bool = False) -> dict:
    meter = w.fresh(prefix)
    path = w.tmp / f"{meter}.csv"
    path.write_bytes(electricity(meter))
    rep = accounting.import_file(w.sessions, ORG, "electricity", path, YEAR, "CN-2025.1", actor=actor,
                                 needs_approval=needs_approval)
    return {"path": {"batch_id": rep.batch_id}}


def _own_batch(w: World, role: Role) -> dict:
    # A member who may read only its own submissions is served the batches it imported (others are 404, see
    # tests/test_api_imports.py), so the batch read is one the calling role imported.
    return _batch(w, "RD", actor=_actor(role))


def _upload(w: World, role: Role) -> dict:
    meter = w.fresh("UP")
    return {"files": {"file": (f"{meter}.csv", electricity(meter))}, "data": {"kind": "electricity", "year": YEAR}}


def _replace(w: World, role: Role) -> dict:
    out = _batch(w, "RP")
    meter = w.fresh("RPnew")
    return dict(out, files={"file": (f"{meter}.csv", electricity(meter, 2000))}, data={"reason": "corrected"})


def _factor_set(w: World, role: Role) -> dict:
    csv = (",".join(COLUMNS) + "\n" + ROW + "\n").encode()
    return {"files": {"file": ("own.csv", csv), "rules": ("own.yaml", RULES.encode())},
            "data": {"name": w.fresh("own-")}}


def _member(w: World, role: Role) -> dict:
    email = f"{w.fresh('m')}@example.org"
    users.add_member(w.sessions, email, ORG, "viewer", "a long enough password", actor="test")
    return {"path": {"email": email}, "json": {"role": "viewer"}}


def _others_job(w: World, role: Role) -> dict:
    """A queued job someone else submitted: cancelling it needs jobs.cancel."""
    info = jobs.submit(w.sessions, ORG, "inventory.compute", {"year": YEAR}, actor="user:someone-else@example.org")
    return {"path": {"job_id": info.id}}


def _failed_job(w: World, role: Role) -> dict:
    """A job of the caller's own, of a kind its role may run, whose process died while it ran (claimed by a runner,
    then failed as the stale-runner sweep does): retrying it needs the kind's action."""
    import io
    from datetime import datetime, timezone

    from zerocarbon.store import jobs as job_rows

    actor, may = _actor(role), PERMISSIONS[role]
    if "inventory.compute" in may or not may & {"import.write", "schedule.run"}:
        info = jobs.submit(w.sessions, ORG, "inventory.compute", {"year": YEAR}, actor=actor)
    elif "import.write" in may:
        meter = w.fresh("RT")
        info = jobs.submit_import(w.sessions, ORG, "electricity", YEAR, "CN-2025.1", io.BytesIO(electricity(meter)),
                                  f"{meter}.csv", actor=actor)
    else:
        info = jobs.submit_schedule(w.sessions, ORG, io.BytesIO(_week()), "week.json", actor=actor, time_limit=1)
    at = datetime.now(timezone.utc)
    with w.sessions.begin() as s:
        assert job_rows.claim(s, info.id, "gone-host:1:dead", at)
        assert job_rows.fail_running(s, info.id, "gone-host:1:dead", at, [{"reason": "process stopped"}])
    return {"path": {"job_id": info.id}}


def _token(w: World, role: Role) -> dict:
    name = w.fresh("t")
    users.create_token(w.sessions, ORG, name, ["factors.read"], actor="test")
    return {"path": {"name": name}}


def _week() -> bytes:
    return json.dumps(laptop_week(n_orders=3)).encode()


def _footprint(w: World) -> dict:
    import uuid

    from tests.test_pact import coil

    return dict(coil(), id=str(uuid.uuid4()))


def _footprint_upload(w: World, role: Role) -> dict:
    return {"files": {"file": ("pf.json", json.dumps(_footprint(w)).encode())}}


def _own_footprint(w: World, role: Role) -> dict:
    # A caller who may read only its own footprints is served one it uploaded itself.
    from zerocarbon.services import footprints

    doc = _footprint(w)
    path = w.tmp / f"{doc['id']}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    own = footprints.owner_key(w.sessions, ORG, _actor(role))
    footprints.import_file(w.sessions, ORG, path, actor=_actor(role), own=own)
    return {"path": {"pf_id": doc["id"]}}


def _schedule_upload(w: World, role: Role) -> dict:
    return {"files": {"problem": ("week.json", _week())}, "data": {"time_limit": 1}}


def _schedule_run(w: World, role: Role) -> dict:
    if "run" not in w.made:
        path = w.tmp / "week.json"
        path.write_bytes(_week())
        w.made["run"] = schedule_runs.run_plan(w.sessions, ORG, path, actor="setup", time_limit=1).id
    return {"path": {"run_id": w.made["run"]}}


# -- suppliers: the supplier role's member speaks for PS1, so what it may read of PS1 it gets (another supplier's
# code or id is 404 for it: tests/test_suppliers_api.py).
_SUPPLY_READ = ("supply.read", "supply.submit_own")


def _supply(w: World) -> dict:
    if "supply" not in w.made:
        from zerocarbon.services import suppliers

        data = (b"code,name,tier,annual_spend,currency,emissions_t,emissions_source\n"
                b"PS1,Perm one,1,100,CNY,10,reported\nPS2,Perm two,2,50,CNY,5,estimated\n")
        suppliers.import_suppliers(w.sessions, ORG, "perm.csv", data, actor="setup")
        suppliers.link_user(w.sessions, ORG, "supplier@example.org", "PS1", actor="setup")
        camp = suppliers.create_campaign(w.sessions, ORG, "perm", [], __import__("datetime").date(2020, 1, 1),
                                         actor="setup")
        sub = _supply_submission(w)
        w.made["supply"] = {"campaign": camp["id"], "submission": sub["id"],
                            "evidence": sub["answers"][0]["evidence_id"]}
    return w.made["supply"]


def _supply_submission(w: World) -> dict:
    from zerocarbon.services import suppliers

    return suppliers.submit(w.sessions, ORG, "PS1", "a.csv",
                            b"indicator,value,unit,evidence_file\nsubstances,yes,,rohs.pdf\n",
                            {"rohs.pdf": w.fresh("rohs").encode()}, actor="setup")


def _supply_project(w: World) -> dict:
    from zerocarbon.services import suppliers

    data = ("project_id,description,type,start_year,annual_reduction_t,evidence_ref\n"
            f"{w.fresh('PRJ')},LED,energy_efficiency,2023,10,ref\n").encode()
    return suppliers.submit_projects(w.sessions, ORG, "PS1", "p.csv", data, actor="setup")[0]


def _answers_upload(w: World, role: Role) -> dict:
    _supply(w)
    return {"path": {"code": "PS1"}, "files": {"file": ("a.csv", b"indicator,value\nsbti,validated\n")}}


def _projects_upload(w: World, role: Role) -> dict:
    _supply(w)
    data = ("project_id,description,type,start_year,annual_reduction_t,evidence_ref\n"
            f"{w.fresh('UPRJ')},LED,energy_efficiency,2023,10,ref\n").encode()
    return {"path": {"code": "PS1"}, "files": {"file": ("p.csv", data)}}


def _suppliers_upload(w: World, role: Role) -> dict:
    _supply(w)
    return {"files": {"file": ("s.csv", f"code,name,tier\n{w.fresh('NS')},New,1\n".encode())}}


def _spec_upload(w: World, role: Role) -> dict:
    from zerocarbon.core.supply.scorecard import shipped_text

    return {"files": {"file": ("spec.yaml", shipped_text().encode())}}


def _target(w: World, role: Role, prefix: str = "PT") -> dict:
    from zerocarbon.services import targets

    code = f"{prefix}-{role.value}"
    if code not in {t["id"] for t in targets.list_targets(w.sessions, ORG)}:
        targets.set_target(w.sessions, ORG, kind="absolute", scopes="s1s2", base_year=YEAR, target_year=YEAR + 7,
                           reduction=0.5, code=code, actor="setup")
    return {"path": {"code": code}}



# -- carbon-neutrality claims: each call gets its own credit batch and checked claim, made by "setup" (never the
# caller, who may not review a claim it created).
def _claim_credits(w: World) -> tuple[str, bytes]:
    ref = w.fresh("CR")
    start = 1000 * int(ref[2:])
    data = ("credit_id,programme,project_id,project_type,vintage,serial_start,serial_end,quantity_t,verified_by,"
            "verification_date,issued_date,additionality,retirement_date,retirement_beneficiary,"
            "retired_for_subject,retired_for_period\n"
            f"{ref},CCER,PERM-1,avoidance,{YEAR},{start + 1},{start + 10},10,V,{YEAR}-06-01,{YEAR}-07-01,basis,"
            f"{YEAR + 1}-01-15,{ORG},{ORG}/TJ01,{YEAR}\n").encode()
    return ref, data


def _claim_plan(ref: str) -> bytes:
    return (f"commitment_date: {YEAR}-01-10\nbase_year: {YEAR}\ninterim_targets: [x]\nlong_term_target: y\n"
            "reduction_measures: [led_lighting]\nremoval_strategy: z\noffset_types: [CCER]\n"
            "monitoring_indicators: [tCO2e]\napproved_by: GM\npublic_url: https://example.org\nfirst_period: true\n"
            f"credits: [{ref}]\n").encode()


def _credits_upload(w: World, role: Role) -> dict:
    ref, data = _claim_credits(w)
    return {"files": {"file": (f"{ref}.csv", data)}}


def _claim_upload(w: World, role: Role) -> dict:
    from zerocarbon.services import claims

    ref, data = _claim_credits(w)
    claims.import_credits(w.sessions, ORG, f"{ref}.csv", data, actor="setup")
    return {"files": {"plan": ("plan.yaml", _claim_plan(ref))}, "data": {"year": str(YEAR), "site": "TJ01"}}


def _claim(w: World, role: Role) -> dict:
    from zerocarbon.services import claims

    ref, data = _claim_credits(w)
    claims.import_credits(w.sessions, ORG, f"{ref}.csv", data, actor="setup")
    d = claims.create_claim(w.sessions, ORG, YEAR, "plan.yaml", _claim_plan(ref), site="TJ01", actor="setup")
    claims.check(w.sessions, ORG, d["id"], actor="setup")
    return {"path": {"claim_id": d["id"]}}


# -- assessments: one shared draft assessment of TJ01; entries are made by someone else than the caller, who may
# not review its own entry.
def _assessment(w: World) -> int:
    from zerocarbon.services import assessment

    if "assessment" not in w.made:
        w.made["assessment"] = assessment.create(w.sessions, ORG, "zero_carbon_factory", YEAR, "TJ01",
                                                 energy=assessment.EnergyData(), actor="setup")["id"]
    return w.made["assessment"]


def _fresh_assessment(w: World, role: Role) -> dict:
    from zerocarbon.services import assessment

    made = assessment.create(w.sessions, ORG, "zero_carbon_factory", YEAR, "TJ01", energy=assessment.EnergyData(),
                             actor="setup")
    return {"path": {"assessment_id": made["id"]}}


def _assessment_entry(w: World, role: Role) -> dict:
    from zerocarbon.services import assessment

    aid = _assessment(w)
    entry = assessment.enter(w.sessions, ORG, aid, "manual.compliance_3y", 1, evidence_name="e.txt", evidence=b"e",
                             actor="user:someone-else@example.org")
    return {"path": {"assessment_id": aid, "metric": "manual.compliance_3y", "entry_id": entry["id"]},
            "json": {"accept": True}}


def _own_system(w: World, role: Role) -> dict:
    from tests.assessment_fixtures import MINI_SYSTEM

    return {"files": {"file": ("own.yaml", MINI_SYSTEM.replace("mini_factory", w.fresh("s")).encode())}}


def _scenario(w: World, role: Role) -> dict:
    from zerocarbon.services import pathway

    return {"files": {"scenario": ("s.yaml", pathway.shipped_scenarios()["demo_2030"].encode())}}


def _pathway_run(w: World, role: Role) -> dict:
    from zerocarbon.services import pathway

    if "pathway" not in w.made:
        w.made["pathway"] = pathway.optimise(w.sessions, ORG, pathway.shipped_scenarios()["demo_2030"], "s.yaml",
                                             actor="setup").id
    return {"path": {"run_id": w.made["pathway"]}}


def _disclosure_inputs(w: World, role: Role) -> dict:
    text = (f"organisation: {ORG}\nyear: {YEAR}\ninputs:\n  - key: input.water.withdrawal\n    value: 100\n"
            f"    unit: m**3\n    source: matrix {role.value}\n")
    return {"files": {"file": ("inputs.yaml", text.encode())}}


# A framework whose report of the matrix's inventory (one electricity file) has no error check: publishable.
DISCLOSURE_PUBLISHABLE = "gri"


def _disclosure_publish(w: World, role: Role) -> dict:
    return {"json": {"frameworks": [DISCLOSURE_PUBLISHABLE]}}


ENDPOINTS = [
    Endpoint("inventory.read", "GET", "/orgs/{org}/inventories/%d" % YEAR),
    Endpoint("inventory.read", "GET", "/orgs/{org}/inventories/%d/explain" % YEAR),
    Endpoint("inventory.compute", "POST", "/orgs/{org}/inventories/%d/compute" % YEAR, lambda w, r: {"json": {}}),
    Endpoint(("import.read", "import.read_own"), "GET", "/orgs/{org}/batches"),
    Endpoint(("import.read", "import.read_own"), "GET", "/orgs/{org}/batches/{batch_id}", _own_batch),
    Endpoint("import.write", "POST", "/orgs/{org}/batches", _upload),
    Endpoint("import.replace", "POST", "/orgs/{org}/batches/{batch_id}/replace", _replace),
    Endpoint("batch.undo", "POST", "/orgs/{org}/batches/{batch_id}/undo",
             lambda w, r: dict(_batch(w, "UN"), json={"reason": "entered twice"})),
    Endpoint("import.approve", "POST", "/orgs/{org}/batches/{batch_id}/approve",
             lambda w, r: _batch(w, "AP", actor="user:entry@example.org", needs_approval=True)),
    Endpoint("import.approve", "POST", "/orgs/{org}/batches/{batch_id}/reject",
             lambda w, r: dict(_batch(w, "RJ", actor="user:entry@example.org", needs_approval=True),
                               json={"reason": "wrong meter"})),
    Endpoint("inventory.compute", "POST", "/orgs/{org}/jobs/inventory", lambda w, r: {"json": {"year": YEAR}}),
    Endpoint("import.write", "POST", "/orgs/{org}/jobs/import", _upload),
    Endpoint("jobs.cancel", "POST", "/orgs/{org}/jobs/{job_id}/cancel", _others_job),
    Endpoint(("import.write", "inventory.compute", "schedule.run"), "POST", "/orgs/{org}/jobs/{job_id}/retry",
             _failed_job),
    Endpoint("schedule.run", "POST", "/orgs/{org}/jobs/schedule", _schedule_upload),
    Endpoint("factors.read", "GET", "/orgs/{org}/factor-sets"),
    Endpoint("factors.read", "GET", "/orgs/{org}/factor-sets/CN-2025.1/factors"),
    Endpoint("factors.import", "POST", "/orgs/{org}/factor-sets", _factor_set),
    Endpoint("audit.read", "GET", "/orgs/{org}/audit"),
    Endpoint("audit.read", "GET", "/orgs/{org}/audit/verify"),
    Endpoint("users.manage", "GET", "/orgs/{org}/members"),
    Endpoint("users.manage", "PUT", "/orgs/{org}/members/{email}", _member),
    Endpoint("users.manage", "DELETE", "/orgs/{org}/members/{email}", _member),
    Endpoint("users.manage", "GET", "/orgs/{org}/tokens"),
    Endpoint("users.manage", "POST", "/orgs/{org}/tokens",
             lambda w, r: {"json": {"name": w.fresh("new"), "scopes": ["import.write"]}}),
    Endpoint("users.manage", "DELETE", "/orgs/{org}/tokens/{name}", _token),
    Endpoint("schedule.run", "POST", "/orgs/{org}/schedules", _schedule_upload),
    Endpoint("schedule.read", "GET", "/orgs/{org}/schedules"),
    Endpoint("schedule.read", "GET", "/orgs/{org}/schedules/series"),
    Endpoint("schedule.read", "GET", "/orgs/{org}/schedules/{run_id}", _schedule_run),
    Endpoint("energy.read", "GET", "/orgs/{org}/energy/sites"),
    Endpoint("energy.read", "GET", "/orgs/{org}/energy/report"),
    Endpoint("energy.read", "GET", "/orgs/{org}/energy/profile"),
    Endpoint("energy.read", "GET", "/orgs/{org}/energy/rollup"),
    Endpoint("energy.read", "GET", "/orgs/{org}/energy/kpis"),
    Endpoint("energy.read", "GET", "/orgs/{org}/energy/product-kpis"),
    Endpoint("energy.read", "GET", "/orgs/{org}/energy/flows"),
    Endpoint("import.write", "POST", "/orgs/{org}/footprints", _footprint_upload),
    Endpoint(("supply.read", "supply.submit_own"), "GET", "/orgs/{org}/footprints"),
    Endpoint(("supply.read", "supply.submit_own"), "GET", "/orgs/{org}/footprints/{pf_id}", _own_footprint),
    Endpoint("inventory.read", "GET", "/orgs/{org}/footprints/export",
             lambda w, r: {"params": {"site": "TJ01", "year": YEAR, "product": "W", "units": 10, "cpc": "4"}}),
    Endpoint(_SUPPLY_READ, "GET", "/orgs/{org}/suppliers", lambda w, r: (_supply(w), {})[1]),
    Endpoint("supply.manage", "POST", "/orgs/{org}/suppliers", _suppliers_upload),
    Endpoint(_SUPPLY_READ, "GET", "/orgs/{org}/suppliers/{code}", lambda w, r: (_supply(w), {"path": {"code": "PS1"}})[1]),
    Endpoint("supply.submit_own", "POST", "/orgs/{org}/suppliers/{code}/submissions", _answers_upload),
    Endpoint("supply.submit_own", "POST", "/orgs/{org}/suppliers/{code}/projects", _projects_upload),
    Endpoint(_SUPPLY_READ, "GET", "/orgs/{org}/supply/spec"),
    Endpoint(_SUPPLY_READ, "GET", "/orgs/{org}/supply/template"),
    Endpoint("supply.manage", "PUT", "/orgs/{org}/supply/spec", _spec_upload),
    Endpoint("supply.read", "GET", "/orgs/{org}/supply/compliance"),
    Endpoint(_SUPPLY_READ, "GET", "/orgs/{org}/supply/campaigns"),
    Endpoint("supply.manage", "POST", "/orgs/{org}/supply/campaigns",
             lambda w, r: (_supply(w), {"json": {"name": w.fresh("c"), "due": "2030-01-01"}})[1]),
    Endpoint("supply.manage", "POST", "/orgs/{org}/supply/campaigns/{campaign_id}/remind",
             lambda w, r: {"path": {"campaign_id": _supply(w)["campaign"]}}),
    Endpoint(_SUPPLY_READ, "GET", "/orgs/{org}/supply/submissions"),
    Endpoint(_SUPPLY_READ, "GET", "/orgs/{org}/supply/submissions/{submission_id}",
             lambda w, r: {"path": {"submission_id": _supply(w)["submission"]}}),
    Endpoint("supply.manage", "POST", "/orgs/{org}/supply/submissions/{submission_id}/review",
             lambda w, r: (_supply(w), {"path": {"submission_id": _supply_submission(w)["id"]},
                                        "json": {"accept": True}})[1]),
    Endpoint(_SUPPLY_READ, "GET", "/orgs/{org}/supply/evidence/{evidence_id}",
             lambda w, r: {"path": {"evidence_id": _supply(w)["evidence"]}}),
    Endpoint(_SUPPLY_READ, "GET", "/orgs/{org}/supply/reductions"),
    Endpoint("supply.manage", "POST", "/orgs/{org}/supply/reductions/{project_id}/review",
             lambda w, r: (_supply(w), {"path": {"project_id": _supply_project(w)["id"]}, "json": {"accept": True}})[1]),
    Endpoint("supply.read", "GET", "/orgs/{org}/supply-chain/%d" % YEAR),
    Endpoint("supply.read", "GET", "/orgs/{org}/logistics/%d" % YEAR),
    Endpoint("supply.read", "GET", "/orgs/{org}/logistics/%d/modal-shift" % YEAR),
    Endpoint("supply.read", "GET", "/orgs/{org}/packaging/%d" % YEAR),
    Endpoint("supply.read", "GET", "/orgs/{org}/recycling/%d" % YEAR),
    Endpoint("inventory.read", "GET", "/orgs/{org}/inventories/%d/scope3" % YEAR),
    Endpoint("inventory.read", "GET", "/orgs/{org}/inventories/%d/scope3/{category}/rows" % YEAR,
             lambda w, r: {"path": {"category": "c1_purchased_goods"}}),
    Endpoint("assess.read", "GET", "/orgs/{org}/index-systems"),
    Endpoint("assess.read", "GET", "/orgs/{org}/index-systems/{system_id}",
             lambda w, r: {"path": {"system_id": "zero_carbon_factory"}}),
    Endpoint("assess.manage", "POST", "/orgs/{org}/index-systems", _own_system),
    Endpoint("assess.read", "GET", "/orgs/{org}/assessments"),
    Endpoint("assess.manage", "POST", "/orgs/{org}/assessments",
             lambda w, r: {"json": {"system": "zero_carbon_factory", "year": YEAR, "site": "TJ01"}}),
    Endpoint("assess.read", "GET", "/orgs/{org}/assessments/{assessment_id}",
             lambda w, r: {"path": {"assessment_id": _assessment(w)}}),
    Endpoint("assess.read", "GET", "/orgs/{org}/assessments/{assessment_id}/gaps",
             lambda w, r: {"path": {"assessment_id": _assessment(w)}}),
    Endpoint("assess.read", "GET", "/orgs/{org}/assessments/{assessment_id}/indicators",
             lambda w, r: {"path": {"assessment_id": _assessment(w)}}),
    Endpoint("assess.manage", "POST", "/orgs/{org}/assessments/{assessment_id}/recompute",
             lambda w, r: {"path": {"assessment_id": _assessment(w)}}),
    Endpoint("assess.manage", "POST", "/orgs/{org}/assessments/{assessment_id}/entries",
             lambda w, r: {"path": {"assessment_id": _assessment(w)},
                           "data": {"metric": "manual.disclosure_items", "value": "1"},
                           "files": {"evidence": ("e.txt", b"evidence")}}),
    Endpoint("assess.review", "POST", "/orgs/{org}/assessments/{assessment_id}/entries/{metric}/review",
             _assessment_entry),
    Endpoint("assess.read", "GET", "/orgs/{org}/assessments/{assessment_id}/entries/{entry_id}/evidence",
             _assessment_entry),
    Endpoint("assess.manage", "POST", "/orgs/{org}/assessments/{assessment_id}/finalise", _fresh_assessment),
    Endpoint("assess.read", "GET", "/orgs/{org}/pathways"),
    Endpoint("assess.manage", "POST", "/orgs/{org}/pathways", _scenario),
    # The curve of the latest stored run: one exists whatever order the endpoints run in.
    Endpoint("assess.read", "GET", "/orgs/{org}/pathways/macc", _pathway_run),
    Endpoint("assess.read", "POST", "/orgs/{org}/pathways/macc", _scenario),
    Endpoint("assess.manage", "POST", "/orgs/{org}/pathways/compare",
             lambda w, r: {"files": [("scenarios", f) for f in (_scenario(w, r)["files"]["scenario"],) * 2]}),
    Endpoint("assess.read", "GET", "/orgs/{org}/pathways/{run_id}", _pathway_run),
    Endpoint("assess.read", "GET", "/orgs/{org}/pathways/{run_id}/scenario", _pathway_run),
    Endpoint("assess.read", "GET", "/orgs/{org}/credits"),
    Endpoint("assess.manage", "POST", "/orgs/{org}/credits", _credits_upload),
    Endpoint("assess.read", "GET", "/orgs/{org}/claims"),
    Endpoint("assess.manage", "POST", "/orgs/{org}/claims", _claim_upload),
    Endpoint("assess.read", "GET", "/orgs/{org}/claims/rules"),
    Endpoint("assess.read", "GET", "/orgs/{org}/claims/{claim_id}", _claim),
    Endpoint("assess.manage", "POST", "/orgs/{org}/claims/{claim_id}/check", _claim),
    Endpoint("assess.read", "GET", "/orgs/{org}/claims/{claim_id}/statement", _claim),
    Endpoint("assess.manage", "POST", "/orgs/{org}/claims/{claim_id}/submit", _claim),
    Endpoint("assess.review", "POST", "/orgs/{org}/claims/{claim_id}/review",
             lambda w, r: dict(_claim(w, r), json={"accept": True})),
    Endpoint("assess.read", "GET", "/orgs/{org}/targets"),
    Endpoint("assess.manage", "POST", "/orgs/{org}/targets",
             lambda w, r: {"json": {"kind": "absolute", "base_year": YEAR, "target_year": YEAR + 7, "reduction": 0.5,
                                    "id": w.fresh("NT")}}),
    Endpoint("assess.read", "GET", "/orgs/{org}/targets/progress"),
    Endpoint("assess.read", "GET", "/orgs/{org}/targets/pathway"),
    Endpoint("assess.read", "GET", "/orgs/{org}/targets/outputs"),
    Endpoint("assess.manage", "PUT", "/orgs/{org}/targets/outputs",
             lambda w, r: {"json": {"site": "", "year": YEAR, "metric": "units", "value": 10, "unit": "unit"}}),
    Endpoint("assess.manage", "POST", "/orgs/{org}/targets/outputs",
             lambda w, r: {"files": {"file": ("o.csv", f"site,year,metric,value,unit\n,{YEAR},units,5,unit\n".encode())}}),
    Endpoint("assess.read", "GET", "/orgs/{org}/targets/{code}", _target),
    Endpoint("assess.read", "GET", "/orgs/{org}/targets/{code}/check", _target),
    Endpoint("assess.manage", "DELETE", "/orgs/{org}/targets/{code}", lambda w, r: _target(w, r, w.fresh("DT"))),
    # -- disclosure: reports of the matrix's stored inventory year
    Endpoint("disclose.read", "GET", "/orgs/{org}/disclosure/publications"),
    Endpoint("disclose.read", "GET", f"/orgs/{{org}}/disclosure/{YEAR}/inputs"),
    Endpoint("disclose.prepare", "POST", f"/orgs/{{org}}/disclosure/{YEAR}/inputs", _disclosure_inputs),
    Endpoint("disclose.publish", "POST", f"/orgs/{{org}}/disclosure/{YEAR}/publish", _disclosure_publish),
    Endpoint("disclose.read", "GET", f"/orgs/{{org}}/disclosure/{YEAR}/verify"),
    Endpoint("disclose.read", "GET", f"/orgs/{{org}}/disclosure/{YEAR}"),
    Endpoint("disclose.read", "GET", f"/orgs/{{org}}/disclosure/{YEAR}/{{framework}}",
             lambda w, r: {"path": {"framework": "ghgp"}}),
    Endpoint("disclose.read", "GET", f"/orgs/{{org}}/disclosure/{YEAR}/{{framework}}/download",
             lambda w, r: {"path": {"framework": "ghgp"}, "params": {"format": "xlsx"}}),
]


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("matrix")
    with fast_passwords(), blank_engine(request.param, tmp) as engine, pytest.MonkeyPatch.context() as env:
        counts = pd.read_csv(build_lake(tmp, env, PLANT, plant_day()))  # the server's meter data and counts
        counts.assign(product="X1").to_csv(tmp / "products.csv", index=False)  # named, for the product KPIs
        env.setenv("ZEROCARBON_PRODUCTION", str(tmp / "products.csv"))
        env.setenv(jobs.DATA_ENV, str(tmp / "data"))  # uploads of import jobs are spooled there
        env.delenv(jobs.REDIS_ENV, raising=False)
        upgrade(engine)
        sessions = session_factory(engine)
        load_org(sessions, ORG)
        import_bytes(sessions, ORG, "base.csv", electricity("BASE"), tmp)
        accounting.compute(sessions, ORG, YEAR, "CN-2025.1", actor="test")
        clients = {}
        for role in Role:
            person(sessions, f"{role.value}@example.org", ORG, role.value)
            clients[role] = logged_in(sessions, f"{role.value}@example.org")
        load_org(sessions, OTHER)
        person(sessions, "admin@other.org", OTHER, "admin")
        clients[OTHER] = logged_in(sessions, "admin@other.org")
        yield World(sessions, tmp, clients, itertools.count(1))


def _call(w: World, role: Role, e: Endpoint):
    given = e.prepare(w, role)
    url = "/api/v1" + e.path.format(org=ORG, **given.get("path", {}))
    kwargs = {k: v for k, v in given.items() if k in ("json", "files", "data", "params")}
    return w.clients[role].request(e.method, url, **kwargs)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_role_may_call_endpoint_exactly_when_the_table_allows(world, role, endpoint):
    r = _call(world, role, endpoint)
    if endpoint.actions & PERMISSIONS[role]:
        assert 200 <= r.status_code < 300, (role, endpoint, r.text)
    else:
        assert r.status_code == 403, (role, endpoint, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert all(a in r.json()["detail"] for a in endpoint.actions)


def test_every_route_is_in_the_matrix_with_the_action_it_checks():
    """A new endpoint without a row here, or guarded by another action than its row says, fails."""
    guarded = {}
    for route in (r for router in ROUTERS for r in router.routes):
        if not isinstance(route, APIRoute) or not route.path.startswith("/orgs/{org}"):
            continue
        actions = {a for d in route.dependant.dependencies
                   for a in ((d.call.action,) if hasattr(d.call, "action") else getattr(d.call, "actions", ()))}
        for method in route.methods:
            guarded[(method, route.path)] = actions
    # Any member; what each one sees is checked per job kind (tests/test_jobs.py).
    member_only = {("GET", "/orgs/{org}"), ("GET", "/orgs/{org}/jobs"), ("GET", "/orgs/{org}/jobs/{job_id}")}
    rows = {(e.method, e.path.replace(str(YEAR), "{year}").replace("CN-2025.1", "{name}")): set(e.actions)
            for e in ENDPOINTS}
    assert {k: v for k, v in guarded.items() if k not in member_only} == rows
    assert all(guarded[k] == set() for k in member_only)
    without_endpoint: set[str] = set()
    assert set().union(*(e.actions for e in ENDPOINTS)) == set(ACTIONS) - without_endpoint, \
        f"every action but {sorted(without_endpoint)} guards an API endpoint"


def _needs_login(dependant) -> bool:
    return any(d.call is get_principal or _needs_login(d) for d in dependant.dependencies)


# Routes outside an organisation: (method, path) -> who may call them.
OUTSIDE_ORGANISATIONS = {
    ("GET", "/disclosure/frameworks"): "logged in",
    ("GET", "/disclosure/catalogue"): "logged in",
    ("POST", "/auth/login"): "anyone",
    ("POST", "/auth/logout"): "logged in",
    ("GET", "/auth/me"): "logged in",
    ("GET", "/orgs"): "logged in",
    # File formats are published documentation (docs/data-formats.md) and hold no organisation's data.
    ("GET", "/schemas"): "anyone",
    ("GET", "/schemas/{kind}"): "anyone",
    # The shipped index systems and the abatement catalogue are published reference data.
    ("GET", "/index-systems"): "logged in",
    ("GET", "/index-systems/{system_id}"): "logged in",
    ("POST", "/index-systems/validate"): "logged in",
    ("GET", "/measures"): "anyone",
    # The server's startup checks: an admin of any organisation (tests/test_doctor.py holds the rule).
    ("GET", "/doctor"): "logged in",
}


def test_routes_outside_organisations_are_listed_with_who_may_call_them(world):
    """A new route outside /orgs/{org} must be listed here; a public one must really answer without a login, and a
    guarded one must refuse a caller without one."""
    found = {}
    for route in (r for router in ROUTERS for r in router.routes):
        if isinstance(route, APIRoute) and not route.path.startswith("/orgs/{org}"):
            for method in route.methods:
                found[(method, route.path)] = "logged in" if _needs_login(route.dependant) else "anyone"
    assert found == OUTSIDE_ORGANISATIONS
    anonymous = client(world.sessions)
    for kind in ("fuel", "instrument"):
        r = anonymous.get(f"/api/v1/schemas/{kind}")
        assert r.status_code == 200 and r.headers["content-type"] == "application/schema+json"
    assert anonymous.get("/api/v1/schemas").status_code == 200
    assert anonymous.get("/api/v1/orgs").status_code == 401
    assert anonymous.get("/api/v1/measures").status_code == 200
    assert anonymous.get("/api/v1/index-systems").status_code == 401


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_member_sees_its_organisation_and_its_allowed_actions(world, role):
    r = world.clients[role].get(f"/api/v1/orgs/{ORG}")
    assert r.status_code == 200
    assert r.json()["role"] == role.value and set(r.json()["actions"]) == PERMISSIONS[role]


# -- the whole served application: API, documentation and dashboard pages ----------------------------------------

def served_routes(app) -> dict[tuple[str, str], object]:
    """(method, full path) -> route of everything ``app`` answers, routers included (HEAD left out)."""
    found = {}
    for r in app.routes:
        contexts = list(r.effective_route_contexts()) if hasattr(r, "effective_route_contexts") else [r]
        for c in contexts:
            route = getattr(c, "original_route", c)
            path = getattr(c, "path", None) or route.path
            for method in getattr(route, "methods", None) or ():
                if method != "HEAD":
                    found[(method, path)] = route
    return found


# Routes anyone may call: the API's description, the documentation page and its files, the dashboard's static
# files, its language switch and its login form.
PUBLIC_ROUTES = {
    ("GET", "/api/v1/openapi.json"), ("GET", "/api/v1/docs"), ("GET", "/api/v1/docs/oauth2-redirect"),
    ("GET", "/api/v1/docs/assets/{name}"), ("GET", "/web/static/{name:path}"), ("GET", "/web/lang/{code}"),
    ("GET", "/web/login"), ("POST", "/web/login"),
}
# Dashboard routes for anyone logged in, outside an organisation.
WEB_LOGGED_IN = {("GET", "/web/"), ("POST", "/web/logout"),
                 ("GET", "/web/system/checks")}  # admins of any organisation: tests/test_doctor.py
# Every dashboard page of an organisation -> the actions of core.access its own code names (read from its source:
# a change of what a page checks shows here and must be reviewed). Which role gets what is checked below at run
# time for every page that states one action, and each page's API twin is in ENDPOINTS above.
WEB_PAGES = {
    ("GET", "/orgs/{org}"): ("import.write", "inventory.read"),
    ("GET", "/orgs/{org}/overview"): ("inventory.read",),
    ("GET", "/orgs/{org}/data"): (),
    ("POST", "/orgs/{org}/data/upload"): ("import.approve", "import.write"),
    ("POST", "/orgs/{org}/batches/{batch_id}/undo"): ("batch.undo",),
    ("POST", "/orgs/{org}/batches/{batch_id}/replace"): ("import.approve", "import.replace"),
    ("POST", "/orgs/{org}/batches/{batch_id}/approve"): ("import.approve",),
    ("POST", "/orgs/{org}/batches/{batch_id}/reject"): ("import.approve",),
    ("GET", "/orgs/{org}/batches/{batch_id}"): (),
    ("GET", "/orgs/{org}/ledger"): ("inventory.read",),
    ("GET", "/orgs/{org}/audit"): ("audit.read",),
    ("GET", "/orgs/{org}/energy"): ("energy.read",),
    ("GET", "/orgs/{org}/schedules"): ("schedule.read",),
    ("POST", "/orgs/{org}/schedules"): ("schedule.run",),
    ("GET", "/orgs/{org}/schedules/{run_id}"): ("schedule.read",),
    ("GET", "/orgs/{org}/factors"): ("factors.read",),
    ("POST", "/orgs/{org}/factors/upload"): ("factors.import",),
    ("GET", "/orgs/{org}/factors/{name}"): ("factors.read",),
    ("GET", "/orgs/{org}/jobs"): ("inventory.compute",),
    ("GET", "/orgs/{org}/jobs/{job_id}/row"): (),
    ("POST", "/orgs/{org}/jobs/inventory"): ("inventory.compute",),
    ("POST", "/orgs/{org}/jobs/import"): ("import.write",),
    ("POST", "/orgs/{org}/jobs/{job_id}/cancel"): ("jobs.cancel",),
    ("POST", "/orgs/{org}/jobs/{job_id}/retry"): (),  # the action of the job's kind: tests/test_faults_processes.py
    ("GET", "/orgs/{org}/supply/footprints"): (),
    ("POST", "/orgs/{org}/supply/footprints"): ("import.write",),
    ("GET", "/orgs/{org}/supply"): ("supply.read",),
    ("GET", "/orgs/{org}/supply/logistics"): ("supply.read",),
    ("GET", "/orgs/{org}/supply/packaging"): ("supply.read",),
    ("GET", "/orgs/{org}/supply/recycling"): ("supply.read",),
    ("GET", "/orgs/{org}/supply/suppliers"): ("supply.read",),
    ("POST", "/orgs/{org}/supply/suppliers/import"): ("supply.manage",),
    ("POST", "/orgs/{org}/supply/spec"): ("supply.manage",),
    ("GET", "/orgs/{org}/supply/suppliers/{code}"): ("supply.read", "supply.submit_own"),
    ("GET", "/orgs/{org}/supply/compliance"): ("supply.read",),
    ("GET", "/orgs/{org}/supply/campaigns"): ("supply.read",),
    ("POST", "/orgs/{org}/supply/campaigns"): ("supply.manage",),
    ("POST", "/orgs/{org}/supply/campaigns/{campaign_id}/remind"): ("supply.manage",),
    ("POST", "/orgs/{org}/supply/submissions/{submission_id}/review"): (),
    ("GET", "/orgs/{org}/supply/submissions/{submission_id}"): ("supply.read", "supply.submit_own"),
    ("GET", "/orgs/{org}/supply/evidence/{evidence_id}"): ("supply.read", "supply.submit_own"),
    ("GET", "/orgs/{org}/supply/reductions"): ("supply.read",),
    ("POST", "/orgs/{org}/supply/reductions/{project_id}/review"): (),
    ("GET", "/orgs/{org}/portal"): ("supply.submit_own",),
    ("GET", "/orgs/{org}/portal/template"): ("supply.read", "supply.submit_own"),
    ("POST", "/orgs/{org}/portal/submit"): (),
    ("POST", "/orgs/{org}/portal/projects"): (),
    ("GET", "/orgs/{org}/scope3"): ("inventory.read",),
    ("GET", "/orgs/{org}/targets"): ("assess.read",),
    ("POST", "/orgs/{org}/targets"): ("assess.manage",),
    ("POST", "/orgs/{org}/targets/{code}/delete"): ("assess.manage",),
    ("GET", "/orgs/{org}/pathway"): ("assess.read",),
    ("POST", "/orgs/{org}/pathway/run"): ("assess.manage",),
    ("GET", "/orgs/{org}/pathway/runs/{run_id}"): ("assess.read",),
    ("GET", "/orgs/{org}/pathway/compare"): ("assess.read",),
    ("GET", "/orgs/{org}/claims/credits"): ("assess.read",),
    ("POST", "/orgs/{org}/claims/credits"): ("assess.manage",),
    ("GET", "/orgs/{org}/claims"): ("assess.read",),
    ("POST", "/orgs/{org}/claims"): ("assess.manage",),
    ("GET", "/orgs/{org}/claims/{claim_id}"): ("assess.read",),
    ("POST", "/orgs/{org}/claims/{claim_id}/check"): ("assess.manage",),
    ("POST", "/orgs/{org}/claims/{claim_id}/review"): ("assess.review",),
    ("GET", "/orgs/{org}/zero-carbon"): ("assess.read",),
    ("GET", "/orgs/{org}/assessments"): ("assess.read",),
    ("POST", "/orgs/{org}/assessments"): ("assess.manage",),
    ("POST", "/orgs/{org}/assessments/systems"): ("assess.manage",),
    ("GET", "/orgs/{org}/assessments/{assessment_id}"): ("assess.read",),
    ("POST", "/orgs/{org}/assessments/{assessment_id}/entries"): ("assess.manage",),
    ("POST", "/orgs/{org}/assessments/{assessment_id}/entries/{metric}/review"): ("assess.review",),
    ("POST", "/orgs/{org}/assessments/{assessment_id}/recompute"): ("assess.manage",),
    ("POST", "/orgs/{org}/assessments/{assessment_id}/finalise"): ("assess.manage",),
    ("GET", "/orgs/{org}/assessments/{assessment_id}/entries/{entry_id}/evidence"): ("assess.read",),
    ("GET", "/orgs/{org}/disclosure"): ("disclose.read",),
    ("GET", "/orgs/{org}/disclosure/{year}/{framework}"): ("disclose.read",),
    ("GET", "/orgs/{org}/disclosure/{year}/{framework}/download"): ("disclose.read",),
    ("POST", "/orgs/{org}/disclosure/{year}/inputs"): ("disclose.prepare",),
    ("POST", "/orgs/{org}/disclosure/{year}/publish"): ("disclose.publish",),
}
_NAMED_ACTION = re.compile(r'"([a-z_]+\.[a-z_]+)"')
_PAGE_GUARD = re.compile(r'Page\(request, org, "([a-z_]+\.[a-z_]+)"\)')


def _web_app(sessions):
    from zerocarbon.web import create_app

    return create_app(sessions)


def _api_rows() -> set[tuple[str, str]]:
    member_only = {("GET", "/orgs/{org}"), ("GET", "/orgs/{org}/jobs"), ("GET", "/orgs/{org}/jobs/{job_id}")}
    rows = {(e.method, e.path.replace(str(YEAR), "{year}").replace("CN-2025.1", "{name}")) for e in ENDPOINTS}
    return {(m, "/api/v1" + p) for m, p in rows | member_only | set(OUTSIDE_ORGANISATIONS)}


def test_every_route_of_the_served_app_is_listed():
    """Whatever `zerocarbon serve` answers is in the API matrix, the dashboard's page table or the public list; a
    page whose own code names other actions than its row fails."""
    from sqlalchemy.orm import sessionmaker

    routes = served_routes(_web_app(sessionmaker()))
    web = {(m, "/web" + p) for m, p in WEB_PAGES}
    unlisted = set(routes) - _api_rows() - web - PUBLIC_ROUTES - WEB_LOGGED_IN
    assert not unlisted, f"routes in no permission list: {sorted(unlisted)}"
    assert not (_api_rows() | web | PUBLIC_ROUTES | WEB_LOGGED_IN) - set(routes), "listed routes that do not exist"
    for (method, path), actions in WEB_PAGES.items():
        source = inspect.getsource(routes[(method, "/web" + path)].endpoint)
        named = tuple(sorted({a for a in _NAMED_ACTION.findall(source) if a in ACTIONS}))
        assert named == actions, (method, path, named)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_gets_a_dashboard_page_exactly_when_the_table_allows(world, role):
    """Every page without ids in its address whose guard names one action: shown (or redirected) to a role that has
    it, 403 to one that does not."""
    from sqlalchemy.orm import sessionmaker

    from tests.api_support import web_login_client

    routes = served_routes(_web_app(sessionmaker()))
    browser = web_login_client(_web_app(world.sessions), f"{role.value}@example.org")
    checked = 0
    for (method, path) in WEB_PAGES:
        guard = _PAGE_GUARD.findall(inspect.getsource(routes[(method, "/web" + path)].endpoint))
        if method != "GET" or path.count("{") != 1 or len(guard) != 1:
            continue
        r = browser.get("/web" + path.format(org=ORG))
        if guard[0] in PERMISSIONS[role]:
            assert r.status_code < 400, (role, path, r.status_code)
        else:
            assert r.status_code == 403, (role, path, r.status_code)
        checked += 1
    assert checked >= 20


# -- tenancy: OTHER's admin asks for ORG's data ------------------------------------------------------------------

# Path values that name shared reference data (a shipped index system, a framework, a category), not ORG's objects.
_SHARED = {"system_id", "framework", "category", "metric"}


def _is_problem_without_data(r, org: str) -> bool:
    body = r.json()
    return (r.headers["content-type"] == "application/problem+json"
            and set(body) <= {"type", "title", "status", "detail", "instance"} and "Test org" not in r.text)


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS], ids=lambda e: f"{e.method} {e.path}")
def test_another_organisations_member_gets_404_and_no_data_for_every_endpoint(world, endpoint):
    """OTHER's admin (who may do everything in OTHER) asking for ORG's data, and for ORG's object ids through
    OTHER's own paths (``/orgs/OTHER/batches/<ORG's batch id>``): 404, a problem without data, nothing changed."""
    given = endpoint.prepare(world, Role.admin)
    kwargs = {k: v for k, v in given.items() if k in ("json", "files", "data", "params")}
    stranger = world.clients[OTHER]
    before = accounting.data_version(world.sessions)
    r = stranger.request(endpoint.method, "/api/v1" + endpoint.path.format(org=ORG, **given.get("path", {})), **kwargs)
    assert r.status_code == 404 and _is_problem_without_data(r, ORG), r.text
    in_path = set(re.findall(r"{(\w+)}", endpoint.path)) - {"org"}
    through_other = "/api/v1" + endpoint.path.format(org=OTHER, **given.get("path", {}))
    if in_path == {"email"}:
        # People are shared, organisations are not: OTHER's admin may add ORG's member to OTHER (or find them not a
        # member there), and learns nothing of ORG doing so.
        r = stranger.request(endpoint.method, through_other, **kwargs)
        assert r.status_code in (200, 404) and ORG not in r.text.replace(OTHER, ""), r.text
    elif in_path - _SHARED:
        r = stranger.request(endpoint.method, through_other, **kwargs)
        assert r.status_code == 404, (endpoint.path, r.status_code, r.text[:300])
        assert _is_problem_without_data(r, ORG), r.text
    if endpoint.method == "GET":
        assert accounting.data_version(world.sessions) == before


def test_another_organisations_member_gets_404_for_its_jobs_and_pages(world):
    """Jobs (any member reads them) and the dashboard: ORG's ids through OTHER's addresses are not found."""
    from tests.api_support import web_login_client

    stranger = world.clients[OTHER]
    job = _others_job(world, Role.admin)["path"]["job_id"]
    assert stranger.get(f"/api/v1/orgs/{ORG}/jobs").status_code == 404
    assert stranger.get(f"/api/v1/orgs/{OTHER}/jobs/{job}").status_code == 404
    assert stranger.post(f"/api/v1/orgs/{OTHER}/jobs/{job}/cancel").status_code == 404
    assert job not in {j["id"] for j in stranger.get(f"/api/v1/orgs/{OTHER}/jobs").json()["jobs"]}
    batch = _batch(world, "TN")["path"]["batch_id"]
    ids = {"batch_id": batch, "job_id": job, "run_id": _schedule_run(world, Role.admin)["path"]["run_id"],
           "claim_id": _claim(world, Role.admin)["path"]["claim_id"], "code": "PS1",
           "assessment_id": _assessment(world), "submission_id": _supply(world)["submission"],
           "evidence_id": _supply(world)["evidence"], "entry_id": _assessment_entry(world, Role.admin)["path"]["entry_id"],
           "year": YEAR, "framework": "ghgp", "name": "CN-2025.1"}
    pathway_run = _pathway_run(world, Role.admin)["path"]["run_id"]
    browser = web_login_client(_web_app(world.sessions), "admin@other.org")
    for (method, path) in WEB_PAGES:
        if method != "GET":
            continue
        values = dict(ids, run_id=pathway_run) if "/pathway/" in path else ids
        fields = {f: values[f] for f in re.findall(r"{(\w+)}", path) if f != "org"}
        r = browser.get("/web" + path.format(org=ORG, **fields))
        assert r.status_code == 404 and "Test org ORG" not in r.text, (path, r.status_code)
        if set(fields) - _SHARED - {"year", "name"}:
            r = browser.get("/web" + path.format(org=OTHER, **fields))
            assert r.status_code == 404, ("through OTHER", path, r.status_code)
