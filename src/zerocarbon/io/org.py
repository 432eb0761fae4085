"""Organisation file (YAML): the organisation, its sites, and each site's grid geography.

The fields are declared once, as the pydantic models ``OrganisationSpec`` and ``SiteSpec`` (type, default,
meaning, example, and the checks with their messages); the reader validates against them,
and ``organisation_markdown`` renders them as docs/organisation.md, so the documentation cannot drift from what
is read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from zerocarbon.core.model import Methodology, Organisation, Site
from zerocarbon.errors import InputError, Problem
from zerocarbon.io.models import problems_from, reason
from zerocarbon.core import safe_yaml

# China's regional grids as the MEE/NBS factor tables name them; other countries' codes are the factor set's.
GRID_REGIONS = ("north", "northeast", "east", "central", "northwest", "south", "southwest")
GRID_REGION_LENGTH = 32  # the stored column's width
_GRID_CODE = re.compile(r"[A-Za-z0-9._-]{1,%d}" % GRID_REGION_LENGTH)


def _needs(what: str):
    def check(value):
        if value in (None, ""):
            raise reason("required", what)
        return value
    return BeforeValidator(check)


def _fraction(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise reason("fraction", f"'{value}' is not a fraction between 0 and 1")
    return float(value)


def _flag(value):
    # YAML 1.1 already turns true/false/yes/no into bools; anything else ("maybe", 1) is refused
    # rather than read by Python truthiness, where the string "false" would be True.
    if not isinstance(value, bool):
        raise reason("bool", f"'{value}' is not true or false")
    return value


def _zone(value):
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise reason("timezone", f"'{value}' is not an IANA time zone") from None
    return str(value)


def _methodology(value):
    try:
        return Methodology(value)
    except ValueError:
        raise reason("methodology", f"'{value}' is not one of {[m.value for m in Methodology]}") from None


def _doc(type_: str, meaning: str, example: Any, default_text: str | None = None, **kw) -> Any:
    """A field's documentation: its type as docs/organisation.md words it, meaning, example, and the default
    as words when it is not a plain value ("the code")."""
    extra = {"x-type": type_} | ({"x-default": default_text} if default_text is not None else {})
    return Field(description=meaning, examples=[example], json_schema_extra=extra, **kw)


class SiteSpec(BaseModel):
    """A site (factory) of the organisation."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, json_schema_extra={"required": ["code"]})

    code: Annotated[str | None, _needs("site needs a 'code'")] = _doc(
        "str", "site code, unique in the organisation; activity files name the site by it", "TJ01",
        default=None, validate_default=True)
    name: str | None = _doc("str", "display name (any language)", "Tianjin laptop plant", "the code", default=None)
    country: str = _doc("str", "ISO 3166 country code; the market boundary of contractual instruments (an instrument "
                               "counts only for a site in its `market`)", "CN", default="CN")
    province: str | None = _doc("str", "province as named in the MEE/NBS grid-factor tables (Chinese name); picks the "
                                       "provincial grid factor when the factor set resolves by province", "天津",
                                default=None)
    grid_region: Any = _doc(
        "str (country CN: one of " + ", ".join(GRID_REGIONS) + ")",
        "the site's grid region as the factor set names it. China (country CN): the MEE/NBS regional grid, used "
        "when no provincial factor is published for the year. Other countries: a code of at most "
        f"{GRID_REGION_LENGTH} letters, digits, `.`, `_` or `-`, e.g. the eGRID subregion for US sites (`CAMX`, "
        "`ERCT`; set US-EGRID-2025.1); the factor set is checked for it when the inventory is computed", "north",
        default=None)
    timezone: Annotated[str, BeforeValidator(_zone)] = _doc(
        "str (IANA zone)", "local time zone of the site's meters and shifts", "Asia/Shanghai", default="Asia/Shanghai")
    equity_share: Annotated[float, BeforeValidator(_fraction)] = _doc(
        "fraction 0..1", "share of the site the organisation owns; the inclusion share under the equity-share "
                         "boundary", 0.6, default=1.0, ge=0, le=1)
    operational_control: Annotated[bool, BeforeValidator(_flag)] = _doc(
        "bool", "the organisation has operational control; under that boundary the site counts 100 % if true, "
                "0 % if false", True, default=True)
    financial_control: Annotated[bool, BeforeValidator(_flag)] = _doc(
        "bool", "the organisation has financial control; under that boundary the site counts 100 % if true, "
                "0 % if false", False, default=True)
    methodology: Annotated[Methodology, BeforeValidator(_methodology)] = _doc(
        "one of: " + ", ".join(m.value for m in Methodology),
        "standard the site reports under: `ghg_protocol` (GHG Protocol Corporate Standard and Scope 2 Guidance) or "
        "`gbt32150` (GB/T 32150-2015: GB/T reporting categories, Scope 2 location-based only); see "
        "docs/methodology.md §10", "gbt32150", default=Methodology.GHG_PROTOCOL)

    @field_validator("grid_region")
    @classmethod
    def _grid_region(cls, region, info: ValidationInfo):
        # Declared after country, so the site's own country decides which rule applies.
        if region is None:
            return None
        if info.data.get("country", "CN") == "CN" and region not in GRID_REGIONS:
            raise reason("grid_region", f"'{region}' is not one of {list(GRID_REGIONS)} (China's regional grids; the "
                                        "site's country is CN, the default)")
        if not isinstance(region, str) or not _GRID_CODE.fullmatch(region):
            raise reason("grid_region", f"'{region}' is not a grid-region code: up to {GRID_REGION_LENGTH} letters, "
                                        "digits, '.', '_' or '-' (e.g. the eGRID subregion CAMX)")
        return region

    def site(self) -> Site:
        return Site(code=self.code, name=self.name if self.name is not None else self.code, country=self.country,
                    province=self.province, grid_region=self.grid_region, timezone=self.timezone,
                    equity_share=self.equity_share, operational_control=self.operational_control,
                    financial_control=self.financial_control, methodology=self.methodology)


def _sites(value):
    if not isinstance(value, list) or not value:
        raise reason("sites", "needs a list of at least one site")
    return value


class OrganisationSpec(BaseModel):
    """An organisation file: one organisation and its sites."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True,
                              json_schema_extra={"required": ["code", "sites"]})

    code: Annotated[str | None, _needs("the organisation needs a 'code'")] = _doc(
        "str", "organisation code, used as `--org` on the command line", "ACME", default=None, validate_default=True)
    name: str | None = _doc("str", "display name (any language)", "ACME Laptop Co.", "the code", default=None)
    sites: Annotated[list[SiteSpec] | None, BeforeValidator(_sites)] = _doc(
        "list of sites", "the organisation's sites (factories), at least one; fields below", "see below",
        default=None, validate_default=True)

    def organisation(self) -> Organisation:
        return Organisation(self.code, self.name if self.name is not None else self.code,
                            tuple(s.site() for s in self.sites))


@dataclass(frozen=True)
class FieldDoc:
    """One field of the organisation file as docs/organisation.md lists it (read from the models)."""

    name: str
    type: str
    required: bool
    default: object
    meaning: str
    example: object


def _field_docs(model: type[BaseModel]) -> tuple[FieldDoc, ...]:
    required = set(model.model_config["json_schema_extra"]["required"])
    out = []
    for name, f in model.model_fields.items():
        extra = f.json_schema_extra
        default = None if name in required else extra.get("x-default", f.default)
        out.append(FieldDoc(name, extra["x-type"], name in required, getattr(default, "value", default),
                            f.description, f.examples[0]))
    return tuple(out)


ORGANISATION_FIELDS = _field_docs(OrganisationSpec)
SITE_FIELDS = _field_docs(SiteSpec)


def _unknown_field(e: dict) -> str:
    where, known = ("a site has", SiteSpec) if len(e["loc"]) > 1 else ("the organisation has", OrganisationSpec)
    return f"unknown field; {where} {sorted(known.model_fields)}"


ORGANISATION_WORDING = {"extra_forbidden": _unknown_field,
                        "model_type": "a site must be a mapping of the fields in docs/organisation.md"}


def read_organisation(path: str | Path) -> Organisation:
    """Read and validate an organisation file; every problem is reported at once (InputError)."""
    path = Path(path)
    src = str(path)
    if path.is_dir():
        raise InputError([Problem(src, None, None, "is a folder, not an organisation file (YAML)")])
    if not path.exists():
        raise InputError([Problem(src, None, None, "file not found")])
    try:
        spec = safe_yaml.load(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError, yaml.YAMLError) as exc:  # ValueError: not UTF-8, a date like 2025-13-01
        raise InputError([Problem(src, None, None, f"cannot read organisation file: {exc}")]) from None
    if not isinstance(spec, dict):
        raise InputError([Problem(src, None, None, "needs 'code', 'name' and a list of 'sites' (docs/organisation.md)")])
    # Repeated site codes are found in the file as written, so they are reported next to the sites' own problems.
    problems, seen = [], set()
    for i, raw in enumerate(spec.get("sites") if isinstance(spec.get("sites"), list) else [], start=1):
        code = raw.get("code") if isinstance(raw, dict) else None
        if code is not None and str(code) in seen:
            problems.append(Problem(src, None, f"sites[{i}].code", f"site code '{code}' appears twice"))
        seen.add(str(code))
    try:
        org = OrganisationSpec.model_validate(spec)
    except ValidationError as exc:
        problems = problems_from(exc, src, index_base=1, wording=ORGANISATION_WORDING) + problems
    if problems:
        raise InputError(problems)
    return org.organisation()


def organisation_markdown() -> str:
    """The organisation file format as Markdown (the body of docs/organisation.md)."""
    def table(fields: tuple[FieldDoc, ...]) -> list[str]:
        rows = ["| field | type | required | default | meaning | example |", "|---|---|---|---|---|---|"]
        for f in fields:
            default = "" if f.required or f.default is None else (
                str(f.default).lower() if isinstance(f.default, bool) else str(f.default))
            shown = str(f.example).lower() if isinstance(f.example, bool) else f.example
            example = shown if f.name == "sites" else f"`{shown}`"
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
