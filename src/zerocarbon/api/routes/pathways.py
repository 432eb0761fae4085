"""Abatement pathways: the measure catalogue (public reference data, like the file formats), the MACC of an
organisation, least-cost pathway runs (solve and store a scenario, list and read the runs) and scenarios side by
side. Reading needs ``assess.read``; solving a scenario (stored or compared) needs ``assess.manage``."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile

from zerocarbon.api.deps import Acting, Offset, requires
from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.uploads import safe_name
from zerocarbon.services import pathway

router = APIRouter(tags=["pathways"], responses=RESPONSES)

RunId = Annotated[int, Path(ge=1, le=2**31 - 1)]
BaseYear = Annotated[int | None, Form(ge=1990, le=2100, description="year of the stored inventory the base is "
                                                                  "read from (default: the scenario's, else the "
                                                                  "latest)")]
Targets = Annotated[str, Form(pattern="^(auto|stored|scenario)$", description="auto (the scenario's, else the "
                                                                              "stored ones) | stored | scenario")]
TimeLimit = Annotated[float | None, Form(ge=pathway.MIN_TIME_LIMIT, le=pathway.MAX_TIME_LIMIT,
                                         description="seconds of MILP search (default: the scenario's)")]
CatalogueFile = Annotated[UploadFile | None, File(description="own catalogue YAML (default: the shipped one)")]


def _read(upload: UploadFile | None) -> tuple[str, bytes] | None:
    if upload is None or not upload.filename:
        return None
    return safe_name(upload.filename), upload.file.read(pathway.MAX_FILE_BYTES + 1)


def _catalogue(upload: UploadFile | None) -> dict:
    got = _read(upload)
    return {"own_catalogue": got[1], "catalogue_name": got[0]} if got else {}


def _run(info: pathway.PathwayRunInfo) -> dict[str, Any]:
    out = {k: v for k, v in info.__dict__.items() if k != "scenario_yaml"}
    if info.result is None:
        out.pop("result")
    return out


@router.get("/measures")
def measures() -> dict[str, Any]:
    """The shipped abatement catalogue: every measure with what it acts on, its figures in canonical units, their
    status (sourced with source and licence, or illustrative with the reason). No login needed."""
    return pathway.list_measures()


@router.get("/orgs/{org}/pathways")
def list_runs(acting: Annotated[Acting, requires("assess.read")],
              limit: Annotated[int, Query(ge=1, le=1000)] = 50, offset: Offset = 0) -> dict[str, Any]:
    """The organisation's stored pathway runs, newest first, with their headline (no result)."""
    page = pathway.list_runs(acting.sessions, acting.org, limit, offset)
    return dict(page, runs=[_run(r) for r in page["runs"]])


@router.post("/orgs/{org}/pathways", status_code=201)
def optimise(acting: Annotated[Acting, requires("assess.manage")],
             scenario: Annotated[UploadFile, File(description="scenario YAML (docs/pathway.md)")],
             catalogue: CatalogueFile = None, time_limit: TimeLimit = None,
             name: Annotated[str | None, Form(max_length=256)] = None, year: BaseYear = None,
             targets: Targets = "auto") -> dict[str, Any]:
    """Solve the least-cost pathway to the scenario's targets and store the run. A bad file is refused with the
    path of every bad field (400); targets no plan can meet are refused naming the target (400)."""
    file_name, data = _read(scenario) or ("scenario.yaml", b"")
    info = pathway.optimise(acting.sessions, acting.org, data, file_name, actor=acting.actor, time_limit=time_limit,
                            name=name, year=year, targets=targets, **_catalogue(catalogue))
    return _run(info)


@router.get("/orgs/{org}/pathways/macc")
def macc_latest(acting: Annotated[Acting, requires("assess.read")],
                year: Annotated[int | None, Query(ge=1990, le=2100)] = None) -> dict[str, Any]:
    """The MACC on the scenario of the organisation's latest stored run (with its latest schedule savings)."""
    return pathway.macc_for_org(acting.sessions, acting.org, year)


@router.post("/orgs/{org}/pathways/macc")
def macc(acting: Annotated[Acting, requires("assess.read")],
         scenario: Annotated[UploadFile, File(description="scenario YAML")],
         catalogue: CatalogueFile = None, year: Annotated[int | None, Form(ge=1990, le=2100)] = None,
         base_year: BaseYear = None) -> dict[str, Any]:
    """The MACC of a scenario year for the organisation: cheapest tonne first, nothing stored."""
    return pathway.macc_for_org(acting.sessions, acting.org, year, scenario=_read(scenario), base_year=base_year,
                                 **_catalogue(catalogue))


@router.post("/orgs/{org}/pathways/compare")
def compare(acting: Annotated[Acting, requires("assess.manage")],
            scenarios: Annotated[list[UploadFile], File(description="two or more scenario YAML files")],
            catalogue: CatalogueFile = None, time_limit: TimeLimit = None, year: BaseYear = None,
            targets: Targets = "auto") -> list[dict[str, Any]]:
    """Several scenarios solved on the same catalogue, side by side; nothing stored. An infeasible one carries
    its reason instead of a plan."""
    files = [x for x in (_read(u) for u in scenarios) if x]
    return pathway.compare([(data, n) for n, data in files], sessions=acting.sessions, org_code=acting.org,
                           time_limit=time_limit, year=year, targets=targets, **_catalogue(catalogue))


@router.get("/orgs/{org}/pathways/{run_id}")
def get_run(run_id: RunId, acting: Annotated[Acting, requires("assess.read")]) -> dict[str, Any]:
    """One run: the plan year by year against business as usual and the targets, the greedy comparison, the MACC,
    the measures with their illustrative figures and lineage, the base used."""
    return _run(pathway.get_run(acting.sessions, acting.org, run_id))


@router.get("/orgs/{org}/pathways/{run_id}/scenario", response_class=Response,
            responses={200: {"content": {"application/yaml": {}}}})
def get_scenario(run_id: RunId, acting: Annotated[Acting, requires("assess.read")]) -> Response:
    """The scenario file of a run, as stored (its SHA-256 is in the run)."""
    info = pathway.get_run(acting.sessions, acting.org, run_id)
    return Response(info.scenario_yaml, media_type="application/yaml",
                    headers={"Content-Disposition": f'attachment; filename="{info.scenario_file}"'})
