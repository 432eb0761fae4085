"""Organisation file (YAML): the organisation, its sites, and each site's grid geography.

The fields are declared once in ``ORGANISATION_FIELDS`` and ``SITE_FIELDS`` (name, type, required,
default, meaning, example); the reader validates against them and ``organisation_markdown`` renders
them as docs/organisation.md, so the documentation cannot drift from what is read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from zerocarbon.core.model import Methodology, Organisation, Site
from zerocarbon.errors import InputError, Problem

# China's regional grids as the MEE/NBS factor tables name them; other countries' codes are the factor set's.
GRID_REGIONS = ("north", "northeast", "east", "central", "northwest", "south", "southwest")
GRID_REGION_LENGTH = 32  # the stored column's width
_GRID_CODE = re.compile(r"[A-Za-z0-9._-]{1,%d}" % GRID_REGION_LENGTH)


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # str | fraction | bool | one of: ... | list of sites
    required: bool
    default: object
    meaning: str
    example: str


ORGANISATION_FIELDS = (
    Field("code", "str", True, None, "organisation code, used as `--org` on the command line", "ACME"),
    Field("name", "str", False, "the code", "display name (any language)", "ACME Laptop Co."),
    Field("sites", "list of sites", True, None, "the organisation's sites (factories), at least one; fields below",
          "see below"),
)
SITE_FIELDS = (
    Field("code", "str", True, None, "site code, unique in the organisation; activity files name the site by it",
          "TJ01"),
    Field("name", "str", False, "the code", "display name (any language)", "Tianjin laptop plant"),
    Field("country", "str", False, "CN", "ISO 3166 country code; the market boundary of contractual instruments "
                                          "(an instrument counts only for a site in its `market`)", "CN"),
    Field("province", "str", False, None, "province as named in the MEE/NBS grid-factor tables (Chinese name); "
                                          "picks the provincial grid factor when the factor set resolves by province",
          "天津"),
    Field("grid_region", "str (country CN: one of " + ", ".join(GRID_REGIONS) + ")", False, None,
          "the site's grid region as the factor set names it. China (country CN): the MEE/NBS regional grid, used "
          "when no provincial factor is published for the year. Other countries: a code of at most "
          f"{GRID_REGION_LENGTH} letters, digits, `.`, `_` or `-`, e.g. the eGRID subregion for US sites (`CAMX`, "
          "`ERCT`; set US-EGRID-2025.1); the factor set is checked for it when the inventory is computed",
          "north"),
    Field("timezone", "str (IANA zone)", False, "Asia/Shanghai", "local time zone of the site's meters and shifts",
          "Asia/Shanghai"),
    Field("equity_share", "fraction 0..1", False, 1.0, "share of the site the organisation owns; the inclusion share "
                                                       "under the equity-share boundary", "0.6"),
    Field("operational_control", "bool", False, True, "the organisation has operational control; under that "
                                                      "boundary the site counts 100 % if true, 0 % if false", "true"),
    Field("financial_control", "bool", False, True, "the organisation has financial control; under that boundary "
                                                    "the site counts 100 % if true, 0 % if false", "false"),
    Field("methodology", "one of: " + ", ".join(m.value for m in Methodology), False, Methodology.GHG_PROTOCOL.value,
          "standard the site reports under: `ghg_protocol` (GHG Protocol Corporate Standard and Scope 2 "
          "Guidance) or `gbt32150` (GB/T 32150-2015: GB/T reporting categories, Scope 2 location-based "
          "only); see docs/methodology.md §10", "gbt32150"),
)


def _bool(value) -> bool | None:
    # YAML 1.1 already turns true/false/yes/no into bools; anything else ("maybe", 1) is refused
    # rather than read by Python truthiness, where the string "false" would be True.
    return value if isinstance(value, bool) else None


def _site(raw, where: str, src: str, problems: list[Problem]) -> Site | None:
    if not isinstance(raw, dict):
        problems.append(Problem(src, None, where, "a site must be a mapping of the fields in docs/organisation.md"))
        return None
    known = {f.name for f in SITE_FIELDS}
    for name in sorted(set(raw) - known):
        problems.append(Problem(src, None, f"{where}.{name}", f"unknown field; a site has {sorted(known)}"))
    before = len(problems)
    if raw.get("code") in (None, ""):
        problems.append(Problem(src, None, f"{where}.code", "site needs a 'code'"))
    country = str(raw.get("country", "CN"))
    region = raw.get("grid_region")
    if region is not None and country == "CN" and region not in GRID_REGIONS:
        problems.append(Problem(src, None, f"{where}.grid_region",
                                f"'{region}' is not one of {list(GRID_REGIONS)} (China's regional grids; the site's "
                                "country is CN, the default)"))
    elif region is not None and (not isinstance(region, str) or not _GRID_CODE.fullmatch(region)):
        problems.append(Problem(src, None, f"{where}.grid_region",
                                f"'{region}' is not a grid-region code: up to {GRID_REGION_LENGTH} letters, digits, "
                                "'.', '_' or '-' (e.g. the eGRID subregion CAMX)"))
    share = raw.get("equity_share", 1.0)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
        problems.append(Problem(src, None, f"{where}.equity_share", f"'{share}' is not a fraction between 0 and 1"))
    flags = {}
    for name in ("operational_control", "financial_control"):
        flags[name] = _bool(raw.get(name, True))
        if flags[name] is None:
            problems.append(Problem(src, None, f"{where}.{name}", f"'{raw[name]}' is not true or false"))
    zone = raw.get("timezone", "Asia/Shanghai")
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem(src, None, f"{where}.timezone", f"'{zone}' is not an IANA time zone"))
    try:
        meth = Methodology(raw.get("methodology", Methodology.GHG_PROTOCOL.value))
    except ValueError:
        problems.append(Problem(src, None, f"{where}.methodology",
                                f"'{raw['methodology']}' is not one of {[m.value for m in Methodology]}"))
    if len(problems) > before:
        return None
    code = str(raw["code"])
    return Site(code=code, name=str(raw.get("name", code)), country=country,
                province=raw.get("province"), grid_region=region, timezone=str(zone), equity_share=float(share),
                operational_control=flags["operational_control"], financial_control=flags["financial_control"],
                methodology=meth)


def read_organisation(path: str | Path) -> Organisation:
    """Read and validate an organisation file; every problem is reported at once (InputError)."""
    path = Path(path)
    src = str(path)
    if path.is_dir():
        raise InputError([Problem(src, None, None, "is a folder, not an organisation file (YAML)")])
    if not path.exists():
        raise InputError([Problem(src, None, None, "file not found")])
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError([Problem(src, None, None, f"cannot read organisation file: {exc}")]) from None
    if not isinstance(spec, dict):
        raise InputError([Problem(src, None, None, "needs 'code', 'name' and a list of 'sites' (docs/organisation.md)")])
    problems: list[Problem] = []
    known = {f.name for f in ORGANISATION_FIELDS}
    for name in sorted(set(spec) - known):
        problems.append(Problem(src, None, name, f"unknown field; the organisation has {sorted(known)}"))
    if spec.get("code") in (None, ""):
        problems.append(Problem(src, None, "code", "the organisation needs a 'code'"))
    raw_sites = spec.get("sites")
    if not isinstance(raw_sites, list) or not raw_sites:
        problems.append(Problem(src, None, "sites", "needs a list of at least one site"))
        raw_sites = []
    sites, seen = [], set()
    for i, raw in enumerate(raw_sites, start=1):
        code = raw.get("code") if isinstance(raw, dict) else None
        if code is not None and str(code) in seen:
            problems.append(Problem(src, None, f"sites[{i}].code", f"site code '{code}' appears twice"))
        seen.add(str(code))
        site = _site(raw, f"sites[{i}]", src, problems)
        if site is not None:
            sites.append(site)
    if problems:
        raise InputError(problems)
    return Organisation(str(spec["code"]), str(spec.get("name", spec["code"])), tuple(sites))


def organisation_markdown() -> str:
    """The organisation file format as Markdown (the body of docs/organisation.md)."""
    def table(fields: tuple[Field, ...]) -> list[str]:
        rows = ["| field | type | required | default | meaning | example |", "|---|---|---|---|---|---|"]
        for f in fields:
            default = "" if f.required or f.default is None else (
                str(f.default).lower() if isinstance(f.default, bool) else str(f.default))
            example = f.example if f.name == "sites" else f"`{f.example}`"
            rows.append(f"| `{f.name}` | {f.type} | {'yes' if f.required else 'no'} | {default} | {f.meaning} "
                        f"| {example} |")
        return rows

    return "\n".join(
        ["# Organisation file", "",
         "Generated from `zerocarbon.io.org` (`organisation_markdown()`); a test keeps this page equal to it.", "",
         "`zerocarbon org load FILE` reads a YAML file that declares one organisation and its sites and stores it "
         "(loading it again updates it). Every problem in the file is reported at once, with the field's path "
         "(e.g. `sites[2].equity_share`); nothing is stored if any field is wrong. Unknown fields are refused, "
         "so a misspelt field is never silently ignored.", "",
         "## Organisation", ""] + table(ORGANISATION_FIELDS) + ["", "## Site", ""] + table(SITE_FIELDS) +
        ["", "Booleans are YAML `true`/`false`. Province and grid-region names are those of the factor set's grid "
         "factors (`zerocarbon factors list --set CN-2025.1 --kind grid_electricity`; US eGRID subregions: "
         "`--set US-EGRID-2025.1`). How the boundary fields "
         "enter the inventory: [methodology §1](methodology.md).", "",
         "## Example", "",
         "[examples/organisation.yaml](../examples/organisation.yaml) declares the organisation `ACME` with a "
         "Tianjin plant reporting under the GHG Protocol and a Chengdu joint venture (60 % equity, no "
         "financial control) reporting under GB/T 32150:", "",
         "```yaml",
         "code: ACME",
         "name: ACME Laptop Co. 艾克米笔记本",
         "sites:",
         "  - {code: TJ01, name: Tianjin laptop plant, province: 天津, grid_region: north}",
         "  - {code: CD01, name: Chengdu laptop plant, province: 四川, grid_region: southwest,",
         "     equity_share: 0.6, financial_control: false, methodology: gbt32150}",
         "```", ""])
