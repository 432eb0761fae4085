"""Sustainability disclosure (docs/disclosure.md): the frameworks and their catalogue, a year's summary per
framework, a framework's report (JSON) and its files (XLSX, HTML, PDF, Inline XBRL), the disclosure inputs,
publishing, the publications and the verifier.

Reading needs ``disclose.read``; uploading inputs ``disclose.prepare``; publishing ``disclose.publish``. The
frameworks and the catalogue are published reference data: any logged-in caller reads them.
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Path, Query, Response, UploadFile
from pydantic import BaseModel, Field

from zerocarbon.api.deps import Acting, CurrentPrincipal, requires
from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.uploads import safe_name
from zerocarbon.errors import InputError, Problem
from zerocarbon.services import disclosure, disclosure_files

router = APIRouter(tags=["disclosure"], responses=RESPONSES)

ORG = "/orgs/{org}/disclosure"
Year = Annotated[int, Path(ge=1990, le=2100, description="reporting year")]
FrameworkId = Annotated[str, Path(max_length=32, pattern=r"^[a-z0-9_]+$",
                                  description="framework id: hkex, issb_s2, ghgp, gri, cdp, esrs_e1, cn_exchange")]
# A disclosure inputs file is a page or two of YAML; anything far larger is not one.
MAX_INPUTS_BYTES = 2 * 2**20
Scalar = float | int | str | bool | None


# --- response schemas --------------------------------------------------------------------------------------------

class FrameworkOut(BaseModel):
    id: str
    name_en: str
    name_zh: str
    edition: str
    source: str
    taxonomy: str = ""
    namespace: str = ""
    prefix: str = ""


class DataPointOut(BaseModel):
    framework: str
    id: str
    section: str
    label_en: str
    label_zh: str
    unit: str
    fact: str
    requirement: Literal["mandatory", "comply_or_explain", "voluntary"] | str
    note: str = ""
    xbrl: str = ""
    confidence: str = "secondary"
    source: str = ""


class PartOut(BaseModel):
    label: str
    value: float
    label_zh: str = ""


class LineOut(BaseModel):
    point: DataPointOut
    value: Scalar = Field(description="in point.unit; null unless status is reported")
    status: str = Field(description="reported | missing | not_applicable")
    reason: str = ""
    reason_zh: str = ""
    breakdown: list[PartOut] = []
    lineage: dict[str, Any] = {}
    prior: Scalar = None
    published_prior: Scalar = None
    restated: bool = False
    restatement: str = ""
    restatement_zh: str = ""
    change: float | None = None


class CheckOut(BaseModel):
    kind: str = Field(description="completeness | consistency | change")
    level: str = Field(description="error (blocks publishing) | warning | info")
    point: str
    message: str
    message_zh: str


class ReportOut(BaseModel):
    framework: FrameworkOut
    org: str
    org_name: str
    year: int
    lines: list[LineOut]
    checks: list[CheckOut]
    generated_at: str = ""
    fingerprint: str = ""
    meta: dict[str, Any] = {}


class FrameworkSummary(BaseModel):
    framework: FrameworkOut
    reported: int
    missing: int
    not_applicable: int
    errors: int
    warnings: int
    infos: int
    fingerprint: str
    checks: list[CheckOut]


class SummaryOut(BaseModel):
    org: str
    year: int
    publishable: bool = Field(description="no report has an error check")
    frameworks: list[FrameworkSummary]


class InputOut(BaseModel):
    key: str
    value: float | str
    unit: str
    source: str
    value_zh: str = ""
    entered_by: str = ""


class InputsImportedOut(BaseModel):
    count: int
    keys: list[str]
    replaced: list[str]


class PublishIn(BaseModel):
    frameworks: list[Literal["hkex", "issb_s2", "ghgp", "gri", "cdp", "esrs_e1", "cn_exchange"]] | None = Field(
        default=None, description="default: every framework")


class PublicationOut(BaseModel):
    id: int
    year: int
    frameworks: list[str]
    fingerprint: str
    published_at: datetime | str
    published_by: str


class VerificationOut(BaseModel):
    framework: str
    point: str
    fact: str
    reported: Scalar
    recomputed: Scalar
    ok: bool


class VerifyOut(BaseModel):
    ok: bool = Field(description="every reported number recomputed equal from its lineage")
    checked: int
    differences: int
    verifications: list[VerificationOut]


def summary(report) -> dict:
    """A report's counts: data points by status, checks by level."""
    statuses = [line.status for line in report.lines]
    levels = [c.level for c in report.checks]
    return {"framework": disclosure_files.as_data(report.framework), "reported": statuses.count("reported"),
            "missing": statuses.count("missing"), "not_applicable": statuses.count("not_applicable"),
            "errors": levels.count("error"), "warnings": levels.count("warning"), "infos": levels.count("info"),
            "fingerprint": report.fingerprint, "checks": disclosure_files.as_data(report.checks)}


@contextmanager
def spooled_inputs(upload: UploadFile) -> Iterator[FilePath]:
    """The uploaded inputs file on disk under its own name (the service names it in every problem), refused
    when larger than :data:`MAX_INPUTS_BYTES`."""
    name = safe_name(upload.filename)
    data = upload.file.read(MAX_INPUTS_BYTES + 1)
    if len(data) > MAX_INPUTS_BYTES:
        raise InputError([Problem(name, None, None, f"larger than {MAX_INPUTS_BYTES // 2**20} MiB; a disclosure "
                                                    "inputs file is YAML of a few pages")])
    folder = FilePath(tempfile.mkdtemp(prefix="zerocarbon-upload-"))
    try:
        path = folder / name
        path.write_bytes(data)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def one_report(acting: Acting, year: int, framework: str):
    [report] = disclosure.build(acting.sessions, acting.org, year, [framework])
    return report


# --- reference data ----------------------------------------------------------------------------------------------

@router.get("/disclosure/frameworks")
def frameworks(principal: CurrentPrincipal) -> list[FrameworkOut]:
    """The reporting frameworks: names in English and Chinese, edition, source, XBRL taxonomy where one exists."""
    return disclosure_files.as_data(disclosure.frameworks())


@router.get("/disclosure/catalogue")
def catalogue(principal: CurrentPrincipal,
              framework: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z0-9_]+$")] = None
              ) -> list[DataPointOut]:
    """Every data point of every framework (or of ``framework``): label, unit, the fact answering it, requirement."""
    return disclosure_files.as_data(disclosure.catalogue(framework))


# --- an organisation's disclosure --------------------------------------------------------------------------------
# Fixed words (publications, inputs, publish, verify) are declared before the {year} and {framework} patterns.

@router.get(ORG + "/publications")
def publications(acting: Annotated[Acting, requires("disclose.read")]) -> list[PublicationOut]:
    """Every publication: year, frameworks, fingerprint of the facts published, when and by whom."""
    return disclosure_files.as_data(disclosure.publications(acting.sessions, acting.org))


@router.get(ORG + "/{year}/inputs")
def list_inputs(year: Year, acting: Annotated[Acting, requires("disclose.read")]) -> list[InputOut]:
    """The disclosure inputs in force for the year (narratives and figures entered, with their source)."""
    return disclosure_files.as_data(disclosure.list_inputs(acting.sessions, acting.org, year))


@router.post(ORG + "/{year}/inputs", status_code=201)
def import_inputs(year: Year, acting: Annotated[Acting, requires("disclose.prepare")],
                  file: Annotated[UploadFile, File(description="disclosure inputs YAML (docs/disclosure.md)")]
                  ) -> InputsImportedOut:
    """Store the inputs of a YAML file, all or nothing (problems name the item and field); a key entered again
    replaces the old value, which is kept as superseded."""
    with spooled_inputs(file) as path:
        return disclosure_files.as_data(disclosure.import_inputs(acting.sessions, acting.org, year, path, actor=acting.actor))


@router.post(ORG + "/{year}/publish", status_code=201)
def publish(year: Year, acting: Annotated[Acting, requires("disclose.publish")],
            body: PublishIn | None = None) -> PublicationOut:
    """Publish the year's reports (every framework, or ``frameworks``): their facts and fingerprint are stored.
    Refused, listing them, while any report has an error check."""
    chosen = body.frameworks if body is not None else None
    return disclosure_files.as_data(disclosure.publish(acting.sessions, acting.org, year, actor=acting.actor, frameworks=chosen))


@router.get(ORG + "/{year}/verify")
def verify(year: Year, acting: Annotated[Acting, requires("disclose.read")]) -> VerifyOut:
    """Every reported number recomputed from its lineage (ledger rows, batches, inputs) and compared."""
    found = disclosure_files.as_data(disclosure.verify(acting.sessions, acting.org, year))
    differ = sum(not v["ok"] for v in found)
    return {"ok": not differ, "checked": len(found), "differences": differ, "verifications": found}


@router.get(ORG + "/{year}")
def year_summary(year: Year, acting: Annotated[Acting, requires("disclose.read")]) -> SummaryOut:
    """Per framework: data points reported, missing and not applicable, and the checks (an error blocks publishing)."""
    reports = disclosure.build(acting.sessions, acting.org, year)
    rows = [summary(r) for r in reports]
    return {"org": acting.org, "year": year, "publishable": not any(r["errors"] for r in rows), "frameworks": rows}


@router.get(ORG + "/{year}/{framework}")
def report(year: Year, framework: FrameworkId, acting: Annotated[Acting, requires("disclose.read")]) -> ReportOut:
    """The framework's draft report: every data point with its value in the point's unit, the prior year, change,
    restatement, the reason when missing, the lineage, and the checks."""
    return disclosure_files.as_data(one_report(acting, year, framework))


@router.get(ORG + "/{year}/{framework}/download", response_class=Response,
            responses={200: {"content": {t: {} for t in disclosure_files.MEDIA_TYPES.values()},
                             "description": "the report file, named in Content-Disposition"}})
def download(year: Year, framework: FrameworkId, acting: Annotated[Acting, requires("disclose.read")],
             fmt: Annotated[Literal["xlsx", "html", "pdf", "ixbrl"], Query(alias="format")] = "xlsx",
             lang: Annotated[Literal["en", "zh"], Query(description="html and pdf; the workbook and the Inline "
                                                                    "XBRL document carry both")] = "en") -> Response:
    """The report as a file: XLSX (bilingual), HTML or PDF (per language), Inline XBRL (issb_s2 and esrs_e1)."""
    disclosure_files.check_format(framework, fmt, lang)  # before building: a refusal costs no report
    rep = one_report(acting, year, framework)
    body = disclosure_files.render(rep, fmt, lang)
    name = disclosure_files.file_name(rep.framework.id, rep.year, fmt, lang)
    return Response(body, media_type=disclosure_files.media_type(fmt),
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
