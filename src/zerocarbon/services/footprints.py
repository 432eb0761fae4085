"""Product carbon footprints in PACT (Pathfinder) JSON: validate a file, import suppliers' footprints (all or
nothing, versions superseding older ones), list and show them, and export a footprint of one of our own products.

Who sees what: a caller who may read only its own data (a supplier's user) passes ``own`` (its owner key, see
:func:`owner_key`); every query is then limited to that owner in the store, and an id of someone else's footprint
is answered as if it did not exist.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.orm import sessionmaker

from zerocarbon.core.model import Boundary
from zerocarbon.errors import InputError, NotFoundError, Problem
from zerocarbon.io import pact
from zerocarbon.store import footprints as store
from zerocarbon.store import repos

DECLARED_UNITS = tuple(pact.DECLARED_UNITS)
# Scope 3 categories of the inventory that enter a cradle-to-gate footprint of a product made at a site.
UPSTREAM_CATEGORIES = ("c1_purchased_goods", "c4_upstream_transport")
PRIMARY_METHODS = ("supplier_specific",)  # Scope 3 rows from suppliers' own data count as primary data


@dataclass(frozen=True)
class FootprintInfo:
    pf_id: str
    version: int
    spec_version: str
    status: str
    company_name: str
    product_name: str
    product_ids: list[str]
    declared_unit: str
    pcf_kg_per_unit: float
    pcf_incl_kg_per_unit: float | None
    period_start: datetime
    period_end: datetime
    primary_data_share: float | None
    dqr: float | None
    supplier_code: str | None
    current: bool
    imported_by: str
    imported_at: datetime
    source: str
    sha256: str


@dataclass(frozen=True)
class ImportResult:
    stored: list[FootprintInfo]
    superseded: list[tuple[str, int]]  # (pf_id, version) no longer current


def _info(r) -> FootprintInfo:
    return FootprintInfo(r.pf_id, r.version, r.spec_version, r.status, r.company_name, r.product_name,
                         list(r.product_ids), r.declared_unit, r.pcf_excl, r.pcf_incl, r.period_start, r.period_end,
                         r.primary_data_share, r.dqr, r.supplier_code, r.current, r.imported_by, r.imported_at,
                         r.source, r.sha256)


def validate_file(path: str | Path, source: str | None = None) -> list[pact.Footprint]:
    """The footprints of a file, all valid (schema and the specification's rules), or InputError."""
    return pact.read(path, source)


def _email(actor: str) -> str | None:
    return actor.split(":", 1)[1] if actor.startswith("user:") else None


def owner_key(sessions: sessionmaker, org_code: str, actor: str) -> str:
    """The owner key of a caller who may read only its own footprints: ``supplier:<code>`` when its membership
    ties it to a supplier, else the actor itself."""
    email = _email(actor)
    with sessions.begin() as s:
        org_id = repos.organisation_id(s, org_code)
        code = store.member_supplier_code(s, org_id, email) if email else None
    return f"supplier:{code}" if code else actor


def import_file(sessions: sessionmaker, org_code: str, path: str | Path, *, actor: str, source: str | None = None,
                supplier_code: str | None = None, own: str | None = None) -> ImportResult:
    """Validate every footprint of a file, then store them all in one transaction, or nothing.

    A footprint id already stored is accepted only with a higher ``version``: the stored current version is kept,
    marked superseded by the new one; a footprint naming stored ids in ``precedingPfIds`` supersedes them too.
    ``own``: the caller may touch only its own footprints (a supplier's user; see :func:`owner_key`); an id another
    owner holds is refused without saying whose it is. ``supplier_code`` tags an organisation user's import as that
    supplier's (ignored for ``own`` callers, whose code comes from their membership).
    """
    path = Path(path)
    name = path.name if source is None else Path(source.split(":", 1)[-1]).name
    found = pact.read(path, name)
    problems: list[Problem] = []
    stored: list[FootprintInfo] = []
    superseded: list[tuple[str, int]] = []
    now = repos.now()
    with sessions.begin() as s:
        org_id = repos.organisation_id(s, org_code)
        if own is not None:
            owner = own
            code = own.split(":", 1)[1] if own.startswith("supplier:") else None
        else:
            code = supplier_code or None
            owner = f"supplier:{code}" if code else ""
        ids = sorted({f.pf_id for f in found} | {p.lower() for f in found for p in f.doc.get("precedingPfIds", [])})
        owners = store.owners_of(s, org_id, ids)
        for f in sorted(found, key=lambda f: (f.pf_id, f.version)):  # versions of one id in order
            where = f.where
            held = owners.get(f.pf_id)
            if own is not None and held is not None and held != own:
                problems.append(Problem(name, f.index + 1, where + ".id",
                                        f"footprint {f.pf_id}: this id is not one of your footprints; nothing written"))
                continue
            stored_versions = store.versions(s, org_id, f.pf_id)
            current = next((v for v in stored_versions if v.current), None)
            same = next((v for v in stored_versions if v.version == f.version), None)
            if same is not None:
                what = "the same content" if same.sha256 == f.sha256 else "other content"
                problems.append(Problem(name, f.index + 1, where + ".version",
                                        f"footprint {f.pf_id}: version {f.version} is already stored with {what}; "
                                        f"a change needs a higher version"))
                continue
            if current is not None and current.version > f.version:
                problems.append(Problem(name, f.index + 1, where + ".version",
                                        f"footprint {f.pf_id}: version {f.version} is older than the stored "
                                        f"version {current.version}"))
                continue
            row_owner = held if (own is None and held is not None and not code) else owner
            row = store.add(s, store.FootprintRow(
                organisation_id=org_id, pf_id=f.pf_id, version=f.version, spec_version=f.spec_version,
                status=f.status, company_name=f.company_name, company_ids=f.company_ids, product_ids=f.product_ids,
                product_name=f.product_name, declared_unit=f.declared_unit, unit=f.unit,
                unitary_product_amount=f.unitary_product_amount, pcf_excl=f.pcf_excl, pcf_incl=f.pcf_incl,
                period_start=f.period_start, period_end=f.period_end, primary_data_share=f.primary_data_share,
                dqr=None if f.dqr is None else round(f.dqr, 6),
                supplier_code=(row_owner.split(":", 1)[1] if row_owner.startswith("supplier:") else None),
                owner=row_owner, document=f.doc, sha256=f.sha256, source=source or str(path), imported_by=actor,
                imported_at=now, current=True))
            if current is not None:
                store.supersede(s, current, row, f"version {f.version} imported")
                superseded.append((current.pf_id, current.version))
            for p in f.doc.get("precedingPfIds", []):
                p = p.lower()
                if own is not None and owners.get(p) not in (None, own):
                    continue  # never touches another owner's footprint
                for old in store.versions(s, org_id, p, only=own):
                    if old.current:
                        store.supersede(s, old, row, f"preceding footprint of {f.pf_id}")
                        superseded.append((old.pf_id, old.version))
            owners[f.pf_id] = row_owner
            stored.append(_info(row))
        if problems:
            raise InputError(problems)  # rolls the transaction back: nothing stored
        repos.audit(s, actor, "footprints.import", f"footprints:{name}", org_id=org_id, source=source or str(path),
                    footprints=[[i.pf_id, i.version] for i in stored], superseded=superseded,
                    supplier_code=code)
    return ImportResult(stored, superseded)


def list_footprints(sessions: sessionmaker, org_code: str, *, own: str | None = None) -> list[FootprintInfo]:
    """The current version of every footprint (of ``own`` only, when given)."""
    with sessions.begin() as s:
        org_id = repos.organisation_id(s, org_code)
        return [_info(r) for r in store.current_rows(s, org_id, only=own)]


def history(sessions: sessionmaker, org_code: str, pf_id: str, *, own: str | None = None) -> list[FootprintInfo]:
    with sessions.begin() as s:
        org_id = repos.organisation_id(s, org_code)
        rows = store.versions(s, org_id, pf_id, only=own)
        if not rows:
            raise NotFoundError(f"no footprint {pf_id} in {org_code}")
        return [_info(r) for r in rows]


def show(sessions: sessionmaker, org_code: str, pf_id: str, *, own: str | None = None,
         version: int | None = None) -> dict:
    """The PACT JSON of a footprint as it was received: the current version, or ``version``."""
    with sessions.begin() as s:
        org_id = repos.organisation_id(s, org_code)
        rows = store.versions(s, org_id, pf_id, only=own)
        pick = [r for r in rows if (r.version == version if version is not None else r.current)]
        if not pick:
            raise NotFoundError(f"no footprint {pf_id}" + (f" version {version}" if version is not None else "")
                                + f" in {org_code}")
        return dict(pick[-1].document)


def frame(sessions: sessionmaker, org_code: str):
    """``store.footprints.footprint_frame`` of an organisation (what ``compute_inventory`` takes as
    ``frames["pcf"]``)."""
    with sessions.begin() as s:
        return store.footprint_frame(s, repos.organisation_id(s, org_code))


@dataclass(frozen=True)
class ProductFootprintCalc:
    """How an exported footprint was computed: the site's stored emissions [t] by part, and the allocation."""

    scope1_t: float
    scope2_market_t: float
    scope3_t: dict  # category -> t
    primary_t: float
    site_units: float
    units: float
    kg_per_unit: float
    primary_share: float  # percent
    gwp_set: str = "AR5"

    @property
    def total_t(self) -> float:
        return self.scope1_t + self.scope2_market_t + sum(self.scope3_t.values())


def product_calc(sessions: sessionmaker, org_code: str, site: str, year: int, units: float,
                 site_units: float | None = None, boundary: Boundary = Boundary.OPERATIONAL_CONTROL
                 ) -> ProductFootprintCalc:
    """Cradle-to-gate kgCO2e per declared unit of a product of ``site`` in ``year``, from the stored inventory:
    (Scope 1 + Scope 2 market-based + Scope 3 categories 1 and 4 where present) x units / site_units, divided by
    units = site total / site_units. ``site_units`` (all declared units the site produced; default ``units``: the
    product is the site's only output)."""
    site_units = units if site_units is None else site_units
    bad = [Problem("", None, n, f"must be > 0, got {v}") for n, v in (("units", units), ("site_units", site_units))
           if not v > 0]
    if not bad and site_units < units:
        bad.append(Problem("", None, "site_units", f"{site_units} is less than the product's units {units}"))
    if bad:
        raise InputError(bad)
    with sessions.begin() as s:
        org_id, org, row = repos.organisation_and_inventory(s, org_code, year, boundary.value)
        if site not in {x.code for x in org.sites}:
            raise NotFoundError(f"site '{site}' is not a site of {org_code}")
        if row is None:
            raise NotFoundError(f"no inventory for {org_code} {year}; compute it first")
        sums = store.site_ledger_sums(s, row.id, site)
        gwp_set = row.gwp_set
    s1 = s2m = primary = 0.0
    s3: dict[str, float] = {}
    for scope, category, method, calc, t in sums:
        if scope == "1":
            s1 += t
        elif scope == "2" and method in ("market", "both"):
            s2m += t
        elif scope == "3" and category in UPSTREAM_CATEGORIES and method != "location":
            s3[category] = s3.get(category, 0.0) + t
            if calc in PRIMARY_METHODS:
                primary += t
    total = s1 + s2m + sum(s3.values())
    if not total > 0:
        raise InputError([Problem("", None, "site", f"site {site} has no Scope 1, Scope 2 market-based or upstream "
                                                    f"Scope 3 emissions in the {year} inventory; nothing to export")])
    primary += s1 + s2m
    if not math.isfinite(total * 1000.0 / site_units):
        raise InputError([Problem("", None, "site_units", f"{site_units} gives no finite value per unit")])
    return ProductFootprintCalc(s1, s2m, s3, primary, site_units, units, total * 1000.0 / site_units,
                                100.0 * primary / total, gwp_set)


def export_product(sessions: sessionmaker, org_code: str, *, site: str, year: int, product: str, units: float,
                   cpc: str, declared_unit: str = "kilogram", site_units: float | None = None,
                   product_name: str | None = None, product_description: str | None = None,
                   product_ids: list[str] | None = None, company_ids: list[str] | None = None,
                   dqi: dict | None = None, pf_id: str | None = None, version: int = 1,
                   fossil_carbon_content: float = 0.0, biogenic_carbon_content: float = 0.0) -> dict:
    """A PACT v2.3 ProductFootprint of one of our products (see :func:`product_calc`), valid against the shipped
    schema. Biogenic and land-use flows are not accounted and are stated as 0 (said in ``comment``).
    PACT v2 requires ``dqi`` for reference periods from 2025: pass the five DQRs and coverage then."""
    if declared_unit not in pact.DECLARED_UNITS:
        raise InputError([Problem("", None, "declared_unit", f"{declared_unit!r} is not a PACT v2 declared unit "
                                                             f"({', '.join(DECLARED_UNITS)})")])
    calc = product_calc(sessions, org_code, site, year, units, site_units)
    with sessions.begin() as s:
        _, org = repos.load_organisation(s, org_code)
    the_site = next(x for x in org.sites if x.code == site)
    start = datetime(year, 1, 1, tzinfo=timezone.utc)
    end = datetime(year + 1, 1, 1, tzinfo=timezone.utc)
    if end > pact.Y2025 and dqi is None:
        raise InputError([Problem("", None, "dqi", "PACT v2 requires data quality indicators (dqi) for reference "
                                                   f"periods from 2025 (this one is {year}): give coverage and the "
                                                   "five DQRs (1..3)")])
    parts = [f"Scope 1 {calc.scope1_t:.3f} t", f"Scope 2 market-based {calc.scope2_market_t:.3f} t"]
    parts += [f"Scope 3 {c} {t:.3f} t" for c, t in sorted(calc.scope3_t.items())]
    boundary = (f"Cradle-to-gate of site {site} ({the_site.name}) in {year}: " + ", ".join(parts) +
                " from the stored GHG inventory (zerocarbon).")
    allocation = (f"Site total {calc.total_t:.3f} tCO2e allocated by units produced: {calc.site_units:g} "
                  f"{declared_unit} produced at the site, this product {calc.units:g}; per declared unit = "
                  f"site total / site units.")
    comment = ("Exported by zerocarbon from the organisation's GHG inventory. Biogenic emissions and removals, land "
               "use change and the product's carbon content are not accounted and are stated as 0. Scope 3 other "
               "than categories 1 and 4 is not included. Primary data share = (Scope 1 + Scope 2 + supplier-"
               "specific Scope 3) / total.")
    doc = pact.build(
        pf_id=pf_id, version=version, created=repos.now(), company_name=org.name,
        company_ids=company_ids or [f"urn:pact:zerocarbon.local:company-id:{org_code}"],
        product_ids=product_ids or [f"urn:pact:zerocarbon.local:supplier-id:{quote(product, safe='')}"],
        product_name=product_name or product, product_description=product_description or product, cpc=cpc,
        declared_unit=declared_unit, pcf_excl=calc.kg_per_unit, period_start=start, period_end=end,
        boundary=boundary, primary_data_share=calc.primary_share, comment=comment,
        geography_country=the_site.country if len(the_site.country or "") == 2 else None,
        fossil_carbon_content=fossil_carbon_content, biogenic_carbon_content=biogenic_carbon_content,
        allocation=allocation, dqi=dqi, gwp=calc.gwp_set)
    return doc
