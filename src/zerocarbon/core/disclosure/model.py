"""The nouns of disclosure, shared by the catalogue, the fact builder, the checks and the renderers.

A *fact* is one datum the platform knows about an organisation and year (Scope 1, energy by carrier, a text the
ESG team entered), with its unit and lineage. A *data point* is one row of a framework's catalogue
(``data/disclosure/catalogue.csv``): what the framework asks for, in which unit, and which fact answers it. A
*report* is a framework's data points answered by the facts of one year, beside the prior year.

A fact that cannot be known is never zero: it has ``status`` MISSING (or NOT_APPLICABLE) and a reason in English
and Chinese.
"""
from __future__ import annotations

from dataclasses import dataclass, field

REPORTED = "reported"
MISSING = "missing"
NOT_APPLICABLE = "not_applicable"
STATUSES = (REPORTED, MISSING, NOT_APPLICABLE)

# Units that are not pint units: a dimensionless share (0.42, never 42), plain text, a year, a yes/no answer.
FRACTION = "fraction"
TEXT = "text"
YEAR = "year"
BOOL = "bool"
PSEUDO_UNITS = (FRACTION, TEXT, YEAR, BOOL)

# How much a framework asks for a data point.
MANDATORY = "mandatory"              # must be disclosed (HKEX Scope 1 and 2 from FY2025, GHG Protocol requirements)
COMPLY_OR_EXPLAIN = "comply_or_explain"  # disclose it or say why not
VOLUNTARY = "voluntary"              # recommended or optional
REQUIREMENTS = (MANDATORY, COMPLY_OR_EXPLAIN, VOLUNTARY)


@dataclass(frozen=True)
class Part:
    """One part of a breakdown: ``label`` (a site code, a gas, a carrier, a Scope 3 category number) and its
    value in the fact's unit; ``label_zh`` when the label is a word."""

    label: str
    value: float
    label_zh: str = ""


@dataclass(frozen=True)
class Fact:
    """One datum of an organisation and year.

    ``value``: a float in ``unit``, a str for TEXT, an int for YEAR, a bool for BOOL; None unless REPORTED.
    ``breakdown``: parts that add up to ``value`` (same unit); the consistency check holds them to it.
    ``lineage``: where it comes from, JSON-able. Keys used by every builder:
      ``source``: "ledger" | "activities" | "inputs" | "targets" | "claims" | "outputs" | "derived" | "catalogue";
      ``filter``: for "ledger", the stored-ledger filter {"scope", "method", "site", "category", "gas"} the value
        is the sum of (what :func:`zerocarbon.services.disclosure_facts.recompute` sums again);
      ``inventory``: {"year", "boundary", "factor_set", "fingerprint", "computed_at"};
      ``batches``: {batch id: {"source": file name, "sha256": ..., "kind": ..., "rows": n}};
      ``factors``: factor ids with edition; ``rows``: how many input rows;
      ``derived_from``: fact keys, with ``formula`` (e.g. "ghg.scope1 + ghg.scope2_market").
    """

    key: str
    value: float | int | str | bool | None
    unit: str
    status: str = REPORTED
    reason: str = ""
    reason_zh: str = ""
    breakdown: tuple[Part, ...] = ()
    lineage: dict = field(default_factory=dict)

    @property
    def reported(self) -> bool:
        return self.status == REPORTED


def missing(key: str, unit: str, reason: str, reason_zh: str, **lineage) -> Fact:
    """A fact that cannot be given, and why (never a zero)."""
    return Fact(key, None, unit, MISSING, reason, reason_zh, (), dict(lineage))


@dataclass(frozen=True)
class DisclosureInput:
    """A datum a person enters for a year because no store holds it: a narrative (``unit`` TEXT), or a measured
    or financial figure with its unit (water withdrawn, NOx, revenue). ``key`` starts with ``text.`` or
    ``input.``; ``source`` says where it comes from (document, meter, system), ``entered_by`` who entered it."""

    key: str
    value: float | str
    unit: str
    source: str
    value_zh: str = ""   # the Chinese text of a narrative, when given in both languages
    entered_by: str = ""


@dataclass(frozen=True)
class DataPoint:
    """One row of the catalogue: a datum a framework asks for, and the fact that answers it.

    ``unit``: what the framework reports it in; the fact's value is converted (pint) or, for pseudo units and
    coal equivalents, must already be in it. ``xbrl``: the taxonomy element (``prefix:Name``) where one exists.
    ``confidence``: "verified" (checked against the official text, named in ``source``) or "secondary" (read in a
    secondary source; the id or wording may differ in the official text).
    """

    framework: str
    id: str
    section: str
    label_en: str
    label_zh: str
    unit: str
    fact: str
    requirement: str
    note: str = ""
    xbrl: str = ""
    confidence: str = "secondary"
    source: str = ""


@dataclass(frozen=True)
class Framework:
    """A reporting framework of the catalogue (``data/disclosure/frameworks.yaml``)."""

    id: str
    name_en: str
    name_zh: str
    edition: str
    source: str
    taxonomy: str = ""          # XBRL taxonomy entry point (URL), when one is public
    namespace: str = ""         # its namespace URI
    prefix: str = ""            # the element prefix the catalogue uses


@dataclass(frozen=True)
class ReportLine:
    """A data point answered for the report year, with the prior year.

    ``value``/``prior`` are in ``point.unit``. ``prior``: the prior year as the platform computes it now;
    ``published_prior``: as it was published last year (None when nothing was published); ``restated`` when the
    two differ, with ``restatement`` saying why. ``change``: (value - prior) / prior when both are numbers.
    """

    point: DataPoint
    value: float | int | str | bool | None
    status: str
    reason: str = ""
    reason_zh: str = ""
    breakdown: tuple[Part, ...] = ()
    lineage: dict = field(default_factory=dict)
    prior: float | int | str | bool | None = None
    published_prior: float | int | str | bool | None = None
    restated: bool = False
    restatement: str = ""
    restatement_zh: str = ""
    change: float | None = None

    def value_in(self, lang: str):
        """The value, a narrative in Chinese for ``lang`` "zh" when it was entered in Chinese too."""
        if lang == "zh" and isinstance(self.value, str) and self.lineage.get("value_zh"):
            return self.lineage["value_zh"]
        return self.value


@dataclass(frozen=True)
class Check:
    """The result of one pre-publication check. ``kind``: "completeness" | "consistency" | "change";
    ``level``: "error" (blocks publishing) | "warning" | "info"; ``point``: the data point id, or "" for the
    report as a whole."""

    kind: str
    level: str
    point: str
    message: str
    message_zh: str


@dataclass
class Report:
    """A framework's report of one organisation and year."""

    framework: Framework
    org: str
    org_name: str
    year: int
    lines: list[ReportLine]
    checks: list[Check] = field(default_factory=list)
    generated_at: str = ""       # ISO 8601 UTC
    fingerprint: str = ""        # SHA-256 of the facts the report was built from (what `verify` compares)
    meta: dict = field(default_factory=dict)   # consolidation approach, factor set, GWP set, period, base year

    @property
    def errors(self) -> list[Check]:
        return [c for c in self.checks if c.level == "error"]
