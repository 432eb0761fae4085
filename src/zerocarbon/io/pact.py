"""PACT (WBCSD Partnership for Carbon Transparency, "Pathfinder") ProductFootprint JSON: read, validate, write.

Supported: the v2 data model of the PACT Technical Specifications for PCF Data Exchange, ``specVersion`` 2.0.0
to 2.3.x (2.2/2.3 is what PACT conformance tests today). A 3.x footprint is refused with a reason: v3 renames
and restructures the carbon-footprint fields (``declaredUnitOfMeasurement``, ``pcfExcludingBiogenicUptake``, ...)
and is not read yet. A file holds one footprint, a JSON array of them, or a PACT API response
(``{"data": [...]}`` of ListFootprints, ``{"data": {...}}`` of GetFootprint).

Validation has two steps: the JSON Schema shipped in ``data/pact/`` (structure: required fields, types,
enumerations, URN/UUID/date-time/decimal syntax, bounds) and the rules of the specification across fields that a
schema does not express (:func:`semantic_problems`). Every problem names the file, the footprint's position
(``row``, 1-based) and id, and the JSON path in the file (``column``, e.g. ``$.data[0].pcf.pCfExcludingBiogenic``).
"""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib.resources import files
from pathlib import Path

from zerocarbon.errors import InputError, Problem

SCHEMA_NAME = "product-footprint-v2.schema.json"
SUPPORTED_VERSIONS = "2.0.0 to 2.3.x"
EXPORT_SPEC_VERSION = "2.3.0"

# PACT declared units -> pint unit names of zerocarbon.units (the unit a purchase row's quantity must have).
DECLARED_UNITS = {"liter": "L", "kilogram": "kg", "cubic meter": "m**3", "kilowatt hour": "kWh",
                  "megajoule": "MJ", "ton kilometer": "tkm", "square meter": "m**2"}

# Fields per declared unit and the sign the specification requires of them.
NON_NEGATIVE = ("pCfExcludingBiogenic", "fossilGhgEmissions", "fossilCarbonContent", "biogenicCarbonContent",
                "dLucGhgEmissions", "otherBiogenicGhgEmissions", "iLucGhgEmissions", "aircraftGhgEmissions",
                "packagingGhgEmissions")
NON_POSITIVE = ("biogenicCarbonWithdrawal",)
STRICTLY_POSITIVE = ("unitaryProductAmount",)
# Properties marked O* in the v2 specification: mandatory for reference periods including 2025-01-01 or later.
REQUIRED_FROM_2025 = ("pCfIncludingBiogenic", "dLucGhgEmissions", "landManagementGhgEmissions",
                      "otherBiogenicGhgEmissions", "biogenicCarbonWithdrawal", "biogenicAccountingMethodology",
                      "primaryDataShare", "dqi")
Y2025 = datetime(2025, 1, 1, tzinfo=timezone.utc)
MAX_DECIMAL = 1e15  # a decimal beyond this is refused (a float would lose it or overflow)
DQRS = ("technologicalDQR", "temporalDQR", "geographicalDQR", "completenessDQR", "reliabilityDQR")
GEOGRAPHY = ("geographyRegionOrSubregion", "geographyCountry", "geographyCountrySubdivision")


@cache
def schema() -> dict:
    """The shipped JSON Schema of a v2 ProductFootprint (data/pact/README.md says where it comes from)."""
    return json.loads(files("zerocarbon").joinpath("data", "pact", SCHEMA_NAME).read_text(encoding="utf-8"))


@cache
def _validator():
    from jsonschema import Draft202012Validator
    return Draft202012Validator(schema())


@dataclass(frozen=True)
class Footprint:
    """One valid ProductFootprint: the original JSON object and the fields the store indexes."""

    doc: dict
    index: int  # position in the file, 0-based
    pf_id: str
    version: int
    spec_version: str
    status: str
    company_name: str
    company_ids: list[str]
    product_ids: list[str]
    product_name: str
    declared_unit: str  # as PACT names it ("kilogram")
    unitary_product_amount: float
    pcf_excl: float  # pCfExcludingBiogenic, kgCO2e per declared unit
    pcf_incl: float | None  # pCfIncludingBiogenic
    period_start: datetime
    period_end: datetime
    primary_data_share: float | None  # percent 0..100
    dqr: float | None  # mean of the five DQRs (1 = best .. 3), None without dqi
    created: datetime
    where: str = "$"  # JSON path of the footprint in its file

    @property
    def unit(self) -> str:
        """The declared unit as a zerocarbon (pint) unit."""
        return DECLARED_UNITS[self.declared_unit]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(canonical(self.doc).encode()).hexdigest()


def canonical(doc: dict) -> str:
    """The JSON text two equal footprints share (sorted keys, no spaces): what the store hashes."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dumps(doc) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def _plus_years(t: datetime, n: int) -> datetime:
    try:
        return t.replace(year=t.year + n)
    except ValueError:  # 29 February
        return t.replace(year=t.year + n, day=28)


def _path(base: str, parts) -> str:
    out = base
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _number(text) -> Decimal | None:
    try:
        return Decimal(str(text))
    except (InvalidOperation, ValueError):
        return None


def _schema_reason(e) -> tuple[list, str]:
    """(extra path parts, a readable reason) for one jsonschema error."""
    if e.validator == "required":
        m = re.match(r"'(.+)' is a required property", e.message)
        name = m.group(1) if m else "?"
        return [name], "required field is missing"
    desc = e.schema.get("description") if isinstance(e.schema, dict) else None
    shown = json.dumps(e.instance, ensure_ascii=False)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    if e.validator == "pattern" and desc:
        return [], f"{shown} is not {desc}"
    if e.validator == "enum":
        return [], f"{shown} is not one of {', '.join(map(str, e.validator_value))}"
    if e.validator == "type":
        return [], f"{shown} must be of JSON type {e.validator_value}" + (f" ({desc})" if desc else "")
    if e.validator in ("minimum", "maximum"):
        word = "at least" if e.validator == "minimum" else "at most"
        return [], f"{shown} must be {word} {e.validator_value}"
    if e.validator == "minItems":
        return [], "must not be empty"
    if e.validator == "uniqueItems":
        return [], "has duplicate values"
    if e.validator == "minLength":
        return [], "must not be empty"
    return [], e.message


def semantic_problems(doc: dict) -> list[tuple[list, str]]:
    """Rules of the v2 specification across fields, for a footprint that passed the schema: (path, reason)."""
    out: list[tuple[list, str]] = []
    pcf = doc["pcf"]
    start, end = parse_time(pcf["referencePeriodStart"]), parse_time(pcf["referencePeriodEnd"])
    if not start < end:
        out.append((["pcf", "referencePeriodEnd"], f"reference period ends ({pcf['referencePeriodEnd']}) before or "
                                                   f"when it starts ({pcf['referencePeriodStart']})"))
    vs, ve = doc.get("validityPeriodStart"), doc.get("validityPeriodEnd")
    if (vs is None) != (ve is None):
        out.append(([("validityPeriodEnd" if ve is None else "validityPeriodStart")],
                    "a validity period needs both validityPeriodStart and validityPeriodEnd"))
    elif vs is not None:
        vst, ven = parse_time(vs), parse_time(ve)
        if vst < end:
            out.append((["validityPeriodStart"], "validity period must start at or after referencePeriodEnd"))
        if not ven > vst:
            out.append((["validityPeriodEnd"], "validity period must end after it starts"))
        if ven > _plus_years(end, 3):
            out.append((["validityPeriodEnd"], "validity period may end at most 3 years after referencePeriodEnd"))
    for name, text in pcf.items():
        if isinstance(text, str) and re.fullmatch(r"-?\d+(\.\d+)?", text) and abs(float(text)) > MAX_DECIMAL:
            out.append((["pcf", name], f"{text[:20]}... is beyond {MAX_DECIMAL:g}, not a plausible value"))
    for name in NON_NEGATIVE + NON_POSITIVE + STRICTLY_POSITIVE:
        if name not in pcf:
            continue
        value = _number(pcf[name])
        if value is None:
            continue
        if name in NON_NEGATIVE and value < 0:
            out.append((["pcf", name], f"{pcf[name]} must be >= 0 (kg per declared unit)"))
        elif name in NON_POSITIVE and value > 0:
            out.append((["pcf", name], f"{pcf[name]} must be <= 0 (a withdrawal is negative)"))
        elif name in STRICTLY_POSITIVE and value <= 0:
            out.append((["pcf", name], f"{pcf[name]} must be > 0"))
    given = [g for g in GEOGRAPHY if g in pcf]
    if len(given) > 1:
        out.append((["pcf", given[1]], f"at most one of {', '.join(GEOGRAPHY)} may be given (found {', '.join(given)})"))
    if pcf.get("packagingEmissionsIncluded") is False and "packagingGhgEmissions" in pcf:
        out.append((["pcf", "packagingGhgEmissions"], "must not be given when packagingEmissionsIncluded is false"))
    for i, rule in enumerate(pcf.get("productOrSectorSpecificRules", [])):
        if rule["operator"] == "Other" and not rule.get("otherOperatorName"):
            out.append((["pcf", "productOrSectorSpecificRules", i, "otherOperatorName"],
                        "required when operator is Other"))
        if rule["operator"] != "Other" and "otherOperatorName" in rule:
            out.append((["pcf", "productOrSectorSpecificRules", i, "otherOperatorName"],
                        "must not be given unless operator is Other"))
    if end > Y2025:
        for name in REQUIRED_FROM_2025:
            if name not in pcf:
                out.append((["pcf", name], "required for a reference period including 2025 or later"))
    elif "primaryDataShare" not in pcf and "dqi" not in pcf:
        out.append((["pcf", "primaryDataShare"], "primaryDataShare or dqi is required"))
    if doc["id"] in doc.get("precedingPfIds", []):
        out.append((["precedingPfIds"], "a footprint cannot precede itself"))
    if "updated" in doc and parse_time(doc["updated"]) < parse_time(doc["created"]):
        out.append((["updated"], "updated is before created"))
    return out


def _documents(data, source: str) -> tuple[list, str] | Problem:
    """The footprint objects of a file and the JSON path of its list."""
    if isinstance(data, dict) and "data" in data and "pcf" not in data:
        inner = data["data"]
        if isinstance(inner, list):
            return inner, "$.data"
        if isinstance(inner, dict):
            return [inner], "$.data"  # GetFootprint response
        return Problem(source, None, "$.data", "must be a footprint or a list of footprints")
    if isinstance(data, list):
        return data, "$"
    if isinstance(data, dict):
        return [data], "$"
    return Problem(source, None, "$", "the file must hold a ProductFootprint, a list of them or {\"data\": [...]}")


def _where(base: str, n: int, single: bool) -> str:
    return base if single else f"{base}[{n}]"


def _fields(doc: dict, index: int) -> Footprint:
    pcf = doc["pcf"]
    dqi = pcf.get("dqi")
    dqr = sum(float(dqi[k]) for k in DQRS) / len(DQRS) if dqi else None
    share = pcf.get("primaryDataShare")
    incl = pcf.get("pCfIncludingBiogenic")
    return Footprint(doc=doc, index=index, pf_id=doc["id"].lower(), version=int(doc["version"]),
                     spec_version=doc["specVersion"], status=doc["status"], company_name=doc["companyName"],
                     company_ids=list(doc["companyIds"]), product_ids=list(doc["productIds"]),
                     product_name=doc["productNameCompany"], declared_unit=pcf["declaredUnit"],
                     unitary_product_amount=float(pcf["unitaryProductAmount"]),
                     pcf_excl=float(pcf["pCfExcludingBiogenic"]), pcf_incl=None if incl is None else float(incl),
                     period_start=parse_time(pcf["referencePeriodStart"]),
                     period_end=parse_time(pcf["referencePeriodEnd"]),
                     primary_data_share=None if share is None else float(share), dqr=dqr,
                     created=parse_time(doc["created"]))


def validate(data, source: str) -> list[Footprint]:
    """Every footprint of a parsed JSON document, or InputError with every problem of every footprint."""
    found = _documents(data, source)
    if isinstance(found, Problem):
        raise InputError([found])
    docs, base = found
    single = isinstance(data, dict) and not isinstance(data.get("data"), list)
    if not docs:
        raise InputError([Problem(source, None, base, "holds no footprint")])
    problems: list[Problem] = []
    out: list[Footprint] = []
    seen: dict[tuple[str, int], int] = {}
    for n, doc in enumerate(docs):
        where = _where(base, n, single)
        if not isinstance(doc, dict):
            problems.append(Problem(source, n + 1, where, "must be a JSON object (a ProductFootprint)"))
            continue
        pf = doc.get("id") if isinstance(doc.get("id"), str) else None
        label = f"footprint {pf}: " if pf else ""
        spec = doc.get("specVersion")
        if isinstance(spec, str) and re.match(r"^\d+\.", spec) and not spec.startswith("2."):
            why = ("PACT 3.x footprints are not read yet: v3 renames and restructures the carbon footprint "
                   "(declaredUnitOfMeasurement, pcfExcludingBiogenicUptake, ...)" if spec.startswith("3.")
                   else "only PACT v2 footprints are read")
            problems.append(Problem(source, n + 1, where + ".specVersion",
                                    f"{label}specVersion {spec} is not supported ({SUPPORTED_VERSIONS}); {why}"))
            continue
        errors = sorted(_validator().iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
        for e in errors:
            extra, reason = _schema_reason(e)
            problems.append(Problem(source, n + 1, _path(where, list(e.absolute_path) + extra), label + reason))
        if errors:
            continue
        rules = semantic_problems(doc)
        for parts, reason in rules:
            problems.append(Problem(source, n + 1, _path(where, parts), label + reason))
        if rules:
            continue
        key = (doc["id"].lower(), int(doc["version"]))
        if key in seen:
            problems.append(Problem(source, n + 1, where + ".id", f"{label}version {key[1]} is given twice in the "
                                                                   f"file (also footprint {seen[key] + 1})"))
            continue
        seen[key] = n
        out.append(replace(_fields(doc, n), where=where))
    if problems:
        raise InputError(problems)
    return out


def loads(text: str | bytes, source: str) -> list[Footprint]:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError([Problem(source, None, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")])
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError([Problem(source, exc.lineno, None, f"not JSON: {exc.msg} (line {exc.lineno}, column "
                                                            f"{exc.colno})")])
    except RecursionError:
        raise InputError([Problem(source, None, None, "JSON nested too deeply to be a ProductFootprint")])
    return validate(data, source)


def read(path: str | Path, source: str | None = None) -> list[Footprint]:
    """The footprints of a JSON file (one, a list, or a PACT API response), all valid, or InputError."""
    path = Path(path)
    return loads(path.read_bytes(), source or path.name)


def decimal_text(value: float, places: int = 6) -> str:
    """A PACT Decimal (a JSON string, dotted decimal, no exponent)."""
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def build(*, pf_id: str | None = None, version: int = 1, created: datetime, company_name: str,
          company_ids: list[str], product_ids: list[str], product_name: str, product_description: str,
          cpc: str, declared_unit: str, pcf_excl: float, period_start: datetime, period_end: datetime,
          boundary: str, primary_data_share: float, comment: str, geography_country: str | None = None,
          fossil_carbon_content: float = 0.0, biogenic_carbon_content: float = 0.0,
          allocation: str = "", secondary_sources: list[dict] | None = None,
          preceding: list[str] | None = None, dqi: dict | None = None, gwp: str = "AR6") -> dict:
    """A v2.3 ProductFootprint of one of our own products. Biogenic and land-use flows are not accounted by
    zerocarbon: they are written as 0 and ``comment`` must say so (services.footprints does)."""
    if gwp not in ("AR5", "AR6"):
        raise InputError([Problem("", None, "characterizationFactors", f"GWP set {gwp} cannot be stated in PACT v2 "
                                                                       "(AR5 or AR6)")])
    if declared_unit not in DECLARED_UNITS:
        raise InputError([Problem("", None, "declaredUnit", f"{declared_unit!r} is not a PACT declared unit "
                                                            f"({', '.join(DECLARED_UNITS)})")])
    stamp = lambda t: t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    pcf = {
        "declaredUnit": declared_unit,
        "unitaryProductAmount": "1",
        "pCfExcludingBiogenic": decimal_text(pcf_excl),
        "pCfIncludingBiogenic": decimal_text(pcf_excl),
        "fossilGhgEmissions": decimal_text(pcf_excl),
        "fossilCarbonContent": decimal_text(fossil_carbon_content),
        "biogenicCarbonContent": decimal_text(biogenic_carbon_content),
        "dLucGhgEmissions": "0",
        "landManagementGhgEmissions": "0",
        "otherBiogenicGhgEmissions": "0",
        "biogenicCarbonWithdrawal": "0",
        "characterizationFactors": gwp,
        "ipccCharacterizationFactorsSources": [gwp],
        "crossSectoralStandardsUsed": ["GHG Protocol Product standard"],
        "crossSectoralStandards": ["GHGP-Product"],
        "productOrSectorSpecificRules": [],
        "biogenicAccountingMethodology": "GHGP",
        "boundaryProcessesDescription": boundary,
        "referencePeriodStart": stamp(period_start),
        "referencePeriodEnd": stamp(period_end),
        "exemptedEmissionsPercent": 0,
        "exemptedEmissionsDescription": "",
        "packagingEmissionsIncluded": False,
        "allocationRulesDescription": allocation,
        "primaryDataShare": round(float(primary_data_share), 4),
    }
    if dqi is not None:
        pcf["dqi"] = dict(dqi)
    if geography_country:
        pcf["geographyCountry"] = geography_country
    if secondary_sources:
        pcf["secondaryEmissionFactorSources"] = secondary_sources
    doc = {"id": pf_id or str(uuid.uuid4()), "specVersion": EXPORT_SPEC_VERSION, "version": version,
           "created": stamp(created), "status": "Active", "companyName": company_name, "companyIds": company_ids,
           "productDescription": product_description, "productIds": product_ids, "productCategoryCpc": cpc,
           "productNameCompany": product_name, "comment": comment, "pcf": pcf}
    if preceding:
        doc["precedingPfIds"] = preceding
    validate(doc, "export")  # what we send must pass our own reader
    return doc
