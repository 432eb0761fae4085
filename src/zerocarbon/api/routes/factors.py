"""Factor sets (shipped, and the organisation's own stored ones) and their factors, with provenance."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile
from pydantic import Field, TypeAdapter

from zerocarbon.api.deps import Acting, Offset, kept_read, requires
from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.schemas import FactorOut, FactorPage, FactorSetOut
from zerocarbon.api.uploads import safe_name
from zerocarbon.services import factor_sets

router = APIRouter(prefix="/orgs/{org}/factor-sets", tags=["factors"], responses=RESPONSES)

SetName = Annotated[str, Path(max_length=128, description="a shipped set, or one stored by this organisation")]


class FactorSetInfoOut(FactorSetOut):
    organisation: str | None = Field(None, description="the organisation that stored the set (null when shipped)")
    includes: list[str] = Field([], description="shipped factor files a stored set includes")
    issuers: list[str] = Field(description="issuers (sources) of the set's factors; of the imported file for a "
                                           "stored set")
    editions: list[str]
    licences: list[str]


class FilteredFactorPage(FactorPage):
    kinds: list[str] = Field(description="the kinds the set has (values for ?kind=)")
    regions: list[str]
    gases: list[str]


def _out(s: factor_sets.SetInfo) -> FactorSetInfoOut:
    return FactorSetInfoOut(name=s.name, title=s.title, origin=s.origin, fingerprint=s.fingerprint, factors=s.factors,
                            files=list(s.files), created_at=s.created_at, organisation=s.organisation,
                            includes=list(s.includes), issuers=list(s.issuers), editions=list(s.editions),
                            licences=list(s.licences))


def _bytes(upload: UploadFile) -> bytes:
    # One byte past the limit is enough to refuse an oversized file without reading all of it.
    return upload.file.read(factor_sets.MAX_UPLOAD_BYTES + 1)


_SET_LIST = TypeAdapter(list[FactorSetInfoOut])


@router.get("", response_model=list[FactorSetInfoOut])
def sets(request: Request, acting: Annotated[Acting, requires("factors.read")]) -> Response:
    """Shipped sets, then the sets this organisation stored, with fingerprints, sources, editions and licences.
    Another organisation's stored sets are never listed. With an ``ETag`` (304 to ``If-None-Match`` while no
    set was stored or assigned)."""

    def build() -> bytes:
        return _SET_LIST.dump_json([_out(s) for s in factor_sets.list_sets(acting.sessions, acting.org)],
                                   by_alias=True)

    return kept_read(request, acting.sessions, acting.org, build)


@router.post("", response_model=FactorSetInfoOut, status_code=201)
def store(file: Annotated[UploadFile, File(description="factor CSV in the shipped schema (docs/factors.md)")],
          name: Annotated[str, Form(max_length=128, description="name of the new set: letters, digits, . _ -")],
          acting: Annotated[Acting, requires("factors.import")],
          rules: Annotated[UploadFile | None, File(description="the set's rules (YAML)")] = None) -> FactorSetInfoOut:
    """Store an own factor set for this organisation: every row valid or nothing stored. A wrong cell, a missing
    provenance field, bad rules or a name in use is refused with the problems (file, row, column, reason)."""
    info = factor_sets.import_upload(acting.sessions, acting.org, name, safe_name(file.filename), _bytes(file),
                                     safe_name(rules.filename) if rules is not None else None,
                                     _bytes(rules) if rules is not None else None, actor=acting.actor)
    return _out(info)


@router.get("/{name}/factors", response_model=FilteredFactorPage)
def factors(name: SetName, acting: Annotated[Acting, requires("factors.read")],
            kind: Annotated[str | None, Query(max_length=64, description="grid_electricity, combustion, gwp, ...")] = None,
            region: Annotated[str | None, Query(max_length=64, description="region key, e.g. CN-天津, US-grid-CAMX")] = None,
            gas: Annotated[str | None, Query(max_length=32, description="CO2, CH4, N2O, CO2e, ...")] = None,
            search: Annotated[str | None, Query(max_length=128, description="text in the factor id, subject, issuer, "
                                                                            "document or notes (any case)")] = None,
            limit: Annotated[int, Query(ge=1, le=1000)] = 100,
            offset: Offset = 0) -> FilteredFactorPage:
    """The factors of one set this organisation may use, filtered, a page at a time."""
    p = factor_sets.factor_page(acting.sessions, name, acting.org, kind=kind, region=region, gas=gas, search=search,
                                limit=limit, offset=offset)
    return FilteredFactorPage(total=p.total, limit=limit, offset=offset,
                              factors=[FactorOut.model_validate(f) for f in p.factors],
                              kinds=p.kinds, regions=p.regions, gases=p.gases)
