"""Organisation file (YAML): the organisation, its sites, and each site's grid geography."""
from __future__ import annotations

from pathlib import Path

import yaml

from zerocarbon.core.model import Methodology, Organisation, Site
from zerocarbon.errors import InputError, Problem

SITE_FIELDS = {"code", "name", "country", "province", "grid_region", "timezone", "equity_share",
               "operational_control", "financial_control", "methodology"}
GRID_REGIONS = {"north", "northeast", "east", "central", "northwest", "south", "southwest"}


def read_organisation(path: str | Path) -> Organisation:
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError([Problem(str(path), None, None, f"cannot read organisation file: {exc}")]) from None
    problems = []
    if not isinstance(spec, dict) or "code" not in spec or "sites" not in spec:
        raise InputError([Problem(str(path), None, None, "needs 'code', 'name' and a list of 'sites'")])
    sites = []
    for i, s in enumerate(spec["sites"], start=1):
        where = f"sites[{i}]"
        unknown = set(s) - SITE_FIELDS
        if unknown:
            problems.append(Problem(str(path), None, where, f"unknown field(s) {sorted(unknown)}"))
        if "code" not in s:
            problems.append(Problem(str(path), None, where, "site needs a 'code'"))
            continue
        if s.get("grid_region") and s["grid_region"] not in GRID_REGIONS:
            problems.append(Problem(str(path), None, f"{where}.grid_region",
                                    f"'{s['grid_region']}' is not one of {sorted(GRID_REGIONS)}"))
        share = float(s.get("equity_share", 1.0))
        if not 0 <= share <= 1:
            problems.append(Problem(str(path), None, f"{where}.equity_share", "must be a fraction between 0 and 1"))
        try:
            meth = Methodology(s.get("methodology", "ghg_protocol"))
        except ValueError:
            problems.append(Problem(str(path), None, f"{where}.methodology", "use ghg_protocol or gbt32150"))
            continue
        sites.append(Site(code=str(s["code"]), name=s.get("name", s["code"]), country=s.get("country", "CN"),
                          province=s.get("province"), grid_region=s.get("grid_region"),
                          timezone=s.get("timezone", "Asia/Shanghai"), equity_share=share,
                          operational_control=bool(s.get("operational_control", True)),
                          financial_control=bool(s.get("financial_control", True)), methodology=meth))
    if problems:
        raise InputError(problems)
    return Organisation(str(spec["code"]), spec.get("name", spec["code"]), tuple(sites))
