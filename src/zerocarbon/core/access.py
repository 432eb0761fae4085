"""Who may do what: the roles a member of an organisation can hold and the actions each role allows.

This table is the only place permissions are declared. The API checks it on every request, the CLI checks
token scopes against it, and docs/api.md prints it (a test keeps the page in step with the table).
"""
from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    admin = "admin"
    energy_manager = "energy_manager"
    data_entry = "data_entry"
    planner = "planner"
    supplier = "supplier"
    auditor = "auditor"
    viewer = "viewer"


# action -> what it allows, in the order the documentation lists them.
ACTIONS: dict[str, str] = {
    "inventory.read": "read stored inventories: totals, report lines and the ledger behind them",
    "inventory.compute": "compute and store an inventory",
    "import.read": "list and show imported batches",
    "import.read_own": "list and show the batches one submitted oneself (and nothing of the organisation's)",
    "import.write": "upload an activity file as a new batch",
    "import.replace": "replace an active batch by a corrected file",
    "batch.undo": "withdraw an active batch",
    "import.approve": "approve or reject a batch waiting for approval (uploads by data entry and suppliers)",
    "factors.read": "list factor sets and their factors",
    "factors.import": "store an own factor set",
    "audit.read": "read the audit trail and verify its hash chain",
    "energy.read": "read the energy analysis of the server's meter data: load profile, idle energy, anomalies",
    "schedule.read": "read production schedules and their savings against the conventional plan",
    "schedule.run": "run the energy-aware scheduler on an orders file",
    "supply.read": "read the green supply chain: suppliers, scorecards, compliance, campaigns, the reduction "
                   "programme, Scope 3, logistics, packaging and recycling figures",
    "supply.manage": "register suppliers, set the green specification, run data campaigns and accept or return "
                     "submissions",
    "supply.submit_own": "see one's own supplier record, requests and scorecard, and submit data and evidence for it "
                         "(nothing of other suppliers')",
    "assess.read": "read zero-carbon factory assessments, targets and their progress, carbon-neutrality claims "
                   "and abatement pathways",
    "assess.manage": "run assessments, enter manual indicators with evidence, set targets, record carbon credits, "
                     "check claims and build abatement pathways",
    "assess.review": "sign off or return manual indicators and carbon-neutrality claims entered by someone else",
    "disclose.read": "read disclosure reports (HKEX, ISSB S2, GHG Protocol, GRI, CDP, ESRS E1, mainland exchanges), "
                     "their checks and lineage, and the disclosure inputs",
    "disclose.prepare": "enter disclosure inputs (narratives, measured and financial figures) and build draft reports",
    "disclose.publish": "publish a year's disclosure reports: the figures are kept as published, for next year's "
                        "comparison and restatements",
    "jobs.cancel": "cancel a background job someone else started (one's own can always be cancelled)",
    "users.manage": "add members, change their roles, create and revoke API tokens",
}

_READ = {"inventory.read", "factors.read"}

PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.admin: frozenset(ACTIONS),
    Role.energy_manager: frozenset(_READ | {"inventory.compute", "import.read", "import.write", "import.replace",
                                            "batch.undo", "import.approve", "factors.import", "audit.read",
                                            "energy.read", "schedule.read", "schedule.run", "jobs.cancel",
                                            "supply.read", "supply.manage", "assess.read", "assess.manage",
                                            "disclose.read", "disclose.prepare", "disclose.publish"}),
    # Enters and corrects data but neither withdraws it nor computes the numbers reported from it.
    Role.data_entry: frozenset(_READ | {"import.read", "import.write", "import.replace", "supply.read",
                                        "assess.read", "disclose.read", "disclose.prepare"}),
    Role.planner: frozenset(_READ | {"energy.read", "schedule.read", "schedule.run", "assess.read",
                                     "disclose.read"}),
    # Delivers its own data to a customer; the customer's inventory and batches stay out of its sight.
    Role.supplier: frozenset({"import.write", "import.read_own", "factors.read", "supply.submit_own"}),
    # Reads everything, including the trail. Its one change is the verifier's part: signing off (or returning)
    # manual assessment indicators and carbon-neutrality claims that someone else entered.
    Role.auditor: frozenset(_READ | {"import.read", "audit.read", "energy.read", "schedule.read", "supply.read",
                                     "assess.read", "assess.review", "disclose.read"}),
    Role.viewer: frozenset(_READ | {"energy.read", "schedule.read", "supply.read", "assess.read",
                                    "disclose.read"}),
}


def actions_of(role: Role | str) -> frozenset[str]:
    """The actions ``role`` allows; an unknown role allows nothing."""
    try:
        return PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()


def allowed(role: Role | str, action: str) -> bool:
    return action in actions_of(role)


def check_actions(actions: list[str] | tuple[str, ...]) -> list[str]:
    """The names in ``actions`` that are not actions of the table (empty when all are known)."""
    return [a for a in actions if a not in ACTIONS]


def permission_table_markdown() -> str:
    """The table as Markdown: one row per action, one column per role."""
    roles = list(Role)
    lines = ["| action | " + " | ".join(r.value for r in roles) + " |",
             "|---|" + "---|" * len(roles)]
    for action, what in ACTIONS.items():
        marks = " | ".join("yes" if action in PERMISSIONS[r] else "" for r in roles)
        lines.append(f"| `{action}`: {what} | {marks} |")
    return "\n".join(lines) + "\n"


__all__ = ["ACTIONS", "PERMISSIONS", "Role", "actions_of", "allowed", "check_actions", "permission_table_markdown"]
